// The parser must read every matcher exactly as node-casbin's own parser (jsep 0.3, with casbin's `in`) does:
// same tree for whatever it accepts. Compared on every example model's matcher and on random expressions.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { casbin } from '../casbin-runtime.js';
import { seededRandom } from '../../test/support/random-policy.js';
import { ExpressionSyntaxError, parseExpression } from './expression-parser.js';

const require = createRequire(import.meta.url);
// casbin's evaluator package re-exports the parser it uses; casbin registers `in` before its first parse.
const expressionEval = require('@casbin/expression-eval') as {
  parse: (text: string) => unknown;
  addBinaryOp: (op: string, precedence: number, fn: (a: unknown, b: unknown) => unknown) => void;
};
expressionEval.addBinaryOp('in', 1, casbin.Util.customIn as (a: unknown, b: unknown) => unknown);

const seed = Number(process.env.PARSER_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** jsep's tree without what it keeps for printing (`raw`, `prefix`). */
function normalise(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalise);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'raw' || key === 'prefix') continue;
    out[key] = normalise(value);
  }
  return out;
}

function jsep(text: string): unknown {
  try {
    return normalise(expressionEval.parse(text));
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function ours(text: string): unknown {
  try {
    return normalise(parseExpression(text));
  } catch (error) {
    if (!(error instanceof ExpressionSyntaxError)) throw error;
    return { error: error.message };
  }
}

function fixtureMatchers(): string[] {
  const root = new URL('./fixtures/', import.meta.url).pathname;
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith('.conf') ? [join(dir, f)] : []));
  const matchers: string[] = [];
  for (const file of files(root)) {
    try {
      const model = casbin.newModelFromString(readFileSync(file, 'utf8')) as unknown as { model: Map<string, Map<string, { value: string }>> };
      for (const assertion of model.model.get('m')?.values() ?? []) matchers.push(casbin.Util.bracketCompatible(assertion.value));
    } catch {
      // a model casbin itself cannot read has no matcher to compare
    }
  }
  return matchers;
}

/** A random expression of the matcher language, mostly well formed. */
function randomExpression(random: () => number, depth = 0): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const leaf = (): string =>
    pick([
      'r_sub', 'p_sub', 'r_obj.Owner', 'p_act', 'r_obj["a"]', '"a\\"b"', "'x'", '"a.p.p"', '12', '1.5e3', '.5', 'true', 'null', 'g(r_sub, p_sub)',
      'keyMatch(r_obj, p_obj)', 'g2(r_obj, p_obj, r_dom)', 'f()', 'x[0]', '$a', 'a_b1',
    ]);
  if (depth > 3 || random() < 0.25) return leaf();
  const a = randomExpression(random, depth + 1);
  const b = randomExpression(random, depth + 1);
  const op = pick(['&&', '||', '==', '!=', '===', '<', '>=', '+', '-', '*', '%', 'in', '|', '&', '^', '<<', '>>>']);
  switch (Math.floor(random() * 8)) {
    case 0:
      return `${pick(['!', '-', '~', '+'])}${a}`;
    case 1:
      return `(${a})`;
    case 2:
      return `${a} ? ${b} : ${randomExpression(random, depth + 1)}`;
    case 3:
      return `[${a}, ${b}]`;
    case 4:
      return `fn(${a}, ${b})`;
    case 5:
      return `${a}${pick([' ', '', '  '])}${op}${pick([' ', ''])}${b} ${pick(['&&', '||', 'in', '=='])} ${randomExpression(random, depth + 1)}`;
    default:
      return `${a} ${op} ${b}`;
  }
}

describe('matcher parser', () => {
  it("reads every example model's matcher exactly as node-casbin's parser does", () => {
    const matchers = fixtureMatchers();
    expect(matchers.length).toBeGreaterThan(60);
    for (const text of matchers) expect(ours(text), text).toEqual(jsep(text));
  });

  it(`gives casbin's tree for 3,000 random expressions, and refuses what casbin refuses (seed ${seed}, PARSER_SEED replays)`, () => {
    const random = seededRandom(seed);
    let compared = 0;
    for (let i = 0; i < 3_000; i++) {
      const text = randomExpression(random);
      const mine = ours(text);
      const theirs = jsep(text);
      if (typeof mine === 'object' && mine !== null && 'error' in mine) {
        expect(theirs, `${text} (seed ${seed})`).toHaveProperty('error');
        continue;
      }
      expect(mine, `${text} (seed ${seed})`).toEqual(theirs);
      compared++;
    }
    expect(compared).toBeGreaterThan(2_000);
  });

  it('takes `in` at the precedence casbin registers it (1, as ||): `a || b in c` is `(a || b) in c`', () => {
    expect(ours("r_sub == 'x' || r_obj in ['a', 'b']")).toEqual(jsep("r_sub == 'x' || r_obj in ['a', 'b']"));
    expect(parseExpression('a || b in c')).toMatchObject({ type: 'BinaryExpression', operator: 'in', left: { type: 'LogicalExpression', operator: '||' } });
    expect(parseExpression('a && b in c')).toMatchObject({ type: 'BinaryExpression', operator: 'in', left: { type: 'LogicalExpression', operator: '&&' } });
    // `in` is an operator only as a word: `index` is a name.
    expect(parseExpression('index')).toEqual({ type: 'Identifier', name: 'index' });
  });

  it('names the character where a matcher stops parsing', () => {
    expect(() => parseExpression('r_sub == ')).toThrow(/Expected expression after == at character 9/);
    expect(() => parseExpression('(r_sub')).toThrow(/Unclosed \( at character 6/);
    expect(() => parseExpression('"open')).toThrow(/Unclosed quote/);
    expect(() => parseExpression('{ let x = 1 }')).toThrow(/Unexpected "\{" at character 0/);
  });
});
