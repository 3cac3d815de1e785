export { ipAllowlistsRoutes, maxCidrsPerSurface } from './ip-allowlists-routes.js';
export { ipAllowlistsService } from './ip-allowlists-service.js';
