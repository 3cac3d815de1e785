// Identity on its own (`npm run start:identity`, one per replica): configuration from the environment (and an optional .env), then the
// server (identity-service/server.ts); SIGTERM drains in-flight requests and closes the pools.
import { ConfigError } from '../platform/config-error.js';
import { loadEnvFile } from '../platform/env-file.js';
import { exitOnSignal } from '../platform/shutdown.js';
import { parseIdentityConfig } from './config.js';
import { startIdentityService } from './server.js';

loadEnvFile();
let service;
try {
  // A refused license (missing, forged, expired) is a ConfigError too: the same exit 78 with its message.
  service = await startIdentityService(parseIdentityConfig(process.env));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  throw error;
}

exitOnSignal(() => service.close());
