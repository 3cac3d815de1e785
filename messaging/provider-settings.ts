import { isIP } from 'node:net';
import { z } from 'zod';

export const providerCategories = ['Email', 'SMS'] as const;
export type ProviderCategory = (typeof providerCategories)[number];

export const providerTypes = ['SMTP', 'Webhook', 'SendGrid', 'Twilio'] as const;
export type ProviderType = (typeof providerTypes)[number];

// Lone surrogates would be stored as U+FFFD (silently altered); U+2028/2029 break lines like CR/LF do.
const noControlCharacters = /^[^\p{Cc}\p{Cs}\u2028\u2029]*$/u;
const hostLabel = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** A DNS name or an IP literal; nothing that could carry a CRLF, a port or a path into a connection. */
export function isHostName(value: string): boolean {
  if (isIP(value) !== 0) return true;
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => hostLabel.test(label));
}

/**
 * Why `value` cannot be a provider endpoint, or undefined when it can: an absolute http(s) URL without
 * credentials, fragment, whitespace or control characters (the WHATWG parser silently drops CR, LF and TAB,
 * so the raw text is checked first).
 */
export function endpointProblem(value: string, options: { allowQuery: boolean }): string | undefined {
  if (/[\s\p{Cc}]/u.test(value)) return 'no whitespace or control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'an absolute http or https URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'http or https only';
  if (url.username !== '' || url.password !== '') return 'no credentials in the URL (use clientId and clientSecret)';
  if (url.hash !== '' || value.includes('#')) return 'no fragment';
  if (!options.allowQuery && (url.search !== '' || value.includes('?'))) return 'no query string';
  return undefined;
}

function endpoint(options: { allowQuery: boolean }) {
  return z
    .string()
    .min(1)
    .max(2048)
    .superRefine((value, ctx) => {
      const problem = endpointProblem(value, options);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    });
}

/** One line of printable text (no CR, LF, NUL or other control characters); `trim` first removes outer spaces. */
export function textLine(max: number, options: { trim?: boolean } = {}) {
  const text = options.trim ? z.string().trim() : z.string();
  return text.min(1).max(max).regex(noControlCharacters, 'no control characters (CR, LF, NUL...)');
}

export const emailAddress = z.email().max(254);
export const phoneNumber = z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 phone number such as +15551234567');
export const hostName = z.string().min(1).max(253).refine(isHostName, 'a host name or IP address');
export const portNumber = z.number().int().min(1).max(65535);
export const httpEndpoint = endpoint({ allowQuery: true });
export const baseEndpoint = endpoint({ allowQuery: false });

/** A credential (SMTP password, auth token, HMAC key): printable, bounded. */
export const secretText = textLine(1024);
/** A credential sent as-is in an HTTP header (SendGrid's API key): visible ASCII only. */
export const headerSecret = z.string().min(1).max(1024).regex(/^[\x21-\x7E]+$/, 'visible ASCII characters only');

export const twilioAccountSid = z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'a Twilio Account SID (AC and 32 hex digits)');
const twilioSender = z
  .string()
  .regex(/^(?:\+[1-9]\d{6,14}|(?=[A-Za-z0-9 ]*[A-Za-z])[A-Za-z0-9 ]{1,11})$/, 'an E.164 phone number or an alphanumeric sender id (at most 11 characters)');

export const defaultSendGridBaseUrl = 'https://api.sendgrid.com';
export const defaultTwilioBaseUrl = 'https://api.twilio.com';

/**
 * SMTP: `disableSsl` false means TLS is required (implicit TLS on port 465, STARTTLS on any other port, never
 * a silent fallback to plain text); true means a plain connection without TLS. `clientId` is the user name;
 * the password is the provider's secret.
 */
export const smtpSettings = z
  .object({
    host: hostName,
    port: portNumber.default(587),
    disableSsl: z.boolean().default(false),
    clientId: textLine(256).optional(),
    from: emailAddress,
  })
  .strict();

/** Webhook: a JSON POST to `url`; the secret, when set, signs the body (`X-Signature: sha256=<hex HMAC>`). */
export const webhookSettings = z.object({ url: httpEndpoint }).strict();

/** SendGrid's v3 Mail Send API at `baseUrl`; the secret is the API key. */
export const sendGridSettings = z.object({ baseUrl: baseEndpoint.default(defaultSendGridBaseUrl), from: emailAddress }).strict();

/** Twilio's Messages API at `baseUrl`; `clientId` is the Account SID, the secret the auth token. */
export const twilioSettings = z
  .object({ baseUrl: baseEndpoint.default(defaultTwilioBaseUrl), clientId: twilioAccountSid, from: twilioSender })
  .strict();

export type SmtpSettings = z.infer<typeof smtpSettings>;
export type WebhookSettings = z.infer<typeof webhookSettings>;
export type SendGridSettings = z.infer<typeof sendGridSettings>;
export type TwilioSettings = z.infer<typeof twilioSettings>;

/** What each provider type serves, which settings it takes, and how its secret looks. */
export const providerKinds = {
  SMTP: { categories: ['Email'], settings: smtpSettings, secret: secretText, secretRequired: false },
  Webhook: { categories: ['Email', 'SMS'], settings: webhookSettings, secret: secretText, secretRequired: false },
  SendGrid: { categories: ['Email'], settings: sendGridSettings, secret: headerSecret, secretRequired: true },
  Twilio: { categories: ['SMS'], settings: twilioSettings, secret: secretText, secretRequired: true },
} as const satisfies Record<ProviderType, { categories: readonly ProviderCategory[]; settings: z.ZodType; secret: z.ZodType<string>; secretRequired: boolean }>;

/** Settings whose change redirects where the secret is sent (or how): changing one requires the secret again. */
export const destinationSettings = ['host', 'port', 'disableSsl', 'url', 'baseUrl'] as const;

/** A provider ready to build a sender from: validated settings and the opened secret. */
export type ProviderConfig =
  | { readonly type: 'SMTP'; readonly category: 'Email'; readonly settings: SmtpSettings; readonly clientSecret?: string }
  | { readonly type: 'Webhook'; readonly category: ProviderCategory; readonly settings: WebhookSettings; readonly clientSecret?: string }
  | { readonly type: 'SendGrid'; readonly category: 'Email'; readonly settings: SendGridSettings; readonly clientSecret: string }
  | { readonly type: 'Twilio'; readonly category: 'SMS'; readonly settings: TwilioSettings; readonly clientSecret: string };
