/**
 * The console's paths, as pure functions (no DOM, no Preact): the server answers every such path with
 * index.html, and tests import this file without a browser.
 */

/** The console's screens. */
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
