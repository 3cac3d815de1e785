export { policyLinesRoutes } from './policy-lines-routes.js';
export { policyLinesService, type PolicyLinesService } from './policy-lines-service.js';
