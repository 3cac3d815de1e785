import { Agent, request } from 'node:http';
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
      { port: 0, host: '127.0.0.1' },
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
    const server = await listenGracefully(() => undefined, { port: 0, host: '127.0.0.1' });
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
