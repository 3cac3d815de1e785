// Until the Auth and Identity services land, `npm start` runs the policy engine: on embedded defaults (policy in
// memory, decisions cached in process) when no DATABASE_URL/VALKEY_URL is given, or on the configured ones.
import { parseEngineConfig } from './platform/engine-config.js';
import { ConfigError } from './platform/config-error.js';
import { startEngineRuntime } from './platform/engine-runtime.js';

let config;
try {
  config = parseEngineConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  throw error;
}

const runtime = await startEngineRuntime(config, {
  onConnectionError: (source, error) => console.error(JSON.stringify({ level: 'warn', msg: 'connection error', source, error: error.message })),
});
const { ready, tenants, rules, fastPath } = runtime.engine.health();
console.log(JSON.stringify({ level: 'info', msg: 'policy engine ready', ready, tenants, rules, fastPath, store: config.DATABASE_URL ? 'postgres' : 'memory', feed: runtime.feedName ?? 'none' }));

// Nothing else holds the event loop open on embedded defaults (the engine's timers are unref'd).
const keepAlive = setInterval(() => undefined, 60_000);
const shutdown = async (): Promise<void> => {
  clearInterval(keepAlive);
  await runtime.close();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
