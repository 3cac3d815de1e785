import argon2 from 'argon2';

/** OWASP floor for argon2id: 19 MiB, 2 iterations, 1 lane (ARCHITECTURE known traps). Stronger is allowed, weaker refused. */
export const argon2Floor = Object.freeze({ memoryCostKiB: 19_456, timeCost: 2, parallelism: 1 });

export interface PasswordHasherOptions {
  readonly memoryCostKiB?: number;
  readonly timeCost?: number;
  readonly parallelism?: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant work whether or not a hash is given: with none, a dummy hash is verified. */
  verify(hash: string | undefined, password: string): Promise<boolean>;
  /**
   * Whether `hash` was made with other parameters than this hasher's (an older, weaker setting): hash the
   * password again after it verifies. False for anything that is not an argon2 hash.
   */
  needsRehash(hash: string): boolean;
}

/** argon2id hashing; refuses parameters below the OWASP floor. Passwords are hashed byte-exact (no trimming). */
export function createPasswordHasher(options: PasswordHasherOptions = {}): PasswordHasher {
  const memoryCost = options.memoryCostKiB ?? argon2Floor.memoryCostKiB;
  const timeCost = options.timeCost ?? argon2Floor.timeCost;
  const parallelism = options.parallelism ?? argon2Floor.parallelism;
  if (memoryCost < argon2Floor.memoryCostKiB || timeCost < argon2Floor.timeCost || parallelism < 1) {
    throw new RangeError('argon2id parameters below the OWASP floor (19 MiB, 2 iterations, 1 lane)');
  }
  const settings = { type: argon2.argon2id, memoryCost, timeCost, parallelism } as const;
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => argon2.hash(password, settings),
    needsRehash(hash) {
      try {
        return argon2.needsRehash(hash, { memoryCost, timeCost, parallelism });
      } catch {
        return false;
      }
    },
    async verify(hash, password) {
      dummy ??= argon2.hash('dummy password for timing', settings);
      const target = hash ?? (await dummy);
      try {
        const ok = await argon2.verify(target, password);
        // Only a stored hash verifies; the dummy (unknown subject, public client) never does, whatever is typed.
        return typeof hash === 'string' && hash.length > 0 && ok;
      } catch {
        return false;
      }
    },
  };
}
