import { useEffect } from 'preact/hooks';
import { call, type Page } from '../api';
import { Action, Form, OutcomeView, Screen, Table, outcomeOf, useList } from '../ui';

interface IpAllowlist {
  surface: string;
  cidrs: string[];
  updatedAt: string;
}

/** IP allowlists per surface (`identity`: every call to Identity in the organization; `authorize`: Auth's authorize). */
export function IpAllowlistsScreen() {
  const lists = useList<IpAllowlist>(() => call<Page<IpAllowlist>>('GET', '/v1/ip-allowlists?limit=100'));
  useEffect(() => void lists.reload(), []);
  return (
    <Screen title="IP allowlists" intro="Identity refuses a list for the identity surface that would leave out your own address.">
      <OutcomeView outcome={lists.problem} />
      <Table
        caption="Allowlists"
        total={lists.total}
        rows={lists.rows}
        rowKey={(l) => l.surface}
        columns={[
          { label: 'Surface', value: (l) => l.surface },
          { label: 'CIDR ranges', value: (l) => l.cidrs.join(', ') },
          { label: 'Updated', value: (l) => l.updatedAt },
          { label: 'Remove', value: (l) => <Action label={`Remove ${l.surface}`} danger run={async () => outcomeOf(await call('DELETE', `/v1/ip-allowlists/${l.surface}`), 'Removed.')} after={() => void lists.reload()} /> },
        ]}
      />
      <Form
        title="Set an allowlist"
        submitLabel="Save allowlist"
        fields={[
          { name: 'surface', label: 'Surface', kind: 'select', required: true, options: [{ value: 'identity', label: 'identity' }, { value: 'authorize', label: 'authorize' }], initial: 'identity' },
          { name: 'cidrs', label: 'CIDR ranges', kind: 'lines', hint: 'One a line, with an explicit prefix: 203.0.113.0/24, 2001:db8::/48.' },
        ]}
        onSubmit={async (body) => outcomeOf(await call('PUT', `/v1/ip-allowlists/${String(body.surface)}`, { cidrs: body.cidrs }), 'Allowlist saved.')}
        after={() => void lists.reload()}
      />
    </Screen>
  );
}
