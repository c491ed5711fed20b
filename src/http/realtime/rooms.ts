/**
 * Socket.IO room names. Every room carries the tenant id, so a caller that mixes up ids of two tenants
 * reaches an empty room instead of another tenant's sockets.
 *
 * - `t:<tenantId>:admins`: every admin socket of the tenant (tenant-wide events and every chat event).
 * - `u:<tenantId>:<userId>`: every socket of one user, the handle for grant, revoke and disconnect.
 * - `c:<tenantId>:<chatId>`: every employee socket allowed on that chat.
 */
export const adminsRoom = (tenantId: string): string => `t:${tenantId}:admins`;
export const userRoom = (tenantId: string, userId: string): string => `u:${tenantId}:${userId}`;
export const chatRoom = (tenantId: string, chatId: string): string => `c:${tenantId}:${chatId}`;

/** Rooms an event reaches: admins only without a chat, admins plus that chat's employees with one. */
export function eventRooms(tenantId: string, chatId: string | undefined): string[] {
  return chatId === undefined ? [adminsRoom(tenantId)] : [adminsRoom(tenantId), chatRoom(tenantId, chatId)];
}

/** The chat id of a room of `tenantId`, or undefined when the room is not one of its chat rooms. */
export function chatIdOfRoom(tenantId: string, room: string): string | undefined {
  const prefix = `c:${tenantId}:`;
  return room.startsWith(prefix) ? room.slice(prefix.length) : undefined;
}

/**
 * `p:<tenantId>`: this node's sockets of the tenant still replaying from a lastEventId. Live emits to the
 * tenant's rooms skip it while it has members (event-stream.ts), so a replaying socket gets each event once.
 */
export const pendingRoom = (tenantId: string): string => `p:${tenantId}`;
