/** Why a decision came out as it did: the engine's reason, or the subject the product named was not usable. */
export type DecisionLogReason = 'allowed_by_policy' | 'denied_by_policy' | 'no_matching_policy' | 'subject_suspended' | 'subject_unknown';

/**
 * What a decision shares with the decisions that asked the same question with the same outcome (its "fact"):
 * everything but its time and request id. A flush keeps each fact once.
 */
export interface DecisionFact {
  readonly tenantId: string;
  /** The engine's subject (`user:<id>`, `app:<id>`), or the name as asked when it resolved to no subject. */
  readonly subject: string;
  readonly resource: string;
  readonly action: string;
  /** The product the check was scoped to (`<product>/<resource>` decided first), when it named one. */
  readonly product: string | undefined;
  readonly allowed: boolean;
  readonly reason: DecisionLogReason;
  /** The tenant's policy revision the decision was made at. */
  readonly revision: number;
  /** The end user's address the product passed (`clientIp`), else the address of the caller. */
  readonly clientIp: string | undefined;
}

/**
 * One authorize decision as the hot path hands it over: plain fields it already holds, nothing computed for the
 * log. The deciding rule is found later, off the hot path (DecisionRecorder's `resolveRule`).
 */
export interface DecisionRecord extends DecisionFact {
  readonly atMs: number;
  readonly requestId: string | undefined;
}

/** Whether two decisions share their fact (the rule that decided is the same for both: same question, same revision). */
export function isSameFact(a: DecisionFact, b: DecisionFact): boolean {
  return (
    a === b ||
    (a.tenantId === b.tenantId &&
      a.subject === b.subject &&
      a.resource === b.resource &&
      a.action === b.action &&
      a.product === b.product &&
      a.allowed === b.allowed &&
      a.reason === b.reason &&
      a.revision === b.revision &&
      a.clientIp === b.clientIp)
  );
}

/** A record with its deciding rule (`p, role:x, <tenant>, ledgers, get, allow`), as written to the log. */
export interface StoredDecision extends DecisionRecord {
  readonly rule: string | undefined;
}
