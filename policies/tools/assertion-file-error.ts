/** An assertion file that cannot be read or is malformed; `detail` names the file and line of each problem. */
export class AssertionFileError extends Error {
  readonly detail: string;

  constructor(detail: string) {
    super(detail);
    this.name = 'AssertionFileError';
    this.detail = detail;
  }
}
