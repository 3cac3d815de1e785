// Every environment variable a schema reads is documented in the README ("Document every variable").
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { authConfigVariableNames } from '../auth-service/config.js';
import { cliConfigSchema } from '../bootstrap/cli-config.js';
import { identityConfigVariableNames } from '../identity-service/config.js';
import { doctorConfigSchema } from '../doctor/doctor.js';
import { startConfigSchema } from '../local-start/start-config.js';

const schemas: Record<string, readonly string[]> = {
  'auth-service/config.ts': authConfigVariableNames,
  'identity-service/config.ts': identityConfigVariableNames,
  'local-start/start-config.ts (npm start)': Object.keys(startConfigSchema.shape),
  'doctor/doctor.ts (npm run doctor)': Object.keys(doctorConfigSchema.shape),
  'bootstrap/cli-config.ts (npm run bootstrap)': Object.keys(cliConfigSchema.shape),
};

describe('README configuration', () => {
  it('names every variable of every configuration schema', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const documented = new Set([...readme.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]));
    const missing = Object.entries(schemas).flatMap(([schema, names]) => names.filter((name) => !documented.has(name)).map((name) => `${name} (${schema})`));
    expect(missing).toEqual([]);
  });
});
