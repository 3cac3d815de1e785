// The engine's public surface. Adapters (PostgreSQL, Valkey, in-memory) are in engine/adapters/.
export { PolicyEngine } from './policy-engine.js';
export type {
  AuthorizationRequest,
  Decision,
  DecideOptions,
  EngineEvent,
  EngineHealth,
  EngineStats,
  Explanation,
  PolicyEngineOptions,
  RoleChain,
  WriteOptions,
} from './policy-engine.js';
export { parseModel, requestFieldNames, singlePartitionTenant } from './model-definition.js';
export type { ModelDefinition, PermissionEnumeration, RequestFieldName } from './model-definition.js';
export type { AttributeValue, ModelRequest, RequestAttributes, RequestValue } from './model-request.js';
export type { CompileOptions as ModelOptions, MatcherFunction } from './compiler/compiled-model.js';
export { matchingFunctionNames } from './compiler/builtin-functions.js';
export type { MatchingFunctionName } from './compiler/builtin-functions.js';
export type { EffectKind } from './compiler/policy-effect.js';
export { loadModelFile, shippedModelPath } from './model-file.js';
export { CasbinEvaluator } from './casbin-evaluator.js';
export { decisionKey } from './decision-key.js';
export type { PermissionMap } from './permission-map.js';
export type { Grant } from './holdings.js';
export { MemoryDecisionCache } from './local-decision-cache.js';
export { systemClock } from './system-clock.js';
export { EngineError, isEngineError } from './errors.js';
export type { EngineErrorCode } from './errors.js';
export { assertRequestName, isPlainName, isResourcePattern, maxNameLength } from './policy-names.js';
export { assertStorableRule } from './storable-rule.js';
export { isGroupingType } from './policy-rule.js';
export type { PolicyChange, PolicyRule, PolicySnapshot, RevisionChanges, TenantSnapshot, WriteResult } from './policy-rule.js';
export type {
  CachedDecision,
  ChangeFeed,
  Clock,
  DecisionCacheTier,
  DecisionReason,
  LocalDecisionCache,
  PolicyChangeNotice,
  PolicyStore,
  PolicyTransaction,
} from './ports.js';
