// What the bench is doing now, on stderr: one line rewritten in place on a terminal, one line per step otherwise
// (CI logs, pipes). Updated between measurements only, never inside a timed loop.

export class ProgressLine {
  private readonly stream: NodeJS.WriteStream;
  private readonly isTty: boolean;
  private readonly startedAtMs = performance.now();
  private shown = false;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.stream = stream;
    this.isTty = stream.isTTY === true;
  }

  update(step: string): void {
    const elapsedS = ((performance.now() - this.startedAtMs) / 1_000).toFixed(1).padStart(6);
    const line = `[bench ${elapsedS}s] ${step}`;
    if (this.isTty) {
      const width = this.stream.columns > 1 ? this.stream.columns - 1 : 120;
      this.stream.write(`\r\x1b[K${line.slice(0, width)}`);
      this.shown = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Clears the rewritten line so what is printed next starts on a clean line. */
  done(): void {
    if (this.isTty && this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }

  get elapsedMs(): number {
    return performance.now() - this.startedAtMs;
  }
}
