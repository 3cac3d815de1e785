// The decision log: every authorize decision, recorded off the hot path and kept by day in PostgreSQL.
export { decisionLogConfigShape, decisionLogSettingsOf, type DecisionLogSettings } from './decision-log-config.js';
export { batchDecisions, maxDecisionsPerBatch, type DecisionBatch } from './decision-batch.js';
export { DecisionLogMaintenance, type DecisionLogMaintenanceOptions, type PartitionKeeper } from './decision-log-maintenance.js';
export { DecisionLogStore, utcDay, type DecisionLogCursor, type DecisionLogEntry, type DecisionLogQuery } from './decision-log-store.js';
export type { DecisionFact, DecisionLogReason, DecisionRecord, StoredDecision } from './decision-record.js';
export { DecisionRecorder, type DecisionLogSink, type DecisionRecorderCounts, type DecisionRecorderOptions } from './decision-recorder.js';
