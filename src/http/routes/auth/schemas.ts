import { Type } from '@sinclair/typebox';

/** Bodies of the session routes. Limits keep argon2 inputs and stored strings bounded. */

export const Email = Type.String({ format: 'email', maxLength: 254, description: 'Login name; case-insensitive.' });
export const NewPassword = Type.String({ minLength: 8, maxLength: 256, description: '8 to 256 characters.' });
export const PersonName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'Display name.' });

/** Also the body of POST /api/auth/create-station. */
export const NewAccountBody = Type.Object(
  { name: PersonName, email: Email, password: NewPassword },
  { additionalProperties: false },
);

export const LoginBody = Type.Object(
  { email: Email, password: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

export const RefreshBody = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);
