import { useState } from 'preact/hooks';
import { ApiError, type Api } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { Session } from '../lib/schemas.js';
import { Field, messageOf } from './ui.js';

type Mode = 'signin' | 'signup';

/** Sign in (admins and employees) or sign up (a new tenant and its admin). */
export function AuthScreen({ api, mode }: { api: Api; mode: Mode }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signup = mode === 'signup';

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = signup
        ? await api.json('/api/auth/register', Session, { method: 'POST', body: { name, email, password }, anonymous: true })
        : await api.json('/api/auth/login', Session, { method: 'POST', body: { email, password }, anonymous: true });
      api.setSession(session);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 409 ? 'An account with this email exists already; sign in instead.' : messageOf(err));
      setBusy(false);
    }
  };

  const switchTo = (next: Mode) => (event: Event) => {
    event.preventDefault();
    setError(null);
    navigate({ name: next });
  };

  return (
    <main class="auth">
      <h1>wa-tenants</h1>
      <p class="muted">WhatsApp for your team: link one number, share chats with your employees.</p>
      <form class="card" onSubmit={(e) => void submit(e)} aria-labelledby="auth-title">
        <h2 id="auth-title">{signup ? 'Create an account' : 'Sign in'}</h2>
        {signup && <Field label="Your name" name="name" value={name} onInput={setName} autocomplete="name" required />}
        <Field label="Email" name="email" type="email" value={email} onInput={setEmail} autocomplete="email" required />
        <Field
          label="Password"
          name="password"
          type="password"
          value={password}
          onInput={setPassword}
          autocomplete={signup ? 'new-password' : 'current-password'}
          minLength={signup ? 8 : 1}
          hint={signup ? 'At least 8 characters.' : undefined}
          required
        />
        {error !== null && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {signup ? 'Create account' : 'Sign in'}
        </button>
        <p>
          {signup ? (
            <>
              Have an account?{' '}
              <a href="/signin" onClick={switchTo('signin')}>
                Sign in
              </a>
            </>
          ) : (
            <>
              New here?{' '}
              <a href="/signup" onClick={switchTo('signup')}>
                Create an account
              </a>
            </>
          )}
        </p>
      </form>
      <p class="muted small">
        Developers: the REST API is documented at <a href="/api/docs">/api/docs</a>.
      </p>
    </main>
  );
}
