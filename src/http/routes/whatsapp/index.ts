import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SessionService } from '../../../supervisor/sessions/session-service.js';
import { principalOf, protect, type Guard } from '../../auth/guard.js';
import { errorResponses } from '../../errors.js';
import { NotFoundError } from '../../../domain/errors.js';
import { PairingCodeRequest, PairingCodeView, QrView, SessionView } from './schemas.js';

export interface WhatsappRoutesOptions {
  sessions: SessionService;
  guard: Guard;
}

/** The tenant's WhatsApp session: link (QR over Socket.IO, or a pairing code), status, logout. Admin only. */
export const whatsappRoutes: FastifyPluginAsyncTypebox<WhatsappRoutesOptions> = async (app, { sessions, guard }) => {
  protect(app, guard, 'admin');

  app.post(
    '/init',
    {
      schema: {
        tags: ['whatsapp'],
        summary: 'Start (or resume) the tenant\'s WhatsApp session',
        description:
          'Records the desired state `active` and starts the session. Without stored credentials the ' +
          'session asks for a QR code, sent as a PNG data URL in the Socket.IO event `qr`; then ' +
          '`session_status` reports `connected`. Calling it again is harmless.',
        response: { 200: SessionView, ...errorResponses(503) },
      },
    },
    async (request) => sessions.init(principalOf(request).tenantId),
  );

  app.post(
    '/logout',
    {
      schema: {
        tags: ['whatsapp'],
        summary: 'Unlink the WhatsApp account and stop the session',
        response: { 200: SessionView, ...errorResponses(503, 504) },
      },
    },
    async (request) => sessions.logout(principalOf(request).tenantId),
  );

  app.get(
    '/qr',
    {
      schema: {
        tags: ['whatsapp'],
        summary: 'The QR code the session shows now',
        description:
          'Its text and a PNG data URL (the same image as the Socket.IO `qr` event). 404 when the session ' +
          'is not waiting for a scan. With the sandbox engine, the text is what the simulator\'s ' +
          '`POST /phones/:number/link` takes.',
        response: { 200: QrView, ...errorResponses(404, 503) },
      },
    },
    async (request) => {
      const qr = await sessions.currentQr(principalOf(request).tenantId);
      if (qr === null) throw new NotFoundError('QR code (the session is not waiting for a scan)');
      return qr;
    },
  );

  app.post(
    '/pairing-code',
    {
      schema: {
        tags: ['whatsapp'],
        summary: 'Link by phone number: a pairing code instead of the QR',
        description:
          'While the session waits for a link (after `init`, status `qr`), asks WhatsApp for a code to type ' +
          'on the phone whose number is given. The code is also sent to the tenant\'s admins as the Socket.IO ' +
          'event `pairing_code` (`{ code }`); then `session_status` reports `connected`. Each call replaces ' +
          'the previous code. 409 when the session is not waiting for a link; 400 with the sandbox engine, ' +
          'which links by QR only.',
        body: PairingCodeRequest,
        response: { 200: PairingCodeView, ...errorResponses(400, 409, 503, 504) },
      },
    },
    async (request) => sessions.pairingCode(principalOf(request).tenantId, request.body.phone),
  );

  app.get(
    '/status',
    {
      schema: {
        tags: ['whatsapp'],
        summary: 'The session\'s desired state and current status',
        response: { 200: SessionView, ...errorResponses(503) },
      },
    },
    async (request) => sessions.status(principalOf(request).tenantId),
  );
};
