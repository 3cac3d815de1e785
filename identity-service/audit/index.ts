export { auditRoutes } from './audit-routes.js';
export { insertAuditEvent, listAuditEvents, type AuditEntry } from './audit-store.js';
