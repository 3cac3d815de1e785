// A Valkey/Redis Cluster of one test file: three primaries (`redis-server --cluster-enabled yes`) on free ports,
// joined with `redis-cli --cluster create`, each in its own temporary folder; the shared server is never touched.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../local-start/free-port.js';
import { spawnTracked, type TrackedChild } from './system/child-process.js';
import { pollUntil } from './system/poll.js';

const run = promisify(execFile);

export interface LocalValkeyCluster {
  /** `host:port` of every primary. */
  readonly nodes: readonly string[];
  /** A URL of one node (what VALKEY_URL names with VALKEY_MODE=cluster). */
  readonly url: string;
  /** The primary (`host:port`) serving a key's slot, as the cluster itself answers. */
  nodeOf(key: string): Promise<string>;
  close(): Promise<void>;
}

async function cli(binary: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run(binary, [...args], { timeout: 20_000 });
  return stdout;
}

/** Starts three primaries and waits until every one of them reports `cluster_state:ok`. */
export async function startLocalValkeyCluster(size = 3): Promise<LocalValkeyCluster> {
  const server = process.env.TEST_VALKEY_SERVER ?? 'redis-server';
  const redisCli = process.env.TEST_VALKEY_CLI ?? 'redis-cli';
  const folder = await mkdtemp(join(tmpdir(), 'am-valkey-cluster-'));
  const children: TrackedChild[] = [];
  const close = async () => {
    await Promise.all(children.map((child) => child.stop('SIGKILL')));
    await rm(folder, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < size; i++) {
      // The cluster bus gets a free port of its own: the default (port + 10000) may be taken or out of range.
      const [port, busPort] = [await freePort(), await freePort()];
      ports.push(port);
      const dir = join(folder, String(i));
      await mkdir(dir);
      children.push(
        spawnTracked(server, [
          '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
          '--cluster-config-file', join(dir, 'nodes.conf'), '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no',
        ]),
      );
    }
    for (const [i, port] of ports.entries()) {
      const child = children[i] as TrackedChild;
      await pollUntil(`cluster node on ${port}\n${child.output()}`, async () => {
        if (!child.isRunning()) throw new Error(child.output());
        return (await cli(redisCli, ['-p', String(port), 'ping'])).trim() === 'PONG' ? true : undefined;
      }, 10_000);
    }
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    await cli(redisCli, ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    for (const port of ports) {
      await pollUntil(`cluster_state:ok on ${port}`, async () => ((await cli(redisCli, ['-p', String(port), 'cluster', 'info'])).includes('cluster_state:ok') ? true : undefined), 20_000);
    }
    return {
      nodes,
      url: `redis://${nodes[0]}`,
      async nodeOf(key) {
        const slot = Number((await cli(redisCli, ['-p', String(ports[0]), 'cluster', 'keyslot', key])).trim());
        const shards = await cli(redisCli, ['-p', String(ports[0]), 'cluster', 'slots']);
        // `cluster slots` prints, per range: start, end, then the primary's host, port and id on separate lines.
        const lines = shards.split('\n').map((line) => line.trim());
        for (let i = 0; i + 3 < lines.length; i++) {
          const [start, end, host, port] = [Number(lines[i]), Number(lines[i + 1]), lines[i + 2], lines[i + 3]];
          if (host === '127.0.0.1' && Number.isInteger(start) && Number.isInteger(end) && slot >= start && slot <= end) return `${host}:${port}`;
        }
        throw new Error(`no node serves slot ${slot}`);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
