import { useEffect, useState } from 'preact/hooks';
import { call, type Page } from '../api';
import { Action, Form, OutcomeView, Screen, Table, outcomeOf, useList } from '../ui';

interface Group {
  id: string;
  name: string;
  description: string;
  builtin: boolean;
  users: number | string[];
  roles: string[];
}

interface Member {
  id: string;
  username: string;
}

interface Named {
  id: string;
  name?: string;
  username?: string;
}

/** Groups, their members and the roles they hold: joining a group gives its roles (the writer must hold them). */
export function GroupsScreen() {
  const groups = useList<Group>(() => call<Page<Group>>('GET', '/v1/groups?limit=100'));
  const [roles, setRoles] = useState<Named[]>([]);
  const [users, setUsers] = useState<Named[]>([]);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [members, setMembers] = useState<Member[]>([]);
  useEffect(() => {
    void groups.reload();
    void call<Page<Named>>('GET', '/v1/roles?limit=100').then((a) => a.ok && setRoles(a.body.items));
    void call<Page<Named>>('GET', '/v1/users?limit=100').then((a) => a.ok && setUsers(a.body.items));
  }, []);
  const loadMembers = async (id: string) => {
    const answer = await call<Page<Member>>('GET', `/v1/groups/${id}/members?limit=100`);
    setMembers(answer.ok ? answer.body.items : []);
  };
  useEffect(() => {
    if (selected !== undefined) void loadMembers(selected);
  }, [selected]);
  const group = groups.rows.find((g) => g.id === selected);
  const roleName = (id: string) => roles.find((r) => r.id === id)?.name ?? id;
  const refresh = () => {
    void groups.reload();
    if (selected !== undefined) void loadMembers(selected);
  };
  return (
    <Screen title="Groups" intro="People get roles through groups. You can add a member or a role only if you hold everything it gives; Identity says what is missing otherwise.">
      <OutcomeView outcome={groups.problem} />
      <Table
        caption="Groups"
        total={groups.total}
        rows={groups.rows}
        rowKey={(g) => g.id}
        columns={[
          { label: 'Name', value: (g) => g.name + (g.builtin ? ' (built-in)' : '') },
          { label: 'Description', value: (g) => g.description },
          { label: 'Members', value: (g) => (Array.isArray(g.users) ? g.users.join(', ') : g.users) },
          { label: 'Roles', value: (g) => g.roles.map(roleName).join(', ') },
          {
            label: 'Manage',
            value: (g) => (
              <button type="button" class="secondary" aria-label={`Manage ${g.name}`} onClick={() => setSelected(g.id)}>
                Manage
              </button>
            ),
          },
        ]}
      />
      {group && (
        <div class="panel" role="region" aria-label={`Group ${group.name}`}>
          <h3>{group.name}</h3>
          <Table
            caption="Members"
            rows={members}
            rowKey={(m) => m.id}
            columns={[
              { label: 'Username', value: (m) => m.username },
              {
                label: 'Remove',
                value: (m) => <Action label={`Remove ${m.username}`} danger run={async () => outcomeOf(await call('DELETE', `/v1/groups/${group.id}/members/${m.id}`), 'Removed.')} after={refresh} />,
              },
            ]}
          />
          <Form
            key={`member-${group.id}`}
            title="Add a member"
            submitLabel="Add member"
            fields={[{ name: 'userId', label: 'User', kind: 'select', required: true, options: users.map((u) => ({ value: u.id, label: u.username ?? u.id })), initial: users[0]?.id ?? '' }]}
            onSubmit={async (body) => outcomeOf(await call('PUT', `/v1/groups/${group.id}/members/${String(body.userId)}`), 'Member added.')}
            after={refresh}
          />
          <Table
            caption="Roles of this group"
            rows={group.roles}
            rowKey={(id) => id}
            columns={[
              { label: 'Role', value: (id) => roleName(id) },
              { label: 'Remove', value: (id) => <Action label={`Remove ${roleName(id)}`} danger run={async () => outcomeOf(await call('DELETE', `/v1/groups/${group.id}/roles/${id}`), 'Role removed.')} after={refresh} /> },
            ]}
          />
          <Form
            key={`role-${group.id}`}
            title="Grant a role to this group"
            submitLabel="Grant role"
            fields={[{ name: 'roleId', label: 'Role', kind: 'select', required: true, options: roles.map((r) => ({ value: r.id, label: r.name ?? r.id })), initial: roles[0]?.id ?? '' }]}
            onSubmit={async (body) => outcomeOf(await call('PUT', `/v1/groups/${group.id}/roles/${String(body.roleId)}`), 'Role granted.')}
            after={refresh}
          />
          <p>
            <Action
              label="Delete group"
              danger
              run={async () => outcomeOf(await call('DELETE', `/v1/groups/${group.id}`), 'Deleted.')}
              after={() => {
                setSelected(undefined);
                void groups.reload();
              }}
            />
          </p>
        </div>
      )}
      <Form
        title="Create a group"
        submitLabel="Create group"
        fields={[
          { name: 'name', label: 'Name', required: true },
          { name: 'description', label: 'Description', optional: true },
        ]}
        onSubmit={async (body) => outcomeOf(await call('POST', '/v1/groups', body), 'Group created.')}
        after={() => void groups.reload()}
      />
    </Screen>
  );
}
