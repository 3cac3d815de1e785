import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { AuthEvents } from '../audit/auth-events.js';
import { mfaMethods, type MfaLogin } from '../mfa/index.js';
import type { TokenService } from '../tokens/token-service.js';

const mfaToken = z.string().min(1).max(200);
const mfaType = z.enum(mfaMethods);
const sixDigits = z.string().regex(/^[0-9]{6}$/, 'six digits');
const recoveryCode = z.string().min(1).max(64).regex(/^[A-Za-z0-9 -]+$/, 'letters, digits and dashes');

const challengeBody = z.object({ mfaToken, mfaType }).strict();
const verifyBody = z
  .object({ mfaToken, passcode: sixDigits.optional(), recoveryCode: recoveryCode.optional(), mfaType: mfaType.optional(), rememberDevice: z.boolean().optional() })
  .strict()
  .refine((b) => (b.passcode === undefined) !== (b.recoveryCode === undefined), 'exactly one of passcode, recoveryCode');

const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

export function mfaLoginRoutes(deps: { mfaLogin: Pick<MfaLogin, 'sendCode' | 'verify'>; tokenService: Pick<TokenService, 'issueUserSession'>; events: Pick<AuthEvents, 'contextOf'> }): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/login/mfa/challenge',
      summary: 'Send a fresh MFA code by e-mail or SMS for a pending sign-in (or switch to the authenticator app)',
      tags: ['mfa'],
      auth: 'none',
      body: challengeBody,
      responses: { 200: { description: 'A code was sent (nothing is sent for app)', schema: z.object({ message: z.string() }) } },
      async handler({ body }) {
        return { body: await deps.mfaLogin.sendCode(body), headers: noStore };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/login/mfa/verify',
      summary: 'Complete a sign-in with a passcode or a one-time recovery code; answers the tokens (and a deviceToken with rememberDevice)',
      tags: ['mfa'],
      auth: 'none',
      body: verifyBody,
      responses: { 200: { description: 'The token answer, plus deviceToken when rememberDevice was asked' } },
      async handler({ body, req, requestId }) {
        const context = deps.events.contextOf(req, requestId);
        const signIn = await deps.mfaLogin.verify(body, context);
        const tokens = await deps.tokenService.issueUserSession(signIn.user, signIn.clientId, signIn.scope, context);
        return { body: { ...tokens, ...(signIn.deviceToken === undefined ? {} : { deviceToken: signIn.deviceToken }) }, headers: noStore };
      },
    }),
  ];
}
