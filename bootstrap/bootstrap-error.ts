/**
 * Why a reconciler run refused to change anything:
 * - `INVALID_SEED`: a seed file is missing, unreadable, not YAML, or breaks its schema (each problem names the file,
 *   line and path);
 * - `CONFLICT`: the seed needs something an administrator's record stands in the way of (a name taken by a
 *   record the reconciler does not own, a built-in group to remove that still has members, ...);
 * - `INVALID_ADMIN`: the first administrator's username or password is refused.
 */
export type BootstrapErrorCode = 'INVALID_SEED' | 'CONFLICT' | 'INVALID_ADMIN';

export class BootstrapError extends Error {
  readonly code: BootstrapErrorCode;
  readonly problems: readonly string[];

  constructor(code: BootstrapErrorCode, problems: readonly string[]) {
    super(problems.length === 1 ? (problems[0] as string) : `${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'BootstrapError';
    this.code = code;
    this.problems = problems;
  }
}
