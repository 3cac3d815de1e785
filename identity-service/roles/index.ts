export { rolesRoutes } from './roles-routes.js';
export { rolesService, type RolesService } from './roles-service.js';
