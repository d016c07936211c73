import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { GatewayOptions } from '../config.js';
import type { SessionService, SessionSummary } from '../session/session-service.js';
import type { Clock } from '../time/clock.js';
import type { StreamPosition } from '../protocol/events.js';
import { decodeChannel } from '../protocol/payloads.js';
import { ApiError, bearerMatches, isLoopback, readJsonObject } from './http-body.js';
import { refuseCrossSite, requireJsonBody } from './cross-site.js';
import { sendJson, type RouteHandler } from './http-front.js';
import { IdempotencyCache, IdempotencyPending, type IdempotencyStore } from './idempotency.js';

/** Largest accepted API request body, bytes (1 MiB; bigger → 413). */
export const API_BODY_LIMIT = 1024 * 1024;

/**
 * Event namespaces the gateway itself speaks. The backend may not send them through
 * `/api/sessions/{id}/send`: a forged `system/disconnect`, `session/left` or `channel/message`
 * would lie to the client SDK about its own connection, the room or a channel's offsets.
 */
export const RESERVED_EVENT_PREFIXES = ['system/', 'client/', 'session/', 'channel/', 'send/'] as const;

const EVENT_NAME = /^[\x21-\x7e]{1,128}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,256}$/;

/** What the HTTP API works on: the session service, the broker's publish, and the gateway's router and log. */
export interface ApiParts {
  readonly options: Pick<GatewayOptions, 'apiKey' | 'allowedOrigins'>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The gateway's metrics registry (the API counts its requests there). */
  readonly metrics: Registry;
  /** Every session of the gateway: with a shared store, those of the other processes too. */
  readonly sessions: Pick<SessionService, 'list' | 'sendTo' | 'endById' | 'unavailable'>;
  publish(channel: string, data: unknown): Promise<StreamPosition>;
  /** Where publish idempotency keys are kept; default this process's memory (with Redis: shared by every process). */
  readonly idempotency?: IdempotencyStore<StreamPosition>;
  route(method: string, path: string, handler: RouteHandler, opts?: { prefix?: boolean }): void;
}

/** One entry of `GET /api/sessions`. */
export interface SessionListing {
  id: string;
  room: string;
  profile: Record<string, unknown>;
  /** The JWT `sub` of the session's user; null without JWT. */
  user: string | null;
  is_connected: boolean;
  /** Last seq sent to the session. */
  seq: number;
  /** Un-acked messages held for replay, and their bytes. */
  buffered: number;
  buffered_bytes: number;
  subscriptions: string[];
  /** ISO-8601. */
  created_at: string;
  /** ISO-8601, null while connected. */
  disconnected_at: string | null;
}

/**
 * Register the backend HTTP API of docs/protocol.md §1.4 on `host`: publish (with idempotency keys),
 * send to one session, list sessions, end one. Every route refuses cross-site browser requests, then
 * checks the bearer key; POST bodies must be `application/json`.
 */
export function mountApi(host: ApiParts): void {
  const idempotency = host.idempotency ?? new IdempotencyCache<StreamPosition>(undefined, undefined, host.clock);
  const requests = new Counter({
    name: 'wsgate_api_requests_total',
    help: 'Backend HTTP API requests by route and status',
    labelNames: ['route', 'status'],
    registers: [host.metrics],
  });
  const guard = (route: string, handler: RouteHandler): RouteHandler => async (req, res, url) => {
    res.once('finish', () => requests.inc({ route, status: String(res.statusCode) }));
    try {
      refuseCrossSite(req, host.options.allowedOrigins);
      authorize(req, host.options.apiKey);
      if (req.method === 'POST') requireJsonBody(req);
      await handler(req, res, url);
    } catch (thrown) {
      const err = thrown instanceof ApiError ? thrown : unreachable(host, thrown);
      if (err.status === 401) res.setHeader('www-authenticate', 'Bearer realm="wsgate"');
      if (err.status === 413) res.setHeader('connection', 'close');
      if (err.status === 503) res.setHeader('retry-after', '1');
      host.logger.debug({ path: url.pathname, status: err.status, error: err.message }, 'api request refused');
      sendJson(res, err.status, err.toJSON());
    }
  };
  host.route('POST', '/api/publish', guard('publish', (req, res) => publish(host, idempotency, req, res)));
  host.route('GET', '/api/sessions', guard('list', (_req, res, url) => listSessions(host, res, url)));
  host.route('POST', '/api/sessions/', guard('send', (req, res, url) => sendToSession(host, req, res, url)), { prefix: true });
  host.route('DELETE', '/api/sessions/', guard('end', (_req, res, url) => endSession(host, res, url)), { prefix: true });
}

/**
 * A failure while the shared store (Redis) is away is expected, not a bug: 503 with the reason, like /readyz (the
 * store logs the outage once). Anything else is rethrown (500, logged).
 */
function unreachable(host: ApiParts, err: unknown): ApiError {
  const reason = host.sessions.unavailable();
  if (!reason) throw err;
  return new ApiError(503, reason);
}

/** With a key: the bearer must match (401). Without one: loopback peers only (403). */
function authorize(req: IncomingMessage, apiKey: string): void {
  if (apiKey) {
    if (!bearerMatches(req.headers.authorization, apiKey)) throw new ApiError(401, 'missing or wrong API key (Authorization: Bearer <key>)');
    return;
  }
  if (!isLoopback(req.socket.remoteAddress)) throw new ApiError(403, 'no API key is configured: the API answers loopback peers only');
}

async function publish(host: ApiParts, cache: IdempotencyStore<StreamPosition>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonObject(req, API_BODY_LIMIT);
  if (body.channel === undefined) throw new ApiError(400, 'channel is required', 'channel');
  let channel: string;
  try {
    channel = decodeChannel(body.channel);
  } catch (err) {
    throw new ApiError(400, (err as Error).message, 'channel');
  }
  if (!('data' in body)) throw new ApiError(400, 'data is required', 'data');
  const key = body.idempotency_key;
  if (key === undefined || key === null) {
    sendJson(res, 200, await host.publish(channel, body.data));
    return;
  }
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(400, 'idempotency_key must be 1-256 printable ASCII characters', 'idempotency_key');
  }
  const fingerprint = createHash('sha256').update(channel).update('\0').update(JSON.stringify(body.data)).digest('base64');
  const outcome = await cache.run(key, fingerprint, () => host.publish(channel, body.data)).catch((err: unknown) => {
    if (err instanceof IdempotencyPending) throw new ApiError(409, `${err.message} (on another gateway process); retry later`, 'idempotency_key');
    throw err;
  });
  if (outcome === 'conflict') throw new ApiError(422, 'idempotency_key was already used for a different channel or data', 'idempotency_key');
  if (outcome.replayed) res.setHeader('idempotent-replayed', 'true');
  sendJson(res, 200, outcome.value);
}

async function listSessions(host: ApiParts, res: ServerResponse, url: URL): Promise<void> {
  const sessions = (await host.sessions.list(url.searchParams.get('room'))).map(listing);
  sendJson(res, 200, { sessions });
}

function listing(s: SessionSummary): SessionListing {
  return {
    id: s.id,
    room: s.room,
    profile: s.profile,
    user: s.user ?? null,
    is_connected: s.is_connected,
    seq: s.seq,
    buffered: s.buffered,
    buffered_bytes: s.bufferedBytes,
    subscriptions: s.subscriptions,
    created_at: new Date(s.createdAt).toISOString(),
    disconnected_at: s.is_connected || !s.disconnectedAt ? null : new Date(s.disconnectedAt).toISOString(),
  };
}

/** `POST /api/sessions/{id}/send {event, payload}` → 202 `{seq, connected}`: queued, and replayed on resume if need be. */
async function sendToSession(host: ApiParts, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const m = /^\/api\/sessions\/([^/]+)\/send$/.exec(url.pathname);
  if (!m) throw new ApiError(404, 'not found');
  const id = pathId(m[1]!);
  const body = await readJsonObject(req, API_BODY_LIMIT);
  const event = body.event;
  if (typeof event !== 'string' || !EVENT_NAME.test(event)) throw new ApiError(400, 'event must be a string of 1-128 printable ASCII characters', 'event');
  if (RESERVED_EVENT_PREFIXES.some((p) => event.startsWith(p))) {
    throw new ApiError(400, `event may not use the gateway's own namespaces (${RESERVED_EVENT_PREFIXES.join(', ')})`, 'event');
  }
  const sent = await host.sessions.sendTo(id, event, body.payload);
  if (!sent) throw new ApiError(404, 'unknown session', 'id');
  sendJson(res, 202, sent);
}

/** `DELETE /api/sessions/{id}` → 204; the client gets `system/disconnect` and close 4003. */
async function endSession(host: ApiParts, res: ServerResponse, url: URL): Promise<void> {
  const m = /^\/api\/sessions\/([^/]+)$/.exec(url.pathname);
  if (!m) throw new ApiError(404, 'not found');
  if (!(await host.sessions.endById(pathId(m[1]!), 'kicked'))) throw new ApiError(404, 'unknown session', 'id');
  res.writeHead(204);
  res.end();
}

/** A session id from the path; a malformed %-escape cannot name a session. */
function pathId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(404, 'unknown session', 'id');
  }
}
