// The ledger example: `npx tsx examples/ledger/main.ts` (configured like any product: README "Client library").
import { authClientOptionsFromEnv, createAuthClient } from '@access-manager/client';
import { startLedger } from './start-ledger.js';

let options;
try {
  options = authClientOptionsFromEnv(process.env);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(78);
}
// The ledger's resources are declared under its slug, so it always asks Auth as the product `ledger`.
const auth = createAuthClient({ ...options, product: 'ledger' });
const readerGroups = (process.env.LEDGER_READER_GROUPS ?? '').split(',').map((g) => g.trim()).filter((g) => g.length > 0);
const ledger = await startLedger(auth, { port: Number(process.env.LEDGER_PORT ?? 4100), readerGroups });
console.log(JSON.stringify({ level: 'info', msg: 'ledger listening', port: ledger.port, product: auth.options.product ?? null }));

const shutdown = () => void ledger.close().then(() => process.exit(0));
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
