import { Agent, request, type RequestListener } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listenGracefully } from './graceful-server.js';

function get(url: string, agent: Agent): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A handler that holds each request until released, and says when one has arrived. */
function heldHandler() {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let arrived: () => void = () => undefined;
  const arrival = new Promise<void>((resolve) => (arrived = resolve));
  const handler: RequestListener = (_req, res) => {
    arrived();
    void held.then(() => res.end('done'));
  };
  return { handler, arrival, release };
}

function connectOnce(url: string): Promise<'connected' | string> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: Error & { code?: string }) => resolve(error.code ?? error.message));
  });
}

describe('listenGracefully: the drain', () => {
  it('while a request is in flight, close refuses new connections, waits for that request, answers it with Connection: close, then resolves', async () => {
    const { handler, arrival, release } = heldHandler();
    const server = await listenGracefully(handler, { port: 0, host: '127.0.0.1', errorPrefix: 'AUT' });
    const agent = new Agent({ keepAlive: true });
    try {
      const inFlight = get(server.url, agent);
      let answered = false;
      void inFlight.then(() => (answered = true), () => (answered = true));
      await arrival;
      let closed = false;
      const closing = server.close(30_000).then(() => (closed = true));
      // The listener is gone at once: a new connection is refused while the request is still being served.
      expect(await connectOnce(server.url)).toBe('ECONNREFUSED');
      expect(answered).toBe(false);
      expect(closed).toBe(false);
      release();
      expect(await inFlight).toEqual({ status: 200, connection: 'close', body: 'done' });
      await closing;
      expect(await connectOnce(server.url)).toBe('ECONNREFUSED');
    } finally {
      release();
      agent.destroy();
    }
  });

  it('an idle kept-alive connection does not hold the close up', async () => {
    const server = await listenGracefully((_req, res) => res.end('ok'), { port: 0, host: '127.0.0.1', errorPrefix: 'AUT' });
    server.server.keepAliveTimeout = 60_000;
    const agent = new Agent({ keepAlive: true });
    try {
      expect(await get(server.url, agent)).toMatchObject({ status: 200, body: 'ok' });
      // The agent keeps the socket open; a close that waited for it would last until the drain timeout (30 s).
      const startedMs = performance.now();
      await server.close(30_000);
      expect(performance.now() - startedMs).toBeLessThan(10_000);
    } finally {
      agent.destroy();
    }
  });

  it('a response already under way when the close began is finished, and its kept-alive connection then closed at once', async () => {
    let finish: () => void = () => undefined;
    let started: () => void = () => undefined;
    const headersSent = new Promise<void>((resolve) => (started = resolve));
    const server = await listenGracefully(
      (_req, res) => {
        // Headers already on the wire: too late for Connection: close, so the connection stays kept alive.
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('part ');
        finish = () => res.end('done');
        started();
      },
      { port: 0, host: '127.0.0.1', errorPrefix: 'AUT' },
    );
    server.server.keepAliveTimeout = 60_000;
    const agent = new Agent({ keepAlive: true });
    try {
      const inFlight = get(server.url, agent);
      await headersSent;
      const closing = server.close(60_000);
      finish();
      expect(await inFlight).toMatchObject({ status: 200, body: 'part done' });
      const deadline = new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), 10_000).unref());
      expect(await Promise.race([closing.then(() => 'closed' as const), deadline])).toBe('closed');
    } finally {
      agent.destroy();
    }
  });

  it('cuts what is still open once the drain timeout has passed', async () => {
    const { handler, arrival, release } = heldHandler();
    const server = await listenGracefully(handler, { port: 0, host: '127.0.0.1', errorPrefix: 'AUT' });
    const agent = new Agent({ keepAlive: true });
    try {
      const hung = get(server.url, agent).catch((error: unknown) => error);
      await arrival;
      await server.close(200);
      expect(await hung).toBeInstanceOf(Error);
    } finally {
      release();
      agent.destroy();
    }
  });
});

/** Writes raw bytes and reads everything the server answers before it closes the connection. */
function raw(url: string, bytes: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('listenGracefully: requests Node refuses before express', () => {
  it('oversized headers get 431 problem+json with the service code; a non-HTTP request gets 400 problem+json', async () => {
    let reached = false;
    const server = await listenGracefully(
      (_req, res) => {
        reached = true;
        res.end();
      },
      { port: 0, host: '127.0.0.1', errorPrefix: 'IDE' },
    );
    try {
      const big = await raw(server.url, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
      expect(big).toMatch(/^HTTP\/1\.1 431 /);
      expect(big).toContain('Content-Type: application/problem+json');
      const body = JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
      expect(body).toMatchObject({ status: 431, code: 'IDE-0005', title: 'Request headers too large' });
      const garbage = await raw(server.url, 'NOT HTTP AT ALL\r\n\r\n');
      expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400, code: 'IDE-0001' });
      expect(reached).toBe(false);
    } finally {
      await server.close(1_000);
    }
  });
});
