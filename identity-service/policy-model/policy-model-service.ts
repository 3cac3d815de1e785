import { ModelQuestions, type RequestSource } from '../../platform/authorization/model-questions.js';
import type { IdentityDeps } from '../deps.js';

/** One field of the model's request, with what Auth fills it from (absent when the services cannot fill it). */
export interface RequestFieldView {
  readonly name: string;
  readonly source?: RequestSource;
}

export interface PolicyModelView {
  readonly requestFields: readonly RequestFieldView[];
  /** False when the services cannot put a question into this model's request (then `reason` says why). */
  readonly supported: boolean;
  readonly reason?: string;
  /** The shipped model, decided on its dedicated fast path. */
  readonly shipped: boolean;
}

/** The configured Casbin model's request, as Auth's authorize and explain put a question into it. */
export function policyModelService(deps: IdentityDeps) {
  const questions = new ModelQuestions(deps.engine);
  return {
    describe(): PolicyModelView {
      const { mapping } = questions;
      const shipped = deps.engine.fastPath;
      if (!mapping.supported) {
        return { requestFields: deps.engine.modelDefinition.requestFields.map((name) => ({ name })), supported: false, reason: mapping.reason, shipped };
      }
      return { requestFields: mapping.fields.map(({ name, source }) => ({ name, source })), supported: true, shipped };
    },
  };
}

export type PolicyModelService = ReturnType<typeof policyModelService>;
