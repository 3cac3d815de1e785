export { policyModelRoutes } from './policy-model-routes.js';
export { policyModelService, type PolicyModelService } from './policy-model-service.js';
