/**
 * wsgate client SDK (`wsgate/client`): browsers and Node. No Node-only imports: in Node 20 pass
 * the `ws` package's class as `WebSocket`.
 */
export { WsgateClient } from './client.js';
export type { WsgateClientOptions, ClientEvents, ClientStats, ConnectionState } from './types.js';
export { Subscription } from './subscription.js';
export type { ChannelMessage, MissedEvent, SubscriptionEvents, SubscriptionState } from './subscription.js';
export { WsgateError } from './requests.js';
export type { SendResult } from './requests.js';
export { backoffDelay, reconnectDecision, DEFAULT_BACKOFF } from './backoff.js';
export type { BackoffOptions, ReconnectDecision } from './backoff.js';
export { systemClock } from '../time/clock.js';
export type { Clock } from '../time/clock.js';
export type { NetworkSource, VisibilitySource, WebSocketConstructor, WebSocketLike } from './environment.js';
export { closeClass } from '../protocol/codes.js';
export type { CloseClass } from '../protocol/codes.js';
export type { InitPayload, StreamPosition, Frame } from '../protocol/events.js';
