// The bootstrap reconciler: seed files in bootstrap/seed/, made so in the database by `reconcile`.
export { reconcile } from './reconciler.js';
export type { ReconcileOptions, ReconcileResult } from './reconciler.js';
export { BootstrapError } from './bootstrap-error.js';
export type { BootstrapErrorCode } from './bootstrap-error.js';
export { builtinOrganizationId } from './builtin-ids.js';
