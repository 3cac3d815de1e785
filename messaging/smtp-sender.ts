import nodemailer from 'nodemailer';
import { MessageSendError, type MessageSender } from './message-sender.js';
import type { SmtpSettings } from './provider-settings.js';

export interface SmtpSenderOptions {
  readonly timeoutMs: number;
  readonly defaultSubject: string;
}

interface SmtpFailure {
  readonly code?: unknown;
  readonly responseCode?: unknown;
  readonly name?: unknown;
}

/** Sorts a nodemailer failure by its error code and SMTP reply code only (its message may quote the server). */
function sendFailure(error: unknown, timeoutMs: number): MessageSendError {
  const { code, responseCode, name } = (error ?? {}) as SmtpFailure;
  const reply = typeof responseCode === 'number' ? responseCode : undefined;
  const label = `smtp ${typeof code === 'string' ? code : 'error'}${reply !== undefined ? ` ${reply}` : ''}`;
  if (code === 'EABORT' || code === 'ETIMEDOUT' || name === 'AbortError') return new MessageSendError('timeout', { detail: `smtp: no answer within ${timeoutMs} ms` });
  if (code === 'ETLS') return new MessageSendError('rejected', { detail: `${label}: TLS required but not established`, retryable: false });
  if (code === 'EAUTH' || code === 'ENOAUTH') return new MessageSendError('rejected', { detail: `${label}: authentication refused`, status: reply, retryable: false });
  if (reply !== undefined) return new MessageSendError('rejected', { detail: label, status: reply, retryable: reply >= 400 && reply < 500 });
  return new MessageSendError('unreachable', { detail: label });
}

/**
 * Sends through an SMTP server, one connection per message (no pool to keep credentials alive). Every phase
 * (DNS, connect, greeting, each reply) and the whole send are bounded by `timeoutMs`; with `disableSsl`
 * false the password is only ever sent over TLS.
 */
export function createSmtpSender(settings: SmtpSettings, password: string | undefined, options: SmtpSenderOptions): MessageSender {
  const implicitTls = !settings.disableSsl && settings.port === 465;
  return {
    async send(message) {
      const transport = nodemailer.createTransport({
        host: settings.host,
        port: settings.port,
        secure: implicitTls,
        requireTLS: !settings.disableSsl && !implicitTls,
        ignoreTLS: settings.disableSsl,
        ...(settings.clientId !== undefined ? { auth: { user: settings.clientId, pass: password ?? '' } } : {}),
        tls: { minVersion: 'TLSv1.2' },
        connectionTimeout: options.timeoutMs,
        greetingTimeout: options.timeoutMs,
        socketTimeout: options.timeoutMs,
        dnsTimeout: options.timeoutMs,
        socketCloseTimeout: 0,
        logger: false,
        debug: false,
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      try {
        await transport.sendMail({
          from: settings.from,
          to: message.to,
          subject: message.subject ?? options.defaultSubject,
          text: message.text,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (error) {
        throw sendFailure(error, options.timeoutMs);
      } finally {
        transport.close();
      }
    },
  };
}
