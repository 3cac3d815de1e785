// Moved to platform/ so the bootstrap reconciler issues built-in applications' credentials the same way.
export * from '../platform/client-secret.js';
