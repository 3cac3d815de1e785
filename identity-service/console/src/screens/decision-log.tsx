import { useEffect, useId, useState } from 'preact/hooks';
import { call, query } from '../api';
import { OutcomeView, Screen, Table, outcomeOf, type Outcome } from '../ui';

interface Decision {
  id: string;
  at: string;
  subject: string;
  resource: string;
  action: string;
  product: string | null;
  allowed: boolean;
  reason: string;
  revision: number;
  rule: string | null;
  requestId: string | null;
  clientIp: string | null;
}

interface DecisionPage {
  items: Decision[];
  nextCursor?: string;
}

interface Filters {
  subject: string;
  from: string;
  to: string;
  decision: string;
}

/** A datetime-local value (the browser's time zone) as an ISO instant; empty stays empty. */
const instant = (local: string) => (local.length === 0 ? undefined : new Date(local).toISOString());

/** Every authorize decision Auth made for the organization, newest first, by subject and time. */
export function DecisionLogScreen() {
  const id = useId();
  const [filters, setFilters] = useState<Filters>({ subject: '', from: '', to: '', decision: '' });
  const [applied, setApplied] = useState<Filters>(filters);
  const [rows, setRows] = useState<Decision[]>([]);
  const [next, setNext] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState<Outcome | undefined>(undefined);

  const load = async (cursor: string | undefined) => {
    const res = await call<DecisionPage>(
      'GET',
      `/v1/decision-log${query({ limit: 50, subject: applied.subject.trim(), from: instant(applied.from), to: instant(applied.to), decision: applied.decision, cursor })}`,
    );
    if (!res.ok) {
      setProblem(outcomeOf(res));
      return;
    }
    setProblem(undefined);
    setRows(cursor === undefined ? res.body.items : [...rows, ...res.body.items]);
    setNext(res.body.nextCursor);
  };
  useEffect(() => void load(undefined), [applied]);

  const input = (name: 'subject' | 'from' | 'to', label: string) => {
    const onInput = (e: { currentTarget: HTMLInputElement }) => setFilters({ ...filters, [name]: e.currentTarget.value });
    return (
      <div class="field">
        <label for={`${id}-${name}`}>{label}</label>
        {name === 'subject' ? (
          <input id={`${id}-${name}`} value={filters[name]} onInput={onInput} />
        ) : (
          <input id={`${id}-${name}`} type="datetime-local" step="1" value={filters[name]} onInput={onInput} />
        )}
      </div>
    );
  };

  return (
    <Screen title="Decision log" intro="Every authorize decision, with the rule that decided and the policy revision it was made at.">
      <form
        class="filters"
        role="search"
        aria-label="Filter decisions"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...filters });
        }}
      >
        {input('subject', 'Subject (e.g. user:<id>)')}
        {input('from', 'From')}
        {input('to', 'To')}
        <div class="field">
          <label for={`${id}-decision`}>Decision</label>
          <select id={`${id}-decision`} value={filters.decision} onChange={(e) => setFilters({ ...filters, decision: e.currentTarget.value })}>
            <option value="">Any</option>
            <option value="allow">Allowed</option>
            <option value="deny">Denied</option>
          </select>
        </div>
        <button type="submit" class="secondary">
          Filter
        </button>
        <button type="button" class="secondary" onClick={() => setApplied({ ...filters })}>
          Refresh
        </button>
      </form>
      <OutcomeView outcome={problem} />
      <Table
        caption="Decisions"
        rows={rows}
        rowKey={(d) => d.id}
        columns={[
          { label: 'When', value: (d) => d.at },
          { label: 'Subject', value: (d) => d.subject },
          { label: 'Resource', value: (d) => (d.product === null ? d.resource : `${d.resource} (${d.product})`) },
          { label: 'Action', value: (d) => d.action },
          { label: 'Decision', value: (d) => (d.allowed ? 'allow' : 'deny') },
          { label: 'Why', value: (d) => d.reason },
          { label: 'Rule', value: (d) => (d.rule === null ? '' : <code>{d.rule}</code>) },
          { label: 'Revision', value: (d) => d.revision },
          { label: 'Address', value: (d) => d.clientIp ?? '' },
          { label: 'Request', value: (d) => d.requestId ?? '' },
        ]}
      />
      {next !== undefined && (
        <button type="button" class="secondary" onClick={() => void load(next)}>
          Older decisions
        </button>
      )}
    </Screen>
  );
}
