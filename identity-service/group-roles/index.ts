export { addGroupRoles, groupsHoldingRole, removeGroupRoles } from './group-roles-store.js';
