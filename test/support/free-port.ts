// Tests find free ports with the same helper `npm start` uses for its embedded PostgreSQL.
export { freePort } from '../../platform/free-port.js';
