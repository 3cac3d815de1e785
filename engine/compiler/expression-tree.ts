/**
 * The tree of a matcher expression, in the shape node-casbin's parser (jsep 0.3) gives it, so a parse can be
 * compared node for node with casbin's. Identifiers are already casbin's escaped names: `r.sub` is `r_sub`.
 */
export type ExpressionNode =
  | { readonly type: 'Literal'; readonly value: string | number | boolean | null }
  | { readonly type: 'Identifier'; readonly name: string }
  | { readonly type: 'ThisExpression' }
  | { readonly type: 'MemberExpression'; readonly computed: boolean; readonly object: ExpressionNode; readonly property: ExpressionNode }
  | { readonly type: 'CallExpression'; readonly callee: ExpressionNode; readonly arguments: readonly ExpressionNode[] }
  | { readonly type: 'UnaryExpression'; readonly operator: UnaryOperator; readonly argument: ExpressionNode }
  | { readonly type: 'BinaryExpression'; readonly operator: BinaryOperator; readonly left: ExpressionNode; readonly right: ExpressionNode }
  | { readonly type: 'LogicalExpression'; readonly operator: '&&' | '||'; readonly left: ExpressionNode; readonly right: ExpressionNode }
  | { readonly type: 'ConditionalExpression'; readonly test: ExpressionNode; readonly consequent: ExpressionNode; readonly alternate: ExpressionNode }
  | { readonly type: 'ArrayExpression'; readonly elements: readonly (ExpressionNode | null)[] }
  | { readonly type: 'Compound'; readonly body: readonly ExpressionNode[] };

export type UnaryOperator = '-' | '!' | '~' | '+';

export type BinaryOperator =
  | '|' | '^' | '&'
  | '==' | '!=' | '===' | '!=='
  | '<' | '>' | '<=' | '>='
  | '<<' | '>>' | '>>>'
  | '+' | '-' | '*' | '/' | '%'
  | 'in';

export type NodeOf<T extends ExpressionNode['type']> = Extract<ExpressionNode, { readonly type: T }>;

/** Every node of `node`'s tree, depth first, parents before children. */
export function* walk(node: ExpressionNode): Generator<ExpressionNode> {
  yield node;
  switch (node.type) {
    case 'MemberExpression':
      yield* walk(node.object);
      if (node.computed) yield* walk(node.property);
      return;
    case 'CallExpression':
      yield* walk(node.callee);
      for (const arg of node.arguments) yield* walk(arg);
      return;
    case 'UnaryExpression':
      yield* walk(node.argument);
      return;
    case 'BinaryExpression':
    case 'LogicalExpression':
      yield* walk(node.left);
      yield* walk(node.right);
      return;
    case 'ConditionalExpression':
      yield* walk(node.test);
      yield* walk(node.consequent);
      yield* walk(node.alternate);
      return;
    case 'ArrayExpression':
      for (const element of node.elements) if (element) yield* walk(element);
      return;
    case 'Compound':
      for (const part of node.body) yield* walk(part);
      return;
    default:
      return;
  }
}
