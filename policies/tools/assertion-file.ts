// The policy assertion file (`*.test.yaml`): a model (and what casbin's API would set in code), rules, and
// requests of the model's arity with their expected decisions.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { matchingFunctionNames, type MatchingFunctionName, type ModelRequest, type PolicyRule } from '../../engine/index.js';
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

// A request value: a string, or (for a field whose attributes the matcher reads) a mapping of attributes. The
// engine checks the values against the model when the file runs, naming the field.
const requestValue = z.union([z.string().max(maxFieldLength), z.record(z.string().max(64), z.unknown())], {
  error: 'a request value is a string, or a mapping of attributes',
});

const requestSchema = z.union(
  [
    z.string().max(maxLineLength).transform((line) => line.split(',').map((value) => value.trim())),
    z.array(requestValue).min(1).max(32),
    z.record(z.string().max(64), requestValue),
  ],
  { error: 'a request is "alice, data1, read" (the model\'s fields in order), a list, or a mapping of the model\'s field names' },
);

const roleMatchingSchema = z.record(
  z.string().regex(/^g[0-9]*$/, 'a role type is g, g2, ...'),
  z.enum(matchingFunctionNames, { error: `a matching function is one of ${matchingFunctionNames.join(', ')}` }),
);

const caseSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  request: requestSchema,
  expect: z.enum(['allow', 'deny'], { error: 'expect is allow or deny' }),
});

const fileSchema = z.strictObject(
  {
    model: z.string().min(1).max(1_024).optional(),
    /** casbin's addNamedMatchingFunc: role names of these types are patterns of the named builtin. */
    roleMatching: roleMatchingSchema.optional(),
    /** casbin's addNamedDomainMatchingFunc: domains of these role types are patterns of the named builtin. */
    domainMatching: roleMatchingSchema.optional(),
    /** casbin's addFunction: a module (beside the file) whose exported functions the matcher may call. */
    functions: z.string().min(1).max(1_024).optional(),
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
  readonly request: ModelRequest;
  readonly expect: 'allow' | 'deny';
  readonly line: number;
}

export interface AssertionFile {
  readonly path: string;
  /** The model the file names, resolved against the file's folder; undefined means the shipped model. */
  readonly modelPath: string | undefined;
  readonly roleMatching: Readonly<Record<string, MatchingFunctionName>>;
  readonly domainMatching: Readonly<Record<string, MatchingFunctionName>>;
  /** A module of matcher functions, resolved against the file's folder. */
  readonly functionsPath: string | undefined;
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
  const { model, rules, cases, roleMatching, domainMatching, functions } = parsed.data;
  return {
    path,
    modelPath: model === undefined ? undefined : resolve(dirname(path), model),
    roleMatching: roleMatching ?? {},
    domainMatching: domainMatching ?? {},
    functionsPath: functions === undefined ? undefined : resolve(dirname(path), functions),
    rules: rules.map(([ptype = '', ...values], i) => ({ rule: { ptype, values }, line: lineAt(doc, lines, ['rules', i]) })),
    cases: cases.map((entry, i) => ({
      name: entry.name,
      request: entry.request as ModelRequest,
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
