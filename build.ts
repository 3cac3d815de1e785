// `npm run build`: the services, their CLIs and the engine compiled to JavaScript in dist/ (tsconfig.build.json),
// with the files they read at run time (migrations, Casbin models, bootstrap seeds, policy tests) copied beside
// them at the same relative places, so `node dist/main.js` finds everything `tsx main.ts` does. The folders left
// out of the compilation (tsconfig.build.json's `exclude`) are left out of the copy too.
import { execFileSync } from 'node:child_process';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureConsoleBuilt } from './identity-service/console/console-build.js';
import { buildCommitFile } from './platform/service/build-info.js';

const root = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(root, 'dist');
const assetExtensions = new Set(['.sql', '.conf', '.yaml', '.yml', '.csv']);

const config = JSON.parse(await readFile(path.join(root, 'tsconfig.build.json'), 'utf8')) as { exclude: string[] };
const excludedFolders = new Set(config.exclude.filter((entry) => !/[*/.]/.test(entry)));

await rm(outDir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

// The console's bundle (Vite), built into the compiled tree where Identity serves it from.
await ensureConsoleBuilt({ outDir: path.join(outDir, 'identity-service', 'console', 'dist'), force: true });

let copied = 0;
for (const folder of await readdir(root, { withFileTypes: true })) {
  if (!folder.isDirectory() || folder.name.startsWith('.') || excludedFolders.has(folder.name)) continue;
  for (const file of await readdir(path.join(root, folder.name), { recursive: true })) {
    if (!assetExtensions.has(path.extname(file)) || file.split(path.sep).some((part) => part === 'node_modules' || part === 'dist')) continue;
    await cp(path.join(root, folder.name, file), path.join(outDir, folder.name, file));
    copied += 1;
  }
}
// GET /version names the commit; an image has no .git to ask, so the build records it when it has one.
try {
  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  await writeFile(path.join(outDir, buildCommitFile), `${commit}\n`);
} catch {
  // not a checkout: /version answers without a commit
}
process.stdout.write(`build: dist/ compiled, ${copied} run-time files copied\n`);
