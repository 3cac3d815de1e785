import { useEffect, useState } from 'preact/hooks';
import { call, type Answer, type Page } from '../api';
import { entriesOf, linesOf, type PermissionEntry } from '../permission-lines';
import { Action, Form, OutcomeView, Screen, Table, outcomeOf, useList, type Outcome } from '../ui';

interface Application {
  id: string;
  name: string;
  description: string;
  clientId: string;
  redirectUris: string[];
  publicClient: boolean;
  clientSecret?: string;
}

interface ProviderLink {
  providerId: string;
  canSignIn: boolean;
  canSignUp: boolean;
  canUnlink: boolean;
  prompted: boolean;
  isDefault?: boolean;
}

interface Named {
  id: string;
  name: string;
}

/** A secret is in one answer only: shown here until the screen is left, with nothing kept anywhere. */
function SecretOnce({ secret }: { secret: { name: string; clientId: string; value: string } | undefined }) {
  if (!secret) return null;
  return (
    <div class="outcome secret" role="status">
      <p>
        The client secret of <strong>{secret.name}</strong> ({secret.clientId}), shown this once; only its hash is stored:
      </p>
      <p>
        <output aria-label="Client secret" class="secret-value">
          {secret.value}
        </output>
      </p>
    </div>
  );
}

/** Applications: created with a secret shown once (none for a public client), rotated, redirect URIs, permission set, provider links. */
export function ApplicationsScreen() {
  const apps = useList<Application>(() => call<Page<Application>>('GET', '/v1/applications?limit=100'));
  const [providers, setProviders] = useState<Named[]>([]);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [secret, setSecret] = useState<{ name: string; clientId: string; value: string } | undefined>(undefined);
  const [permissions, setPermissions] = useState<PermissionEntry[] | undefined>(undefined);
  const [links, setLinks] = useState<ProviderLink[]>([]);
  useEffect(() => {
    void apps.reload();
    void call<Page<Named>>('GET', '/v1/providers?limit=100').then((a) => a.ok && setProviders(a.body.items));
  }, []);
  const loadDetail = async (id: string) => {
    const set = await call<{ permissions: PermissionEntry[] }>('GET', `/v1/applications/${id}/permissions`);
    setPermissions(set.ok ? set.body.permissions : []);
    const linked = await call<{ items: ProviderLink[] } | ProviderLink[]>('GET', `/v1/applications/${id}/providers`);
    setLinks(linked.ok ? (Array.isArray(linked.body) ? linked.body : linked.body.items) : []);
  };
  useEffect(() => {
    if (selected !== undefined) void loadDetail(selected);
  }, [selected]);
  const app = apps.rows.find((a) => a.id === selected);
  const providerName = (id: string) => providers.find((p) => p.id === id)?.name ?? id;
  const showSecret = (answer: Answer<Application>, note: string): Outcome => {
    if (answer.ok && answer.body.clientSecret !== undefined) setSecret({ name: answer.body.name, clientId: answer.body.clientId, value: answer.body.clientSecret });
    return outcomeOf(answer, note);
  };
  return (
    <Screen title="Applications" intro="Products and clients. A client secret is shown once, when created or rotated; a public client (a browser app) has none.">
      <SecretOnce secret={secret} />
      <OutcomeView outcome={apps.problem} />
      <Table
        caption="Applications"
        total={apps.total}
        rows={apps.rows}
        rowKey={(a) => a.id}
        columns={[
          { label: 'Name', value: (a) => a.name },
          { label: 'Client id', value: (a) => <code>{a.clientId}</code> },
          { label: 'Kind', value: (a) => (a.publicClient ? 'public (PKCE)' : 'confidential') },
          { label: 'Redirect URIs', value: (a) => a.redirectUris.join(' ') },
          {
            label: 'Manage',
            value: (a) => (
              <button type="button" class="secondary" aria-label={`Manage ${a.name}`} onClick={() => setSelected(a.id)}>
                Manage
              </button>
            ),
          },
        ]}
      />
      {app && (
        <div class="panel" role="region" aria-label={`Application ${app.name}`}>
          <h3>{app.name}</h3>
          <p>
            {!app.publicClient && (
              <Action label="Rotate secret" danger run={async () => showSecret(await call<Application>('POST', `/v1/applications/${app.id}/rotate-secret`), 'New secret issued; the old one and its tokens stopped working.')} />
            )}
            <Action
              label="Delete application"
              danger
              run={async () => outcomeOf(await call('DELETE', `/v1/applications/${app.id}`), 'Deleted.')}
              after={() => {
                setSelected(undefined);
                void apps.reload();
              }}
            />
          </p>
          <Form
            key={`redirects-${app.id}-${app.redirectUris.join(' ')}`}
            title="Redirect URIs"
            submitLabel="Save redirect URIs"
            fields={[{ name: 'redirectUris', label: 'Redirect URIs', kind: 'lines', initial: app.redirectUris.join('\n'), hint: 'One a line, exact: https, or http on 127.0.0.1, [::1] or localhost; no fragment.' }]}
            onSubmit={async (body) => outcomeOf(await call('PATCH', `/v1/applications/${app.id}`, body), 'Redirect URIs saved.')}
            after={() => void apps.reload()}
          />
          {permissions !== undefined && (
            <Form
              key={`pset-${app.id}-${linesOf(permissions)}`}
              title="Permission set (what the application's own token may do)"
              submitLabel="Save permission set"
              fields={[{ name: 'permissions', label: 'Permissions', kind: 'lines', initial: linesOf(permissions), hint: 'One a line: resource action, or resource action deny.' }]}
              onSubmit={async (body) => outcomeOf(await call('PUT', `/v1/applications/${app.id}/permissions`, { permissions: entriesOf(body.permissions as string[]) }), 'Permission set saved.')}
              after={() => void loadDetail(app.id)}
            />
          )}
          <Table
            caption="Linked providers"
            rows={links}
            rowKey={(l) => l.providerId}
            columns={[
              { label: 'Provider', value: (l) => providerName(l.providerId) },
              { label: 'Sign-in', value: (l) => (l.canSignIn ? 'yes' : 'no') },
              { label: 'Default', value: (l) => (l.isDefault ? 'yes' : '') },
              {
                label: 'Actions',
                value: (l) => (
                  <>
                    <Action label="Make default" run={async () => outcomeOf(await call('PATCH', `/v1/applications/${app.id}/providers/${l.providerId}/default`), 'Default provider set.')} after={() => void loadDetail(app.id)} />
                    <Action label="Unlink" danger run={async () => outcomeOf(await call('DELETE', `/v1/applications/${app.id}/providers/${l.providerId}`), 'Unlinked.')} after={() => void loadDetail(app.id)} />
                  </>
                ),
              },
            ]}
          />
          <Form
            key={`link-${app.id}`}
            title="Link a provider"
            submitLabel="Link provider"
            fields={[
              { name: 'providerId', label: 'Provider', kind: 'select', required: true, options: providers.map((p) => ({ value: p.id, label: p.name })), initial: providers[0]?.id ?? '' },
              { name: 'canSignIn', label: 'Can sign in', kind: 'checkbox', initial: true },
              { name: 'canSignUp', label: 'Can sign up', kind: 'checkbox' },
              { name: 'canUnlink', label: 'Can unlink', kind: 'checkbox', initial: true },
              { name: 'prompted', label: 'Prompted', kind: 'checkbox' },
            ]}
            onSubmit={async (body) => outcomeOf(await call('POST', `/v1/applications/${app.id}/providers`, body), 'Provider linked.')}
            after={() => void loadDetail(app.id)}
          />
        </div>
      )}
      <Form
        title="Create an application"
        submitLabel="Create application"
        fields={[
          { name: 'name', label: 'Name', required: true },
          { name: 'description', label: 'Description', optional: true },
          { name: 'publicClient', label: 'Public client (browser app: no secret, PKCE only)', kind: 'checkbox' },
          { name: 'redirectUris', label: 'Redirect URIs', kind: 'lines', hint: 'One a line; needed to sign people in through the hosted page.' },
        ]}
        onSubmit={async (body) => showSecret(await call<Application>('POST', '/v1/applications', body), 'Application created.')}
        after={() => void apps.reload()}
      />
    </Screen>
  );
}
