import { useEffect, useState } from 'preact/hooks';

/** The console's screens, parsed from the path (the server answers every such path with index.html). */
export type Route =
  | { name: 'chats'; chatId: string | null }
  | { name: 'whatsapp' }
  | { name: 'employees' }
  | { name: 'signin' }
  | { name: 'signup' };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter((p) => p.length > 0);
  switch (parts[0]) {
    case 'whatsapp':
      return { name: 'whatsapp' };
    case 'employees':
      return { name: 'employees' };
    case 'signin':
      return { name: 'signin' };
    case 'signup':
      return { name: 'signup' };
    case 'chats':
      return { name: 'chats', chatId: parts[1] === undefined ? null : decodeURIComponent(parts[1]) };
    default:
      return { name: 'chats', chatId: null };
  }
}

export function routePath(route: Route): string {
  switch (route.name) {
    case 'chats':
      return route.chatId === null ? '/chats' : `/chats/${encodeURIComponent(route.chatId)}`;
    default:
      return `/${route.name}`;
  }
}

/** Pushes a history entry and tells every `useRoute` hook. */
export function navigate(route: Route, opts: { replace?: boolean } = {}): void {
  const path = routePath(route);
  if (path === location.pathname) return;
  if (opts.replace === true) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = (): void => setRoute(parseRoute(location.pathname));
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return route;
}
