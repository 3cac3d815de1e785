/**
 * The policy effects node-casbin supports, exactly as its DefaultEffectorStream reads them. casbin compares the
 * effect text literally (after `p.` → `p_`), so only these five spellings exist.
 */
export type EffectKind = 'allow-override' | 'deny-override' | 'allow-and-deny' | 'priority' | 'subject-priority';

const effectTexts: ReadonlyMap<string, EffectKind> = new Map([
  ['some(where (p_eft == allow))', 'allow-override'],
  ['!some(where (p_eft == deny))', 'deny-override'],
  ['some(where (p_eft == allow)) && !some(where (p_eft == deny))', 'allow-and-deny'],
  ['priority(p_eft) || deny', 'priority'],
  ['subjectPriority(p_eft) || deny', 'subject-priority'],
]);

/** The effect of casbin's escaped effect text, or undefined where casbin throws "unsupported effect". */
export function effectKindOf(escapedText: string): EffectKind | undefined {
  return effectTexts.get(escapedText);
}

/** casbin's Effect enum. A matcher that returns another number passes that number on as the effect. */
export const Effect = { Allow: 1, Indeterminate: 2, Deny: 3 } as const;

/**
 * One rule's effect from the matcher's value and the rule's `eft` field, as casbin's privateEnforce computes it.
 * Throws where casbin throws (a matcher value that is not a boolean, number or string).
 */
export function ruleEffect(result: unknown, eft: unknown): number {
  let effect: number;
  switch (typeof result) {
    case 'boolean':
      effect = result ? Effect.Allow : Effect.Indeterminate;
      break;
    case 'number':
      effect = result === 0 ? Effect.Indeterminate : result;
      break;
    case 'string':
      effect = result === '' ? Effect.Indeterminate : Effect.Allow;
      break;
    default:
      throw new Error('matcher result should only be of type boolean, number, or string');
  }
  if (eft && effect === Effect.Allow) {
    if (eft === 'allow') return Effect.Allow;
    if (eft === 'deny') return Effect.Deny;
    return Effect.Indeterminate;
  }
  return effect;
}

/** casbin's effector stream: push each rule's effect in policy order until `done`. */
export class EffectStream {
  result = false;
  /** The last push decided or contributed to the result (casbin's explain index). */
  recorded = false;
  done = false;

  constructor(private readonly kind: EffectKind) {}

  /** Back to the state before any push (one stream serves many decisions). */
  reset(): this {
    this.result = false;
    this.recorded = false;
    this.done = false;
    return this;
  }

  push(effect: number): void {
    switch (this.kind) {
      case 'allow-override':
        if (effect === Effect.Allow) {
          this.result = true;
          this.done = true;
          this.recorded = true;
        }
        return;
      case 'deny-override':
        this.result = true;
        if (effect === Effect.Deny) {
          this.result = false;
          this.done = true;
          this.recorded = true;
        }
        return;
      case 'allow-and-deny':
        if (effect === Effect.Allow) {
          this.result = true;
          this.recorded = true;
        } else if (effect === Effect.Deny) {
          this.result = false;
          this.done = true;
          this.recorded = true;
        } else {
          this.recorded = false;
        }
        return;
      case 'priority':
      case 'subject-priority':
        if (effect !== Effect.Indeterminate) {
          this.result = effect === Effect.Allow;
          this.done = true;
          this.recorded = true;
        }
        return;
    }
  }
}

/** Whether the effect's answer depends on the order rules are pushed in (beyond which rule is reported). */
export function isOrderSensitive(kind: EffectKind): boolean {
  return kind === 'priority' || kind === 'subject-priority';
}
