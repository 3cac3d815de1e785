import { useEffect, useId, useState } from 'preact/hooks';
import { call, explainEndpoint } from '../api';
import { OutcomeView, Screen, outcomeOf, type Outcome } from '../ui';

type Source = 'subject' | 'tenant' | 'resource' | 'action' | 'attributes';

interface PolicyModel {
  requestFields: { name: string; source?: Source }[];
  supported: boolean;
  reason?: string;
  shipped: boolean;
}

interface Line {
  ptype: string;
  values: string[];
}

interface Explanation {
  authorized: boolean;
  reason?: string;
  outcome: 'allowed_by_policy' | 'denied_by_policy' | 'no_matching_policy';
  revision: number;
  subject: string;
  request: Record<string, unknown>;
  decidingRules: Line[];
  matchedRules: (Line & { roleChains: { ptype: string; domain?: string; path: string[] }[] })[];
  roleChain: string[];
}

/** How each source of the model's request is asked for; the tenant is never asked: it is the signed-in organization. */
const asked: Record<Exclude<Source, 'tenant'>, { label: string; hint: string; key: 'sub' | 'resource' | 'action' | 'attributes' }> = {
  subject: { label: 'Subject', hint: 'user:<id>, app:<id>, group:<id>, role:<id>, or organization/username', key: 'sub' },
  resource: { label: 'Resource', hint: 'e.g. ledgers, midaz/accounts', key: 'resource' },
  action: { label: 'Action', hint: 'e.g. get, post, delete', key: 'action' },
  attributes: { label: 'Attributes (JSON object)', hint: 'what the model reads of the request, e.g. {"amount": 10}', key: 'attributes' },
};

const outcomeText: Record<Explanation['outcome'], string> = {
  allowed_by_policy: 'allowed by a rule',
  denied_by_policy: 'denied by a rule',
  no_matching_policy: 'no rule matched (denied by default)',
};

const lineText = (line: Line) => [line.ptype, ...line.values].join(', ');

/** "May X do Y on Z?", answered by Auth's explain endpoint with the deciding rules and the role chain. */
export function DecisionTesterScreen() {
  const id = useId();
  const [model, setModel] = useState<PolicyModel | undefined>(undefined);
  const [modelProblem, setModelProblem] = useState<Outcome | undefined>(undefined);
  const [values, setValues] = useState<Record<string, string>>({ sub: '', resource: '', action: '', attributes: '', product: '' });
  const [answer, setAnswer] = useState<Explanation | undefined>(undefined);
  const [problem, setProblem] = useState<Outcome | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void (async () => {
      const res = await call<PolicyModel>('GET', '/v1/policy-model');
      if (res.ok) setModel(res.body);
      else setModelProblem(outcomeOf(res));
    })();
  }, []);

  const fields = (model?.requestFields ?? []).flatMap((field) => (field.source === undefined || field.source === 'tenant' ? [] : [{ name: field.name, ...asked[field.source] }]));

  const ask = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      const body: Record<string, unknown> = {};
      for (const field of fields) {
        const value = (values[field.key] ?? '').trim();
        if (value.length === 0) continue;
        if (field.key === 'attributes') {
          try {
            body.attributes = JSON.parse(value);
          } catch (error) {
            setAnswer(undefined);
            setProblem({ ok: false, status: 0, problem: { title: 'Attributes are not valid JSON', detail: String(error) } });
            return;
          }
        } else body[field.key] = value;
      }
      const product = (values.product ?? '').trim();
      if (product.length > 0) body.product = product;
      const res = await call<Explanation>('POST', explainEndpoint(), body);
      if (res.ok) setAnswer(res.body);
      else {
        setAnswer(undefined);
        setProblem(outcomeOf(res));
      }
    } finally {
      setBusy(false);
    }
  };

  const input = (key: string, label: string, hint: string, fieldName?: string) => (
    <div class="field" key={key}>
      <label for={`${id}-${key}`}>
        {label}
        {fieldName !== undefined && <span class="muted"> (request field {fieldName})</span>}
      </label>
      {key === 'attributes' ? (
        <textarea id={`${id}-${key}`} aria-describedby={`${id}-${key}-hint`} value={values[key]} onInput={(e) => setValues({ ...values, [key]: e.currentTarget.value })} />
      ) : (
        <input id={`${id}-${key}`} aria-describedby={`${id}-${key}-hint`} value={values[key]} onInput={(e) => setValues({ ...values, [key]: e.currentTarget.value })} />
      )}
      <small id={`${id}-${key}-hint`} class="muted">
        {hint}
      </small>
    </div>
  );

  return (
    <Screen title="Decision tester" intro="May a subject do an action on a resource? Auth answers as it would for a product, and shows why.">
      <OutcomeView outcome={modelProblem} />
      {model && !model.supported && (
        <p class="outcome problem" role="alert">
          The configured policy model cannot take a question: {model.reason}
        </p>
      )}
      {model?.supported && (
        <form class="panel" aria-label="Ask a question" onSubmit={(e) => void ask(e)}>
          <p class="muted">
            The model's request is ({model.requestFields.map((f) => f.name).join(', ')}){model.shipped ? ', the shipped model' : ''}; the organization is the one you
            signed in to.
          </p>
          {fields.map((field) => input(field.key, field.label, field.hint, field.name))}
          {input('product', 'Product (optional)', 'a product name: its own <product>/<resource> decides first, as for a product asking')}
          <button type="submit" disabled={busy}>
            Ask
          </button>
        </form>
      )}
      <OutcomeView outcome={problem} />
      {answer && (
        <div class="panel" role="region" aria-label="Answer" aria-live="polite">
          <p class={answer.authorized ? 'verdict allow' : 'verdict deny'} id={`${id}-verdict`}>
            <strong>{answer.authorized ? 'Allowed' : 'Denied'}</strong> — {answer.reason === 'suspended' ? 'the subject is suspended' : outcomeText[answer.outcome]}, at policy revision{' '}
            {answer.revision}
          </p>
          <p>
            Subject: <code>{answer.subject}</code>
          </p>
          <h3>Deciding rules</h3>
          {answer.decidingRules.length === 0 ? (
            <p class="muted">None: no rule decided.</p>
          ) : (
            <ul aria-label="Deciding rules">
              {answer.decidingRules.map((rule) => (
                <li key={lineText(rule)}>
                  <code>{lineText(rule)}</code>
                </li>
              ))}
            </ul>
          )}
          <h3>Role chain</h3>
          {answer.roleChain.length === 0 ? (
            <p class="muted">None.</p>
          ) : (
            <p aria-label="Role chain">
              {answer.roleChain.map((step, i) => (
                <span key={`${i}-${step}`}>
                  {i > 0 && ' → '}
                  <code>{step}</code>
                </span>
              ))}
            </p>
          )}
          {answer.matchedRules.length > 0 && (
            <table>
              <caption>Every rule that matched, in the order casbin evaluates them</caption>
              <thead>
                <tr>
                  <th scope="col">Rule</th>
                  <th scope="col">Reached through</th>
                </tr>
              </thead>
              <tbody>
                {answer.matchedRules.map((rule, i) => (
                  <tr key={`${i}-${lineText(rule)}`}>
                    <td>
                      <code>{lineText(rule)}</code>
                    </td>
                    <td>{rule.roleChains.map((chain) => chain.path.join(' → ')).join('; ') || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </Screen>
  );
}
