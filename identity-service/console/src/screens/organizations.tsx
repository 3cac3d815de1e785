import { useEffect } from 'preact/hooks';
import { call, type Page } from '../api';
import { Action, Form, OutcomeView, Screen, Table, outcomeOf, useList } from '../ui';

interface Organization {
  id: string;
  slug: string;
  name: string;
  status: 'active' | 'disabled';
}

/** Organizations (tenants): platform administrators only; anyone else sees Identity's 403. */
export function OrganizationsScreen() {
  const orgs = useList<Organization>(() => call<Page<Organization>>('GET', '/v1/organizations?limit=100'));
  useEffect(() => void orgs.reload(), []);
  return (
    <Screen title="Organizations" intro="Tenants. Only platform administrators manage them; disabling one ends every session in it.">
      <OutcomeView outcome={orgs.problem} />
      <Table
        caption="Organizations"
        total={orgs.total}
        rows={orgs.rows}
        rowKey={(o) => o.id}
        columns={[
          { label: 'Slug', value: (o) => o.slug },
          { label: 'Name', value: (o) => o.name },
          { label: 'Status', value: (o) => o.status },
          {
            label: 'Change',
            value: (o) => (
              <Action
                label={o.status === 'active' ? `Disable ${o.slug}` : `Enable ${o.slug}`}
                danger={o.status === 'active'}
                run={async () => outcomeOf(await call('PATCH', `/v1/organizations/${o.id}`, { status: o.status === 'active' ? 'disabled' : 'active' }), 'Saved.')}
                after={() => void orgs.reload()}
              />
            ),
          },
        ]}
      />
      <Form
        title="Create an organization"
        submitLabel="Create organization"
        fields={[
          { name: 'slug', label: 'Slug', required: true, hint: 'Lowercase letters, digits and -.' },
          { name: 'name', label: 'Name', required: true },
        ]}
        onSubmit={async (body) => outcomeOf(await call('POST', '/v1/organizations', body), 'Organization created.')}
        after={() => void orgs.reload()}
      />
    </Screen>
  );
}
