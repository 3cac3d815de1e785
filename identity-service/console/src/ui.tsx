import type { ComponentChildren } from 'preact';
import { useId, useState } from 'preact/hooks';
import type { Answer, Problem } from './api';

/** What Identity answered to a write: its refusal in its own words, or the policy revision it produced. */
export interface Outcome {
  readonly ok: boolean;
  readonly status: number;
  readonly problem?: Problem | undefined;
  readonly revision?: string | undefined;
  readonly note?: string;
}

export function outcomeOf(answer: Answer<unknown>, note?: string): Outcome {
  return { ok: answer.ok, status: answer.status, problem: answer.problem, revision: answer.revision, ...(note === undefined ? {} : { note }) };
}

export function OutcomeView({ outcome }: { outcome: Outcome | undefined }) {
  if (!outcome) return null;
  if (outcome.ok) {
    return (
      <p class="outcome ok" role="status">
        {outcome.note ?? 'Saved.'}
        {outcome.revision !== undefined && <span class="revision"> Policy revision {outcome.revision}.</span>}
      </p>
    );
  }
  const p = outcome.problem ?? {};
  return (
    <div class="outcome problem" role="alert">
      <p>
        <strong>{p.title ?? `Refused (HTTP ${outcome.status})`}</strong>
        {p.code !== undefined && <span class="code"> {p.code}</span>}
      </p>
      {p.detail !== undefined && p.detail !== p.title && <p>{p.detail}</p>}
      {p.field !== undefined && <p>Field: {p.field}</p>}
      {p.missing !== undefined && p.missing.length > 0 && (
        <div>
          <p>You do not hold what this would give:</p>
          <ul>
            {p.missing.map((m) => (
              <li key={`${m.resource} ${m.action}`}>
                <code>{m.resource}</code> <code>{m.action}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

export type FieldKind = 'text' | 'password' | 'email' | 'number' | 'checkbox' | 'select' | 'choices' | 'lines' | 'json';

export interface FieldSpec {
  readonly name: string;
  readonly label: string;
  readonly kind?: FieldKind;
  readonly required?: boolean;
  readonly options?: readonly { readonly value: string; readonly label: string }[];
  readonly initial?: string | boolean | readonly string[];
  readonly hint?: string;
  /** Sent only when filled in. */
  readonly optional?: boolean;
}

type Value = string | boolean | string[];

function initialOf(field: FieldSpec): Value {
  if (field.initial !== undefined) return Array.isArray(field.initial) ? [...field.initial] : (field.initial as string | boolean);
  if (field.kind === 'checkbox') return false;
  if (field.kind === 'choices') return [];
  return '';
}

/** The JSON body a form's values make: numbers as numbers, lines as arrays, JSON parsed; empty optional fields left out. */
function bodyOf(fields: readonly FieldSpec[], values: Record<string, Value>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (field.kind === 'checkbox') body[field.name] = value === true;
    else if (field.kind === 'choices') body[field.name] = value;
    else if (field.kind === 'lines') {
      const lines = String(value ?? '').split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
      if (!(field.optional && lines.length === 0)) body[field.name] = lines;
    } else if (typeof value === 'string' && value.length === 0 && field.optional) continue;
    else if (field.kind === 'number') body[field.name] = Number(value);
    else if (field.kind === 'json') body[field.name] = JSON.parse(String(value));
    else body[field.name] = value;
  }
  return body;
}

export function Form(props: {
  readonly title: string;
  readonly fields: readonly FieldSpec[];
  readonly submitLabel: string;
  readonly onSubmit: (body: Record<string, unknown>) => Promise<Outcome>;
  readonly after?: (outcome: Outcome) => void;
}) {
  const id = useId();
  const [values, setValues] = useState<Record<string, Value>>(() => Object.fromEntries(props.fields.map((f) => [f.name, initialOf(f)])));
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const set = (name: string, value: Value) => setValues((current) => ({ ...current, [name]: value }));
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      let body: Record<string, unknown>;
      try {
        body = bodyOf(props.fields, values);
      } catch (error) {
        setOutcome({ ok: false, status: 0, problem: { title: 'Not valid JSON', detail: String(error) } });
        return;
      }
      const result = await props.onSubmit(body);
      setOutcome(result);
      if (result.ok) {
        setValues(Object.fromEntries(props.fields.map((f) => [f.name, initialOf(f)])));
        props.after?.(result);
      }
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{props.title}</h3>
      {props.fields.map((field) => {
        const fieldId = `${id}-${field.name}`;
        const value = values[field.name];
        const hint = field.hint === undefined ? undefined : `${fieldId}-hint`;
        const common = { id: fieldId, name: field.name, required: field.required === true, 'aria-describedby': hint };
        let control;
        if (field.kind === 'checkbox') {
          control = <input {...common} type="checkbox" checked={value === true} onChange={(e) => set(field.name, e.currentTarget.checked)} />;
        } else if (field.kind === 'select') {
          control = (
            <select {...common} value={String(value)} onChange={(e) => set(field.name, e.currentTarget.value)}>
              {!field.required && <option value="">—</option>}
              {(field.options ?? []).map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          );
        } else if (field.kind === 'choices') {
          const chosen = Array.isArray(value) ? value : [];
          return (
            <fieldset key={field.name} class="choices">
              <legend>{field.label}</legend>
              {(field.options ?? []).length === 0 && <p class="muted">None to choose from.</p>}
              {(field.options ?? []).map((o) => (
                <label key={o.value} class="choice">
                  <input
                    type="checkbox"
                    name={field.name}
                    value={o.value}
                    checked={chosen.includes(o.value)}
                    onChange={(e) => set(field.name, e.currentTarget.checked ? [...chosen, o.value] : chosen.filter((v) => v !== o.value))}
                  />
                  {o.label}
                </label>
              ))}
            </fieldset>
          );
        } else if (field.kind === 'lines' || field.kind === 'json') {
          control = <textarea {...common} rows={field.kind === 'json' ? 6 : 3} value={String(value)} onInput={(e) => set(field.name, e.currentTarget.value)} />;
        } else {
          const onInput = (e: { currentTarget: HTMLInputElement }) => set(field.name, e.currentTarget.value);
          if (field.kind === 'password') control = <input {...common} type="password" value={String(value)} autocomplete="new-password" onInput={onInput} />;
          else if (field.kind === 'email') control = <input {...common} type="email" value={String(value)} autocomplete="off" onInput={onInput} />;
          else if (field.kind === 'number') control = <input {...common} type="number" value={String(value)} onInput={onInput} />;
          else control = <input {...common} type="text" value={String(value)} autocomplete="off" onInput={onInput} />;
        }
        return (
          <div key={field.name} class={field.kind === 'checkbox' ? 'field check' : 'field'}>
            <label for={fieldId}>{field.label}</label>
            {control}
            {hint !== undefined && (
              <small id={hint} class="muted">
                {field.hint}
              </small>
            )}
          </div>
        );
      })}
      <button type="submit" disabled={busy}>
        {props.submitLabel}
      </button>
      <OutcomeView outcome={outcome} />
    </form>
  );
}

/** A button whose write's outcome is shown beside it. */
export function Action(props: { readonly label: string; readonly run: () => Promise<Outcome>; readonly danger?: boolean; readonly after?: (outcome: Outcome) => void }) {
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined);
  return (
    <span class="action">
      <button
        type="button"
        class={props.danger ? 'danger' : 'secondary'}
        onClick={async () => {
          const result = await props.run();
          setOutcome(result);
          if (result.ok) props.after?.(result);
        }}
      >
        {props.label}
      </button>
      <OutcomeView outcome={outcome} />
    </span>
  );
}

export interface Column<T> {
  readonly label: string;
  readonly value: (row: T) => ComponentChildren;
}

export function Table<T>(props: { readonly caption: string; readonly rows: readonly T[]; readonly columns: readonly Column<T>[]; readonly rowKey: (row: T) => string; readonly total?: number }) {
  return (
    <table>
      <caption>
        {props.caption}
        {props.total !== undefined && <span class="muted"> ({props.total})</span>}
      </caption>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th key={c.label} scope="col">
              {c.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.length === 0 && (
          <tr>
            <td colSpan={props.columns.length} class="muted">
              Nothing yet.
            </td>
          </tr>
        )}
        {props.rows.map((row) => (
          <tr key={props.rowKey(row)}>
            {props.columns.map((c) => (
              <td key={c.label}>{c.value(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A screen's list state: load, reload after a write, the API's refusal when it will not list. */
export function useList<T>(load: () => Promise<Answer<{ items: T[]; total: number }>>) {
  const [state, setState] = useState<{ rows: T[]; total: number; problem?: Outcome; loaded: boolean }>({ rows: [], total: 0, loaded: false });
  const reload = async () => {
    const answer = await load();
    if (answer.ok) setState({ rows: answer.body.items, total: answer.body.total, loaded: true });
    else setState({ rows: [], total: 0, problem: outcomeOf(answer), loaded: true });
  };
  return { ...state, reload };
}

export function Screen(props: { readonly title: string; readonly intro?: string; readonly children: ComponentChildren }) {
  return (
    <section aria-labelledby="screen-title">
      <h2 id="screen-title" tabIndex={-1}>
        {props.title}
      </h2>
      {props.intro !== undefined && <p class="muted">{props.intro}</p>}
      {props.children}
    </section>
  );
}
