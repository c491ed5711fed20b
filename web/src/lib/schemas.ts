import { Type, type Static } from '@sinclair/typebox';
import { Ack, Message, Role, SessionStatus } from '../../../src/domain/types.js';
import type { Employee as EmployeeSchema } from '../../../src/http/routes/employees/schemas.js';
import type { PermissionList } from '../../../src/http/routes/permissions/schemas.js';

/**
 * What the console accepts from the server. REST bodies reuse the server's own schemas (imported from
 * src/, which import nothing but TypeBox), so a changed API fails the type check here.
 */
export { Ack, Chat, Message, SessionStatus } from '../../../src/domain/types.js';
export { ChatList, MessagePage } from '../../../src/http/routes/chats/schemas.js';
export { Employee, EmployeeList } from '../../../src/http/routes/employees/schemas.js';
export { PermissionList } from '../../../src/http/routes/permissions/schemas.js';
export { Session } from '../../../src/http/schemas.js';
export type Employee = Static<typeof EmployeeSchema>;
export type Permission = Static<typeof PermissionList>[number];

/**
 * The parts of the server's error body the console uses. Looser than the server's ErrorBody on purpose
 * (that module imports node:http): a proxy's error page simply fails this check.
 */
export const ApiErrorBody = Type.Object({ code: Type.String(), message: Type.String() });

/** `GET /api/whatsapp/status`: only the fields the console shows; others are ignored. */
export const WhatsappStatus = Type.Object({
  status: SessionStatus,
  reason: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type WhatsappStatus = Static<typeof WhatsappStatus>;

/** `GET /api/demo/config`: present only when the server runs the sandbox engine. */
export const DemoConfig = Type.Object({ simulatorUrl: Type.String({ minLength: 1 }) });
export type DemoConfig = Static<typeof DemoConfig>;

// ---- Socket.IO payloads (see src/http/realtime). Each is checked before it touches state. ----

/** `ready`: the socket joined its rooms; an employee's payload lists the chats it follows. */
export const ReadyEvent = Type.Object({
  userId: Type.String(),
  tenantId: Type.String(),
  role: Role,
  chatIds: Type.Optional(Type.Array(Type.String())),
});

export const SessionStatusEvent = Type.Object({
  status: SessionStatus,
  reason: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

/** `qr`: a PNG data URL, sent bare or as `{ qr }` (the console takes either). */
export const QrEvent = Type.Union([Type.String(), Type.Object({ qr: Type.String() })]);

/** `pairing_code`: the code to type on the phone (real engine only), bare or as `{ code }`. */
export const PairingCodeEvent = Type.Union([Type.String(), Type.Object({ code: Type.String() })]);

export const MessageAckEvent = Type.Object({ id: Type.String(), chatId: Type.String(), ack: Ack });

/** `chat_assigned` / `chat_revoked`: an employee's access changed; sent to that employee's sockets. */
export const ChatAccessEvent = Type.Object({ chatId: Type.String() });

/** The send route answers with the stored message; anything else is tolerated (the socket brings it). */
export const SentMessage = Message;
