// `npm run build:console`: builds the console's bundle (always) into identity-service/console/dist.
import { ensureConsoleBuilt } from './console-build.js';

const { dir } = await ensureConsoleBuilt({ force: true });
process.stdout.write(`console built in ${dir}\n`);
