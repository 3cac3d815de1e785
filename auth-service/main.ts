// Auth on its own (`npm run start:auth`, one per replica): configuration from the environment (and an optional .env), then the server
// (auth-service/server.ts); SIGTERM drains in-flight requests and closes the pools. With AUTH_WORKERS above 1 this
// process is the primary of that many workers (platform/cluster/worker-cluster.ts), each running the server.
import cluster from 'node:cluster';
import { ConfigError } from '../platform/config-error.js';
import { loadEnvFile } from '../platform/env-file.js';
import { createLogger } from '../platform/logger.js';
import { runPrimary } from '../platform/cluster/worker-cluster.js';
import { exitOnSignal } from '../platform/shutdown.js';
import { parseAuthConfig, type AuthConfig } from './config.js';
import { startAuthService } from './server.js';

loadEnvFile();
let config: AuthConfig;
try {
  config = parseAuthConfig(process.env);
  if (cluster.isPrimary && config.AUTH_WORKERS > 1) {
    const primary = runPrimary({ workers: config.AUTH_WORKERS, logger: createLogger({ name: 'auth', level: config.LOG_LEVEL }) });
    exitOnSignal(() => primary.stop());
  } else {
    // A refused license (missing, forged, expired) is a ConfigError too: the same exit 78 with its message.
    const service = await startAuthService(config);
    exitOnSignal(() => service.close());
  }
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  throw error;
}
