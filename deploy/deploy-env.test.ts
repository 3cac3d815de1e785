// The deployment files (Dockerfile, compose.yaml, the Helm chart) cannot be run here, so this checks
// what can be checked: every environment variable they set is one the service's configuration knows (a typo
// would otherwise be ignored silently), and what they set is a configuration the service accepts.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { authConfigVariableNames, parseAuthConfig } from '../auth-service/config.js';
import { cliConfigSchema } from '../bootstrap/cli-config.js';
import { identityConfigVariableNames, parseIdentityConfig } from '../identity-service/config.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

const known = {
  auth: new Set(authConfigVariableNames),
  identity: new Set(identityConfigVariableNames),
  // The one-shot bootstrap service runs `platform/migrate-cli.ts` (DATABASE_URL) and `bootstrap/cli.ts`.
  bootstrap: new Set(Object.keys(cliConfigSchema.shape)),
};

// Values for what the files leave to the operator (`${VAR:?}` in compose, empty secrets in the chart).
const operatorValues: Record<string, string> = {
  SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  MFA_SECRET: randomBytes(48).toString('base64url'),
  BOOTSTRAP_ADMIN_PASSWORD: 'Correct-Horse-9-Battery',
  METRICS_TOKEN: randomBytes(32).toString('hex'),
  DATABASE_URL: 'postgres://access_manager:secret@postgres:5432/access_manager',
  VALKEY_URL: 'redis://valkey:6379',
  LICENSE_KEY: 'a.b.c',
  LICENSE_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----',
};

/** Compose interpolation as the operator's .env would resolve it: `${X:-default}`, `${X:?message}`, `${X}`. */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (_all, name: string, kind: string | undefined, rest: string | undefined) =>
    operatorValues[name] ?? (kind === '-' ? (rest ?? '') : ''),
  );
}

function unknown(names: Iterable<string>, service: keyof typeof known): string[] {
  return [...names].filter((name) => !known[service].has(name));
}

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | boolean | null> | string[];
}

function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  const entries = Array.isArray(env) ? env.map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]) : Object.entries(env).map(([k, v]) => [k, String(v ?? '')] as [string, string]);
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v ?? '')]));
}

describe('deployment files set only variables the configuration knows', () => {
  const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> };

  it('compose.yaml: every service built from this repository is checked; each of its variables is known', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.build === undefined) {
        // Third-party images (PostgreSQL, Valkey) read their own variables.
        expect(service.image, `${name} has neither build nor image`).toMatch(/^(postgres|valkey\/valkey):/);
        continue;
      }
      expect(Object.keys(known), `${name} is built from this repository but has no schema to check against`).toContain(name);
      expect(unknown(Object.keys(environmentOf(service)), name as keyof typeof known), `compose service ${name}`).toEqual([]);
    }
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgres', 'valkey', 'auth', 'identity']));
  });

  it('compose.yaml: what Auth and Identity get (with the operator\'s .env values) is a configuration they accept', () => {
    const imageEnv = dockerfileEnv();
    expect(() => parseAuthConfig({ ...imageEnv, ...environmentOf(compose.services.auth ?? {}) })).not.toThrow();
    expect(() => parseIdentityConfig({ ...imageEnv, ...environmentOf(compose.services.identity ?? {}) })).not.toThrow();
  });

  it('Dockerfile: every ENV is known to both services (the image runs either)', () => {
    const names = Object.keys(dockerfileEnv());
    expect(names.length).toBeGreaterThan(0);
    expect(unknown(names, 'auth')).toEqual([]);
    expect(unknown(names, 'identity')).toEqual([]);
  });

  it('Helm chart: every key of the values\' config and secret maps is known to its service, and templates add none unchecked', () => {
    const values = parse(read('deploy/helm/access-manager/values.yaml')) as Record<string, unknown> & {
      config: Record<string, string>;
      secretEnv: Record<string, string>;
      auth: { config: Record<string, string>; secretEnv?: Record<string, string> };
      identity: { config: Record<string, string>; secretEnv?: Record<string, string> };
    };
    for (const service of ['auth', 'identity'] as const) {
      const env = { ...values.config, ...values.secretEnv, ...values[service].config, ...values[service].secretEnv };
      expect(unknown(Object.keys(env), service), `helm ${service}`).toEqual([]);
      const filled = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === '' ? (operatorValues[k] ?? '') : String(v)]));
      const parseConfig = service === 'auth' ? parseAuthConfig : parseIdentityConfig;
      expect(() => parseConfig(filled), `helm ${service} values`).not.toThrow();
    }
    const templatesDir = 'deploy/helm/access-manager/templates';
    const templates = readdirSync(`${root}${templatesDir}`).map((file) => read(`${templatesDir}/${file}`)).join('\n');
    // Environment reaches the pods only through the ConfigMap and Secret built from those maps...
    expect(templates).toContain('configMapRef');
    expect(templates).toContain('secretRef');
    // ...and any literal `env:` entry a template adds must be known to both services.
    const literal = [...templates.matchAll(/^\s*-\s*name:\s*([A-Z][A-Z0-9_]*)\s*$/gm)].map((m) => m[1] ?? '');
    expect(unknown(literal, 'auth')).toEqual([]);
    expect(unknown(literal, 'identity')).toEqual([]);
  });

  it('the check itself catches a misspelt variable', () => {
    expect(unknown(['LICENCE_KEY', 'LICENSE_KEY'], 'auth')).toEqual(['LICENCE_KEY']);
  });
});

/** `ENV A=1 B=2` (with line continuations) from the Dockerfile. */
function dockerfileEnv(): Record<string, string> {
  const text = read('Dockerfile').replace(/\\\n/g, ' ');
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^ENV\s+(.*)$/.exec(line.trim());
    if (!match) continue;
    for (const pair of (match[1] ?? '').trim().split(/\s+/)) {
      const [name, value] = pair.split(/=(.*)/s);
      if (name) env[name] = value ?? '';
    }
  }
  return env;
}
