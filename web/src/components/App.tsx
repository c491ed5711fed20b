import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../lib/api.js';
import { navigate, useRoute } from '../lib/router.js';
import { AuthScreen } from './AuthScreen.js';
import { Console } from './Console.js';

/** Signed out: the sign-in / sign-up screen. Signed in: the console, rebuilt for each account. */
export function App({ api }: { api: Api }) {
  const [session, setSession] = useState(api.current());
  const route = useRoute();
  useEffect(() => api.onSession(setSession), [api]);

  useEffect(() => {
    if (session === null && route.name !== 'signin' && route.name !== 'signup') navigate({ name: 'signin' }, { replace: true });
    if (session !== null && (route.name === 'signin' || route.name === 'signup')) navigate({ name: 'chats', chatId: null }, { replace: true });
  }, [session, route.name]);

  if (session === null) return <AuthScreen api={api} mode={route.name === 'signup' ? 'signup' : 'signin'} />;
  return <Console key={session.user.id} api={api} user={session.user} route={route} />;
}
