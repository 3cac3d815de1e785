export { groupsRoutes } from './groups-routes.js';
export { groupsService, type GroupsService } from './groups-service.js';
