export { decisionLogRoutes } from './decision-log-routes.js';
export { decisionLogService, type DecisionLogService } from './decision-log-service.js';
