import { useId, useState } from 'react';
import { api, errorText, unwrap } from '../api/client';
import { lastSignOutReason, signIn } from '../session';

export function SignIn() {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(lastSignOutReason());
  const [busy, setBusy] = useState(false);
  const id = useId();
  return (
    <main id="main" className="sign-in">
      <h1>Sign in to Wharf</h1>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          try {
            // Any authenticated call proves the token; only a token that works is kept.
            const headers = { Authorization: `Bearer ${token.trim()}` };
            await unwrap(api.GET('/api/v1/projects', { params: { query: { limit: 1 } }, headers }));
            signIn(token.trim());
          } catch (failure) {
            setError(`That token was refused: ${errorText(failure)}`);
            setBusy(false);
          }
        }}
      >
        <label htmlFor={id}>API token</label>
        <input id={id} type="password" autoComplete="off" required value={token} onChange={(event) => setToken(event.target.value)} placeholder="wharf_…" />
        <p className="hint">Kept in this tab only (session storage): closing the tab signs you out. Create tokens with <code>wharf token create</code>.</p>
        <button type="submit" disabled={busy}>Sign in</button>
        {error && <p role="alert" className="error">{error}</p>}
      </form>
    </main>
  );
}
