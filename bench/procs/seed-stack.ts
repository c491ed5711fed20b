import express from 'express';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { serveIpc } from '../lib/ipc.js';

/**
 * The seed's stack, rebuilt for comparison: Express, jsonwebtoken verifying with the string secret on
 * every request, and node-postgres running the same queries on the same tables. Env: BENCH_DB_URL,
 * BENCH_SCHEMA, BENCH_JWT_SECRET.
 */

const secret = process.env.BENCH_JWT_SECRET ?? '';
const pool = new pg.Pool({
  connectionString: process.env.BENCH_DB_URL,
  max: 10,
  options: `-c search_path=${process.env.BENCH_SCHEMA ?? 'public'}`,
});

interface Claims {
  sub: string;
  tid: string;
  role: 'admin' | 'employee';
}

const app = express();

function auth(req: express.Request, res: express.Response, next: express.NextFunction): void {
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  try {
    if (token === undefined) throw new Error('no token');
    res.locals.user = jwt.verify(token, secret) as Claims;
    next();
  } catch {
    res.status(401).json({ error: 'unauthorized' });
  }
}

const chatColumns = 'c.id, c.name, c.is_group AS "isGroup", c.unread_count AS "unreadCount", c.last_message_at AS "lastMessageAt", c.last_message_preview AS "lastMessagePreview"';

app.get('/api/chats', auth, async (_req, res) => {
  const user = res.locals.user as Claims;
  const { rows } =
    user.role === 'admin'
      ? await pool.query(`SELECT ${chatColumns} FROM chats c WHERE c.tenant_id = $1 ORDER BY c.last_message_at DESC NULLS LAST, c.id`, [user.tid])
      : await pool.query(
          `SELECT ${chatColumns} FROM chats c JOIN chat_permissions p ON p.tenant_id = c.tenant_id AND p.chat_id = c.id
           WHERE c.tenant_id = $1 AND p.user_id = $2 ORDER BY c.last_message_at DESC NULLS LAST, c.id`,
          [user.tid, user.sub],
        );
  res.json(rows);
});

app.get('/api/chats/:chatId/messages', auth, async (req, res) => {
  const user = res.locals.user as Claims;
  const chatId = req.params.chatId;
  if (user.role === 'employee') {
    const allowed = await pool.query('SELECT 1 FROM chat_permissions WHERE tenant_id = $1 AND user_id = $2 AND chat_id = $3', [user.tid, user.sub, chatId]);
    if (allowed.rowCount === 0) {
      res.status(403).json({ error: 'forbidden' });
      return;
    }
  }
  const { rows } = await pool.query(
    `SELECT wa_message_id AS id, chat_id AS "chatId", sender AS "from", from_me AS "fromMe", body, sent_at AS timestamp, type, has_media AS "hasMedia", ack
     FROM messages WHERE tenant_id = $1 AND chat_id = $2 ORDER BY sent_at DESC, seq DESC LIMIT 50`,
    [user.tid, chatId],
  );
  res.json({ messages: rows });
});

const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const address = server.address();

serveIpc({}, { url: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` });
process.on('SIGTERM', () => {
  server.close();
  void pool.end().finally(() => process.exit(0));
});
