// Moved to platform/ so the bootstrap reconciler writes the same lines (ARCHITECTURE layout: bootstrap imports no service).
export * from '../../platform/policy-lines.js';
