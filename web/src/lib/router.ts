import { useEffect, useState } from 'preact/hooks';
import { parseRoute, routePath, type Route } from './routes.js';

export { parseRoute, routePath, type Route };

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
