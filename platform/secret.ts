/**
 * A configuration secret (a password, a key, a URL with credentials). Printing, logging or serialising it
 * shows `[redacted]`; only `reveal()` gives the value, at the one place that needs it.
 *
 * @example
 * const url = new Secret('postgres://am:hunter2@db/am');
 * `${url}` // '[redacted]'; JSON.stringify({ url }) // '{"url":"[redacted]"}'
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Secret([redacted])';
  }
}

/**
 * Key bytes decoded from a configuration secret, for APIs that need a Buffer (HMAC): the same Buffer, but
 * printing, logging or serialising it shows `[redacted]` instead of its bytes.
 */
export function redactedBytes(bytes: Buffer): Buffer {
  Object.defineProperty(bytes, 'toJSON', { value: () => '[redacted]' });
  Object.defineProperty(bytes, Symbol.for('nodejs.util.inspect.custom'), { value: () => 'Buffer([redacted])' });
  return bytes;
}
