import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What `GET /version` answers and the OpenAPI documents' `info.version` is. */
export interface BuildInfo {
  readonly version: string;
  /** The git commit the code was built from, when known (a checkout, or a build that recorded it). */
  readonly commit?: string;
}

/** The file `npm run build` writes the commit to, beside the compiled code (an image carries no `.git`). */
export const buildCommitFile = 'build-commit';

// The package root is searched upward: this file sits at platform/service/ in a checkout and at
// dist/platform/service/ in a build, where the image keeps package.json beside dist/.
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'access-manager') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json of access-manager not found above platform/service');
    dir = parent;
  }
}

function commitAt(root: string): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).toString().trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
  } catch {
    // not a checkout, or no git: the build may have recorded the commit
  }
  const recorded = path.join(root, 'dist', buildCommitFile);
  const text = existsSync(recorded) ? readFileSync(recorded, 'utf8').trim() : '';
  return /^[0-9a-f]{40}$/.test(text) ? text : undefined;
}

let cached: BuildInfo | undefined;

/** The package's version and commit, read once per process. */
export function buildInfo(): BuildInfo {
  if (!cached) {
    const root = packageRoot();
    const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
    const commit = commitAt(root);
    cached = Object.freeze({ version, ...(commit ? { commit } : {}) });
  }
  return cached;
}
