/* eslint-disable @typescript-eslint/no-explicit-any -- a matcher computes with JavaScript's own operators on
   whatever the request holds; `any` is how those operators are written without changing what they do. */
import { nameOf, type BuiltinFunction } from './builtin-functions.js';
import type { ExpressionNode, NodeOf } from './expression-tree.js';
import type { RoleGraph } from './role-graph.js';

/** A compiled expression: the request's values and one rule's values in, the matcher's value out. */
export type Evaluate = (request: readonly unknown[], rule: readonly unknown[]) => unknown;

/** A role-link check that held while a rule was evaluated (for explanations). */
export interface HeldLink {
  readonly ptype: string;
  readonly name1: string;
  readonly name2: string;
  readonly domain: string | undefined;
}

/** Where an explanation collects the role links that held; `current` is set only while explaining. */
export interface LinkTrace {
  current: HeldLink[] | undefined;
}

/** A matcher construct the compiler refuses, with the reason in words. */
export class MatcherCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MatcherCompileError';
  }
}

export interface CompileScope {
  /** Escaped request token (`r_sub`) → position in the request. */
  readonly request: ReadonlyMap<string, number>;
  /** Escaped policy token (`p_obj`) → position in a rule. */
  readonly policy: ReadonlyMap<string, number>;
  readonly roleGraphs: ReadonlyMap<string, RoleGraph>;
  readonly functions: ReadonlyMap<string, BuiltinFunction>;
  /** Set for the explaining variant: role-link calls report what held. */
  readonly trace?: LinkTrace;
}

// node-casbin's evaluator refuses these member names (the same pattern, so the same names).
export const forbiddenMember = /^__proto__|prototype|constructor$/;

type Binary = (a: any, b: any) => unknown;

const binaryOperations: Readonly<Record<NodeOf<'BinaryExpression'>['operator'], Binary>> = {
  '|': (a, b) => a | b,
  '^': (a, b) => a ^ b,
  '&': (a, b) => a & b,
  '==': (a, b) => a == b,
  '!=': (a, b) => a != b,
  '===': (a, b) => a === b,
  '!==': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '>': (a, b) => a > b,
  '<=': (a, b) => a <= b,
  '>=': (a, b) => a >= b,
  '<<': (a, b) => a << b,
  '>>': (a, b) => a >> b,
  '>>>': (a, b) => a >>> b,
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
  // casbin's customIn: membership for an array, the `in` operator (property of an object) otherwise.
  in: (a, b) => (b instanceof Array ? b.includes(a) : a in b),
};

/**
 * Compiles `node` into closures, once: evaluating a rule is calling them, never walking the tree. Values follow
 * JavaScript's rules exactly as node-casbin's evaluator applies them (loose `==`, short-circuit `&&`/`||`, both
 * sides of other operators evaluated). Refuses what casbin cannot evaluate sensibly or what would run
 * tenant-writable text (`eval`), with a `MatcherCompileError` that says why.
 */
export function compileExpression(node: ExpressionNode, scope: CompileScope): Evaluate {
  switch (node.type) {
    case 'Literal': {
      const value = node.value;
      return () => value;
    }
    case 'Identifier': {
      const r = scope.request.get(node.name);
      if (r !== undefined) return (request) => request[r];
      const p = scope.policy.get(node.name);
      if (p !== undefined) return (_request, rule) => rule[p];
      if (scope.functions.has(node.name) || scope.roleGraphs.has(node.name)) {
        throw new MatcherCompileError(`the function ${node.name} is named without being called`);
      }
      if (/^[rp][0-9]*_/.test(node.name)) throw new MatcherCompileError(`the matcher names ${unescapeName(node.name)}, which is not defined`);
      throw new MatcherCompileError(`unknown name "${node.name}"`);
    }
    case 'ThisExpression':
      throw new MatcherCompileError('"this" is not supported in a matcher');
    case 'Compound':
      throw new MatcherCompileError('a matcher is one expression (two expressions side by side evaluate to nothing)');
    case 'MemberExpression':
      return compileMember(node, scope);
    case 'CallExpression':
      return compileCall(node, scope);
    case 'UnaryExpression': {
      const argument = compileExpression(node.argument, scope);
      switch (node.operator) {
        case '!':
          return (request, rule) => !argument(request, rule);
        case '-':
          return (request, rule) => -(argument(request, rule) as any);
        case '+':
          return (request, rule) => +(argument(request, rule) as any);
        case '~':
          return (request, rule) => ~(argument(request, rule) as any);
      }
      break;
    }
    case 'BinaryExpression': {
      const left = compileExpression(node.left, scope);
      const right = compileExpression(node.right, scope);
      if (node.operator === '==') return (request, rule) => (left(request, rule) as any) == right(request, rule);
      if (node.operator === '===') return (request, rule) => left(request, rule) === right(request, rule);
      if (node.operator === '!=') return (request, rule) => (left(request, rule) as any) != right(request, rule);
      const operation = binaryOperations[node.operator];
      if (node.operator === 'in' && node.right.type === 'ArrayExpression' && node.right.elements.every((e) => e?.type === 'Literal')) {
        const list = node.right.elements.map((e) => (e as NodeOf<'Literal'>).value);
        return (request, rule) => list.includes(left(request, rule) as never);
      }
      return (request, rule) => {
        const a = left(request, rule);
        return operation(a, right(request, rule));
      };
    }
    case 'LogicalExpression': {
      const left = compileExpression(node.left, scope);
      const right = compileExpression(node.right, scope);
      if (node.operator === '&&') {
        return (request, rule) => {
          const value = left(request, rule);
          return value ? right(request, rule) : value;
        };
      }
      return (request, rule) => left(request, rule) || right(request, rule);
    }
    case 'ConditionalExpression': {
      const test = compileExpression(node.test, scope);
      const consequent = compileExpression(node.consequent, scope);
      const alternate = compileExpression(node.alternate, scope);
      return (request, rule) => (test(request, rule) ? consequent(request, rule) : alternate(request, rule));
    }
    case 'ArrayExpression': {
      if (node.elements.some((e) => e === null)) throw new MatcherCompileError('an array with holes ([a, , b]) does not evaluate');
      const elements = node.elements.map((e) => compileExpression(e as ExpressionNode, scope));
      return (request, rule) => elements.map((element) => element(request, rule));
    }
  }
  throw new MatcherCompileError(`unsupported expression ${(node as ExpressionNode).type}`);
}

function compileMember(node: NodeOf<'MemberExpression'>, scope: CompileScope): Evaluate {
  const object = compileExpression(node.object, scope);
  if (!node.computed) {
    const name = (node.property as NodeOf<'Identifier'>).name;
    if (forbiddenMember.test(name)) throw new MatcherCompileError(`access to member "${name}" is not allowed`);
    return (request, rule) => (object(request, rule) as any)[name];
  }
  const property = compileExpression(node.property, scope);
  return (request, rule) => {
    const target = object(request, rule) as any;
    const key = property(request, rule) as any;
    if (forbiddenMember.test(key)) throw new Error(`Access to member "${String(key)}" disallowed.`);
    return target[key];
  };
}

function compileCall(node: NodeOf<'CallExpression'>, scope: CompileScope): Evaluate {
  if (node.callee.type !== 'Identifier') {
    throw new MatcherCompileError('only named functions can be called in a matcher (no method calls such as r.obj.startsWith(...))');
  }
  const name = node.callee.name;
  if (name === 'eval') {
    throw new MatcherCompileError('eval() in a matcher is not allowed: it would run text from tenant-writable policy');
  }
  const args = node.arguments.map((arg) => compileExpression(arg, scope));
  const graph = scope.roleGraphs.get(name);
  if (graph) return compileRoleCall(name, graph, args, scope.trace);
  const fn = scope.functions.get(name);
  if (!fn) throw new MatcherCompileError(`unknown function ${name}()`);
  const [a, b, c] = args;
  switch (args.length) {
    case 0:
      return () => fn();
    case 1:
      return (request, rule) => fn((a as Evaluate)(request, rule));
    case 2:
      return (request, rule) => {
        const first = (a as Evaluate)(request, rule);
        return fn(first, (b as Evaluate)(request, rule));
      };
    case 3:
      return (request, rule) => {
        const first = (a as Evaluate)(request, rule);
        const second = (b as Evaluate)(request, rule);
        return fn(first, second, (c as Evaluate)(request, rule));
      };
    default:
      return (request, rule) => fn(...args.map((arg) => arg(request, rule)));
  }
}

/** casbin's generated g function: names through `(x || '').toString()`, a third argument as the domain (a fourth is ignored). */
function compileRoleCall(ptype: string, graph: RoleGraph, args: readonly Evaluate[], trace: LinkTrace | undefined): Evaluate {
  if (args.length < 2) throw new MatcherCompileError(`${ptype}() takes a member and a role (and optionally a domain)`);
  const [a, b, d] = args as [Evaluate, Evaluate, Evaluate | undefined];
  const record = (name1: string, name2: string, domain: string | undefined, held: boolean): boolean => {
    if (held && trace?.current) trace.current.push({ ptype, name1, name2, domain });
    return held;
  };
  if (d === undefined) {
    return (request, rule) => {
      const name1 = nameOf(a(request, rule));
      const name2 = nameOf(b(request, rule));
      const held = graph.hasLink(name1, name2);
      return trace ? record(name1, name2, undefined, held) : held;
    };
  }
  const extra = args.slice(3);
  return (request, rule) => {
    const name1 = nameOf(a(request, rule));
    const name2 = nameOf(b(request, rule));
    const domainValue = d(request, rule) as any;
    for (const arg of extra) arg(request, rule);
    const domain = domainValue.toString() as string;
    const held = graph.hasLink(name1, name2, domain);
    return trace ? record(name1, name2, domain, held) : held;
  };
}

/** `r_sub` back to `r.sub` for messages. */
export function unescapeName(name: string): string {
  return name.replace(/^([rp][0-9]*)_/, '$1.');
}
