// A policy engine in its own OS process, driven over stdin/stdout with JSON lines, for cross-process tests:
// it prints {"event":"ready"}, then {"event":"applied",tenantId,revision} as revisions arrive, and answers
// {"id":n,"decide":{sub,dom,obj,act},"minRevision"?:n} with {"id":n,"decision":{...}} or {"id":n,"error":code}.
import { createInterface } from 'node:readline';
import { parseEngineConfig } from '../../platform/engine-config.js';
import { startEngineRuntime } from '../../platform/engine-runtime.js';

const send = (message: unknown): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};

const runtime = await startEngineRuntime(parseEngineConfig(process.env), {
  onEvent: (event) => {
    if (event.type === 'revision-applied' || event.type === 'tenant-reloaded') {
      send({ event: 'applied', tenantId: event.tenantId, revision: event.revision, atMs: Date.now() });
    }
  },
});
send({ event: 'ready', feed: runtime.feedName });

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const message = JSON.parse(line) as { id: number; decide: { sub: string; dom: string; obj: string; act: string }; minRevision?: number };
  runtime.engine
    .decide(message.decide, message.minRevision === undefined ? {} : { minRevision: message.minRevision })
    .then((decision) => send({ id: message.id, decision }))
    .catch((error: { code?: string }) => send({ id: message.id, error: error.code ?? 'UNKNOWN' }));
});
lines.on('close', () => {
  void runtime.close().then(() => process.exit(0));
});
