// `policy test [paths...]`: runs assertion files against plain casbin and the engine.
import { dirname } from 'node:path';
import { isEngineError, shippedModelPath } from '../../engine/index.js';
import { loadAssertionFile, type AssertionCase } from './assertion-file.js';
import { AssertionFileError } from './assertion-file-error.js';
import { displayPath } from './display-path.js';
import { findAssertionFiles } from './find-assertion-files.js';
import type { Output } from './output.js';
import { runAssertionFile, type CaseResult } from './run-assertions.js';
import type { ReportedCase, ReportedFile, TestReport } from './test-report.js';

/** The folder searched when `test` names no path: `policies/`, wherever the command runs from. */
export const defaultAssertionRoot = dirname(shippedModelPath);

/** A request as the author wrote it: values joined by commas, an attribute object as JSON. */
export function describeRequest(request: AssertionCase['request']): string {
  const show = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));
  if (Array.isArray(request)) return (request as readonly unknown[]).map(show).join(', ');
  return Object.entries(request).map(([field, value]) => `${field}: ${show(value)}`).join(', ');
}

function describeCase(path: string, assertion: AssertionCase): string {
  const request = `${describeRequest(assertion.request)} → ${assertion.expect}`;
  return `${path}:${assertion.line} ${assertion.name === undefined ? request : `${assertion.name} (${request})`}`;
}

function failureOf(result: CaseResult): string {
  if (result.disagreement) {
    return `ENGINE ≠ CASBIN: casbin says ${result.casbin}, the engine says ${result.engine} — an engine bug, please report it`;
  }
  if (result.casbin === undefined && result.casbinError === undefined) return `${result.engineError}`;
  if (result.casbinError !== undefined) return `casbin failed: ${result.casbinError}`;
  if (result.engineError !== undefined) return `the engine refused the request: ${result.engineError}`;
  return `expected ${result.assertion.expect}, casbin and the engine say ${result.engine}`;
}

function errorDetail(error: unknown): string {
  if (isEngineError(error) || error instanceof AssertionFileError) return error.detail;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the assertion files under `paths` (default: `policies/`); the exit code is 1 on any failure. `report`
 * receives every file's results for a machine-readable reporter.
 */
export async function runTestCommand(paths: readonly string[], output: Output, report?: (result: TestReport) => Promise<void>): Promise<number> {
  const files = await findAssertionFiles(paths.length > 0 ? paths : [defaultAssertionRoot]);
  if (files.length === 0) {
    output.err(`error: no *.test.yaml files under ${paths.length > 0 ? paths.join(', ') : displayPath(defaultAssertionRoot)}`);
    return 1;
  }
  const reported: ReportedFile[] = [];
  let passed = 0;
  let failed = 0;
  let disagreements = 0;
  for (const found of files) {
    const path = displayPath(found);
    let result;
    try {
      result = await runAssertionFile(await loadAssertionFile(path));
    } catch (error) {
      output.out(`${path}`);
      for (const line of errorDetail(error).split('\n')) output.out(`  ✗ ${line}`);
      reported.push({ path, evaluator: undefined, cases: [], errors: [errorDetail(error)] });
      failed++;
      continue;
    }
    if (result.kind === 'invalid-rules') {
      output.out(`${path}`);
      for (const { line, detail } of result.invalidRules) output.out(`  ✗ ${path}:${line} invalid rule: ${detail}`);
      output.out(`    (${result.file.cases.length} cases not run: fix the rules first)`);
      reported.push({ path, evaluator: undefined, cases: [], errors: result.invalidRules.map(({ line, detail }) => `${path}:${line} invalid rule: ${detail}`) });
      failed += result.invalidRules.length;
      continue;
    }
    const evaluator = result.fastPath ? 'fast path' : 'compiled';
    output.out(`${path} (${evaluator})`);
    const cases: ReportedCase[] = [];
    for (const caseResult of result.cases) {
      const label = describeCase(path, caseResult.assertion);
      if (caseResult.passed) {
        passed++;
        output.out(`  ✓ ${label}`);
      } else {
        failed++;
        if (caseResult.disagreement) disagreements++;
        output.out(`  ✗ ${label}: ${failureOf(caseResult)}`);
      }
      cases.push({ name: label, line: caseResult.assertion.line, passed: caseResult.passed, failure: caseResult.passed ? undefined : failureOf(caseResult) });
    }
    reported.push({ path, evaluator, cases, errors: [] });
  }
  await report?.({ files: reported, passed, failed });
  output.out('');
  output.out(`${passed} passed, ${failed} failed`);
  if (disagreements > 0) {
    output.err(`error: ${disagreements} case(s) where the engine and plain casbin disagree — engine bugs, please report them`);
  }
  return failed > 0 ? 1 : 0;
}
