/**
 * The request ids of queued decisions as bytes, one line each (as the `request_ids` column holds them, an empty
 * line for none), instead of one string per decision: a queued decision waits for its batch to fill, long
 * enough for the young generation to be collected, and a string that outlives a collection is copied and promoted
 * (holding a batch's ids as strings was most of what the log cost a request's CPU). An id that is not printable
 * ASCII without spaces (Auth never makes one: platform/http/request-id.ts) is kept as none, so no id can hold a line
 * break and shift the ids after it.
 */
export class RequestIdBytes {
  private bytes: Buffer;
  /** Where each decision's id ends (its line starts after the previous one's end and its '\n'). */
  private readonly ends: Uint32Array;
  private count = 0;

  constructor(capacity: number) {
    // Room for UUIDs (36 characters and a line break each); longer ids grow it.
    this.bytes = Buffer.allocUnsafeSlow(Math.max(64, capacity * 37));
    this.ends = new Uint32Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  append(id: string | undefined): void {
    const i = this.count++;
    let at = this.startOf(i);
    if (i > 0) this.room(at)[at - 1] = 0x0a;
    if (id !== undefined) {
      const bytes = this.room(at + id.length);
      let written = at;
      for (let c = 0; c < id.length; c++) {
        const code = id.charCodeAt(c);
        if (code < 0x21 || code > 0x7e) {
          written = at;
          break;
        }
        bytes[written++] = code;
      }
      at = written;
    }
    this.ends[i] = at;
  }

  /** The id of decision `i` (undefined when it had none). */
  idOf(i: number): string | undefined {
    const start = this.startOf(i);
    const end = this.ends[i] as number;
    return end > start ? this.bytes.toString('latin1', start, end) : undefined;
  }

  /** The ids of every decision as one text, one line each. */
  text(): string {
    return this.count === 0 ? '' : this.bytes.toString('latin1', 0, this.ends[this.count - 1]);
  }

  /** The ids of the decisions at these positions as one text, one line each. */
  textOf(positions: readonly number[]): string {
    let text = '';
    for (let p = 0; p < positions.length; p++) {
      const i = positions[p] as number;
      const id = this.bytes.toString('latin1', this.startOf(i), this.ends[i]);
      text += p === 0 ? id : `\n${id}`;
    }
    return text;
  }

  /** Where decision `i`'s line starts: after the previous line and its '\n'. */
  private startOf(i: number): number {
    return i === 0 ? 0 : (this.ends[i - 1] as number) + 1;
  }

  /** The buffer, grown (doubled, the lines before the one being appended kept) when it cannot hold `size` bytes. */
  private room(size: number): Buffer {
    if (size > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(size, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.startOf(this.count - 1));
      this.bytes = grown;
    }
    return this.bytes;
  }
}
