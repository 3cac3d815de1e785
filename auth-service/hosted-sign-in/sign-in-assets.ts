// The hosted page's own style sheet and script, served by Auth from this module (no files to copy at build, no
// third-party origin). The script only improves the page: every step works with scripts off.

export const signInCss = `:root { color-scheme: light dark; --fg: #1b1f24; --bg: #f4f6f8; --card: #fff; --accent: #1f5fbf; --error: #b3261e; --muted: #57606a; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --card: #161b22; --accent: #6ea8fe; --error: #ff8a80; --muted: #9da7b3; } }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg); color: var(--fg); font: 16px/1.5 system-ui, sans-serif; }
.card { width: min(26rem, 92vw); background: var(--card); padding: 2rem; border-radius: 12px; box-shadow: 0 2px 12px rgb(0 0 0 / 12%); }
.brand { margin: 0 0 1rem; color: var(--muted); font-size: .85rem; letter-spacing: .05em; text-transform: uppercase; }
h1 { margin: 0 0 .25rem; font-size: 1.5rem; }
.lead { margin: 0 0 1.25rem; color: var(--muted); }
label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
input[type=text], input[type=password], select { width: 100%; padding: .6rem .7rem; font: inherit; border: 1px solid var(--muted); border-radius: 6px; background: transparent; color: inherit; }
input:focus-visible, select:focus-visible, button:focus-visible, summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.check { display: flex; gap: .5rem; align-items: center; margin-top: .75rem; }
.check label { margin: 0; font-weight: 400; }
button { margin-top: 1.25rem; width: 100%; padding: .65rem; font: inherit; font-weight: 600; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
button.link { width: auto; margin-top: .75rem; padding: 0; background: none; color: var(--accent); text-decoration: underline; font-weight: 400; }
button[aria-busy=true] { opacity: .6; }
.alert { padding: .6rem .75rem; border-left: 4px solid var(--error); color: var(--error); background: rgb(179 38 30 / 8%); }
.notice { padding: .6rem .75rem; border-left: 4px solid var(--accent); }
details { margin-top: 1rem; }
summary { cursor: pointer; color: var(--accent); }
`;

// A form's token is single use: a second submit of the same page (a double click) would only be refused.
export const signInJs = `document.addEventListener('submit', function (event) {
  var form = event.target;
  if (form.dataset.sent === 'yes') { event.preventDefault(); return; }
  form.dataset.sent = 'yes';
  var button = form.querySelector('button[type=submit]');
  if (button) button.setAttribute('aria-busy', 'true');
});
`;
