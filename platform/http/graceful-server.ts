import { randomUUID } from 'node:crypto';
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { platformCatalogue, type PlatformErrorCode } from './platform-errors.js';
import { problemTypeOf } from './service-error.js';

/** A started service (Auth, Identity): where it listens, and how to stop it (drain, then close its pools). */
export interface RunningService {
  readonly url: string;
  close(): Promise<void>;
}

export interface StartServiceOptions {
  readonly logger?: Logger;
  /** Longest wait for in-flight requests at close before their connections are cut. */
  readonly drainTimeoutMs?: number;
}

/** A listening HTTP server that can be drained. */
export interface GracefulServer {
  readonly server: Server;
  /** `http://host:port` as bound (the real port when 0 was asked). */
  readonly url: string;
  /**
   * Stops accepting connections, lets every in-flight request finish (each answered with `Connection: close`,
   * so keep-alive clients reconnect elsewhere), and resolves once every connection is closed. After
   * `drainTimeoutMs` the remaining connections are cut.
   */
  close(drainTimeoutMs?: number): Promise<void>;
}

const reasonPhrases: Readonly<Record<number, string>> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/**
 * Node refuses oversized headers, unparsable requests and slow senders before express sees them, with a bare
 * status line; the same failures get the service's problem+json here, written straight
 * to the socket since there is no response object yet.
 */
function answerClientError(errorPrefix: 'AUT' | 'IDE', error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const code: PlatformErrorCode = error.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'VALIDATION_FAILED';
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const entry = platformCatalogue(errorPrefix)[code];
  const status = timedOut ? 408 : entry.status;
  const title = timedOut ? 'Request timeout' : entry.title;
  const text = timedOut ? 'the request was not received in time' : code === 'HEADERS_TOO_LARGE' ? 'request headers exceed 16 KiB' : 'the request is not valid HTTP';
  const body = JSON.stringify({ type: problemTypeOf(entry.code), title, status, detail: text, code: entry.code, message: text, requestId: randomUUID() });
  socket.end(
    `HTTP/1.1 ${status} ${reasonPhrases[status]}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Listens with bounded header and request timeouts, tracking in-flight responses for a clean drain. */
export async function listenGracefully(handler: RequestListener, options: { port: number; host: string; errorPrefix: 'AUT' | 'IDE' }): Promise<GracefulServer> {
  const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 }, handler);
  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => answerClientError(options.errorPrefix, error, socket));
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  server.on('request', (_req, res: ServerResponse) => {
    // A request that arrives on a kept-alive connection during the drain is still served, on its way out.
    if (draining) res.setHeader('Connection', 'close');
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      // A connection whose last response was already under way when the drain began is idle only now.
      if (draining) setImmediate(() => server.closeIdleConnections());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close(drainTimeoutMs = 15_000) {
      closing ??= new Promise<void>((resolve) => {
        draining = true;
        for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
        const cut = setTimeout(() => server.closeAllConnections(), drainTimeoutMs);
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
