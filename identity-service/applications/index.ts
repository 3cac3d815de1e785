export { applicationsRoutes } from './applications-routes.js';
export { applicationsService, type ApplicationsService } from './applications-service.js';
