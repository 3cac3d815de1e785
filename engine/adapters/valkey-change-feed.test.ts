import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Valkey } from 'iovalkey';
import { createValkeyClient } from '../../platform/valkey-client.js';
import { closedPortUrl, testKeyPrefix, testValkeyUrl } from '../../test/support/valkey.js';
import type { PolicyChangeNotice } from '../ports.js';
import { ValkeyChangeFeed } from './valkey-change-feed.js';

// Pub/sub channels are server-wide: the prefix keeps this file's channels apart from every other file's.
const prefix = testKeyPrefix('valkey-change-feed');
const clients: Valkey[] = [];
const feeds: ValkeyChangeFeed[] = [];

function newClient(url = testValkeyUrl, name?: string): Valkey {
  const client = createValkeyClient({ url, lazyConnect: true, ...(name === undefined ? {} : { name }) });
  clients.push(client);
  return client;
}

/**
 * A feed on its own publisher and subscriber connections, as a separate process would have. The publisher is
 * connected first: without an offline queue, a command on a client still connecting is refused.
 */
async function newFeed(channel: string, options: { onError?: (error: unknown) => void; subscriber?: Valkey } = {}) {
  const publisher = newClient();
  await publisher.connect();
  const feed = new ValkeyChangeFeed({
    publisher,
    subscriber: options.subscriber ?? newClient(),
    channel,
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
  feeds.push(feed);
  return feed;
}

function newChannel(): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

let raw: Valkey;

beforeAll(async () => {
  raw = newClient();
  await raw.connect();
});

afterAll(async () => {
  for (const feed of feeds) await feed.close();
  for (const client of clients) client.disconnect();
});

describe('ValkeyChangeFeed', () => {
  it('a notice published by one process reaches every subscribed process, the publisher included', async () => {
    const channel = newChannel();
    const a = await newFeed(channel);
    const b = await newFeed(channel);
    const seenByA: PolicyChangeNotice[] = [];
    const seenByB: PolicyChangeNotice[] = [];
    await a.subscribe((notice) => seenByA.push(notice));
    await b.subscribe((notice) => seenByB.push(notice));

    await a.publish({ tenantId: 'acme', revision: 4 });
    await vi.waitFor(() => {
      expect(seenByA).toEqual([{ tenantId: 'acme', revision: 4 }]);
      expect(seenByB).toEqual([{ tenantId: 'acme', revision: 4 }]);
    });
  });

  it('sends the compact body {"t","r"} on the channel', async () => {
    const channel = newChannel();
    const listener = newClient();
    await listener.connect();
    const bodies: string[] = [];
    listener.on('message', (_channel: string, body: string) => bodies.push(body));
    await listener.subscribe(channel);
    await (await newFeed(channel)).publish({ tenantId: 'acme', revision: 9 });
    await vi.waitFor(() => expect(bodies).toEqual(['{"t":"acme","r":9}']));
  });

  it('malformed messages are ignored and never thrown into the client', async () => {
    const channel = newChannel();
    const errors: unknown[] = [];
    const feed = await newFeed(channel, { onError: (error) => errors.push(error) });
    const seen: PolicyChangeNotice[] = [];
    await feed.subscribe((notice) => seen.push(notice));

    for (const body of ['', 'garbage', '{"t":1,"r":1}', '{"t":"acme","r":-3}', '{"t":"acme"}', 'x'.repeat(10_000)]) {
      await raw.publish(channel, body);
    }
    await raw.publish(channel, '{"t":"acme","r":2}');
    // One connection delivers in order: once the valid one is here, every malformed one was handled.
    await vi.waitFor(() => expect(seen).toEqual([{ tenantId: 'acme', revision: 2 }]));
    expect(errors).toEqual([]);
  });

  it('a handler that throws is reported, and later notices are still delivered', async () => {
    const channel = newChannel();
    const errors: unknown[] = [];
    const feed = await newFeed(channel, { onError: (error) => errors.push(error) });
    const seen: number[] = [];
    await feed.subscribe((notice) => {
      seen.push(notice.revision);
      if (notice.revision === 1) throw new Error('handler bug');
    });
    await feed.publish({ tenantId: 'acme', revision: 1 });
    await feed.publish({ tenantId: 'acme', revision: 2 });
    await vi.waitFor(() => expect(seen).toEqual([1, 2]));
    expect(errors).toHaveLength(1);
  });

  it('delivery resumes after the subscriber connection is killed (CLIENT KILL, auto-resubscribe)', async () => {
    const channel = newChannel();
    const subscriberName = `feed-sub-${randomBytes(4).toString('hex')}`;
    const subscriber = newClient(testValkeyUrl, subscriberName);
    const feed = await newFeed(channel, { subscriber });
    const seen: number[] = [];
    await feed.subscribe((notice) => seen.push(notice.revision));
    await feed.publish({ tenantId: 'acme', revision: 1 });
    await vi.waitFor(() => expect(seen).toEqual([1]));

    const reconnected = new Promise((resolve) => subscriber.once('reconnecting', resolve));
    const idBefore = await clientId(subscriberName);
    expect(idBefore).toBeDefined();
    expect(await raw.call('CLIENT', 'KILL', 'ID', String(idBefore))).toBe(1);
    await reconnected;

    // Notices published while it was away are lost (resync repairs that); later ones must arrive.
    let revision = 1;
    await vi.waitFor(
      async () => {
        revision += 1;
        await feed.publish({ tenantId: 'acme', revision }).catch(() => undefined);
        expect(seen.length).toBeGreaterThan(1);
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(await clientId(subscriberName)).not.toBe(idBefore);
  });

  it('a lazy subscriber is connected and subscribed by subscribe()', async () => {
    const channel = newChannel();
    const subscriber = newClient();
    expect(subscriber.status).toBe('wait');
    const feed = await newFeed(channel, { subscriber });
    const seen: number[] = [];
    await feed.subscribe((notice) => seen.push(notice.revision));
    await feed.publish({ tenantId: 'acme', revision: 5 });
    await vi.waitFor(() => expect(seen).toEqual([5]));
  });

  it('with the server down, publish rejects fast and subscribe rejects after readyTimeoutMs', async () => {
    const feed = new ValkeyChangeFeed({
      publisher: newClient(closedPortUrl),
      subscriber: newClient(closedPortUrl),
      channel: newChannel(),
      readyTimeoutMs: 300,
    });
    feeds.push(feed);
    const start = performance.now();
    await expect(feed.publish({ tenantId: 'acme', revision: 1 })).rejects.toBeInstanceOf(Error);
    expect(performance.now() - start).toBeLessThan(1_000);
    await expect(feed.subscribe(() => undefined)).rejects.toThrow(/not ready/);
    expect(performance.now() - start).toBeLessThan(2_000);
  });

  it('a subscriber that cannot connect at start: subscribe rejects, then it subscribes once the server is reachable', async () => {
    const proxy = await startGatedProxy();
    const subscriber = createValkeyClient({ url: proxy.url, maxReconnectDelayMs: 100 });
    clients.push(subscriber);
    const feed = new ValkeyChangeFeed({ publisher: raw, subscriber, channel: newChannel(), readyTimeoutMs: 200 });
    feeds.push(feed);
    const seen: number[] = [];
    await expect(feed.subscribe((notice) => seen.push(notice.revision))).rejects.toThrow(/not ready/);

    proxy.open();
    let revision = 0;
    await vi.waitFor(
      async () => {
        revision += 1;
        await feed.publish({ tenantId: 'acme', revision });
        expect(seen.length).toBeGreaterThan(0);
      },
      { timeout: 5_000, interval: 100 },
    );
    proxy.close();
  });

  it('after close, nothing is delivered and publish is refused', async () => {
    const channel = newChannel();
    const closing = await newFeed(channel);
    const other = await newFeed(channel);
    const seenByClosing: number[] = [];
    const seenByOther: number[] = [];
    await closing.subscribe((notice) => seenByClosing.push(notice.revision));
    await other.subscribe((notice) => seenByOther.push(notice.revision));
    await closing.close();
    await other.publish({ tenantId: 'acme', revision: 1 });
    await vi.waitFor(() => expect(seenByOther).toEqual([1]));
    expect(seenByClosing).toEqual([]);
    await expect(closing.publish({ tenantId: 'acme', revision: 2 })).rejects.toThrow(/closed/);
  });

  it('refuses a subscriber that is also the publisher (subscriber mode would block publishing)', () => {
    const client = newClient();
    expect(() => new ValkeyChangeFeed({ publisher: client, subscriber: client, channel: newChannel() })).toThrow(TypeError);
  });
});

/** A TCP proxy to the real server that refuses every connection until opened. */
async function startGatedProxy(): Promise<{ url: string; open(): void; close(): void }> {
  const target = new URL(testValkeyUrl);
  const sockets = new Set<net.Socket>();
  let isOpen = false;
  const server = net.createServer((socket) => {
    if (!isOpen) {
      socket.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        socket.destroy();
        upstream.destroy();
      });
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    open() {
      isOpen = true;
    },
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function clientId(name: string): Promise<string | undefined> {
  const list = String(await raw.client('LIST'));
  const line = list.split('\n').find((entry) => entry.includes(` name=${name} `));
  return line?.match(/(?:^|\s)id=(\d+)/)?.[1];
}
