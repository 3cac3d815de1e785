import net from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Valkey } from 'iovalkey';
import { closedPortUrl, testKeyPrefix, testValkeyUrl } from '../test/support/valkey.js';
import { createValkeyClient, isValkeyReady, type ValkeyClientOptions } from './valkey-client.js';

const prefix = testKeyPrefix('valkey-client');
const clients: Valkey[] = [];
const servers: net.Server[] = [];

function client(options: ValkeyClientOptions & { readonly cluster?: undefined }): Valkey {
  const created = createValkeyClient(options);
  clients.push(created);
  return created;
}

async function listen(server: net.Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return `redis://127.0.0.1:${port}`;
}

/** A TCP proxy to the real server that can be switched off (every connection cut and refused) and on. */
async function startSwitchableProxy(): Promise<{ url: string; down(): void; up(): void }> {
  const target = new URL(testValkeyUrl);
  const sockets = new Set<net.Socket>();
  let isUp = true;
  const server = net.createServer((socket) => {
    if (!isUp) {
      socket.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        socket.destroy();
        upstream.destroy();
      });
    }
    socket.pipe(upstream).pipe(socket);
  });
  const url = await listen(server);
  return {
    url,
    down() {
      isUp = false;
      for (const s of sockets) s.destroy();
    },
    up() {
      isUp = true;
    },
  };
}

/** A server that completes iovalkey's ready check (INFO) and then never answers anything. */
async function startSilentServer(): Promise<string> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (data) => {
      if (data.toString('latin1').toLowerCase().includes('info')) {
        const info = 'loading:0\r\n';
        socket.write(`$${info.length}\r\n${info}\r\n`);
      }
    });
  });
  return listen(server);
}

async function elapsedMs(action: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = performance.now();
  let error: unknown;
  try {
    await action();
  } catch (caught) {
    error = caught;
  }
  return { ms: performance.now() - start, error };
}

afterAll(async () => {
  const cleaner = createValkeyClient({ url: testValkeyUrl });
  await new Promise((resolve) => cleaner.once('ready', resolve));
  const keys = await cleaner.keys(`${prefix}*`);
  if (keys.length > 0) await cleaner.del(...keys);
  cleaner.disconnect();
  for (const c of clients) c.disconnect();
  for (const s of servers) s.close();
});

describe('createValkeyClient', () => {
  it('talks to a running server', async () => {
    const valkey = client({ url: testValkeyUrl, name: 'valkey-client-test' });
    await vi.waitFor(() => expect(isValkeyReady(valkey)).toBe(true), { timeout: 5_000 });
    await valkey.set(`${prefix}k`, 'v', 'EX', 30);
    expect(await valkey.get(`${prefix}k`)).toBe('v');
    expect(await valkey.client('GETNAME')).toBe('valkey-client-test');
  });

  it('a server that is down costs milliseconds per command, not the ~10 s of default retries (no offline queue)', async () => {
    const errors: Error[] = [];
    const valkey = client({ url: closedPortUrl, onError: (error) => errors.push(error) });
    const timings: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const get = await elapsedMs(() => valkey.get(`${prefix}absent`));
      const set = await elapsedMs(() => valkey.set(`${prefix}absent`, '1', 'EX', 5));
      expect(get.error).toBeInstanceOf(Error);
      expect(set.error).toBeInstanceOf(Error);
      timings.push(get.ms, set.ms);
    }
    expect(Math.max(...timings)).toBeLessThan(1_000);
    // Most fail immediately (not writable); none waits for a reconnect.
    expect(timings.filter((ms) => ms < 50).length).toBeGreaterThanOrEqual(18);
    // The outage is reported through the listener instead of crashing the process.
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 5_000 });
  });

  it('keeps reconnecting in the background while the server is down (bounded backoff, never gives up)', async () => {
    const valkey = client({ url: closedPortUrl, maxReconnectDelayMs: 100 });
    const delays: number[] = [];
    valkey.on('reconnecting', (delayMs: number) => delays.push(delayMs));
    await vi.waitFor(() => expect(delays.length).toBeGreaterThanOrEqual(6), { timeout: 5_000, interval: 50 });
    expect(Math.max(...delays)).toBeLessThanOrEqual(100);
    expect(valkey.status).not.toBe('end');
  });

  it('a command the server never answers rejects after commandTimeoutMs', async () => {
    const valkey = client({ url: await startSilentServer(), commandTimeoutMs: 200 });
    await vi.waitFor(() => expect(isValkeyReady(valkey)).toBe(true), { timeout: 5_000 });
    const { ms, error } = await elapsedMs(() => valkey.get(`${prefix}k`));
    expect(String(error)).toMatch(/timed out/i);
    expect(ms).toBeGreaterThanOrEqual(150);
    expect(ms).toBeLessThan(1_000);
  });

  it('fails fast during an outage and recovers by itself when the server returns', async () => {
    const proxy = await startSwitchableProxy();
    const valkey = client({ url: proxy.url, maxReconnectDelayMs: 200 });
    await vi.waitFor(() => expect(isValkeyReady(valkey)).toBe(true), { timeout: 5_000 });
    await valkey.set(`${prefix}outage`, 'before', 'EX', 30);

    proxy.down();
    await vi.waitFor(() => expect(isValkeyReady(valkey)).toBe(false), { timeout: 5_000 });
    const during = await elapsedMs(() => valkey.get(`${prefix}outage`));
    expect(during.error).toBeInstanceOf(Error);
    expect(during.ms).toBeLessThan(1_000);

    proxy.up();
    await vi.waitFor(() => expect(isValkeyReady(valkey)).toBe(true), { timeout: 5_000, interval: 50 });
    expect(await valkey.get(`${prefix}outage`)).toBe('before');
  });

  it('a lazy client does not connect until asked', async () => {
    const valkey = client({ url: testValkeyUrl, lazyConnect: true });
    expect(valkey.status).toBe('wait');
    await valkey.connect();
    expect(isValkeyReady(valkey)).toBe(true);
  });
});
