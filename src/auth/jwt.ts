/**
 * JWT verification for `client/hello.token` (docs/security.md, "Tokens"). One verifier per
 * gateway, built at start from exactly one key source: an HS256 secret, a PEM public key file
 * (RSA → RS256, EC P-256 → ES256) or a JWKS file. `exp` is required, `nbf`, `iss` and `aud` are
 * checked when present or configured; `sub` becomes the user, `name` the profile name, `rooms`
 * and `channels` what the session may do (grants.ts). Verification is total: any token, however
 * malformed, gives a refusal with a short reason — never an exception, never the token echoed.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ConfigError } from '../config.js';
import { Grants } from './grants.js';

/** Where the keys come from and what the claims must say. Exactly one of secret, publicKeyFile, jwksFile. */
export interface JwtConfig {
  /** HS256 shared secret, at least 32 bytes (`--jwt-secret`). */
  secret?: string;
  /** PEM public key file, RSA (RS256) or EC P-256 (ES256) (`--jwt-public-key`). */
  publicKeyFile?: string;
  /** JSON Web Key Set file, `{"keys": [...]}`, RS256/ES256 keys chosen by `kid` (`--jwt-jwks`). */
  jwksFile?: string;
  /** Required `iss`, when set (`--jwt-issuer`). */
  issuer?: string;
  /** Required `aud`, when set (`--jwt-audience`). */
  audience?: string;
  /** Seconds of clock skew tolerated on `exp`/`nbf`. Default 0. */
  clockTolerance?: number;
}

/** Who a valid token says the client is, and what it may do. */
export interface TokenIdentity {
  /** `sub`: the session's user id. */
  userId: string;
  /** `name`: the profile name, when the token has one. */
  name?: string;
  /** `exp` in ms since the epoch: the connection ends then (docs/protocol.md, "Authentication"). */
  expiresAt: number;
  grants: Grants;
}

/** Why a token was refused. `expired` is told apart so a client knows to fetch a fresh one. */
export type TokenRefusal = 'missing' | 'expired' | 'invalid';

/** The outcome of one verification. `message` is safe to send to the client and to log. */
export type TokenCheck = { ok: true; identity: TokenIdentity } | { ok: false; refusal: TokenRefusal; message: string };

/** Longest token accepted, characters: checked before any decoding. */
export const MAX_TOKEN_LENGTH = 8192;
/** Shortest HS256 secret, bytes (RFC 7518 §3.2: a key at least as long as the hash). */
export const MIN_SECRET_BYTES = 32;
const MAX_SUB_LENGTH = 256;
const MAX_NAME_LENGTH = 256;

type Key = Uint8Array | KeyObject | JWTVerifyGetKey;

/** Verifies hello tokens against one key source. Build it with {@link createJwtVerifier}. */
export class JwtVerifier {
  constructor(
    private readonly key: Key,
    private readonly algorithms: string[],
    private readonly config: JwtConfig,
  ) {}

  /** Check `token` at `nowMs` (default the wall clock). Never throws. */
  async verify(token: unknown, nowMs: number = Date.now()): Promise<TokenCheck> {
    if (typeof token !== 'string' || token === '') return refuse('missing', 'a token is required');
    if (token.length > MAX_TOKEN_LENGTH) return refuse('invalid', `token longer than ${MAX_TOKEN_LENGTH} characters`);
    let payload: JWTPayload;
    try {
      const options = {
        algorithms: this.algorithms,
        issuer: this.config.issuer || undefined,
        audience: this.config.audience || undefined,
        clockTolerance: this.config.clockTolerance ?? 0,
        currentDate: new Date(nowMs),
        requiredClaims: ['exp', 'sub'],
      };
      // jose overloads on the key's type; both branches take the same options.
      const result = typeof this.key === 'function' ? await jwtVerify(token, this.key, options) : await jwtVerify(token, this.key, options);
      payload = result.payload;
    } catch (err) {
      return refusalOf(err);
    }
    return identityOf(payload);
  }
}

function refuse(refusal: TokenRefusal, message: string): TokenCheck {
  return { ok: false, refusal, message };
}

function refusalOf(err: unknown): TokenCheck {
  if (err instanceof errors.JWTExpired) return refuse('expired', 'token expired');
  if (err instanceof errors.JWTClaimValidationFailed) return refuse('invalid', `token claim "${err.claim}" refused (${err.reason})`);
  if (err instanceof errors.JWSSignatureVerificationFailed) return refuse('invalid', 'token signature does not verify');
  if (err instanceof errors.JOSEAlgNotAllowed) return refuse('invalid', 'token algorithm not accepted');
  if (err instanceof errors.JWKSNoMatchingKey) return refuse('invalid', 'no key of the key set matches the token');
  return refuse('invalid', 'token is malformed');
}

function identityOf(payload: JWTPayload): TokenCheck {
  const { sub, exp } = payload;
  if (typeof sub !== 'string' || sub === '' || sub.length > MAX_SUB_LENGTH) return refuse('invalid', 'token claim "sub" must be a string of 1 to 256 characters');
  const name = payload.name;
  if (name !== undefined && (typeof name !== 'string' || name.length > MAX_NAME_LENGTH)) return refuse('invalid', 'token claim "name" must be a string of at most 256 characters');
  const grants = Grants.fromClaims(payload.rooms, payload.channels);
  if (typeof grants === 'string') return refuse('invalid', `token ${grants}`);
  // jose checked exp is a number; it is seconds since the epoch.
  const identity: TokenIdentity = { userId: sub, expiresAt: (exp as number) * 1000, grants };
  if (typeof name === 'string') identity.name = name;
  return { ok: true, identity };
}

/**
 * Build the verifier from configuration, reading key files once. Throws ConfigError naming the
 * option when the sources are ambiguous or a key cannot be used. Returns undefined when no JWT
 * option is set (the gateway then accepts any token, or defers to the `authenticate` hook).
 */
export function createJwtVerifier(config: JwtConfig): JwtVerifier | undefined {
  const given = [config.secret && '--jwt-secret', config.publicKeyFile && '--jwt-public-key', config.jwksFile && '--jwt-jwks'].filter(Boolean);
  if (given.length === 0) return undefined;
  if (given.length > 1) throw new ConfigError(`${given[1]}: only one of --jwt-secret, --jwt-public-key, --jwt-jwks may be set`);
  if (config.secret) {
    const bytes = new TextEncoder().encode(config.secret);
    if (bytes.length < MIN_SECRET_BYTES) throw new ConfigError(`--jwt-secret: must be at least ${MIN_SECRET_BYTES} bytes, got ${bytes.length}`);
    return new JwtVerifier(bytes, ['HS256'], config);
  }
  if (config.publicKeyFile) {
    const { key, alg } = readPublicKey(config.publicKeyFile);
    return new JwtVerifier(key, [alg], config);
  }
  return new JwtVerifier(readJwks(config.jwksFile!), ['RS256', 'ES256'], config);
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${flag}: cannot read ${file}: ${(err as Error).message}`);
  }
}

function readPublicKey(file: string): { key: KeyObject; alg: string } {
  let key: KeyObject;
  try {
    key = createPublicKey(readText(file, '--jwt-public-key'));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`--jwt-public-key: ${file} is not a PEM public key`);
  }
  if (key.asymmetricKeyType === 'rsa') return { key, alg: 'RS256' };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, alg: 'ES256' };
  throw new ConfigError(`--jwt-public-key: ${file} must be an RSA or EC P-256 key, got ${key.asymmetricKeyType ?? 'unknown'}`);
}

function readJwks(file: string): JWTVerifyGetKey {
  let data: unknown;
  try {
    data = JSON.parse(readText(file, '--jwt-jwks'));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`--jwt-jwks: ${file} is not valid JSON`);
  }
  const keys = (data as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new ConfigError(`--jwt-jwks: ${file} must hold {"keys": [...]} with at least one key`);
  if (keys.some((k) => typeof k !== 'object' || k === null || 'd' in k || 'k' in k)) {
    // A private or symmetric key in a file meant for public keys is a leak waiting to happen.
    throw new ConfigError(`--jwt-jwks: ${file} must hold public keys only (no "d" or "k" members)`);
  }
  try {
    return createLocalJWKSet({ keys });
  } catch {
    throw new ConfigError(`--jwt-jwks: ${file} is not a valid JSON Web Key Set`);
  }
}
