import { describe, expect, it } from 'vitest';
import { e164Pattern, maskPhoneNumber } from './phone-number.js';

describe('phone numbers (E.164)', () => {
  it.each(['+15551234567', '+447911123456', '+4930123456', '+1234567'])('accepts %s', (phone) => {
    expect(e164Pattern.test(phone)).toBe(true);
  });

  it.each(['15551234567', '+05551234567', '+1 555 123 4567', '+1-555-1234567', '+123456', '+1234567890123456', '+1555123456a', ''])('refuses %j', (phone) => {
    expect(e164Pattern.test(phone)).toBe(false);
  });

  it('masks all but the first digits of the prefix and the last four', () => {
    expect(maskPhoneNumber('+15551234567')).toBe('+15*****4567');
    expect(maskPhoneNumber('+447911123456')).toBe('+44******3456');
    expect(maskPhoneNumber('+1234567')).toBe('+1**4567');
  });
});
