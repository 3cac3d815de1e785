// Test support: real receivers on 127.0.0.1 ephemeral ports standing in for SMTP servers, webhooks, SendGrid
// and Twilio. Used by the sender and provider route tests only (nothing in the service imports it).
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type Answer = (request: ReceivedRequest, res: ServerResponse) => void;

export interface HttpReceiver {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** How the next requests are answered (default: 200 `{}`). */
  answer: Answer;
  close(): Promise<void>;
}

export const answerJson =
  (status: number, body: unknown = {}): Answer =>
  (_request, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };

/** Never answers: for timeouts. */
export const answerNever: Answer = () => undefined;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startHttpReceiver(answer: Answer = answerJson(200)): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  const receiver = { answer } as HttpReceiver;
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      requests.push(request);
      receiver.answer(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

export interface ReceivedMail {
  readonly mailFrom: string | undefined;
  readonly rcptTo: readonly string[];
  /** The user the session logged in as, if it authenticated. */
  readonly user: string | undefined;
  readonly secure: boolean;
  readonly data: string;
}

export interface SmtpReceiver {
  readonly port: number;
  readonly logins: { readonly method: string; readonly username: string | undefined; readonly password: string | undefined }[];
  readonly mails: ReceivedMail[];
  close(): Promise<void>;
}

/**
 * A plain-text SMTP server (STARTTLS not offered) that accepts AUTH over the plain connection, so tests can
 * see the credentials a sender presents. `users` maps user names to passwords; anyone else is refused.
 */
export async function startSmtpReceiver(users: Readonly<Record<string, string>> = {}): Promise<SmtpReceiver> {
  const logins: SmtpReceiver['logins'] = [];
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: true,
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push({ method: auth.method, username: auth.username, password: auth.password ?? undefined });
      if (auth.username !== undefined && Object.hasOwn(users, auth.username) && users[auth.username] === auth.password) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom;
        mails.push({
          mailFrom: from === false ? undefined : from.address,
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === 'string' ? session.user : undefined,
          secure: session.secure,
          data: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, logins, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A TCP server that accepts connections and never speaks: an SMTP server that hangs before its greeting. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
