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
export { createClient } from './create-client.js';
export type { CreateClientOptions, WsgateClientLike } from './create-client.js';
export { SharedWsgateClient } from './shared-client.js';
export { WorkerHub } from './worker-hub.js';
export type { WorkerHubOptions } from './worker-hub.js';
export type { ResumeState } from './types.js';
export { SseSocket } from './sse-socket.js';
export type { EventSourceConstructor, EventSourceLike, FetchLike } from './sse-socket.js';
export type { SseFallbackOptions, TransportName } from './transport-picker.js';
export { followRoomSize, listRoomMembers } from './room.js';
export type { RoomPage, RoomPresence } from './room.js';
