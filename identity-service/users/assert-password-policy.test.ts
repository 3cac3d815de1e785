import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../platform/http/service-error.js';
import { assertPasswordPolicy } from './assert-password-policy.js';

describe('assertPasswordPolicy', () => {
  it('throws WEAK_PASSWORD naming the field and the rule', () => {
    try {
      assertPasswordPolicy('short', 'bob', 'body.newPassword');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ServiceError);
      expect(error).toMatchObject({ code: 'WEAK_PASSWORD', field: 'body.newPassword', publicMessage: expect.stringMatching(/^body\.newPassword: .*12 to 128/) });
    }
  });
});
