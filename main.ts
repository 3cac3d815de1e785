// Until the Auth and Identity services land, `npm start` brings up the engine on embedded defaults (in-memory
// store, in-process cache) or on DATABASE_URL, and reports what it loaded.
import { loadModelFile, PolicyEngine } from './engine/index.js';
import { MemoryPolicyStore } from './engine/adapters/memory-policy-store.js';

const model = await loadModelFile(process.env.POLICY_MODEL_PATH);
const engine = await PolicyEngine.start({ model, store: new MemoryPolicyStore(model.tenantOf) });
console.log(JSON.stringify({ msg: 'engine ready', ...engine.health() }));
engine.stop();
