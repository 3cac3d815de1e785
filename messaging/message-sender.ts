import { z } from 'zod';
import { emailAddress, phoneNumber, textLine, type ProviderCategory } from './provider-settings.js';

/** One message to one recipient: an e-mail address (category Email) or an E.164 phone number (category SMS). */
export interface OutboundMessage {
  readonly to: string;
  /** E-mail subject; SMS senders ignore it. */
  readonly subject?: string;
  readonly text: string;
}

/**
 * Delivers messages through one configured provider. Each call makes exactly one attempt with a bounded
 * time (retrying is the caller's decision) and either resolves or throws a `MessageSendError`.
 *
 * @example
 * const sender = createMessageSender(config, { fetch });
 * await sender.send({ to: 'ada@example.com', subject: 'Your code', text: 'Code: 123456' });
 */
export interface MessageSender {
  send(message: OutboundMessage): Promise<void>;
}

export type SendFailureReason =
  /** The message itself cannot be sent (recipient format, control characters); nothing was contacted. */
  | 'invalid_message'
  /** The stored provider settings or secret are unusable; nothing was contacted. */
  | 'misconfigured'
  /** No answer within the time limit. */
  | 'timeout'
  /** No connection (DNS, refused, reset, TLS handshake). */
  | 'unreachable'
  /** The provider answered and refused (non-2xx status, SMTP rejection, authentication, TLS required but not offered, a redirect). */
  | 'rejected';

/**
 * A failed delivery. `message` and `detail` name the reason, the provider kind and a status or error code;
 * never the provider's response body, the recipient's text or a credential, so the error may be logged.
 */
export class MessageSendError extends Error {
  readonly reason: SendFailureReason;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly detail: string;

  constructor(reason: SendFailureReason, options: { detail: string; status?: number; retryable?: boolean }) {
    super(`${reason}: ${options.detail}`);
    this.name = 'MessageSendError';
    this.reason = reason;
    this.detail = options.detail;
    this.status = options.status;
    this.retryable = options.retryable ?? (reason === 'timeout' || reason === 'unreachable');
  }
}

export const messageSubject = textLine(200);
export const messageText = z
  .string()
  .min(1)
  .max(10_000)
  .regex(/^(?:[^\p{Cc}]|[\t\n\r])*$/u, 'no control characters other than line breaks and tabs');

/** The recipient format a category delivers to. */
export function recipientOf(category: ProviderCategory) {
  return category === 'Email' ? emailAddress : phoneNumber;
}

/** Checks a message against the category before anything is contacted (throws `invalid_message`). */
export function checkMessage(category: ProviderCategory, message: OutboundMessage): OutboundMessage {
  const result = z
    .object({ to: recipientOf(category), subject: messageSubject.optional(), text: messageText })
    .safeParse({ to: message.to, subject: message.subject, text: message.text });
  if (!result.success) {
    const field = result.error.issues[0]?.path.join('.') || 'message';
    throw new MessageSendError('invalid_message', { detail: `${field} is not deliverable by ${category}` });
  }
  return result.data;
}
