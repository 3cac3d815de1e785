import { Agent, request } from 'node:http';
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

describe('listenGracefully', () => {
  it('answers a request in flight when closing began, with Connection: close, then stops; new connections are refused (I14)', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrived: () => void = () => undefined;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const server = await listenGracefully(
      (_req, res) => {
        arrived();
        void held.then(() => res.end('done'));
      },
      { port: 0, host: '127.0.0.1', errorPrefix: 'AUT' },
    );
    const agent = new Agent({ keepAlive: true });
    const inFlight = get(server.url, agent);
    await arrival;
    let closed = false;
    const closing = server.close(5_000).then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    release();
    expect(await inFlight).toEqual({ status: 200, connection: 'close', body: 'done' });
    await closing;
    await expect(get(server.url, new Agent())).rejects.toThrow(/ECONNREFUSED/);
    agent.destroy();
  });

  it('cuts what is still open once the drain timeout has passed', async () => {
    const server = await listenGracefully(() => undefined, { port: 0, host: '127.0.0.1', errorPrefix: 'AUT' });
    const agent = new Agent({ keepAlive: true });
    const hung = get(server.url, agent).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const startedMs = Date.now();
    await server.close(200);
    expect(Date.now() - startedMs).toBeLessThan(2_000);
    expect(await hung).toBeInstanceOf(Error);
    agent.destroy();
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
