import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, request } from './api';
import { Layout } from './components/layout';
import { route as currentRoute, navigate } from './router';
import { clearSession, identity, Identity, sessionKey, startSession } from './session';
import { useSignal } from './signal';
import { LoginPage } from './pages/login';
import { pageFor } from './pages';
import './styles.css';

/** Picks up a key kept in this tab's session (a reload), or shows the login. */
function App() {
  const who = useSignal(identity);
  const route = useSignal(currentRoute);
  const [resuming, setResuming] = useState(() => sessionKey() !== null && who === null);

  useEffect(() => {
    const key = sessionKey();
    if (!resuming || !key) return;
    request<Identity>('GET', 'v1/api-keys/current')
      .then((me) => startSession(key, me))
      .catch((error: ApiError) => {
        if (error.status !== 401) clearSession(`Could not check your key: ${error.message}`);
      })
      .finally(() => setResuming(false));
  }, [resuming]);

  useEffect(() => {
    document.title = `${route.parts[0] ? `${route.parts.join(' · ')} — ` : ''}ModelDock console`;
  }, [route]);

  if (resuming) return <p class="muted">Checking your key…</p>;
  if (!who) return <LoginPage />;
  if (route.parts[0] === 'login') {
    navigate('#/models');
    return null;
  }
  return (
    <Layout who={who} route={route}>
      {pageFor(route, who)}
    </Layout>
  );
}

render(<App />, document.getElementById('app')!);
