import { describe, expect, it } from 'vitest';
import { encodeChangeNotice, maxNoticeTenantIdLength, parseChangeNotice } from './change-notice-codec.js';

describe('change notice codec', () => {
  it('a notice travels as {"t": tenantId, "r": revision} and reads back the same', () => {
    const body = encodeChangeNotice({ tenantId: 'acme', revision: 7 });
    expect(JSON.parse(body)).toEqual({ t: 'acme', r: 7 });
    expect(parseChangeNotice(body)).toEqual({ tenantId: 'acme', revision: 7 });
  });

  it('unknown keys are dropped, not refused (rolling upgrades may add fields)', () => {
    expect(parseChangeNotice('{"t":"acme","r":3,"origin":"replica-2"}')).toEqual({ tenantId: 'acme', revision: 3 });
  });

  it('a malformed body is ignored (undefined), never thrown', () => {
    const hostile = [
      undefined,
      '',
      'not json',
      'null',
      '[]',
      '"acme"',
      '{}',
      '{"t":"acme"}',
      '{"r":1}',
      '{"t":1,"r":1}',
      '{"t":"","r":1}',
      '{"t":"acme","r":-1}',
      '{"t":"acme","r":1.5}',
      '{"t":"acme","r":"1"}',
      '{"t":"acme","r":1e400}',
      '{"t":"acme","r":9007199254740993}',
      `{"t":"${'a'.repeat(maxNoticeTenantIdLength + 1)}","r":1}`,
      `{"t":"acme","r":1,"pad":"${'x'.repeat(2_000)}"}`,
      '{"__proto__":{"t":"acme","r":1}}',
    ];
    for (const body of hostile) expect(parseChangeNotice(body), String(body)).toBeUndefined();
  });

  it('an invalid notice is refused before it is published', () => {
    expect(() => encodeChangeNotice({ tenantId: '', revision: 1 })).toThrow(RangeError);
    expect(() => encodeChangeNotice({ tenantId: 'acme', revision: -1 })).toThrow(RangeError);
    expect(() => encodeChangeNotice({ tenantId: 'acme', revision: 0.5 })).toThrow(RangeError);
  });
});
