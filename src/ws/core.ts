import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { JwtVerifier } from '../auth/jwt.js';
import type { ChannelHub } from '../channels/channel-hub.js';
import type { ResolvedOptions } from '../config.js';
import type { HelloPayload, Profile } from '../protocol/events.js';
import type { GatewayMetrics } from '../metrics.js';
import type { SessionService } from '../session/session-service.js';
import type { Session } from '../session/session.js';
import type { WarnThrottle } from './warn-throttle.js';

/** What an application handler gets for one client event. */
export interface EventContext {
  /** The sender's session (id, room, profile are public). */
  session: Pick<Session, 'id' | 'room' | 'profile'>;
  event: string;
  payload: unknown;
  /** The client's message id, if it sent one. */
  id: string | undefined;
  /** Send a stream message to the sender. */
  reply(event: string, payload?: unknown): void;
}

/** Handles one application event; throwing a ProtocolError answers with its code, anything else with `internal`. */
export type EventHandler = (ctx: EventContext) => void | Promise<void>;

/** What `authenticate` may decide: refuse (false), or accept, optionally fixing room and profile. */
export type AuthResult = boolean | { room?: string; profile?: Profile };

/** Checks the hello's token. Default: accept everyone. */
export type Authenticate = (hello: HelloPayload, request: IncomingMessage) => AuthResult | Promise<AuthResult>;

/** The parts of a gateway the connection handlers use. */
export interface GatewayCore {
  options: ResolvedOptions;
  logger: Logger;
  /** Warnings a client can cause at its message rate, at most one per kind per 10 s. */
  warnings: WarnThrottle;
  /** The session service (create, attach, detach, resume, end). */
  sessions: SessionService;
  /** Channels: subscribe, unsubscribe, publish. */
  hub: ChannelHub;
  metrics: GatewayMetrics;
  handlers: Map<string, EventHandler>;
  authenticate: Authenticate | undefined;
  /** Verifies hello tokens when a JWT option is set (`--jwt-secret`, `--jwt-public-key`, `--jwt-jwks`). */
  jwt: JwtVerifier | undefined;
}
