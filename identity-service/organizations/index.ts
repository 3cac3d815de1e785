export { organizationsResource, organizationsRoutes } from './organizations-routes.js';
export { organizationsService, type OrganizationsService } from './organizations-service.js';
