import type { Ack, Chat, DesiredState, EventName, Message, Role, SessionStatus, User, WebhookEventName } from '../domain/types.js';

/**
 * The store's ports: what the layers above may ask of PostgreSQL. Implementations live beside this file,
 * one module per aggregate; `createStore(db)` in `store.ts` builds them all. Every method that touches
 * tenant data takes the tenant id first, filters on it in SQL, and runs inside a transaction with
 * `app.tenant_id` set under role `wa_app`, so row-level security is a second wall.
 */

/** A user row including the secret parts only the auth service needs. */
export interface UserRecord extends User {
  passwordHash: string;
}

export interface NewUser {
  tenantId: string;
  role: Role;
  name: string;
  email: string;
  passwordHash: string;
}

export interface TenantRepo {
  /** Creates a tenant and its first admin in one transaction. Duplicate email -> ConflictError. */
  createWithAdmin(input: { tenantName: string; name: string; email: string; passwordHash: string }): Promise<{
    tenantId: string;
    admin: User;
  }>;
}

export interface UserRepo {
  /** Login lookup: the only cross-tenant read (by unique email). Includes disabled users. */
  findByEmailForLogin(email: string): Promise<UserRecord | null>;
  findById(tenantId: string, userId: string): Promise<User | null>;
  /** Duplicate email -> ConflictError. */
  createEmployee(input: Omit<NewUser, 'role'>): Promise<User>;
  listEmployees(tenantId: string): Promise<User[]>;
  /**
   * Disables an employee, revokes all its refresh tokens and removes its chat permissions in one
   * transaction. Returns false when no such employee exists in the tenant.
   */
  disableEmployee(tenantId: string, userId: string): Promise<boolean>;
}

export interface RefreshTokenRecord {
  id: string;
  tenantId: string;
  userId: string;
  familyId: string;
  expiresAt: Date;
  revokedAt: Date | null;
  replacedBy: string | null;
}

export interface RefreshTokenRepo {
  /** Stores the SHA-256 hex hash of a token (never the token). */
  insert(input: { id: string; tenantId: string; userId: string; familyId: string; tokenHash: string; expiresAt: Date }): Promise<void>;
  /** Cross-tenant lookup by hash (the token is the credential). */
  findByHash(tokenHash: string): Promise<RefreshTokenRecord | null>;
  /**
   * Atomically marks `oldId` revoked and replaced by the new token, and inserts the new one. Returns
   * false (and changes nothing) when `oldId` was already revoked: the caller treats that as reuse.
   */
  rotate(oldId: string, next: { id: string; tenantId: string; userId: string; familyId: string; tokenHash: string; expiresAt: Date }): Promise<boolean>;
  revokeFamily(tenantId: string, familyId: string): Promise<void>;
  revokeAllForUser(tenantId: string, userId: string): Promise<void>;
}

export interface ChatRepo {
  /** Admin view: all chats of the tenant, most recent first. */
  listAll(tenantId: string): Promise<Chat[]>;
  /** Employee view: only chats assigned to `userId`, most recent first. */
  listForUser(tenantId: string, userId: string): Promise<Chat[]>;
  find(tenantId: string, chatId: string): Promise<Chat | null>;
  /**
   * What the access rule needs, in one read: whether the chat exists, and (for `userId`, an employee)
   * whether it is assigned to that user. `userId` null (an admin): `assigned` is false.
   */
  access(tenantId: string, chatId: string, userId: string | null): Promise<ChatAccess>;
  /** Insert or update chats (name, isGroup, unread, last message). Used by tests now, by actors later. */
  upsertMany(tenantId: string, chats: Chat[]): Promise<void>;
}

/** What the chat access rule needs (http/auth/access.ts decides). */
export interface ChatAccess {
  exists: boolean;
  /** Assigned to the employee asked about; always false for an admin. */
  assigned: boolean;
}

export interface MessagePage {
  messages: Message[];
  /** Pass as `before` to get the next (older) page; null when there is none. */
  nextCursor: string | null;
}

/**
 * The lease epoch a session write is made under (messages, acks, media from a tenant's session): the
 * write is refused with StaleEpochError when a newer epoch is recorded for the tenant. Omitted: no check
 * (writes that do not come from a session, tests).
 */
export interface Fence {
  epoch: number;
}

export interface MessageRepo {
  /** Newest first. `before` is an opaque cursor from a previous page. Bad cursor -> ValidationError. */
  page(tenantId: string, chatId: string, opts: { before?: string; limit: number }): Promise<MessagePage>;
  /**
   * `access` (ChatRepo) and `page` in one transaction, the two reads pipelined: one round trip for both.
   * The page is read whatever the access says; the caller must withhold it when the rule says no.
   */
  pageWithAccess(tenantId: string, chatId: string, userId: string | null, opts: { before?: string; limit: number }): Promise<{ access: ChatAccess; page: MessagePage }>;
  find(tenantId: string, waMessageId: string): Promise<Message | null>;
  /**
   * Idempotent on (tenant, id): returns only the messages that were new (a redelivery returns nothing).
   * Creates missing chats and updates each chat's last message. `media` holds the bytes of new
   * messages among them, written in the same transaction (all or nothing, e.g. on a full disk).
   */
  insertMany(tenantId: string, messages: Message[], fence?: Fence, media?: readonly NewMedia[]): Promise<Message[]>;
  /** Moves acks forward only (a late "delivered" never undoes "read"); returns the rows that changed. */
  updateAcks(tenantId: string, acks: { id: string; ack: Ack }[], fence?: Fence): Promise<{ id: string; chatId: string; ack: Ack }[]>;
}

export type IdempotencyBegin =
  | { state: 'new' }
  | { state: 'done'; response: unknown }
  | { state: 'pending' }
  | { state: 'mismatch' };

export interface IdempotencyRepo {
  /**
   * Claims `key` for a request with this hash. `new`: the caller runs the request and then calls
   * `complete` (or `release` on failure). `done`: the stored response of the first request. `pending`:
   * the first request is still running. `mismatch`: the key was used for a different request.
   */
  begin(tenantId: string, key: string, requestHash: string): Promise<IdempotencyBegin>;
  complete(tenantId: string, key: string, response: unknown): Promise<void>;
  /** Forgets a claimed key whose request failed, so a retry with the same key runs again. */
  release(tenantId: string, key: string): Promise<void>;
}

export interface MediaRecord {
  messageId: string;
  mimetype: string;
  filename: string | null;
  sizeBytes: number;
  sha256: string;
  data: Uint8Array;
}

/** Media bytes to store with their message (size and SHA-256 are computed by the store). */
export type NewMedia = Omit<MediaRecord, 'sizeBytes' | 'sha256'>;

export interface MediaRepo {
  put(tenantId: string, media: Omit<MediaRecord, 'sizeBytes' | 'sha256'>, fence?: Fence): Promise<void>;
  get(tenantId: string, messageId: string): Promise<MediaRecord | null>;
}

export interface PermissionRepo {
  /** Idempotent. Unknown chat or employee in this tenant -> NotFoundError. */
  assign(tenantId: string, userId: string, chatId: string): Promise<void>;
  /** Idempotent; returns whether a permission was removed. */
  revoke(tenantId: string, userId: string, chatId: string): Promise<boolean>;
  listForUser(tenantId: string, userId: string): Promise<{ employeeId: string; chatId: string; grantedAt: string }[]>;
  listAll(tenantId: string): Promise<{ employeeId: string; chatId: string; grantedAt: string }[]>;
  has(tenantId: string, userId: string, chatId: string): Promise<boolean>;
  /** Employees allowed on a chat (for realtime fan-out). */
  usersForChat(tenantId: string, chatId: string): Promise<string[]>;
}

export interface SessionRecord {
  tenantId: string;
  desiredState: DesiredState;
  status: SessionStatus;
  statusReason: string | null;
  ownerNode: string | null;
  leaseEpoch: number;
  updatedAt: string;
}

export interface SessionRepo {
  get(tenantId: string): Promise<SessionRecord | null>;
  setDesired(tenantId: string, desired: DesiredState): Promise<SessionRecord>;
  /** Fenced: refused with StaleEpochError when `epoch` is older than the stored lease epoch. */
  /**
   * `opts.desired` changes the desired state in the same transaction (a session that ended for good is
   * `stopped` before anyone can see its final status).
   */
  setStatus(tenantId: string, epoch: number, status: SessionStatus, reason: string | null, opts?: { desired?: DesiredState }): Promise<void>;
  /** Records a newly acquired lease epoch and owner (only moves forward). */
  claim(tenantId: string, epoch: number, ownerNode: string): Promise<void>;
  /** Fenced like setStatus. */
  saveCredentials(tenantId: string, epoch: number, credentials: Uint8Array | null): Promise<void>;
  loadCredentials(tenantId: string): Promise<Uint8Array | null>;
  /** Tenants whose desired state is active (cross-tenant, for the node's restore/reconcile). */
  listActive(): Promise<string[]>;
}

/** An event to append to a tenant's outbox. `chatId` set: a chat event (admins and that chat's employees). */
export interface NewEvent {
  name: EventName;
  chatId: string | null;
  payload: unknown;
}

/**
 * A stored event. `seq` numbers a tenant's events 1, 2, 3 ... in commit order, without gaps; `id` is
 * `<tenantId>:<seq>`, unique across tenants and stable: a redelivery carries the same id.
 */
export interface StoredEvent extends NewEvent {
  id: string;
  tenantId: string;
  seq: number;
  createdAt: string;
}

export interface EventPage {
  /** In seq order. */
  events: StoredEvent[];
  /** Every event up to this seq was examined: pass it as the next `after`. */
  cursor: number;
  /** Events after the caller's cursor were deleted by retention before it read them. */
  truncated: boolean;
}

/**
 * Told of the events a committed transaction wrote, in seq order, right after the commit (the node
 * publishes them to Socket.IO and wakes the webhook worker). Must not throw.
 */
export type EventListener = (tenantId: string, events: StoredEvent[]) => void;

/** The outbox: every repository write that changes what a client can see appends its events in the same transaction. */
export interface OutboxRepo {
  /** Appends events in one transaction of their own (events with no other data, e.g. `qr`). Fenced like session writes. */
  append(tenantId: string, events: NewEvent[], fence?: Fence): Promise<StoredEvent[]>;
  /** Events with seq > `after`, oldest first; `chatIds` given: only chat events of those chats (employees). */
  read(tenantId: string, opts: { after: number; limit: number; chatIds?: string[] }): Promise<EventPage>;
  /** Highest committed seq of the tenant (0: none yet). */
  head(tenantId: string): Promise<number>;
  /** Deletes (cross-tenant) up to `batch` events older than `olderThanMs`; returns how many. */
  prune(olderThanMs: number, batch: number): Promise<number>;
}

export interface WebhookRecord {
  id: string;
  tenantId: string;
  url: string;
  events: WebhookEventName[];
  enabled: boolean;
  disabledReason: string | null;
  maxConcurrency: number;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewWebhook {
  url: string;
  events: WebhookEventName[];
  secret: string;
  enabled: boolean;
  maxConcurrency: number;
}

export type DeliveryState = 'pending' | 'succeeded' | 'failed';

export interface DeliveryAttempt {
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

export interface DeliveryView {
  eventId: string;
  seq: number;
  event: EventName;
  state: DeliveryState;
  attempts: DeliveryAttempt[];
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  completedAt: string | null;
}

/** A tenant's webhook endpoints (admin REST). */
export interface WebhookRepo {
  /** Deliveries start with the events committed after it. */
  create(tenantId: string, input: NewWebhook): Promise<WebhookRecord>;
  list(tenantId: string): Promise<WebhookRecord[]>;
  get(tenantId: string, id: string): Promise<WebhookRecord | null>;
  /** Enabling clears the disabled reason and the failure streak. Null: no such webhook. */
  update(tenantId: string, id: string, patch: Partial<NewWebhook>): Promise<WebhookRecord | null>;
  remove(tenantId: string, id: string): Promise<boolean>;
  /** Newest first; `before` is a seq from the previous page. */
  deliveries(tenantId: string, webhookId: string, opts: { before?: number; limit: number }): Promise<DeliveryView[]>;
}

export interface Store {
  tenants: TenantRepo;
  users: UserRepo;
  refreshTokens: RefreshTokenRepo;
  chats: ChatRepo;
  messages: MessageRepo;
  media: MediaRepo;
  permissions: PermissionRepo;
  sessions: SessionRepo;
  idempotency: IdempotencyRepo;
  outbox: OutboxRepo;
  webhooks: WebhookRepo;
  /** `SELECT 1`; throws StoreUnavailableError when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
