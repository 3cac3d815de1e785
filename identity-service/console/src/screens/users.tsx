import { useEffect, useState } from 'preact/hooks';
import { call, query, type Page } from '../api';
import { Action, Form, OutcomeView, Screen, Table, outcomeOf, useList } from '../ui';

interface User {
  id: string;
  firstName: string;
  lastName: string;
  username: string;
  email: string;
  groups: string[];
  status: 'active' | 'disabled';
}

interface Group {
  id: string;
  name: string;
}

/** Users: create, disable or enable, reset the password or the second factor, change group memberships, delete. */
export function UsersScreen() {
  const [prefix, setPrefix] = useState('');
  const users = useList<User>(() => call<Page<User>>('GET', `/v1/users${query({ limit: 100, username: prefix })}`));
  const [groups, setGroups] = useState<Group[]>([]);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  useEffect(() => {
    void users.reload();
    void call<Page<Group>>('GET', '/v1/groups?limit=100').then((a) => a.ok && setGroups(a.body.items));
  }, []);
  const groupOptions = groups.map((g) => ({ value: g.id, label: g.name }));
  const groupName = (id: string) => groups.find((g) => g.id === id)?.name ?? id;
  const user = users.rows.find((u) => u.id === selected);
  return (
    <Screen title="Users" intro="People of your organization. Disabling a user or resetting a credential ends every session they have.">
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void users.reload();
        }}
      >
        <label for="user-prefix">Username starts with</label>
        <input id="user-prefix" value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} />
        <button type="submit" class="secondary">
          Search
        </button>
      </form>
      <OutcomeView outcome={users.problem} />
      <Table
        caption="Users"
        total={users.total}
        rows={users.rows}
        rowKey={(u) => u.id}
        columns={[
          { label: 'Username', value: (u) => u.username },
          { label: 'Name', value: (u) => `${u.firstName} ${u.lastName}` },
          { label: 'E-mail', value: (u) => u.email },
          { label: 'Status', value: (u) => u.status },
          { label: 'Groups', value: (u) => u.groups.map(groupName).join(', ') },
          {
            label: 'Manage',
            value: (u) => (
              <button type="button" class="secondary" aria-label={`Manage ${u.username}`} onClick={() => setSelected(u.id)}>
                Manage
              </button>
            ),
          },
        ]}
      />
      {user && (
        <div class="panel" role="region" aria-label={`User ${user.username}`}>
          <h3>{user.username}</h3>
          <p>
            <Action
              label={user.status === 'active' ? 'Disable' : 'Enable'}
              danger={user.status === 'active'}
              run={async () => outcomeOf(await call('POST', `/v1/users/${user.id}/${user.status === 'active' ? 'disable' : 'enable'}`), user.status === 'active' ? 'Disabled; their sessions ended.' : 'Enabled.')}
              after={() => void users.reload()}
            />
            <Action label="Reset MFA" danger run={async () => outcomeOf(await call('POST', `/v1/users/${user.id}/mfa/reset`), 'Every factor removed; their sessions ended.')} />
            <Action
              label="Delete"
              danger
              run={async () => outcomeOf(await call('DELETE', `/v1/users/${user.id}`), 'Deleted.')}
              after={() => {
                setSelected(undefined);
                void users.reload();
              }}
            />
          </p>
          <Form
            key={`password-${user.id}`}
            title="Reset password"
            submitLabel="Set password"
            fields={[{ name: 'newPassword', label: 'New password', kind: 'password', required: true }]}
            onSubmit={async (body) => outcomeOf(await call('PATCH', `/v1/users/${user.id}/reset-password`, body), 'Password set; their sessions ended.')}
          />
          <Form
            key={`groups-${user.id}-${user.groups.join(',')}`}
            title="Groups"
            submitLabel="Save groups"
            fields={[{ name: 'groups', label: 'Member of', kind: 'choices', options: groupOptions, initial: user.groups }]}
            onSubmit={async (body) => outcomeOf(await call('PATCH', `/v1/users/${user.id}`, body), 'Groups saved.')}
            after={() => void users.reload()}
          />
        </div>
      )}
      <Form
        title="Create a user"
        submitLabel="Create user"
        fields={[
          { name: 'username', label: 'Username', required: true },
          { name: 'firstName', label: 'First name', required: true },
          { name: 'lastName', label: 'Last name', required: true },
          { name: 'email', label: 'E-mail', kind: 'email', required: true },
          { name: 'password', label: 'Password', kind: 'password', required: true, hint: 'Identity checks it against its password policy.' },
          { name: 'groups', label: 'Groups', kind: 'choices', options: groupOptions },
        ]}
        onSubmit={async (body) => outcomeOf(await call('POST', '/v1/users', body), 'User created.')}
        after={() => void users.reload()}
      />
    </Screen>
  );
}
