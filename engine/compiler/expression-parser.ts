import type { BinaryOperator, ExpressionNode, UnaryOperator } from './expression-tree.js';

/** A matcher that does not parse; `index` is the character where the parser stopped. */
export class ExpressionSyntaxError extends Error {
  constructor(
    readonly description: string,
    readonly index: number,
  ) {
    super(`${description} at character ${index}`);
    this.name = 'ExpressionSyntaxError';
  }
}

// The grammar and precedences of node-casbin's parser (jsep 0.3), with the `in` operator casbin registers at
// precedence 1 (the same as `||`, so `a || b in c` is `(a || b) in c`, as casbin reads it).
const binaryPrecedence: Readonly<Record<string, number>> = {
  '||': 1, in: 1, '&&': 2, '|': 3, '^': 4, '&': 5,
  '==': 6, '!=': 6, '===': 6, '!==': 6,
  '<': 7, '>': 7, '<=': 7, '>=': 7,
  '<<': 8, '>>': 8, '>>>': 8,
  '+': 9, '-': 9,
  '*': 10, '/': 10, '%': 10,
};
const maxBinaryLength = 3;
const unaryOperators = new Set(['-', '!', '~', '+']);
const literals: Readonly<Record<string, boolean | null>> = { true: true, false: false, null: null };

const PERIOD = 46;
const COMMA = 44;
const SQUOTE = 39;
const DQUOTE = 34;
const OPAREN = 40;
const CPAREN = 41;
const OBRACK = 91;
const CBRACK = 93;
const QUESTION = 63;
const SEMICOLON = 59;
const COLON = 58;

const isDigit = (code: number): boolean => code >= 48 && code <= 57;
const isIdentifierStart = (code: number): boolean =>
  code === 36 || code === 95 || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code >= 128 && binaryPrecedence[String.fromCharCode(code)] === undefined);
const isIdentifierPart = (code: number): boolean => isIdentifierStart(code) || isDigit(code);

type Stacked = ExpressionNode | { readonly op: string; readonly prec: number };

function binary(operator: string, left: ExpressionNode, right: ExpressionNode): ExpressionNode {
  if (operator === '||' || operator === '&&') return { type: 'LogicalExpression', operator, left, right };
  return { type: 'BinaryExpression', operator: operator as BinaryOperator, left, right };
}

/**
 * Parses a matcher expression (casbin's escaped text, `r_sub` for `r.sub`) into a tree identical to the one
 * node-casbin builds and evaluates. Throws `ExpressionSyntaxError` where casbin's parser throws.
 */
export function parseExpression(text: string): ExpressionNode {
  let index = 0;
  const length = text.length;
  const code = (i: number): number => text.charCodeAt(i);
  const fail = (message: string): never => {
    throw new ExpressionSyntaxError(message, index);
  };

  const skipSpaces = (): void => {
    let c = code(index);
    while (c === 32 || c === 9 || c === 10 || c === 13) c = code(++index);
  };

  const binaryOperator = (): string | undefined => {
    skipSpaces();
    let candidate = text.substr(index, maxBinaryLength);
    for (let n = candidate.length; n > 0; n--, candidate = candidate.substr(0, n)) {
      if (
        Object.hasOwn(binaryPrecedence, candidate) &&
        (!isIdentifierStart(code(index)) || (index + candidate.length < length && !isIdentifierPart(code(index + candidate.length))))
      ) {
        index += n;
        return candidate;
      }
    }
    return undefined;
  };

  const expression = (): ExpressionNode | undefined => {
    const test = binaryExpression();
    skipSpaces();
    if (code(index) !== QUESTION) return test;
    index++;
    const consequent = expression() ?? fail('Expected expression');
    skipSpaces();
    if (code(index) !== COLON) fail('Expected :');
    index++;
    const alternate = expression() ?? fail('Expected expression');
    if (!test) fail('Expected expression');
    return { type: 'ConditionalExpression', test: test as ExpressionNode, consequent, alternate };
  };

  const binaryExpression = (): ExpressionNode | undefined => {
    const left = token();
    let op = binaryOperator();
    if (op === undefined) return left;
    // casbin's parser takes a missing left operand as `false`; that evaluates to nothing sensible, so refuse it.
    if (!left) fail(`Expected expression before ${op}`);
    let right = token() ?? fail(`Expected expression after ${op}`);
    const stack: Stacked[] = [left as ExpressionNode, { op, prec: binaryPrecedence[op] as number }, right];
    while ((op = binaryOperator()) !== undefined) {
      const prec = binaryPrecedence[op] as number;
      const current = op;
      while (stack.length > 2 && prec <= (stack[stack.length - 2] as { prec: number }).prec) {
        right = stack.pop() as ExpressionNode;
        const popped = (stack.pop() as { op: string }).op;
        const l = stack.pop() as ExpressionNode;
        stack.push(binary(popped, l, right));
      }
      const next = token() ?? fail(`Expected expression after ${current}`);
      stack.push({ op: current, prec }, next);
    }
    let i = stack.length - 1;
    let node = stack[i] as ExpressionNode;
    while (i > 1) {
      node = binary((stack[i - 1] as { op: string }).op, stack[i - 2] as ExpressionNode, node);
      i -= 2;
    }
    return node;
  };

  const token = (): ExpressionNode | undefined => {
    skipSpaces();
    const c = code(index);
    if (isDigit(c) || c === PERIOD) return numericLiteral();
    if (c === SQUOTE || c === DQUOTE) return stringLiteral();
    if (c === OBRACK) {
      index++;
      return { type: 'ArrayExpression', elements: argumentList(CBRACK) };
    }
    const op = text.charAt(index);
    if (unaryOperators.has(op) && (!isIdentifierStart(c) || (index + 1 < length && !isIdentifierPart(code(index + 1))))) {
      index++;
      const argument = token() ?? fail(`Expected expression after ${op}`);
      return { type: 'UnaryExpression', operator: op as UnaryOperator, argument };
    }
    if (isIdentifierStart(c) || c === OPAREN) return variable();
    return undefined;
  };

  const numericLiteral = (): ExpressionNode => {
    let raw = '';
    while (isDigit(code(index))) raw += text.charAt(index++);
    if (code(index) === PERIOD) {
      raw += text.charAt(index++);
      while (isDigit(code(index))) raw += text.charAt(index++);
    }
    let ch = text.charAt(index);
    if (ch === 'e' || ch === 'E') {
      raw += text.charAt(index++);
      ch = text.charAt(index);
      if (ch === '+' || ch === '-') raw += text.charAt(index++);
      while (isDigit(code(index))) raw += text.charAt(index++);
      if (!isDigit(code(index - 1))) fail(`Expected exponent (${raw}${text.charAt(index)})`);
    }
    const next = code(index);
    if (isIdentifierStart(next)) fail(`Variable names cannot start with a number (${raw}${text.charAt(index)})`);
    else if (next === PERIOD) fail('Unexpected period');
    return { type: 'Literal', value: parseFloat(raw) };
  };

  const stringLiteral = (): ExpressionNode => {
    const quote = text.charAt(index++);
    let value = '';
    let closed = false;
    while (index < length) {
      let ch = text.charAt(index++);
      if (ch === quote) {
        closed = true;
        break;
      }
      if (ch === '\\') {
        ch = text.charAt(index++);
        value += ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\x0B' } as Record<string, string>)[ch] ?? ch;
      } else {
        value += ch;
      }
    }
    if (!closed) fail(`Unclosed quote after "${value}"`);
    return { type: 'Literal', value };
  };

  const identifier = (): ExpressionNode => {
    const start = index;
    if (!isIdentifierStart(code(index))) fail(`Unexpected ${text.charAt(index)}`);
    index++;
    while (index < length && isIdentifierPart(code(index))) index++;
    const name = text.slice(start, index);
    if (Object.hasOwn(literals, name)) return { type: 'Literal', value: literals[name] as boolean | null };
    if (name === 'this') return { type: 'ThisExpression' };
    return { type: 'Identifier', name };
  };

  const argumentList = (termination: number): (ExpressionNode | null)[] => {
    const args: (ExpressionNode | null)[] = [];
    let closed = false;
    let separators = 0;
    while (index < length) {
      skipSpaces();
      const c = code(index);
      if (c === termination) {
        closed = true;
        index++;
        if (termination === CPAREN && separators > 0 && separators >= args.length) fail(`Unexpected token ${String.fromCharCode(termination)}`);
        break;
      }
      if (c === COMMA) {
        index++;
        separators++;
        if (separators !== args.length) {
          if (termination === CPAREN) fail('Unexpected token ,');
          for (let missing = args.length; missing < separators; missing++) args.push(null);
        }
      } else {
        const node = expression();
        if (!node || node.type === 'Compound') fail('Expected comma');
        args.push(node as ExpressionNode);
      }
    }
    if (!closed) fail(`Expected ${String.fromCharCode(termination)}`);
    return args;
  };

  const variable = (): ExpressionNode => {
    let node: ExpressionNode;
    if (code(index) === OPAREN) {
      index++;
      node = expression() ?? fail('Expected expression');
      skipSpaces();
      if (code(index) !== CPAREN) fail('Unclosed (');
      index++;
    } else {
      node = identifier();
    }
    skipSpaces();
    let c = code(index);
    while (c === PERIOD || c === OBRACK || c === OPAREN) {
      index++;
      if (c === PERIOD) {
        skipSpaces();
        node = { type: 'MemberExpression', computed: false, object: node, property: identifier() };
      } else if (c === OBRACK) {
        const property = expression() ?? fail('Expected expression');
        node = { type: 'MemberExpression', computed: true, object: node, property };
        skipSpaces();
        if (code(index) !== CBRACK) fail('Unclosed [');
        index++;
      } else {
        node = { type: 'CallExpression', callee: node, arguments: argumentList(CPAREN) as ExpressionNode[] };
      }
      skipSpaces();
      c = code(index);
    }
    return node;
  };

  const nodes: ExpressionNode[] = [];
  while (index < length) {
    const c = code(index);
    if (c === SEMICOLON || c === COMMA) {
      index++;
      continue;
    }
    const node = expression();
    if (node) nodes.push(node);
    else if (index < length) fail(`Unexpected "${text.charAt(index)}"`);
  }
  if (nodes.length === 1) return nodes[0] as ExpressionNode;
  return { type: 'Compound', body: nodes };
}
