// Shared by the browser flows: headless Chromium from Debian's package driven by playwright-core (no browser
// download), the whole product started as `npm start` starts it (on a test schema), and screenshots under
// test-output/screenshots/<flow>/.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { issueEvaluationLicense } from '../../local-start/evaluation-license.js';
import { freePort } from '../../local-start/free-port.js';
import { SecretBox } from '../../platform/secret-box.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';

export const chromiumPath = '/usr/bin/chromium';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const screenshotRoot = path.join(root, 'test-output', 'screenshots');

/** The flags every run uses: no sandbox (root in CI), no GPU, no network beyond the page's own, nothing synced. */
export const chromiumFlags = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/**
 * Chromium headless with a fresh profile. A missing browser is a failure, never a skip: `.ci/run` installs it
 * (`apt-get install chromium`).
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: install Debian's package (apt-get install -y chromium); .ci/run does`);
  const profile = await mkdtemp(path.join(tmpdir(), 'am-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, headless: true, args: chromiumFlags, viewport: { width: 1280, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Writes a screenshot of the page as test-output/screenshots/<flow>/<NN>-<step>.png and answers its path. */
export function screenshots(flow: string): (page: Page, step: string) => Promise<string> {
  let n = 0;
  return async (page, step) => {
    n += 1;
    const file = path.join(screenshotRoot, flow, `${String(n).padStart(2, '0')}-${step}.png`);
    await mkdir(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
}

/** The fields of the page that have no accessible name (a label, aria-label or aria-labelledby). */
export async function unlabelledFields(page: Page): Promise<string[]> {
  // A string: the page's code runs in the browser, where the DOM is (this file is type-checked without it).
  return page.evaluate<string[]>(`[...document.querySelectorAll('input, select, textarea')]
    .filter((field) => field.type !== 'hidden')
    .filter((field) => (field.labels ? field.labels.length : 0) === 0 && !field.getAttribute('aria-label') && !field.getAttribute('aria-labelledby'))
    .map((field) => field.tagName.toLowerCase() + '[name=' + (field.getAttribute('name') || '') + ']')`);
}

export interface RunningProduct {
  readonly authUrl: string;
  readonly identityUrl: string;
  /** The console URL `npm start` printed. */
  readonly consoleUrl: string;
  readonly admin: { readonly username: string; readonly password: string };
  readonly schema: TestSchema;
  /** The product's SECRETS_ENCRYPTION_KEY as a box: what it seals (a TOTP secret), the product opens. */
  readonly secrets: SecretBox;
  output(): string;
  stop(): Promise<void>;
}

/** The product as `npm start` runs it (main.ts), on a test schema of its own and free ports; resolves once it prints its URLs. */
export async function startProduct(label: string): Promise<RunningProduct> {
  const schema = await createTestSchema(label);
  const workDir = await mkdtemp(path.join(tmpdir(), `am-${label}-`));
  const license = await issueEvaluationLicense(path.join(workDir, 'license'));
  const [authPort, identityPort] = [await freePort(), await freePort()];
  const admin = { username: 'platform-admin', password: 'Tr0ub4dor-Horse-Battery!' };
  const secretsKey = randomBytes(32);
  const child: ChildProcess = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(root, 'main.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      DATA_DIR: path.join(workDir, 'data'),
      DATABASE_URL: schema.url,
      SECRETS_ENCRYPTION_KEY: secretsKey.toString('base64'),
      LICENSE_FILE: license.LICENSE_FILE,
      LICENSE_PUBLIC_KEY_FILE: license.LICENSE_PUBLIC_KEY_FILE,
      AUTH_SERVER_PORT: String(authPort),
      IDENTITY_SERVER_PORT: String(identityPort),
      BOOTSTRAP_ADMIN_USERNAME: admin.username,
      BOOTSTRAP_ADMIN_PASSWORD: admin.password,
      POLICY_CHANGE_CHANNEL: `am_${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}_${process.pid}`,
      RATE_LIMIT_TOKEN_MAX: '10000',
      RATE_LIMIT_MAX: '100000',
      RATE_LIMIT_PERMISSION_MAX: '100000',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 150_000;
  while (!output.includes('Access Manager is running')) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`npm start did not come up:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const consoleUrl = /Console\s+(\S+)/.exec(output)?.[1];
  if (consoleUrl === undefined) throw new Error(`npm start printed no console URL:\n${output}`);
  return {
    authUrl: `http://127.0.0.1:${authPort}`,
    identityUrl: `http://127.0.0.1:${identityPort}`,
    consoleUrl,
    admin,
    schema,
    secrets: new SecretBox(secretsKey),
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await schema.drop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
