// The policy assertion file (`*.test.yaml`): a model, rules, and requests with their expected decisions.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import type { AuthorizationRequest, PolicyRule } from '../../engine/index.js';
import { AssertionFileError } from './assertion-file-error.js';

const maxFieldLength = 256;
const maxLineLength = 4_096;
const maxEntries = 100_000;

function splitFields(value: string | readonly string[]): string[] {
  return typeof value === 'string' ? value.split(',').map((field) => field.trim()) : [...value];
}

const field = z.string().min(1, 'a field is empty').max(maxFieldLength, `a field is longer than ${maxFieldLength} characters`);

const ruleSchema = z
  .union([z.string().max(maxLineLength), z.array(z.string().max(maxFieldLength)).max(32)], {
    error: 'a rule is a line "p, sub, dom, obj, act, eft" or a list of strings (quote a lone * in a [list])',
  })
  .transform(splitFields)
  .pipe(z.array(field).min(2, 'a rule is a type (p, g, ...) followed by its fields'));

const requestSchema = z
  .union([z.string().max(maxLineLength), z.array(z.string().max(maxFieldLength)).max(32)], {
    error: 'a request is "sub, dom, obj, act" or a list of four strings',
  })
  .transform(splitFields)
  .pipe(z.array(field).length(4, 'a request has four fields: sub, dom, obj, act'));

const caseSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  request: requestSchema,
  expect: z.enum(['allow', 'deny'], { error: 'expect is allow or deny' }),
});

const fileSchema = z.strictObject(
  {
    model: z.string().min(1).max(1_024).optional(),
    rules: z.array(ruleSchema).max(maxEntries).default([]),
    cases: z.array(caseSchema).max(maxEntries).default([]),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'an assertion file is a mapping with model, rules and cases' : undefined) },
);

export interface LocatedRule {
  readonly rule: PolicyRule;
  /** 1-based line of the rule in its file. */
  readonly line: number;
}

export interface AssertionCase {
  readonly name: string | undefined;
  readonly request: AuthorizationRequest;
  readonly expect: 'allow' | 'deny';
  readonly line: number;
}

export interface AssertionFile {
  readonly path: string;
  /** The model the file names, resolved against the file's folder; undefined means the shipped model. */
  readonly modelPath: string | undefined;
  readonly rules: readonly LocatedRule[];
  readonly cases: readonly AssertionCase[];
}

type PathSegment = PropertyKey;

/** The line of the node at `path` (of the key, when the path ends at a mapping key); 1 when not found. */
function lineAt(doc: Document, lines: LineCounter, path: readonly PathSegment[]): number {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair || !isScalar(pair.key)) break;
      offset = pair.key.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      const start = (item as { range?: readonly number[] } | null | undefined)?.range?.[0];
      if (start === undefined) break;
      offset = start;
      node = item;
    } else {
      break;
    }
  }
  return lines.linePos(offset).line;
}

function describePath(path: readonly PathSegment[]): string {
  return path.reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${String(segment)}` : String(segment)), '');
}

interface Problem {
  readonly line: number;
  readonly text: string;
}

const lineOf = (problem: Problem): number => problem.line;

function describeIssue(file: string, doc: Document, lines: LineCounter, issue: z.core.$ZodIssue): Problem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      const line = lineAt(doc, lines, path);
      return { line, text: `${file}:${line}: unknown key "${key}" at ${describePath(path)}` };
    });
  }
  const where = describePath(issue.path);
  const line = lineAt(doc, lines, issue.path);
  return [{ line, text: `${file}:${line}: ${where ? `${where}: ` : ''}${issue.message}` }];
}

function toRequest(fields: readonly string[]): AuthorizationRequest {
  const [sub = '', dom = '', obj = '', act = ''] = fields;
  return { sub, dom, obj, act };
}

/** Parses assertion-file text; every error names the file, the line and the path of the offending entry. */
export function parseAssertionFile(path: string, text: string): AssertionFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new AssertionFileError(
      doc.errors
        .map((error) => {
          const hint = /alias/i.test(error.message) ? ' (a lone * must be quoted: "*")' : '';
          const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
          return `${path}:${error.linePos?.[0].line ?? 1}: ${message}${hint}`;
        })
        .join('\n'),
    );
  }
  const parsed = fileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) => describeIssue(path, doc, lines, issue));
    throw new AssertionFileError(problems.sort((a, b) => lineOf(a) - lineOf(b)).map((problem) => problem.text).join('\n'));
  }
  const { model, rules, cases } = parsed.data;
  return {
    path,
    modelPath: model === undefined ? undefined : resolve(dirname(path), model),
    rules: rules.map(([ptype = '', ...values], i) => ({ rule: { ptype, values }, line: lineAt(doc, lines, ['rules', i]) })),
    cases: cases.map((entry, i) => ({
      name: entry.name,
      request: toRequest(entry.request),
      expect: entry.expect,
      line: lineAt(doc, lines, ['cases', i]),
    })),
  };
}

/** Reads and parses one assertion file. */
export async function loadAssertionFile(path: string): Promise<AssertionFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AssertionFileError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return parseAssertionFile(path, text);
}
