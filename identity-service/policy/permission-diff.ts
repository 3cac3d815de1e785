// Moved to platform/ so the bootstrap reconciler diffs permissions the same way (bootstrap imports no service).
export * from '../../platform/permission-diff.js';
