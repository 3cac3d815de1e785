import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { configureApi } from './api';
import { screens, type ScreenEntry } from './screens';
import { completeSignIn, loadConfig, personOf, signIn, signOut, storedTokens, type ConsoleConfig, type Person } from './session';

type State =
  | { readonly kind: 'loading' }
  | { readonly kind: 'signed-out'; readonly config: ConsoleConfig | undefined; readonly error?: string }
  | { readonly kind: 'signed-in'; readonly config: ConsoleConfig; readonly person: Person };

function routeOf(hash: string): ScreenEntry {
  const path = hash.replace(/^#\/?/, '');
  return screens.find((s) => s.path === path) ?? (screens[0] as ScreenEntry);
}

function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const [route, setRoute] = useState(() => routeOf(location.hash));

  useEffect(() => {
    const onHash = () => setRoute(routeOf(location.hash));
    addEventListener('hashchange', onHash);
    void (async () => {
      let config: ConsoleConfig | undefined;
      try {
        config = await loadConfig();
        const signedOut = () => setState({ kind: 'signed-out', config, error: 'Your session ended. Sign in again.' });
        configureApi(config, signedOut);
        const returnTo = await completeSignIn(config);
        if (returnTo !== undefined) location.hash = returnTo;
        const tokens = storedTokens();
        setState(tokens ? { kind: 'signed-in', config, person: personOf(tokens) } : { kind: 'signed-out', config });
      } catch (error) {
        setState({ kind: 'signed-out', config, error: error instanceof Error ? error.message : String(error) });
      }
    })();
    return () => removeEventListener('hashchange', onHash);
  }, []);

  // Keyboard and screen-reader users land on the new screen's heading.
  useEffect(() => {
    document.getElementById('screen-title')?.focus();
    document.title = `${route.title} · Access Manager console`;
  }, [route]);

  if (state.kind === 'loading') return <p class="centered">Loading…</p>;
  if (state.kind === 'signed-out') {
    return (
      <main class="centered card">
        <h1>Access Manager console</h1>
        {state.error !== undefined && (
          <p class="outcome problem" role="alert">
            {state.error}
          </p>
        )}
        <p>Sign in with your Access Manager account (and your second factor, if you have one).</p>
        {state.config && (
          <button type="button" autofocus onClick={() => void signIn(state.config as ConsoleConfig, location.hash || '#/users')}>
            Sign in
          </button>
        )}
      </main>
    );
  }
  const Current = route.component;
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header>
        <h1>Access Manager</h1>
        <p>
          Signed in as <strong>{state.person.name || state.person.username}</strong>{' '}
          <button
            type="button"
            class="secondary"
            onClick={async () => {
              await signOut(state.config);
              setState({ kind: 'signed-out', config: state.config });
            }}
          >
            Sign out
          </button>
        </p>
      </header>
      <nav aria-label="Console">
        <ul>
          {screens.map((s) => (
            <li key={s.path}>
              <a href={`#/${s.path}`} aria-current={s === route ? 'page' : undefined}>
                {s.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="content">
        <Current key={route.path} />
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
