/**
 * The permission that exempts its holder from the no-escalation rule, as Kubernetes' `escalate` and `bind` verbs
 * together: whoever is allowed `grant` on `escalation` may give, bind and join permissions it does not hold, and
 * change the credentials of built-in subjects (a built-in application's secret, the built-in administrator's
 * password and MFA). The bootstrap seeds it for `admin-group` only (`escalation-role` in `bootstrap/seed/`).
 * It names no route: no request is ever made to resource `escalation`.
 */
export const escalationPermission = { resource: 'escalation', action: 'grant' } as const;
