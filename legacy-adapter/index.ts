/**
 * The v2 legacy adapter (docs/protocol.md §7): v2 clients through the v3 gateway.
 * See docs/legacy-adapter.md.
 */
export { createLegacyAdapter, validateAdapterOptions, DEFAULT_MAX_PAYLOAD } from './adapter.js';
export type { LegacyAdapter, LegacyAdapterOptions } from './adapter.js';
export { mountLegacyAdapter, DEFAULT_V2_PING_INTERVAL } from './mount.js';
export type { MountableGateway } from './mount.js';
export { startLegacyServer } from './standalone.js';
export type { LegacyServer, LegacyServerOptions } from './standalone.js';
export { runLegacyCli } from './cli.js';
export { decodeV2, encodeV2, v2Error, v2Disconnect, V2Event } from './v2-codec.js';
export type { V2Frame, V2DecodeResult } from './v2-codec.js';
export { v2ToV3, v3ToV2, V2_TO_V3, V3_TO_V2, BROADCAST_TO_V2, V3_DROPPED_PREFIXES } from './translate.js';
export { V2Pinger, ADAPTER_PING_PAYLOAD } from './v2-pinger.js';
