/** wsgate's library API: create a gateway, attach it or let it listen, handle events, send, close. */
export { createGateway, Gateway, type GatewayInit } from './gateway.js';
export { resolveOptions, DEFAULTS, ConfigError, GATEWAY_OPTIONS, type GatewayOptions, type ResolvedOptions } from './config.js';
export type { Authenticate, AuthResult, EventContext, EventHandler } from './ws/core.js';
export type { RouteHandler, UpgradeHandler } from './http/http-front.js';
export { sendJson } from './http/http-front.js';
export type { Broker, BrokerListener, ChannelMessage, Recovery } from './broker/broker.js';
export { MemoryBroker } from './broker/memory-broker.js';
export type { Session } from './session/session.js';
export * from './protocol/index.js';
export { parseRequestTarget } from './http/request-target.js';
export { originAllowed } from './http/origin.js';
export { systemClock, type Clock, type TimerHandle } from './time/clock.js';
export { mountClientBundle, CLIENT_BUNDLE_PATH } from './demo/client-bundle.js';
