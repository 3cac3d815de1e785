// Machine-readable results of `policy test` for CI: JUnit XML (what CI servers display) and JSON.

/** One case as a report shows it. */
export interface ReportedCase {
  /** `file:line` and the author's name or the request. */
  readonly name: string;
  readonly line: number | undefined;
  readonly passed: boolean;
  /** Why it failed; undefined when it passed. */
  readonly failure: string | undefined;
}

/** One assertion file: its cases, or the error that kept them from running (a bad file, an invalid rule). */
export interface ReportedFile {
  readonly path: string;
  readonly evaluator: 'fast path' | 'compiled' | undefined;
  readonly cases: readonly ReportedCase[];
  readonly errors: readonly string[];
}

export interface TestReport {
  readonly files: readonly ReportedFile[];
  readonly passed: number;
  readonly failed: number;
}

export const reporters = ['junit', 'json'] as const;
export type ReporterName = (typeof reporters)[number];

function xml(text: string): string {
  // Characters XML 1.0 cannot hold at all are dropped; the five markup characters are escaped.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '').replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

/** JUnit XML: one `<testsuite>` per file, one `<testcase>` per case; a file that could not run is one `<error>` case. */
export function junitReport(report: TestReport): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const errors = report.files.reduce((n, f) => n + f.errors.length, 0);
  lines.push(`<testsuites name="policy test" tests="${report.passed + report.failed}" failures="${report.failed - errors}" errors="${errors}">`);
  for (const file of report.files) {
    const failures = file.cases.filter((c) => !c.passed).length;
    lines.push(`  <testsuite name="${xml(file.path)}" tests="${file.cases.length + file.errors.length}" failures="${failures}" errors="${file.errors.length}">`);
    for (const c of file.cases) {
      const open = `    <testcase classname="${xml(file.path)}" name="${xml(c.name)}"`;
      if (c.passed) lines.push(`${open}/>`);
      else lines.push(`${open}>`, `      <failure message="${xml(c.failure ?? 'failed')}"/>`, '    </testcase>');
    }
    for (const error of file.errors) {
      lines.push(`    <testcase classname="${xml(file.path)}" name="${xml(file.path)}">`, `      <error message="${xml(error)}"/>`, '    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

/** The report as JSON: `{passed, failed, files: [{path, evaluator, cases: [{name, line, passed, failure}], errors}]}`. */
export function jsonReport(report: TestReport): string {
  return `${JSON.stringify(report, (_key, value: unknown) => (value === undefined ? null : value), 2)}\n`;
}
