// The layer rules: each top-level folder imports only the folders below it (the README's folder table), and the
// engine core imports no HTTP, database or cache client (only engine/adapters/ may). A wrong-way import fails
// `npm run lint`; test/layer-rules.test.ts proves each rule fires.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const folder = (name) => [`**/${name}/**`, `**/${name}`];
const services = [...folder('auth-service'), ...folder('identity-service')];
const bootstrap = folder('bootstrap');
const platform = folder('platform');
const engineAdapters = folder('adapters');
const directory = folder('directory');
const domain = folder('domain');
const licensing = folder('licensing');
const messaging = folder('messaging');
const localStart = folder('local-start');
const doctor = folder('doctor');
const clients = ['pg', 'pg-*', 'iovalkey', 'express', 'openid-client', 'jose', 'otplib', 'nodemailer'];
// Domain rules compute; whatever reads or writes the world (files, sockets, processes, databases) lives elsewhere.
const io = ['node:fs', 'node:fs/*', 'node:net', 'node:http', 'node:https', 'node:http2', 'node:child_process', 'node:dgram', 'node:dns', 'node:worker_threads'];
// A folder allowed a few files of another is written '**/platform/**' (never the bare '**/platform') followed by
// '!…' exceptions: gitignore rules cannot re-include a file whose parent folder is itself excluded.
const restrict = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }],
});

export default tseslint.config(
  { ignores: ['node_modules/**', '**/dist/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['engine/**/*.ts'],
    ignores: ['engine/adapters/**', 'engine/**/*.test.ts'],
    rules: restrict(
      [...clients.filter((name) => name !== 'otplib'), ...services, ...platform, ...bootstrap, ...engineAdapters, ...domain, ...directory, ...licensing, ...messaging, ...localStart, ...doctor],
      'the engine core knows no HTTP, database or cache client; declare a port and implement it in engine/adapters/',
    ),
  },
  {
    files: ['engine/adapters/**/*.ts'],
    ignores: ['engine/**/*.test.ts'],
    rules: restrict(
      [...services, ...platform, ...bootstrap, ...domain, ...directory, ...licensing, ...messaging, ...localStart, ...doctor, 'express'],
      'engine adapters depend on the engine core only',
    ),
  },
  {
    files: ['domain/**/*.ts'],
    ignores: ['domain/**/*.test.ts'],
    rules: restrict(
      [...clients.filter((name) => name !== 'otplib'), ...io, ...services, ...platform, ...bootstrap, ...engineAdapters, ...directory, ...licensing, ...messaging, ...localStart, ...doctor],
      'domain/ holds pure rules: it imports only the engine (types and pure functions) and does no I/O',
    ),
  },
  {
    files: ['directory/**/*.ts'],
    ignores: ['directory/**/*.test.ts'],
    rules: restrict(
      [...services, ...bootstrap, '**/platform/**', '!**/platform/postgres-*', ...engineAdapters, ...licensing, ...messaging, ...localStart, ...doctor, 'iovalkey', 'express', 'openid-client'],
      'directory/ owns the identity tables: it imports platform/postgres-*, domain/ and engine types only',
    ),
  },
  {
    files: ['platform/**/*.ts'],
    ignores: ['platform/**/*.test.ts'],
    rules: restrict(
      [...services, ...bootstrap, ...messaging, ...localStart, ...doctor, ...directory],
      'platform is shared infrastructure: it imports engine/, domain/ and licensing/, never a service or what builds on it',
    ),
  },
  {
    // Only the one "is this token still good" check reads the directory (subject, organization, session).
    files: ['platform/auth/**/*.ts'],
    ignores: ['platform/**/*.test.ts'],
    rules: restrict(
      [...services, ...bootstrap, ...messaging, ...localStart, ...doctor],
      'platform is shared infrastructure: it imports engine/, domain/ and licensing/ (platform/auth also directory/), never a service or what builds on it',
    ),
  },
  {
    files: ['licensing/**/*.ts'],
    ignores: ['licensing/**/*.test.ts'],
    rules: restrict(
      [...services, ...bootstrap, '**/platform/**', '!**/platform/config-error.js', '!**/platform/secret.js', ...engineAdapters, ...folder('engine'), ...domain, ...directory, ...messaging, ...localStart, ...doctor],
      "licensing/ stands alone: of platform/ it uses only the config error and the secret wrapper",
    ),
  },
  {
    files: ['messaging/**/*.ts'],
    ignores: ['messaging/**/*.test.ts'],
    rules: restrict(
      [...services, ...bootstrap, ...engineAdapters, ...licensing, ...localStart, ...doctor],
      'messaging/ imports platform/, directory/ and domain/ only',
    ),
  },
  {
    files: ['local-start/**/*.ts'],
    ignores: ['local-start/**/*.test.ts'],
    rules: restrict(
      [...services, ...bootstrap, ...engineAdapters, ...directory, ...messaging, ...doctor],
      'local-start/ imports platform/, licensing/ and domain/ only; main.ts wires it to the services',
    ),
  },
  {
    files: ['doctor/**/*.ts'],
    ignores: ['doctor/**/*.test.ts'],
    rules: restrict(
      [...services, ...bootstrap, ...folder('engine'), ...domain, ...directory, ...licensing, ...messaging],
      'the doctor checks an installation over HTTP: it imports platform/ and local-start/ (for npm start\'s defaults) only',
    ),
  },
  {
    files: ['auth-service/**/*.ts'],
    ignores: ['auth-service/**/*.test.ts'],
    rules: restrict([...folder('identity-service'), ...bootstrap, ...localStart, ...doctor], 'services never import each other, bootstrap, local-start/ or the doctor'),
  },
  {
    files: ['identity-service/**/*.ts'],
    ignores: ['identity-service/**/*.test.ts'],
    rules: restrict([...folder('auth-service'), ...bootstrap, ...localStart, ...doctor], 'services never import each other, bootstrap, local-start/ or the doctor'),
  },
  {
    files: ['auth-service/**/*.test.ts'],
    rules: restrict(folder('identity-service'), 'services never import each other (cross-service tests live in test/)'),
  },
  {
    files: ['identity-service/**/*.test.ts'],
    rules: restrict(folder('auth-service'), 'services never import each other (cross-service tests live in test/)'),
  },
  {
    files: ['bootstrap/**/*.ts'],
    rules: restrict(
      [...services, ...licensing, ...messaging, ...localStart, ...doctor],
      'bootstrap imports engine/, domain/, directory/ and platform/ only; move what it needs from a service to domain/ or directory/',
    ),
  },
  {
    files: ['client/**/*.ts'],
    ignores: ['client/**/*.test.ts'],
    rules: restrict(
      [...services, ...platform, ...folder('engine'), ...bootstrap, ...domain, ...directory, ...licensing, ...messaging, ...localStart, ...doctor, 'pg', 'pg-*', 'iovalkey'],
      'the client is what products import: it talks to the services over HTTP only and imports none of their code',
    ),
  },
  {
    files: ['examples/**/*.ts'],
    ignores: ['examples/**/*.test.ts'],
    rules: restrict(
      [...services, ...platform, ...folder('engine'), ...bootstrap, ...domain, ...directory, ...licensing, ...messaging, ...localStart, ...doctor],
      'an example is a product: it uses the client (@access-manager/client) and nothing else of ours',
    ),
  },
  {
    // One way in for policy writes: outside its adapters the store is built by createPolicyStore and known only as
    // the PolicyStore port, written through the engine's writeWithin.
    files: ['**/*.ts'],
    ignores: ['engine/adapters/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...["Identifier[name='PgPolicyStore']", 'ImportDeclaration[source.value=/pg-policy-store\\.js$/]', 'ImportExpression[source.value=/pg-policy-store\\.js$/]'].map((selector) => ({
          selector,
          message: 'build the policy store with createPolicyStore (engine/adapters) and use it as the PolicyStore port',
        })),
      ],
    },
  },
  {
    files: ['policies/**/*.ts', 'migrations/**/*.ts'],
    ignores: ['policies/cli.ts', 'policies/tools/**', 'policies/**/*.test.ts'],
    rules: restrict(
      [...folder('engine'), ...platform, ...services, ...bootstrap, ...domain, ...directory, ...licensing, ...messaging, ...localStart, ...doctor],
      'policies/ and migrations/ depend on nothing',
    ),
  },
);
