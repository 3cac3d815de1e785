import { useEffect } from 'preact/hooks';
import { call, type Page } from '../api';
import { Action, Form, OutcomeView, Screen, Table, outcomeOf, useList } from '../ui';

interface Provider {
  id: string;
  name: string;
  category: string;
  type: string;
  host?: string;
  url?: string;
  from?: string;
  hasSecret: boolean;
}

const settingsHint =
  'The type\'s settings as JSON. SMTP: {"host": "smtp.example.com", "port": 587, "from": "no-reply@example.com", "clientId": "user", "clientSecret": "…"}; ' +
  'Webhook: {"url": "https://hooks.example.com/mfa"}; SendGrid: {"from": "…", "clientSecret": "SG.…"}; Twilio: {"clientId": "AC…", "clientSecret": "…", "from": "+1555…"}. Secrets are write-only.';

/** Communication providers (e-mail and SMS senders for MFA codes); applications link to them on their own screen. */
export function ProvidersScreen() {
  const providers = useList<Provider>(() => call<Page<Provider>>('GET', '/v1/providers?limit=100'));
  useEffect(() => void providers.reload(), []);
  return (
    <Screen title="Providers" intro="E-mail and SMS senders of your organization. Link one to an application under Applications.">
      <OutcomeView outcome={providers.problem} />
      <Table
        caption="Providers"
        total={providers.total}
        rows={providers.rows}
        rowKey={(p) => p.id}
        columns={[
          { label: 'Name', value: (p) => p.name },
          { label: 'Category', value: (p) => p.category },
          { label: 'Type', value: (p) => p.type },
          { label: 'Where', value: (p) => p.host ?? p.url ?? p.from ?? '' },
          { label: 'Secret stored', value: (p) => (p.hasSecret ? 'yes' : 'no') },
          { label: 'Delete', value: (p) => <Action label={`Delete ${p.name}`} danger run={async () => outcomeOf(await call('DELETE', `/v1/providers/${p.id}`), 'Deleted.')} after={() => void providers.reload()} /> },
        ]}
      />
      <Form
        title="Add a provider"
        submitLabel="Add provider"
        fields={[
          { name: 'name', label: 'Name', required: true },
          { name: 'category', label: 'Category', kind: 'select', required: true, options: [{ value: 'Email', label: 'E-mail' }, { value: 'SMS', label: 'SMS' }], initial: 'Email' },
          { name: 'type', label: 'Type', kind: 'select', required: true, options: ['SMTP', 'Webhook', 'SendGrid', 'Twilio'].map((t) => ({ value: t, label: t })), initial: 'SMTP' },
          { name: 'settings', label: 'Settings (JSON)', kind: 'json', initial: '{\n  "host": "smtp.example.com",\n  "port": 587,\n  "from": "no-reply@example.com"\n}', hint: settingsHint },
        ]}
        onSubmit={async (body) => {
          const { settings, ...rest } = body;
          return outcomeOf(await call('POST', '/v1/providers', { ...rest, ...(settings as Record<string, unknown>) }), 'Provider added.');
        }}
        after={() => void providers.reload()}
      />
    </Screen>
  );
}
