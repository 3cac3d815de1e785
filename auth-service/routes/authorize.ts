import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { assertRequestName, isEngineError, isPlainName, type RequestAttributes } from '../../engine/index.js';
import type { AuthResource } from '../../domain/access-manager-resources.js';
import type { DecisionLogReason } from '../../platform/decision-log/index.js';
import type { Caller } from '../../platform/http/caller.js';
import type { createClientAddress } from '../../platform/http/client-address.js';
import { defineLeanRoute, type LeanRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { ClientIpCheck } from '../authorization/ip-check.js';
import { decideForProduct } from '../authorization/product-scope.js';
import { requestAttributes, withCallerAddress } from '../authorization/request-attributes.js';
import { callerAddressAttribute, ModelQuestions, type AccessQuestion } from '../../platform/authorization/model-questions.js';
import { namedSubject, type SubjectLookup } from '../authorization/subject.js';
import type { Clock, PolicyEngine } from '../../engine/index.js';
import type { DecisionRecorder } from '../../platform/decision-log/index.js';
import type { ServiceMetrics } from '../../platform/metrics/index.js';

/** What the authorize routes need: the engine, the IP allowlist check, the subject lookup, the clock, the metrics. */
export interface AuthorizeParts {
  readonly engine: PolicyEngine;
  readonly checkClientIp: ClientIpCheck;
  readonly findSubject: SubjectLookup;
  /** The client address of a request (socket, or X-Forwarded-For through TRUSTED_PROXIES only). */
  readonly clientAddress: ReturnType<typeof createClientAddress>;
  readonly clock: Clock;
  readonly metrics?: Pick<ServiceMetrics, 'authorizeDecisions'> | undefined;
  /** Absent when DECISION_LOG_ENABLED=false. */
  readonly decisionLog?: Pick<DecisionRecorder, 'record'> | undefined;
}

/** What the caller must hold to ask about a subject other than itself. */
export const authorizeOthersPermission = { resource: 'authorize' satisfies AuthResource, action: 'post' } as const;
export const maxBatchChecks = 100;

const nameText = z.string().min(1).max(256);
// What a model reading a request object sees (r.attrs.amount); `ip` is Auth's to fill, from the trusted client address.
const attributes = requestAttributes.refine((value) => !Object.hasOwn(value, callerAddressAttribute), {
  message: `"${callerAddressAttribute}" is filled by Auth from the client address and may not be sent`,
  path: [callerAddressAttribute],
});
const minRevision = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const check = z
  .object({
    sub: z.string().min(1).max(320),
    resource: nameText,
    action: nameText,
    product: nameText.optional(),
    clientIp: z.string().min(1).max(64).optional(),
    attributes: attributes.optional(),
  })
  .strict();
type Check = z.infer<typeof check>;

const reason = z.enum(['permission', 'suspended', 'expired', 'scope']);
const answer = z
  .object({ authorized: z.boolean(), timestamp: z.string(), revision: z.number().int(), reason: reason.optional() })
  .meta({ id: 'AuthorizeAnswer' });
const batchAnswer = z
  .object({
    results: z.array(z.object({ authorized: z.boolean(), reason: reason.optional() })),
    timestamp: z.string(),
    revision: z.number().int(),
  })
  .meta({ id: 'AuthorizeBatchAnswer' });

type Verdict = {
  authorized: boolean;
  reason?: 'permission' | 'suspended';
  revision: number;
  /** For the decision log: the subject decided for and why. */
  subject: string;
  logReason: DecisionLogReason;
};

function assertName(field: 'obj' | 'act', value: string, bodyField: string): void {
  try {
    assertRequestName(field, value);
  } catch (error) {
    if (isEngineError(error)) throw new ServiceError('VALIDATION_FAILED', { message: `${bodyField} ${error.detail.slice(4)}`, field: `body.${bodyField}` });
    throw error;
  }
}

export function assertCheckNames(item: Pick<Check, 'resource' | 'action' | 'product'>): void {
  assertName('obj', item.resource, 'resource');
  assertName('act', item.action, 'action');
  if (item.product !== undefined && (!isPlainName(item.product) || item.product === '.' || item.product === '..' || item.product.length > 128)) {
    throw new ServiceError('VALIDATION_FAILED', { message: 'product may hold only letters, digits and _ . : @ -', field: 'body.product' });
  }
}

const noOptions = Object.freeze({});

/** Decides one check; with `product`, by the product-scoping rule of decideForProduct. */
async function decide(questions: ModelQuestions, question: AccessQuestion, product: string | undefined, minRev: number | undefined): Promise<Verdict> {
  const options = minRev === undefined ? noOptions : { minRevision: minRev };
  const decision = product === undefined ? await questions.decide(question, options) : (await decideForProduct(questions, question, product, options)).decision;
  const { subject } = question;
  return decision.allowed
    ? { authorized: true, revision: decision.revision, subject, logReason: decision.reason }
    : { authorized: false, reason: 'permission', revision: decision.revision, subject, logReason: decision.reason };
}

/** Answers checks for one request; asking about others needs `authorize` itself (checked once per request). */
class CheckRunner {
  private mayAskForOthers: Promise<boolean> | undefined;
  private readonly callerAddress: string | undefined;

  constructor(
    private readonly deps: AuthorizeParts,
    private readonly questions: ModelQuestions,
    private readonly caller: Caller,
    private readonly req: IncomingMessage,
  ) {
    // Only models that read a request object see it (as attributes.ip); the shipped model never looks.
    this.callerAddress = questions.readsAttributes ? deps.clientAddress(req) : undefined;
  }

  async run(item: Check, minRev: number | undefined): Promise<Verdict> {
    const { deps, caller, questions } = this;
    assertCheckNames(item);
    await deps.checkClientIp(this.req, caller.tenantId, item.product, item.clientIp);
    const named = namedSubject(caller, item.sub);
    if (named.self) return decide(questions, this.questionOf(named.subject, item), item.product, minRev);
    this.mayAskForOthers ??= mayAskForOthers(questions, caller, withCallerAddress(undefined, this.callerAddress), minRev);
    if (!(await this.mayAskForOthers)) {
      throw new ServiceError('FORBIDDEN', { detail: `${caller.subject} may not ask about ${item.sub}`, message: 'sub must name the token\'s own subject' });
    }
    const target = await deps.findSubject(caller.tenantId, named);
    await deps.engine.ensureTenant(caller.tenantId);
    const revision = deps.engine.revisionOf(caller.tenantId);
    if (!target) return { authorized: false, reason: 'permission', revision, subject: item.sub, logReason: 'subject_unknown' };
    if (!target.active) return { authorized: false, reason: 'suspended', revision, subject: target.subject, logReason: 'subject_suspended' };
    return decide(questions, this.questionOf(target.subject, item), item.product, minRev);
  }

  private questionOf(subject: string, item: Check): AccessQuestion {
    const attributes = withCallerAddress(item.attributes, this.callerAddress);
    return attributes === undefined
      ? { subject, tenantId: this.caller.tenantId, resource: item.resource, action: item.action }
      : { subject, tenantId: this.caller.tenantId, resource: item.resource, action: item.action, attributes };
  }
}

/** Whether the caller holds `authorize post`: needed to ask about (or explain) any subject but itself. */
export async function mayAskForOthers(questions: ModelQuestions, caller: Caller, attributes: RequestAttributes | undefined, minRev: number | undefined): Promise<boolean> {
  const question: AccessQuestion = {
    subject: caller.subject,
    tenantId: caller.tenantId,
    resource: authorizeOthersPermission.resource,
    action: authorizeOthersPermission.action,
    ...(attributes ? { attributes } : {}),
  };
  return (await questions.decide(question, minRev === undefined ? noOptions : { minRevision: minRev })).allowed;
}

/** Hands the decision to the decision log (a queue append; never waits, never throws). */
function recordDecision(deps: AuthorizeParts, caller: Caller, req: IncomingMessage, requestId: string, item: Check, verdict: Verdict): void {
  const log = deps.decisionLog;
  if (!log) return;
  log.record({
    atMs: deps.clock.nowMs(),
    tenantId: caller.tenantId,
    subject: verdict.subject,
    resource: item.resource,
    action: item.action,
    product: item.product,
    allowed: verdict.authorized,
    reason: verdict.logReason,
    revision: verdict.revision,
    requestId,
    clientIp: item.clientIp ?? deps.clientAddress(req),
  });
}

/** Served ahead of express by the lean routes (same behaviour), and by express for what they leave to it. */
export function authorizeRoutes(deps: AuthorizeParts): LeanRoute[] {
  const questions = new ModelQuestions(deps.engine);
  return [
    defineLeanRoute({
      method: 'post',
      path: '/v1/authorize',
      summary: 'May the subject do the action on the resource? (a denial is 200 with authorized:false)',
      tags: ['authorize'],
      auth: 'token',
      bareToken: true,
      body: check.extend({ minRevision: minRevision.optional() }).strict(),
      responses: { 200: { description: 'The decision', schema: answer } },
      async handler({ body, caller, req, requestId }) {
        let verdict: Verdict;
        try {
          // The body is the check (its minRevision is read apart): no copy of it per request.
          verdict = await new CheckRunner(deps, questions, caller, req).run(body, body.minRevision);
        } catch (error) {
          deps.metrics?.authorizeDecisions.recordError();
          throw error;
        }
        deps.metrics?.authorizeDecisions.record(verdict.authorized);
        recordDecision(deps, caller, req, requestId, body, verdict);
        const timestamp = new Date(deps.clock.nowMs()).toISOString();
        return {
          body: verdict.reason
            ? { authorized: verdict.authorized, timestamp, revision: verdict.revision, reason: verdict.reason }
            : { authorized: verdict.authorized, timestamp, revision: verdict.revision },
        };
      },
    }),
    defineLeanRoute({
      method: 'post',
      path: '/v1/authorize/batch',
      summary: `Up to ${maxBatchChecks} authorize checks in one call`,
      tags: ['authorize'],
      auth: 'token',
      bareToken: true,
      body: z.object({ checks: z.array(check).min(1).max(maxBatchChecks), minRevision: minRevision.optional() }).strict(),
      responses: { 200: { description: 'One decision per check, in order', schema: batchAnswer } },
      async handler({ body, caller, req, requestId }) {
        const runner = new CheckRunner(deps, questions, caller, req);
        const results: { authorized: boolean; reason?: string }[] = [];
        let revision = 0;
        for (const item of body.checks) {
          let verdict: Verdict;
          try {
            verdict = await runner.run(item, body.minRevision);
          } catch (error) {
            deps.metrics?.authorizeDecisions.recordError();
            throw error;
          }
          deps.metrics?.authorizeDecisions.record(verdict.authorized);
          recordDecision(deps, caller, req, requestId, item, verdict);
          revision = Math.max(revision, verdict.revision);
          results.push(verdict.reason ? { authorized: verdict.authorized, reason: verdict.reason } : { authorized: verdict.authorized });
        }
        return { body: { results, timestamp: new Date(deps.clock.nowMs()).toISOString(), revision } };
      },
    }),
  ];
}
