import { Type } from '@sinclair/typebox';
import { DesiredState, SessionStatus } from '../../../domain/types.js';

export const SessionView = Type.Object(
  {
    desiredState: DesiredState,
    status: SessionStatus,
    reason: Type.Union([Type.String(), Type.Null()], { description: 'Why the session is in this status (failed, disconnected ...).' }),
    ownerNode: Type.Union([Type.String(), Type.Null()], { description: 'The node running the session.' }),
  },
  { title: 'SessionView' },
);

export const QrView = Type.Object(
  {
    qr: Type.String({ description: 'The QR text a phone reads.' }),
    image: Type.String({ description: 'PNG data URL of the QR code.' }),
  },
  { title: 'QrView' },
);

export const PairingCodeRequest = Type.Object(
  {
    phone: Type.String({
      pattern: '^[0-9]{6,15}$',
      description: 'The number of the phone that will link, digits only with the country code (e.g. 491701234567).',
    }),
  },
  { title: 'PairingCodeRequest', additionalProperties: false },
);

export const PairingCodeView = Type.Object(
  {
    code: Type.String({ description: 'Type it on the phone: WhatsApp > Linked devices > Link with phone number instead.' }),
  },
  { title: 'PairingCodeView' },
);
