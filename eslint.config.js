// Layer rules of ../shared/ARCHITECTURE.md: services → platform → engine, and the engine core
// imports no HTTP, database or cache client (only engine/adapters/ may).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const services = ['**/auth-service/**', '**/identity-service/**'];
const clients = ['pg', 'pg-*', 'iovalkey', 'express', 'openid-client', 'jose', 'otplib'];
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
      [...clients, ...services, '**/platform/**', '**/bootstrap/**', '**/adapters/**', '**/adapters'],
      'the engine core knows no HTTP, database or cache client; declare a port and implement it in engine/adapters/',
    ),
  },
  {
    files: ['engine/adapters/**/*.ts'],
    ignores: ['engine/**/*.test.ts'],
    rules: restrict([...services, '**/platform/**', 'express'], 'engine adapters depend on the engine core only'),
  },
  {
    files: ['platform/**/*.ts'],
    ignores: ['platform/**/*.test.ts'],
    rules: restrict(services, 'platform is shared by the services and imports none of them'),
  },
  {
    files: ['auth-service/**/*.ts'],
    rules: restrict(['**/identity-service/**'], 'services never import each other'),
  },
  {
    files: ['identity-service/**/*.ts'],
    rules: restrict(['**/auth-service/**'], 'services never import each other'),
  },
  {
    files: ['bootstrap/**/*.ts'],
    rules: restrict(services, 'bootstrap imports engine/ and platform/ only (ARCHITECTURE layout); move what it needs from a service to platform/'),
  },
  {
    files: ['client/**/*.ts'],
    ignores: ['client/**/*.test.ts'],
    rules: restrict(
      [...services, '**/platform/**', '**/engine/**', '**/bootstrap/**', 'pg', 'pg-*', 'iovalkey'],
      'the client is what products import: it talks to the services over HTTP only and imports none of their code',
    ),
  },
  {
    files: ['examples/**/*.ts'],
    ignores: ['examples/**/*.test.ts'],
    rules: restrict(
      [...services, '**/platform/**', '**/engine/**', '**/bootstrap/**'],
      'an example is a product: it uses the client (@access-manager/client) and nothing else of ours',
    ),
  },
  {
    files: ['policies/**/*.ts', 'migrations/**/*.ts'],
    ignores: ['policies/cli.ts', 'policies/tools/**', 'policies/**/*.test.ts'],
    rules: restrict(['**/engine/**', '**/platform/**', ...services], 'policies/ and migrations/ depend on nothing'),
  },
);
