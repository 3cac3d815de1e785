// The ledger example: `npm run example:ledger` (configuration from the same variables as any product: README "Client").
import { authClientOptionsFromEnv, createAuthClient } from 'access-manager/client';
import { startLedger } from './start-ledger.js';

// The ledger's resources are declared under its slug, so it always asks Auth as the product `ledger`.
const auth = createAuthClient({ ...authClientOptionsFromEnv(process.env), product: 'ledger' });
const readerGroups = (process.env.LEDGER_READER_GROUPS ?? '').split(',').map((g) => g.trim()).filter((g) => g.length > 0);
const ledger = await startLedger(auth, { port: Number(process.env.LEDGER_PORT ?? 4100), readerGroups });
console.log(JSON.stringify({ level: 'info', msg: 'ledger listening', port: ledger.port, product: auth.options.product ?? null }));

const shutdown = () => void ledger.close().then(() => process.exit(0));
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
