export { mfaRoutes } from './mfa-routes.js';
export { mfaSettingsService } from './mfa-settings-service.js';
export { userFactorsService, type UserFactorsService } from './user-factors-service.js';
