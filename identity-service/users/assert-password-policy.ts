import { passwordProblem } from '../../domain/password-policy.js';
import { ServiceError } from '../../platform/http/service-error.js';

/** Throws WEAK_PASSWORD (400) naming `field` and the broken rule. */
export function assertPasswordPolicy(password: string, username: string, field: string): void {
  const problem = passwordProblem(password, username);
  if (problem) throw new ServiceError('WEAK_PASSWORD', { message: `${field}: ${problem.message}`, field, detail: `password rule ${problem.rule}` });
}
