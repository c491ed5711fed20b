import { AppError, ErrorCodes } from '../domain/errors.js';

/*
 * The failures of talking to an actor. Callers (the session service, the HTTP error table) identify them
 * by `code`; the tenant id travels in `details`, never in a message shown to a client.
 */

export class ActorTimeoutError extends AppError {
  constructor(tenantId: string, timeoutMs: number) {
    super(ErrorCodes.ACTOR_TIMEOUT, `the session did not answer within ${timeoutMs} ms`, { details: { tenantId, timeoutMs } });
  }
}

export class ActorDiedError extends AppError {
  constructor(tenantId: string, reason: string) {
    super(ErrorCodes.ACTOR_DIED, `the session ended before answering (${reason})`, { details: { tenantId } });
  }
}

export class ActorStoppedError extends AppError {
  constructor(tenantId: string, reason: string) {
    super(ErrorCodes.ACTOR_STOPPED, `the session is stopping (${reason})`, { details: { tenantId } });
  }
}

export class MailboxFullError extends AppError {
  constructor(tenantId: string, size: number) {
    super(ErrorCodes.MAILBOX_FULL, `the session has ${size} commands waiting; try again shortly`, { details: { tenantId, size } });
  }
}

export class ActorFailedError extends AppError {
  constructor(tenantId: string, reason: string) {
    super(ErrorCodes.ACTOR_FAILED, `the session failed and was not restarted: ${reason}`, { details: { tenantId } });
  }
}

export class SessionNotRunningError extends AppError {
  constructor(tenantId: string, status: string) {
    super(ErrorCodes.SESSION_NOT_RUNNING, `the session is not running (${status})`, { details: { tenantId, status } });
  }
}
