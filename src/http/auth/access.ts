import { ForbiddenError, NotFoundError, type AppError } from '../../domain/errors.js';
import type { Role } from '../../domain/types.js';

/**
 * The one rule for "may this user see this chat", as a pure function of facts the caller looked up in
 * the caller's own tenant. Chats of other tenants are never looked up, so they always read as absent:
 * a foreign id is indistinguishable from a missing one (404), and nothing of another tenant can leak.
 */

export type ChatAccess = 'allow' | 'not_found' | 'forbidden';

export interface ChatFacts {
  role: Role;
  /** The chat exists in the caller's tenant. */
  chatExists: boolean;
  /** The caller holds a permission on the chat (only meaningful for employees). */
  assigned: boolean;
}

export function decideChatAccess(facts: ChatFacts): ChatAccess {
  if (!facts.chatExists) return 'not_found';
  switch (facts.role) {
    case 'admin':
      // An admin owns every chat of its tenant.
      return 'allow';
    case 'employee':
      // Inside its own tenant an employee may learn that a chat exists, not what is in it.
      return facts.assigned ? 'allow' : 'forbidden';
  }
}

/** The error a denial answers with, or null when access is allowed. */
export function chatAccessError(access: ChatAccess): AppError | null {
  switch (access) {
    case 'allow':
      return null;
    case 'not_found':
      return new NotFoundError('Chat');
    case 'forbidden':
      return new ForbiddenError('This chat is not assigned to you');
  }
}
