export { declarationsRoutes } from './declarations-routes.js';
export { declarationsService } from './declarations-service.js';
