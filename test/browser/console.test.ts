// The console and the hosted sign-in in real Chromium, on the product as `npm start` runs it: sign in with a
// second factor, create a user, grant a role through a group, read the API's refusal; every step by keyboard, every
// field labelled, a screenshot of each step under test-output/screenshots/. Later flows (the decision tester, the
// decision log) are describe blocks of their own at the end, on the same browser and product.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashRecoveryCode } from '../../domain/recovery-codes.js';
import { createTotpSecret, totpCodeAt } from '../../domain/totp.js';
import { launchChromium, screenshots, startProduct, unlabelledFields, type Browser, type RunningProduct } from './browser-support.js';

let product: RunningProduct;
let browser: Browser;
let totpSecret: string;
let adminId: string;
let platformTenantId: string;

beforeAll(async () => {
  // Both start before either is awaited: a missing browser fails the file at once, whatever the product does.
  const [started, launched] = await Promise.allSettled([startProduct('browser_console'), launchChromium()]);
  if (launched.status === 'fulfilled') browser = launched.value;
  if (started.status === 'fulfilled') product = started.value;
  if (launched.status === 'rejected') throw launched.reason;
  if (started.status === 'rejected') throw started.reason;
  const { rows } = await product.schema.pool.query<{ id: string; org_id: string }>('SELECT id, org_id FROM users WHERE username = $1', [product.admin.username]);
  adminId = rows[0]!.id;
  platformTenantId = rows[0]!.org_id;
  // The administrator has an authenticator: the sign-in asks for its code.
  totpSecret = createTotpSecret();
  await product.schema.pool.query(
    `INSERT INTO user_mfa (org_id, user_id, totp_secret_ciphertext, totp_enabled, recovery_code_hashes, preferred_type) VALUES ($1, $2, $3, true, $4, 'app')`,
    [platformTenantId, adminId, product.secrets.seal(totpSecret, adminId), [hashRecoveryCode('ABCD-EFGH-IJKL')]],
  );
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await product?.stop();
}, 60_000);

/** Presses Tab until the focused element is the one `selector` names (at most `max` presses): keyboard only. */
async function tabTo(selector: string, max = 40): Promise<void> {
  const { page } = browser;
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate<boolean>(`document.activeElement !== null && document.activeElement.matches(${JSON.stringify(selector)})`)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

describe('signing in to the console through the hosted page', () => {
  it('the administrator signs in with password and authenticator code, by keyboard alone; every field is labelled', async () => {
    const { page } = browser;
    const shot = screenshots('sign-in-with-mfa');
    expect(product.consoleUrl).toBe(`${product.identityUrl}/console/`);
    await page.goto(product.consoleUrl);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await shot(page, 'console-signed-out');
    // The button has the focus: Enter leaves for Auth's hosted page.
    await page.keyboard.press('Enter');
    await page.waitForURL(`${product.authUrl}/authorize?**`);
    await page.getByLabel('Username').waitFor();
    expect(await unlabelledFields(page)).toEqual([]);
    await shot(page, 'hosted-sign-in');
    await page.keyboard.type(product.admin.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(product.admin.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Verify it is you' }).waitFor();
    expect(await unlabelledFields(page)).toEqual([]);
    await shot(page, 'hosted-second-factor');
    await page.keyboard.type(await totpCodeAt(totpSecret, Date.now()));
    await page.keyboard.press('Enter');
    await page.waitForURL(`${product.consoleUrl}**`);
    await page.getByText('Signed in as').waitFor();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    expect(await unlabelledFields(page)).toEqual([]);
    await shot(page, 'console-signed-in');
    const { rows } = await product.schema.pool.query<{ after: { grant?: string } }>("SELECT after FROM audit_events WHERE action = 'auth.sign-in' AND outcome = 'success' AND target_id = $1", [adminId]);
    expect(rows.map((r) => r.after.grant)).toContain('authorization_code');
  }, 120_000);
});

describe('managing people in the console', () => {
  it('creates a user by keyboard; a refusal is shown in the API\'s own words', async () => {
    const { page } = browser;
    const shot = screenshots('create-user');
    await page.goto(`${product.consoleUrl}#/users`);
    await page.getByRole('heading', { name: 'Create a user' }).waitFor();
    // A password the policy refuses: the console shows Identity's problem title, and nothing is created.
    await page.getByLabel('Username', { exact: true }).focus();
    await page.keyboard.type('ana.ledger');
    for (const value of ['Ana', 'Ledger', 'ana@example.test', 'short']) {
      await page.keyboard.press('Tab');
      await page.keyboard.type(value);
    }
    await page.keyboard.press('Enter');
    const refusal = page.getByRole('alert').filter({ hasText: 'Password does not meet the policy' });
    await refusal.waitFor();
    await shot(page, 'refused-weak-password');
    expect((await product.schema.pool.query("SELECT 1 FROM users WHERE username = 'ana.ledger'")).rows).toEqual([]);
    await page.getByLabel('Password', { exact: true }).last().fill('');
    await page.getByLabel('Password', { exact: true }).last().focus();
    await page.keyboard.type('Ledger-Reader-2026!');
    await page.keyboard.press('Enter');
    await page.getByText('User created.').waitFor();
    await page.getByRole('cell', { name: 'ana.ledger', exact: true }).waitFor();
    expect(await unlabelledFields(page)).toEqual([]);
    await shot(page, 'user-created');
    expect((await product.schema.pool.query("SELECT status FROM users WHERE username = 'ana.ledger'")).rows).toEqual([{ status: 'active' }]);
  }, 90_000);

  it('grants a role through a group membership; the write shows its policy revision and the engine decides with it', async () => {
    const { page } = browser;
    const shot = screenshots('grant-role');
    await page.goto(`${product.consoleUrl}#/groups`);
    await page.getByRole('heading', { name: 'Create a group' }).waitFor();
    await page.getByLabel('Name', { exact: true }).focus();
    await page.keyboard.type('ledger-readers');
    await page.keyboard.press('Enter');
    await page.getByText('Group created.').waitFor();
    await page.getByRole('button', { name: 'Manage ledger-readers' }).focus();
    await page.keyboard.press('Enter');
    const panel = page.getByRole('region', { name: 'Group ledger-readers' });
    await panel.waitFor();
    await panel.getByLabel('Role', { exact: true }).selectOption({ label: 'midaz-viewer-role' });
    await panel.getByRole('button', { name: 'Grant role' }).focus();
    await page.keyboard.press('Enter');
    await panel.getByText(/Role granted\. Policy revision \d+\./).waitFor();
    await panel.getByLabel('User', { exact: true }).selectOption({ label: 'ana.ledger' });
    await panel.getByRole('button', { name: 'Add member' }).focus();
    await page.keyboard.press('Enter');
    const added = panel.getByText(/Member added\. Policy revision \d+\./);
    await added.waitFor();
    await panel.getByRole('cell', { name: 'ana.ledger', exact: true }).waitFor();
    expect(await unlabelledFields(page)).toEqual([]);
    await shot(page, 'member-added');
    const revision = Number(/Policy revision (\d+)/.exec((await added.textContent()) ?? '')?.[1]);
    expect(revision).toBeGreaterThan(0);
    // The new member now holds what the role gives, as Auth decides it.
    const login = await fetch(`${product.authUrl}/v1/login/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grantType: 'password', username: 'ana.ledger', password: 'Ledger-Reader-2026!' }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const { rows: user } = await product.schema.pool.query<{ id: string }>("SELECT id FROM users WHERE username = 'ana.ledger'");
    const decide = await fetch(`${product.authUrl}/v1/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ sub: `platform/${user[0]!.id}`, product: 'midaz', resource: 'ledgers', action: 'get', minRevision: revision }),
    });
    expect(((await decide.json()) as { authorized: boolean }).authorized).toBe(true);
  }, 90_000);

  it('every screen has a labelled field for every input, and a heading that takes the focus', async () => {
    const { page } = browser;
    const shot = screenshots('screens');
    for (const [path, title] of [
      ['roles', 'Roles'],
      ['applications', 'Applications'],
      ['providers', 'Providers'],
      ['mfa', 'MFA settings'],
      ['ip-allowlists', 'IP allowlists'],
      ['audit', 'Audit trail'],
      ['organizations', 'Organizations'],
      ['tester', 'Decision tester'],
      ['decision-log', 'Decision log'],
    ] as const) {
      await page.goto(`${product.consoleUrl}#/${path}`);
      await page.getByRole('heading', { name: title, exact: true }).waitFor();
      await page.waitForLoadState('networkidle');
      expect(await unlabelledFields(page), path).toEqual([]);
      await shot(page, path);
    }
  }, 120_000);

  it('the keyboard reaches the navigation and the screens (Tab and Enter only)', async () => {
    const { page } = browser;
    await page.goto(`${product.consoleUrl}#/users`);
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await tabTo('nav a[href="#/audit"]');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    // The new screen's heading takes the focus once it has rendered (an effect, so waited for, not assumed).
    await page.waitForFunction("document.activeElement !== null && document.activeElement.id === 'screen-title'", undefined, { timeout: 10_000 });
    await page.getByRole('cell', { name: 'group.create' }).first().waitFor();
  }, 60_000);
});

describe('the no-escalation rule, as the console shows it', () => {
  it("a help-desk operator adding themself to admin-group sees Identity's 403 and what they lack; nothing changes", async () => {
    const shot = screenshots('no-escalation');
    // The administrator's token by API: password, then the recovery code (the authenticator's step was spent above).
    const challenge = (await (
      await fetch(`${product.authUrl}/v1/login/oauth/access_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grantType: 'password', username: product.admin.username, password: product.admin.password }),
      })
    ).json()) as { mfaToken: string };
    const verified = (await (
      await fetch(`${product.authUrl}/v1/login/mfa/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mfaToken: challenge.mfaToken, recoveryCode: 'ABCD-EFGH-IJKL' }) })
    ).json()) as { accessToken: string };
    const api = async <T>(method: string, path: string, body: unknown): Promise<T> => {
      const res = await fetch(`${product.identityUrl}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${verified.accessToken}` }, body: JSON.stringify(body) });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
      return (await res.json()) as T;
    };
    const helpdeskPermissions = ['users', 'groups'].flatMap((resource) => ['get', 'post', 'patch'].map((action) => ({ resource, action })));
    const role = await api<{ id: string }>('POST', '/v1/roles', { name: 'helpdesk-role', permissions: [...helpdeskPermissions, { resource: 'roles', action: 'get' }] });
    const group = await api<{ id: string }>('POST', '/v1/groups', { name: 'helpdesk-group', roles: [role.id] });
    await api('POST', '/v1/users', { username: 'helpdesk.hal', firstName: 'Hal', lastName: 'Desk', email: 'hal@example.test', password: 'Help-Desk-Operator-7!', groups: [group.id] });
    const adminGroupMembers = async () => (await product.schema.pool.query("SELECT m.user_id FROM group_members m JOIN groups g ON g.id = m.group_id WHERE g.name = 'admin-group' ORDER BY 1")).rows;
    const before = await adminGroupMembers();

    // Another tab: its own session storage, its own sign-in.
    const page = await browser.context.newPage();
    try {
      await page.goto(product.consoleUrl);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await page.keyboard.press('Enter');
      await page.getByLabel('Username').waitFor();
      await page.keyboard.type('helpdesk.hal');
      await page.keyboard.press('Tab');
      await page.keyboard.type('Help-Desk-Operator-7!');
      await page.keyboard.press('Enter');
      await page.getByText('Signed in as').waitFor();
      await page.goto(`${product.consoleUrl}#/groups`);
      await page.getByRole('button', { name: 'Manage admin-group' }).focus();
      await page.keyboard.press('Enter');
      const panel = page.getByRole('region', { name: 'Group admin-group' });
      await panel.getByLabel('User', { exact: true }).selectOption({ label: 'helpdesk.hal' });
      await panel.getByRole('button', { name: 'Add member' }).focus();
      await page.keyboard.press('Enter');
      const refusal = panel.getByRole('alert').filter({ hasText: 'You do not hold what this would give' });
      await refusal.waitFor();
      expect(await refusal.textContent()).toContain('IDE-0120');
      expect(await refusal.getByRole('listitem').count()).toBeGreaterThan(0);
      await shot(page, 'refused-with-missing');
      expect(await adminGroupMembers()).toEqual(before);
    } finally {
      await page.close();
    }
  }, 90_000);
});

describe('the decision tester and the decision log', () => {
  let anaId: string;

  /** Fills the tester's fields by keyboard (Tab from the subject), asks, and returns the answer region. */
  async function ask(subject: string, resource: string, action: string) {
    const { page } = browser;
    await page.goto(`${product.consoleUrl}#/tester`);
    const form = page.getByRole('form', { name: 'Ask a question' });
    await form.waitFor();
    await form.getByLabel(/^Subject/).focus();
    await page.keyboard.type(subject);
    await page.keyboard.press('Tab');
    await page.keyboard.type(resource);
    await page.keyboard.press('Tab');
    await page.keyboard.type(action);
    await page.keyboard.press('Enter');
    const answer = page.getByRole('region', { name: 'Answer' });
    await answer.waitFor();
    return answer;
  }

  it('watch a decision flip: the tester says deny, a role is granted in the console, the tester says allow with the rule and the role chain', async () => {
    const { page } = browser;
    const shot = screenshots('decision-flip');
    anaId = (await product.schema.pool.query<{ id: string }>("SELECT id FROM users WHERE username = 'ana.ledger'")).rows[0]!.id;

    const before = await ask(`user:${anaId}`, 'midaz/ledgers', 'delete');
    await before.getByText('Denied').waitFor();
    expect(await before.textContent()).toContain('no rule matched');
    expect(await unlabelledFields(page)).toEqual([]);
    // Every field of the question is the model's: the shipped model asks for sub, obj and act (dom is the organization).
    const form = page.getByRole('form', { name: 'Ask a question' });
    expect(await form.getByText('request field').allTextContents()).toEqual(['(request field sub)', '(request field obj)', '(request field act)'].map((t) => ` ${t}`));
    await shot(page, 'tester-deny');

    // The grant, in the console: a role that may delete ledgers, held by ana's group.
    await page.goto(`${product.consoleUrl}#/roles`);
    const create = page.getByRole('form', { name: 'Create a role' });
    await create.waitFor();
    await create.getByLabel('Name', { exact: true }).focus();
    await page.keyboard.type('ledger-closer');
    await create.getByLabel('Permissions', { exact: true }).focus();
    await page.keyboard.type('midaz/ledgers delete');
    await create.getByRole('button', { name: 'Create role' }).focus();
    await page.keyboard.press('Enter');
    await create.getByText('Role created.').waitFor();
    await page.goto(`${product.consoleUrl}#/groups`);
    await page.getByRole('button', { name: 'Manage ledger-readers' }).focus();
    await page.keyboard.press('Enter');
    const panel = page.getByRole('region', { name: 'Group ledger-readers' });
    await panel.getByLabel('Role', { exact: true }).selectOption({ label: 'ledger-closer' });
    await panel.getByRole('button', { name: 'Grant role' }).focus();
    await page.keyboard.press('Enter');
    await panel.getByText(/Role granted\. Policy revision \d+\./).waitFor();
    await shot(page, 'role-granted');

    const after = await ask(`user:${anaId}`, 'midaz/ledgers', 'delete');
    await after.getByText('Allowed').waitFor();
    const rules = await after.getByRole('list', { name: 'Deciding rules' }).textContent();
    expect(rules).toMatch(/^p, role:[0-9a-f-]+, [0-9a-f-]+, midaz\/ledgers, delete, allow$/);
    const chain = (await after.getByLabel('Role chain').textContent()) ?? '';
    const groupId = (await product.schema.pool.query<{ id: string }>("SELECT id FROM groups WHERE name = 'ledger-readers'")).rows[0]!.id;
    const roleId = (await product.schema.pool.query<{ id: string }>("SELECT id FROM roles WHERE name = 'ledger-closer'")).rows[0]!.id;
    expect(chain).toBe(`user:${anaId} → group:${groupId} → role:${roleId}`);
    expect(await unlabelledFields(page)).toEqual([]);
    await shot(page, 'tester-allow');
  }, 120_000);

  it("read it in the decision log: ana's authorize call is listed with its rule, filtered by subject and time", async () => {
    const { page } = browser;
    const shot = screenshots('decision-log');
    const startedAt = await page.evaluate<string>(`(() => { const d = new Date(Date.now() - 60000); const p = (n) => String(n).padStart(2, '0');
      return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()); })()`);
    const login = await fetch(`${product.authUrl}/v1/login/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grantType: 'password', username: 'ana.ledger', password: 'Ledger-Reader-2026!' }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const decided = await fetch(`${product.authUrl}/v1/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}`, 'x-request-id': 'browser-decision-log-1' },
      body: JSON.stringify({ sub: `platform/${anaId}`, product: 'midaz', resource: 'ledgers', action: 'delete' }),
    });
    expect(((await decided.json()) as { authorized: boolean }).authorized).toBe(true);

    await page.goto(`${product.consoleUrl}#/decision-log`);
    const filters = page.getByRole('search', { name: 'Filter decisions' });
    await filters.waitFor();
    await filters.getByLabel(/^Subject/).focus();
    await page.keyboard.type(`user:${anaId}`);
    await filters.getByLabel('From', { exact: true }).fill(startedAt);
    await filters.getByRole('button', { name: 'Filter' }).focus();
    // The log is written off the hot path (a flush every 250 ms): ask again until the row is there, within a deadline.
    const row = page.getByRole('row').filter({ hasText: 'browser-decision-log-1' });
    const deadline = Date.now() + 20_000;
    for (;;) {
      await page.keyboard.press('Enter');
      try {
        await row.waitFor({ timeout: 1_000 });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
    const text = (await row.textContent()) ?? '';
    expect(text).toContain(`user:${anaId}`);
    expect(text).toContain('ledgers (midaz)');
    expect(text).toContain('allow');
    expect(text).toContain('allowed_by_policy');
    expect(text).toMatch(/p, role:[0-9a-f-]+, [0-9a-f-]+, midaz\/ledgers, delete, allow/);
    // Only ana's decisions are listed.
    const subjects = await page.getByRole('row').evaluateAll((rows) => rows.slice(1).map((r) => (r.children[1] as { textContent: string | null } | undefined)?.textContent ?? ''));
    expect(new Set(subjects)).toEqual(new Set([`user:${anaId}`]));
    expect(await unlabelledFields(page)).toEqual([]);
    await shot(page, 'decision-listed');
  }, 90_000);
});
