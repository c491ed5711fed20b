import { Type, type Static } from '@sinclair/typebox';
import { User } from '../domain/types.js';

/** Schemas more than one route folder answers with. Route-specific ones live beside their routes. */

/** A user as its own session sees it. */
export const PublicUser = Type.Pick(User, ['id', 'name', 'email', 'role', 'tenantId'], { title: 'PublicUser' });
export type PublicUser = Static<typeof PublicUser>;

/** What login, register and refresh return. */
export const Session = Type.Object(
  {
    accessToken: Type.String({ description: 'JWT for `Authorization: Bearer`; short-lived.' }),
    refreshToken: Type.String({ description: 'Single-use token for POST /api/auth/refresh; each use returns a new one.' }),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({ description: 'Seconds until the access token expires.' }),
    user: PublicUser,
  },
  { title: 'Session' },
);
export type Session = Static<typeof Session>;

export function toPublicUser(user: PublicUser): PublicUser {
  return { id: user.id, name: user.name, email: user.email, role: user.role, tenantId: user.tenantId };
}
