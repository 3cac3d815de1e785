import { useEffect, useState } from 'preact/hooks';
import { call, type Page } from '../api';
import { entriesOf, linesOf, type PermissionEntry } from '../permission-lines';
import { Action, Form, OutcomeView, Screen, Table, outcomeOf, useList } from '../ui';

interface Role {
  id: string;
  name: string;
  description: string;
  builtin: boolean;
  permissions: PermissionEntry[];
}

const permissionsHint = 'One a line: resource action, or resource action deny (deny overrides any allow). Example: ledgers get';

/** Roles and their permissions (policy lines); a role may give only what its writer holds. */
export function RolesScreen() {
  const roles = useList<Role>(() => call<Page<Role>>('GET', '/v1/roles?limit=100'));
  const [selected, setSelected] = useState<string | undefined>(undefined);
  useEffect(() => void roles.reload(), []);
  const role = roles.rows.find((r) => r.id === selected);
  return (
    <Screen title="Roles" intro="A role is a set of permissions; groups hold roles.">
      <OutcomeView outcome={roles.problem} />
      <Table
        caption="Roles"
        total={roles.total}
        rows={roles.rows}
        rowKey={(r) => r.id}
        columns={[
          { label: 'Name', value: (r) => r.name + (r.builtin ? ' (built-in)' : '') },
          { label: 'Description', value: (r) => r.description },
          { label: 'Permissions', value: (r) => r.permissions.length },
          {
            label: 'Manage',
            value: (r) => (
              <button type="button" class="secondary" aria-label={`Manage ${r.name}`} onClick={() => setSelected(r.id)}>
                Manage
              </button>
            ),
          },
        ]}
      />
      {role && (
        <div class="panel" role="region" aria-label={`Role ${role.name}`}>
          <h3>{role.name}</h3>
          <Form
            key={`permissions-${role.id}-${linesOf(role.permissions)}`}
            title="Permissions"
            submitLabel="Save permissions"
            fields={[{ name: 'permissions', label: 'Permissions', kind: 'lines', initial: linesOf(role.permissions), hint: permissionsHint }]}
            onSubmit={async (body) => outcomeOf(await call('PUT', `/v1/roles/${role.id}/permissions`, { permissions: entriesOf(body.permissions as string[]) }), 'Permissions saved.')}
            after={() => void roles.reload()}
          />
          <p>
            <Action
              label="Delete role"
              danger
              run={async () => outcomeOf(await call('DELETE', `/v1/roles/${role.id}`), 'Deleted.')}
              after={() => {
                setSelected(undefined);
                void roles.reload();
              }}
            />
          </p>
        </div>
      )}
      <Form
        title="Create a role"
        submitLabel="Create role"
        fields={[
          { name: 'name', label: 'Name', required: true },
          { name: 'description', label: 'Description', optional: true },
          { name: 'permissions', label: 'Permissions', kind: 'lines', hint: permissionsHint },
        ]}
        onSubmit={async (body) => outcomeOf(await call('POST', '/v1/roles', { ...body, permissions: entriesOf(body.permissions as string[]) }), 'Role created.')}
        after={() => void roles.reload()}
      />
    </Screen>
  );
}
