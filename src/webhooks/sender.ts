import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** One webhook request to make. */
export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** What came back: the status, and Retry-After as sent. Network failures and timeouts throw. */
export interface ReceivedAnswer {
  status: number;
  retryAfter: string | undefined;
}

export interface Sender {
  send(request: OutgoingRequest): Promise<ReceivedAnswer>;
  /** Closes idle kept-alive connections. */
  close(): void;
}

/** Thrown when a URL resolves to an address webhooks may not reach (SSRF guard). Not worth retrying. */
export class BlockedAddressError extends Error {
  constructor(address: string) {
    super(`webhook address ${address} is not allowed (loopback, private or link-local)`);
    this.name = 'BlockedAddressError';
  }
}

/**
 * Addresses a tenant's webhook must not reach unless WEBHOOK_ALLOW_PRIVATE_URLS is set: the gateway's own
 * network (cloud metadata at 169.254.169.254, the database, Redis, other pods), whatever the URL's name.
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) blocked.addSubnet(net, prefix, 'ipv6');

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is checked as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] !== undefined ? blocked.check(mapped[1], 'ipv4') : blocked.check(address, 'ipv6');
}

/** A DNS lookup that refuses blocked addresses: checked on the address actually connected to (no rebinding). */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const allowed = addresses.filter((a) => !isBlockedAddress(a.address));
    const first = allowed[0];
    if (first === undefined) return callback(new BlockedAddressError(addresses[0]?.address ?? hostname), '', 0);
    if (options.all === true) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
    return callback(null, first.address, first.family);
  });
};

/** Largest part of a response body read (and then dropped): only the status matters. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Webhook requests over node:http(s) with kept-alive connections (`maxSockets` per origin). Redirects are
 * not followed. With `allowPrivate` false, IP literals and resolved names in blocked ranges are refused.
 */
export function createHttpSender(opts: { allowPrivate: boolean; maxSockets: number }): Sender {
  const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets, ...(opts.allowPrivate ? {} : { lookup: guardedLookup }) };
  const http = new HttpAgent(agentOptions);
  const https = new HttpsAgent(agentOptions);
  return {
    send(req) {
      return new Promise<ReceivedAnswer>((resolve, reject) => {
        let url: URL;
        try {
          url = new URL(req.url);
        } catch {
          reject(new Error('invalid URL'));
          return;
        }
        const host = url.hostname.replace(/^\[|\]$/g, '');
        if (!opts.allowPrivate && isIP(host) !== 0 && isBlockedAddress(host)) {
          reject(new BlockedAddressError(host));
          return;
        }
        const secure = url.protocol === 'https:';
        const headers = { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) };
        const request = (secure ? httpsRequest : httpRequest)(url, { method: 'POST', headers, agent: secure ? https : http });
        const timer = setTimeout(() => request.destroy(new Error(`no answer within ${req.timeoutMs} ms`)), req.timeoutMs);
        request.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        request.on('response', (res: IncomingMessage) => {
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.byteLength;
            if (read > MAX_BODY_BYTES) res.destroy();
          });
          const done = (): void => {
            clearTimeout(timer);
            const retryAfter = res.headers['retry-after'];
            resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter });
          };
          res.on('end', done);
          // A body cut short (or too long) does not change the answer the status gave.
          res.on('close', done);
        });
        request.end(req.body);
      });
    },
    close() {
      http.destroy();
      https.destroy();
    },
  };
}

/**
 * Why a webhook URL cannot be accepted, or null. Catches at creation what the sender would refuse on
 * every attempt (a literal private address, `localhost`); names that resolve to private addresses are
 * refused at delivery, where the resolved address is known.
 */
export function webhookUrlProblem(value: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'url is not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'url must be http or https';
  if (url.username !== '' || url.password !== '') return 'url must not carry credentials (the signature authenticates the gateway)';
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isBlockedAddress(host))) {
    return 'url must not point to a loopback, private or link-local address';
  }
  return null;
}
