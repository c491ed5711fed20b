import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { AppError, ErrorCodes, type ErrorCode, type ErrorData } from '../domain/errors.js';
import { DesiredState, Message, SessionStatus } from '../domain/types.js';

/*
 * What nodes say to each other when a command reaches a node that does not own the tenant (router.ts):
 * JSON over Redis pub/sub, every frame narrowed with these schemas on arrival. Bytes travel as base64.
 */

const Id = Type.String({ minLength: 1, maxLength: 200 });
const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' });

export const RouteRequest = Type.Union([
  Type.Object({ op: Type.Literal('init'), tenantId: Id }),
  Type.Object({ op: Type.Literal('logout'), tenantId: Id }),
  Type.Object({
    op: Type.Literal('send'),
    tenantId: Id,
    chatId: Id,
    body: Type.String(),
    media: Type.Optional(Type.Object({ mimetype: Type.String(), filename: Type.String(), data: Base64 })),
  }),
  Type.Object({ op: Type.Literal('media'), tenantId: Id, messageId: Id }),
  Type.Object({ op: Type.Literal('photo'), tenantId: Id, chatId: Id }),
  /** The QR a linking session shows: kept in the owner's memory. */
  Type.Object({ op: Type.Literal('qr'), tenantId: Id }),
  /** A pairing code from the owner's linking session (wwebjs). */
  Type.Object({ op: Type.Literal('pairing_code'), tenantId: Id, phone: Type.String({ pattern: '^[0-9]{6,15}$' }) }),
]);
export type RouteRequest = Static<typeof RouteRequest>;

const WireError = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

export const RouteFrame = Type.Union([
  Type.Object({
    kind: Type.Literal('req'),
    id: Id,
    /** The requesting node: the reply goes to its channel. */
    from: Id,
    timeoutMs: Type.Integer({ minimum: 1 }),
    request: RouteRequest,
  }),
  Type.Object({ kind: Type.Literal('res'), id: Id, ok: Type.Literal(true), value: Type.Unknown() }),
  Type.Object({ kind: Type.Literal('res'), id: Id, ok: Type.Literal(false), error: WireError }),
]);
export type RouteFrame = Static<typeof RouteFrame>;

const frameCheck = TypeCompiler.Compile(RouteFrame);

export function parseRouteFrame(text: string): RouteFrame | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  return frameCheck.Check(raw) ? raw : undefined;
}

// Reply values, as they travel.

export const SessionViewWire = TypeCompiler.Compile(
  Type.Object({
    desiredState: DesiredState,
    status: SessionStatus,
    reason: Type.Union([Type.String(), Type.Null()]),
    ownerNode: Type.Union([Type.String(), Type.Null()]),
  }),
);
export const MessageWire = TypeCompiler.Compile(Message);
export const MediaWire = TypeCompiler.Compile(
  Type.Union([Type.Object({ mimetype: Type.String(), filename: Type.Union([Type.String(), Type.Null()]), data: Base64 }), Type.Null()]),
);
export const QrWire = TypeCompiler.Compile(Type.Union([Type.Object({ qr: Type.String(), image: Type.String() }), Type.Null()]));
export const PairingCodeWire = TypeCompiler.Compile(Type.Object({ code: Type.String({ minLength: 1 }) }));
export const PhotoWire = TypeCompiler.Compile(Type.Union([Type.Object({ mimetype: Type.String(), data: Base64 }), Type.Null()]));

/** Narrows a reply value; a value of the wrong shape is a bug on the other node. */
export function decodeValue<S extends TSchema>(check: TypeCheck<S>, value: unknown): Static<S> {
  if (check.Check(value)) return value;
  throw new AppError(ErrorCodes.INTERNAL, 'a node answered a routed command with a malformed value');
}

export function toBase64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

export function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

const knownCodes = new Set<string>(Object.values(ErrorCodes));

/** An error as the owner answered it; a code this build does not know becomes WA_INTERNAL. */
export function errorFromWire(error: Static<typeof WireError>): AppError {
  const code: ErrorCode = knownCodes.has(error.code) ? (error.code as ErrorCode) : ErrorCodes.INTERNAL;
  const data: ErrorData = error.details === undefined ? { code, message: error.message } : { code, message: error.message, details: error.details };
  return AppError.fromData(data);
}
