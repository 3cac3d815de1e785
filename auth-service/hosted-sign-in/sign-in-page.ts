import type { MfaMethod } from '../mfa/index.js';

/** What the hosted page shows: a refusal (nothing to go back to), the password step or the second factor. */
export type SignInPage =
  | { readonly kind: 'error'; readonly title: string; readonly message: string }
  | {
      readonly kind: 'password';
      readonly form: PageForm;
      readonly username?: string;
      readonly message?: string;
    }
  | {
      readonly kind: 'mfa';
      readonly form: PageForm;
      readonly methods: readonly MfaMethod[];
      readonly preferred: MfaMethod;
      readonly rememberOffered: boolean;
      readonly message?: string;
      readonly notice?: string;
    };

/** The hidden fields every form of the page posts, and who the sign-in is for. */
export interface PageForm {
  readonly requestId: string;
  readonly formToken: string;
  readonly applicationName: string;
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML text and attribute values: nothing typed or stored can open a tag or leave an attribute. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => escapes[c] as string);
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · Access Manager</title>
<link rel="stylesheet" href="/authorize/sign-in.css">
<script src="/authorize/sign-in.js" defer></script>
</head>
<body>
<main class="card">
<p class="brand">Access Manager</p>
${body}
</main>
</body>
</html>
`;
}

function hidden(form: PageForm, step: string): string {
  return `<input type="hidden" name="request" value="${escapeHtml(form.requestId)}">
<input type="hidden" name="form_token" value="${escapeHtml(form.formToken)}">
<input type="hidden" name="step" value="${escapeHtml(step)}">`;
}

function alert(message: string | undefined, kind: 'error' | 'notice'): string {
  if (message === undefined) return '';
  return kind === 'error' ? `<p class="alert" role="alert" id="form-error">${escapeHtml(message)}</p>` : `<p class="notice" role="status">${escapeHtml(message)}</p>`;
}

function cancelForm(form: PageForm): string {
  return `<form method="post" action="/authorize" class="secondary">
${hidden(form, 'cancel')}
<button type="submit" class="link">Cancel and return to ${escapeHtml(form.applicationName)}</button>
</form>`;
}

const methodNames: Record<MfaMethod, string> = { app: 'authenticator app', email: 'e-mail', sms: 'text message' };

function passwordPage(page: Extract<SignInPage, { kind: 'password' }>): string {
  const described = page.message === undefined ? '' : ' aria-describedby="form-error" aria-invalid="true"';
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p class="lead">to continue to <strong>${escapeHtml(page.form.applicationName)}</strong></p>
${alert(page.message, 'error')}
<form method="post" action="/authorize" class="primary">
${hidden(page.form, 'password')}
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="256" required${page.username === undefined ? ' autofocus' : ` value="${escapeHtml(page.username)}"`}${described}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" maxlength="1024" required${page.username === undefined ? '' : ' autofocus'}${described}>
<button type="submit">Sign in</button>
</form>
${cancelForm(page.form)}`,
  );
}

function mfaPage(page: Extract<SignInPage, { kind: 'mfa' }>): string {
  const codeMethods = page.methods.filter((m) => m !== 'sms');
  const choice =
    codeMethods.length > 1
      ? `<label for="mfa_type">Code from</label>
<select id="mfa_type" name="mfa_type">${codeMethods.map((m) => `<option value="${m}"${m === page.preferred ? ' selected' : ''}>${escapeHtml(methodNames[m])}</option>`).join('')}</select>`
      : `<input type="hidden" name="mfa_type" value="${escapeHtml(codeMethods[0] ?? page.preferred)}">`;
  const described = page.message === undefined ? '' : ' aria-describedby="form-error" aria-invalid="true"';
  const remember = page.rememberOffered
    ? `<div class="check"><input id="remember_device" name="remember_device" type="checkbox" value="on"><label for="remember_device">Remember this device</label></div>`
    : '';
  const send = page.methods.includes('email')
    ? `<form method="post" action="/authorize" class="secondary">
${hidden(page.form, 'send_code')}
<input type="hidden" name="mfa_type" value="email">
<button type="submit" class="link">Send a code by e-mail</button>
</form>`
    : '';
  return layout(
    'Verify it is you',
    `<h1>Verify it is you</h1>
<p class="lead">Enter the six-digit code from your ${escapeHtml(page.methods.filter((m) => m !== 'sms').map((m) => methodNames[m]).join(' or '))}.</p>
${alert(page.message, 'error')}${alert(page.notice, 'notice')}
<form method="post" action="/authorize" class="primary">
${hidden(page.form, 'mfa')}
${choice}
<label for="passcode">Code</label>
<input id="passcode" name="passcode" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus${described}>
${remember}
<button type="submit">Verify</button>
</form>
${send}
<details>
<summary>Use a recovery code</summary>
<form method="post" action="/authorize" class="primary">
${hidden(page.form, 'recovery')}
<label for="recovery_code">Recovery code</label>
<input id="recovery_code" name="recovery_code" type="text" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="64" required>
<button type="submit">Use recovery code</button>
</form>
</details>
${cancelForm(page.form)}`,
  );
}

/** The whole HTML document of a page; every value in it is escaped. */
export function renderSignInPage(page: SignInPage): string {
  if (page.kind === 'password') return passwordPage(page);
  if (page.kind === 'mfa') return mfaPage(page);
  return layout(page.title, `<h1>${escapeHtml(page.title)}</h1>\n<p class="alert" role="alert">${escapeHtml(page.message)}</p>`);
}
