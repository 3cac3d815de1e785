export { providerLinksRoutes } from './provider-links-routes.js';
export { providersRoutes } from './providers-routes.js';
export { providerLinksService, type ProviderLinksService } from './provider-links-service.js';
export { providersService, type ProvidersService } from './providers-service.js';
