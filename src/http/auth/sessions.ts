import { randomBytes } from 'node:crypto';
import { UnauthenticatedError } from '../../domain/errors.js';
import type { Store } from '../../store/types.js';
import { toPublicUser, type PublicUser, type Session } from '../schemas.js';
import type { PasswordHasher } from './passwords.js';
import type { RefreshTokens } from './refresh-tokens.js';
import type { AccessTokens } from './tokens.js';

/**
 * Register, login, refresh, logout: the credential flows, free of HTTP so they read as the rules they
 * are. Routes only validate input and shape output.
 */
export interface SessionService {
  /** Creates a tenant named after its admin, and the admin. Duplicate email -> ConflictError. */
  register(input: { name: string; email: string; password: string }): Promise<Session>;
  /** Wrong password, unknown or disabled account: one message, one cost. */
  login(input: { email: string; password: string }): Promise<Session>;
  refresh(refreshToken: string): Promise<Session>;
  logout(refreshToken: string): Promise<void>;
}

export interface SessionServiceDeps {
  store: Pick<Store, 'tenants' | 'users'>;
  hasher: PasswordHasher;
  tokens: AccessTokens;
  refreshTokens: RefreshTokens;
}

/** Emails name one account whatever their case (the store's unique index is on lower(email)). */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function createSessionService(deps: SessionServiceDeps): SessionService {
  const { store, hasher, tokens, refreshTokens } = deps;
  const wrongCredentials = () => new UnauthenticatedError('Wrong email or password');

  // Unknown emails are checked against this hash so they cost as much as a wrong password and the
  // answer time does not tell which emails have accounts. Made once, with the same parameters.
  let dummyHash: Promise<string> | null = null;
  const getDummyHash = (): Promise<string> => {
    dummyHash ??= hasher.hash(randomBytes(24).toString('base64url')).catch((err: unknown) => {
      dummyHash = null; // a failed attempt (pool restarting) must not poison every later login
      throw err;
    });
    return dummyHash;
  };

  const open = async (user: PublicUser): Promise<Session> => {
    const principal = { userId: user.id, tenantId: user.tenantId, role: user.role };
    const [accessToken, refreshToken] = await Promise.all([
      tokens.sign(principal),
      refreshTokens.issue({ tenantId: user.tenantId, userId: user.id }),
    ]);
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: tokens.ttlS, user: toPublicUser(user) };
  };

  return {
    async register(input) {
      const passwordHash = await hasher.hash(input.password);
      const { admin } = await store.tenants.createWithAdmin({
        tenantName: input.name,
        name: input.name,
        email: normalizeEmail(input.email),
        passwordHash,
      });
      return open(admin);
    },

    async login(input) {
      const user = await store.users.findByEmailForLogin(normalizeEmail(input.email));
      const matches = await hasher.verify(user?.passwordHash ?? (await getDummyHash()), input.password);
      if (user === null || !matches || user.disabled) throw wrongCredentials();
      return open(user);
    },

    async refresh(refreshToken) {
      const next = await refreshTokens.rotate(refreshToken);
      const user = await store.users.findById(next.tenantId, next.userId);
      if (user === null || user.disabled) {
        await refreshTokens.revokeFamily(next.tenantId, next.familyId);
        throw new UnauthenticatedError('Invalid refresh token');
      }
      const accessToken = await tokens.sign({ userId: user.id, tenantId: user.tenantId, role: user.role });
      return { accessToken, refreshToken: next.token, tokenType: 'Bearer', expiresIn: tokens.ttlS, user: toPublicUser(user) };
    },

    logout(refreshToken) {
      return refreshTokens.revoke(refreshToken);
    },
  };
}
