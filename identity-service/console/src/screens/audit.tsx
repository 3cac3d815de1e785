import { useEffect, useState } from 'preact/hooks';
import { call, query, type Page } from '../api';
import { OutcomeView, Screen, Table, useList } from '../ui';

interface AuditEvent {
  id: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  outcome?: string;
  clientIp?: string;
  requestId: string | null;
  at: string;
}

/** The audit trail, newest first, filtered by action and target. */
export function AuditScreen() {
  const [filters, setFilters] = useState({ action: '', targetType: '', targetId: '' });
  const [applied, setApplied] = useState(filters);
  const events = useList<AuditEvent>(() => call<Page<AuditEvent>>('GET', `/v1/audit-events${query({ limit: 50, ...applied })}`));
  useEffect(() => void events.reload(), [applied]);
  const input = (name: keyof typeof filters, label: string) => (
    <div class="field">
      <label for={`audit-${name}`}>{label}</label>
      <input id={`audit-${name}`} value={filters[name]} onInput={(e) => setFilters({ ...filters, [name]: e.currentTarget.value })} />
    </div>
  );
  return (
    <Screen title="Audit trail" intro="Who did what, when: every write of Identity and every sign-in of Auth.">
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...filters });
        }}
      >
        {input('action', 'Action (e.g. user.create)')}
        {input('targetType', 'Target type (e.g. user)')}
        {input('targetId', 'Target id')}
        <button type="submit" class="secondary">
          Filter
        </button>
      </form>
      <OutcomeView outcome={events.problem} />
      <Table
        caption="Events"
        total={events.total}
        rows={events.rows}
        rowKey={(e) => e.id}
        columns={[
          { label: 'When', value: (e) => e.at },
          { label: 'Actor', value: (e) => e.actor },
          { label: 'Action', value: (e) => e.action },
          { label: 'Target', value: (e) => `${e.targetType} ${e.targetId}` },
          { label: 'Outcome', value: (e) => e.outcome ?? '' },
          { label: 'Address', value: (e) => e.clientIp ?? '' },
        ]}
      />
    </Screen>
  );
}
