import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ValidationError, isAppError } from '../domain/errors.js';
import type { Account } from './model.js';
import type { Network } from './network.js';
import { chatIdOf } from './protocol.js';
import {
  BulkSendBody,
  BulkSentView,
  ConnectionsView,
  CreatePhoneBody,
  ErrorBody,
  LinkBody,
  MessagesQuery,
  MessagesView,
  NumberParams,
  PhoneView,
  PhotoBody,
  ReadBody,
  RedeliverBody,
  SendBody,
  SentView,
  StatsView,
} from './http-schemas.js';

/**
 * The phone side of the simulator, as JSON over HTTP: what a person does with the phone in their
 * hand (create an account, scan a QR, send, read, unlink, set a photo), plus counters and test hooks.
 * Handlers throw domain errors; the server's error handler turns them into `{ statusCode, code, error, message }`.
 */

const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export function phoneView(a: Account): PhoneView {
  return {
    number: a.number,
    name: a.name,
    hasPhoto: a.photo !== null,
    linked: a.device !== null,
    online: a.device?.conn != null,
    pendingDeliveries: a.device?.pending.size ?? 0,
  };
}

export const phoneApi: FastifyPluginAsyncTypebox<{ network: Network }> = async (app, { network }) => {
  app.post('/phones', { schema: { body: CreatePhoneBody, response: { 200: PhoneView, 201: PhoneView, ...errors } } }, async (req, reply) => {
    const { account, created } = network.createAccount(req.body.number, req.body.name);
    return reply.code(created ? 201 : 200).send(phoneView(account));
  });

  app.get('/phones/:number', { schema: { params: NumberParams, response: { 200: PhoneView, ...errors } } }, async (req) =>
    phoneView(network.account(req.params.number)),
  );

  app.post(
    '/phones/:number/link',
    { schema: { params: NumberParams, body: LinkBody, response: { 200: Type.Object({ deviceId: Type.String() }), ...errors } } },
    async (req) => ({ deviceId: network.link(req.params.number, req.body.qr).id }),
  );

  app.post(
    '/phones/:number/messages',
    { schema: { params: NumberParams, body: SendBody, response: { 201: SentView, ...errors } } },
    async (req, reply) => {
      const body = req.body.body ?? '';
      if (body === '' && !req.body.media) throw new ValidationError('A message needs a body or media');
      const m = network.sendFromPhone(req.params.number, req.body.to, { body, media: req.body.media });
      return reply.code(201).send({ id: m.id, timestamp: m.timestamp });
    },
  );

  app.get(
    '/phones/:number/messages',
    { schema: { params: NumberParams, querystring: MessagesQuery, response: { 200: MessagesView, ...errors } } },
    async (req) => {
      const me = req.params.number;
      const list = network.listMessages(me, req.query.box ?? 'inbox');
      return { messages: list.map((m) => ({ ...m, chatId: chatIdOf(m.from === me ? m.to : m.from) })) };
    },
  );

  app.post(
    '/phones/:number/read',
    { schema: { params: NumberParams, body: ReadBody, response: { 200: Type.Object({ read: Type.Integer() }), ...errors } } },
    async (req) => ({ read: network.markRead(req.params.number, req.body.chatId) }),
  );

  app.post('/phones/:number/unlink', { schema: { params: NumberParams, response: { 204: Type.Null(), ...errors } } }, async (req, reply) => {
    network.unlinkFromPhone(req.params.number);
    return reply.code(204).send(null);
  });

  app.put('/phones/:number/photo', { schema: { params: NumberParams, body: PhotoBody, response: { 204: Type.Null(), ...errors } } }, async (req, reply) => {
    network.setPhoto(req.params.number, { mimetype: req.body.mimetype, data: Buffer.from(req.body.dataBase64, 'base64') });
    return reply.code(204).send(null);
  });

  app.get('/stats', { schema: { response: { 200: StatsView } } }, async () => network.stats());

  app.get('/stats/connections', { schema: { response: { 200: ConnectionsView } } }, async () => ({
    connections: network.connectionLog(),
  }));

  // Test hooks: faults the real network produces on its own, made reproducible.
  app.post(
    '/testing/phones/:number/redeliver',
    { schema: { params: NumberParams, body: RedeliverBody, response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      network.redeliver(req.params.number, req.body.messageId);
      return reply.code(204).send(null);
    },
  );

  // Load generation: one request per tick of traffic instead of one per message, so a benchmark's sender
  // and this server spend their CPU on the network, not on HTTP. Each message is sent as by its phone.
  app.post('/testing/messages', { schema: { body: BulkSendBody, response: { 200: BulkSentView, ...errors } } }, async (req) => ({
    results: req.body.messages.map((m) => {
      try {
        if (m.body === '') throw new ValidationError('A message needs a body');
        return { id: network.sendFromPhone(m.from, m.to, { body: m.body }).id };
      } catch (err) {
        if (!isAppError(err)) throw err;
        return { code: err.code, message: err.message };
      }
    }),
  }));

  app.post(
    '/testing/phones/:number/stall',
    { schema: { params: NumberParams, body: Type.Object({ on: Type.Boolean() }, { additionalProperties: false }), response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      network.setStalled(req.params.number, req.body.on);
      return reply.code(204).send(null);
    },
  );

  app.post('/testing/phones/:number/drop', { schema: { params: NumberParams, response: { 204: Type.Null(), ...errors } } }, async (req, reply) => {
    network.dropConnection(req.params.number);
    return reply.code(204).send(null);
  });

  app.get('/healthz', async () => ({ ok: true }));
};
