import type { ComponentType } from 'preact';
import { ApplicationsScreen } from './applications';
import { AuditScreen } from './audit';
import { DecisionLogScreen } from './decision-log';
import { DecisionTesterScreen } from './decision-tester';
import { GroupsScreen } from './groups';
import { IpAllowlistsScreen } from './ip-allowlists';
import { MfaSettingsScreen } from './mfa-settings';
import { OrganizationsScreen } from './organizations';
import { ProvidersScreen } from './providers';
import { RolesScreen } from './roles';
import { UsersScreen } from './users';

export interface ScreenEntry {
  /** The hash route: `#/<path>`. */
  readonly path: string;
  readonly title: string;
  readonly component: ComponentType;
}

/** The console's screens in navigation order; a new screen is one entry here. */
export const screens: readonly ScreenEntry[] = [
  { path: 'users', title: 'Users', component: UsersScreen },
  { path: 'groups', title: 'Groups', component: GroupsScreen },
  { path: 'roles', title: 'Roles', component: RolesScreen },
  { path: 'applications', title: 'Applications', component: ApplicationsScreen },
  { path: 'providers', title: 'Providers', component: ProvidersScreen },
  { path: 'mfa', title: 'MFA settings', component: MfaSettingsScreen },
  { path: 'ip-allowlists', title: 'IP allowlists', component: IpAllowlistsScreen },
  { path: 'tester', title: 'Decision tester', component: DecisionTesterScreen },
  { path: 'decision-log', title: 'Decision log', component: DecisionLogScreen },
  { path: 'audit', title: 'Audit trail', component: AuditScreen },
  { path: 'organizations', title: 'Organizations', component: OrganizationsScreen },
];
