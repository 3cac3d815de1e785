import type { Decision, DecideOptions, Explanation, ModelDefinition, PolicyEngine, RequestAttributes, RequestValue } from '../../engine/index.js';
import { ServiceError } from '../http/service-error.js';

/** The attribute both services fill with the caller's trusted address, for a model that reads a request object. */
export const callerAddressAttribute = 'ip';

/** One question a service asks, before it is put into the model's request. */
export interface AccessQuestion {
  readonly subject: string;
  readonly tenantId: string;
  readonly resource: string;
  readonly action: string;
  /**
   * For a model whose matcher reads attributes of a request object (`r.attrs.amount`): validated at the edge,
   * `ip` already set by the service from the trusted client address. Ignored by models that read none.
   */
  readonly attributes?: RequestAttributes;
}

/** What fills each request field of the model. */
export type RequestSource = 'subject' | 'tenant' | 'resource' | 'action' | 'attributes';

/** How the services put a question into the configured model's request, or why they cannot. */
export type RequestMapping =
  | {
      readonly supported: true;
      /** The model's request fields, in its order, with what fills each. */
      readonly fields: readonly { readonly name: string; readonly source: RequestSource }[];
      /** The field that takes the attribute object, when the model has one. */
      readonly attributesField: string | undefined;
    }
  | { readonly supported: false; readonly reason: string };

const sourceOfName: Readonly<Record<string, RequestSource>> = { sub: 'subject', dom: 'tenant', obj: 'resource', act: 'action' };
const emptyAttributes: RequestAttributes = Object.freeze({});

/**
 * The mapping by field name: `sub` the resolved subject, `dom` the token's tenant, `obj` the resource, `act` the
 * action, and at most one other field, which the matcher must read attributes of (`r.attrs.amount`): the
 * attribute object. A model without `dom` has no tenants: every tenant's question is decided on one policy.
 */
export function requestMappingOf(model: ModelDefinition): RequestMapping {
  const fields: { name: string; source: RequestSource }[] = [];
  let attributesField: string | undefined;
  for (const name of model.requestFields) {
    const named = sourceOfName[name];
    if (named !== undefined) {
      fields.push({ name, source: named });
      continue;
    }
    if (!model.objectFields.has(name)) {
      return { supported: false, reason: `request field "${name}" is none of sub, dom, obj, act and the matcher reads no attributes of it` };
    }
    if (attributesField !== undefined) {
      return { supported: false, reason: `request fields "${attributesField}" and "${name}" both take attribute objects; only one can take the request's attributes` };
    }
    attributesField = name;
    fields.push({ name, source: 'attributes' });
  }
  for (const needed of ['sub', 'obj', 'act']) {
    if (!model.requestFields.includes(needed)) {
      return { supported: false, reason: `the model's request (${model.requestFields.join(', ')}) has no "${needed}" field` };
    }
  }
  return { supported: true, fields, attributesField };
}

/**
 * Asks the engine a service's questions in the configured model's terms: the shipped model on its cached fast
 * path, any other model through a request of its arity. Both services and every authorize path ask through one
 * instance, so a question means the same wherever it is asked.
 */
export class ModelQuestions {
  private computedMapping: RequestMapping | undefined;

  constructor(private readonly engine: PolicyEngine) {}

  /** Worked out on first use, so that building routes reads nothing from the engine. */
  get mapping(): RequestMapping {
    return (this.computedMapping ??= requestMappingOf(this.engine.modelDefinition));
  }

  /** Whether the model reads a request object: only then is the caller's address worth looking up. */
  get readsAttributes(): boolean {
    const { mapping } = this;
    return mapping.supported && mapping.attributesField !== undefined;
  }

  /** The model's request for `question`, keyed by its field names (what explain shows). */
  requestOf(question: AccessQuestion): Record<string, RequestValue> {
    const mapping = this.supported();
    const request: Record<string, RequestValue> = {};
    for (const { name, source } of mapping.fields) request[name] = valueOf(question, source);
    return request;
  }

  /** The decision, honouring `minRevision`; a deny is a value, bad input an INVALID_REQUEST engine error. */
  decide(question: AccessQuestion, options: DecideOptions = {}): Promise<Decision> {
    if (this.engine.fastPath) {
      return this.engine.decide({ sub: question.subject, dom: question.tenantId, obj: question.resource, act: question.action }, options);
    }
    return this.engine.decideRequest(this.valuesOf(question), options);
  }

  /** The decision from memory only (no waiting): for follow-up questions at the revision already reached. */
  decideSync(question: AccessQuestion): Decision {
    if (this.engine.fastPath) return this.engine.decideSync({ sub: question.subject, dom: question.tenantId, obj: question.resource, act: question.action });
    return this.engine.decideRequestSync(this.valuesOf(question));
  }

  /** The decision with the rules and role chains behind it. */
  explain(question: AccessQuestion): Explanation {
    return this.engine.explainRequest(this.requestOf(question));
  }

  private valuesOf(question: AccessQuestion): RequestValue[] {
    const mapping = this.supported();
    return mapping.fields.map(({ source }) => valueOf(question, source));
  }

  private supported(): Extract<RequestMapping, { supported: true }> {
    if (!this.mapping.supported) {
      throw new ServiceError('MODEL_CANNOT_ANSWER', { message: `the configured policy model cannot take this request: ${this.mapping.reason}`, detail: this.mapping.reason });
    }
    return this.mapping;
  }
}

function valueOf(question: AccessQuestion, source: RequestSource): RequestValue {
  switch (source) {
    case 'subject':
      return question.subject;
    case 'tenant':
      return question.tenantId;
    case 'resource':
      return question.resource;
    case 'action':
      return question.action;
    case 'attributes':
      return question.attributes ?? emptyAttributes;
  }
}
