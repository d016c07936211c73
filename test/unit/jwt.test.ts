/**
 * JWT verification with real keys made by jose in the test: HS256, RS256 and ES256 from PEM
 * files, a JWKS file, every claim check, the grants, and the config errors at start.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { Grants } from '../../src/auth/grants.js';
import { createJwtVerifier, type JwtVerifier } from '../../src/auth/jwt.js';
import { MAX_TIMER_MS, TokenExpiry } from '../../src/auth/token-expiry.js';
import { ConfigError } from '../../src/config.js';
import { ManualClock } from '../support/manual-clock.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const NOW = Date.UTC(2026, 0, 1); // ms
const nowS = NOW / 1000;
let dir: string;

type SignKey = Parameters<SignJWT['sign']>[0];

function sign(key: SignKey, alg: string, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, ...header }).sign(key);
}
const hs = (claims: JWTPayload): Promise<string> => sign(new TextEncoder().encode(SECRET), 'HS256', claims);
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsgate-jwt-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('HS256 secret', () => {
  const verifier = createJwtVerifier({ secret: SECRET, issuer: 'auth.example', audience: 'wsgate' })!;
  const good = { sub: 'u-42', name: 'Ada', iss: 'auth.example', aud: 'wsgate', exp: nowS + 60 };

  test('a valid token gives the user, the name, the expiry and the grants', async () => {
    const check = await verifier.verify(await hs({ ...good, rooms: ['lobby', 'team:*'], channels: ['news'] }), NOW);
    if (!check.ok) throw new Error(check.message);
    expect(check.identity).toMatchObject({ userId: 'u-42', name: 'Ada', expiresAt: (nowS + 60) * 1000 });
    expect(check.identity.grants.mayJoin('team:red')).toBe(true);
    expect(check.identity.grants.mayJoin('main')).toBe(false);
    expect(check.identity.grants.maySubscribe('news')).toBe(true);
    expect(check.identity.grants.mayPublish('news')).toBe(true);
    expect(check.identity.grants.maySubscribe('sports')).toBe(false);
  });

  test.each([
    ['expired', { ...good, exp: nowS - 1 }, 'expired', 'token expired'],
    ['not yet valid', { ...good, nbf: nowS + 30 }, 'invalid', '"nbf"'],
    ['wrong issuer', { ...good, iss: 'evil' }, 'invalid', '"iss"'],
    ['wrong audience', { ...good, aud: 'other' }, 'invalid', '"aud"'],
    ['no exp', { sub: 'u', iss: 'auth.example', aud: 'wsgate' }, 'invalid', '"exp"'],
    ['no sub', { iss: 'auth.example', aud: 'wsgate', exp: nowS + 60 }, 'invalid', '"sub"'],
    ['a number as name', { ...good, name: 7 }, 'invalid', '"name"'],
    ['rooms not a list', { ...good, rooms: 'lobby' }, 'invalid', '"rooms"'],
    ['a bad channel pattern', { ...good, channels: ['ok', 'no spaces'] }, 'invalid', '"channels"'],
  ])('%s → refused', async (_name, claims, refusal, message) => {
    const check = await verifier.verify(await hs(claims as JWTPayload), NOW);
    expect(check).toMatchObject({ ok: false, refusal });
    expect(check.ok ? '' : check.message).toContain(message);
  });

  test('a token signed with another secret, alg none, or garbage is refused without an exception', async () => {
    const other = await sign(new TextEncoder().encode('x'.repeat(40)), 'HS256', good);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.`;
    for (const token of [other, none, 'a.b.c', '', 'x'.repeat(9000), '....']) {
      expect(await verifier.verify(token, NOW)).toMatchObject({ ok: false });
    }
    expect(await verifier.verify(undefined, NOW)).toMatchObject({ ok: false, refusal: 'missing' });
  });

  test('property: any string is refused with a message, never a throw, never echoed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.array(fc.base64String(), { maxLength: 4 }).map((p) => p.join('.'))), async (token) => {
        const check = await verifier.verify(token, NOW);
        expect(check.ok).toBe(false);
        if (!check.ok && token.length > 8) expect(check.message).not.toContain(token);
      }),
      { numRuns: 300 },
    );
  });
});

describe('public keys', () => {
  test('RS256 and ES256 PEM files verify their own tokens and refuse the other key', async () => {
    const rsa = await generateKeyPair('RS256');
    const ec = await generateKeyPair('ES256');
    const rsaV = createJwtVerifier({ publicKeyFile: file('rsa.pem', await exportSPKI(rsa.publicKey)) })!;
    const ecV = createJwtVerifier({ publicKeyFile: file('ec.pem', await exportSPKI(ec.publicKey)) })!;
    const claims = { sub: 'u1', exp: nowS + 60 };
    const rsaToken = await sign(rsa.privateKey, 'RS256', claims);
    const ecToken = await sign(ec.privateKey, 'ES256', claims);
    expect(await rsaV.verify(rsaToken, NOW)).toMatchObject({ ok: true, identity: { userId: 'u1' } });
    expect(await ecV.verify(ecToken, NOW)).toMatchObject({ ok: true, identity: { userId: 'u1' } });
    expect(await rsaV.verify(ecToken, NOW)).toMatchObject({ ok: false, refusal: 'invalid' });
    expect(await ecV.verify(rsaToken, NOW)).toMatchObject({ ok: false, refusal: 'invalid' });
  });

  test('algorithm confusion: an HS256 token keyed with the public PEM is refused', async () => {
    const rsa = await generateKeyPair('RS256');
    const pem = await exportSPKI(rsa.publicKey);
    const verifier = createJwtVerifier({ publicKeyFile: file('rsa2.pem', pem) })!;
    const forged = await sign(new TextEncoder().encode(pem), 'HS256', { sub: 'admin', exp: nowS + 60 });
    expect(await verifier.verify(forged, NOW)).toMatchObject({ ok: false, refusal: 'invalid', message: 'token algorithm not accepted' });
  });

  test('a JWKS file: keys picked by kid; an unknown kid is refused', async () => {
    const a = await generateKeyPair('RS256');
    const b = await generateKeyPair('ES256');
    const keys = [
      { ...(await exportJWK(a.publicKey)), kid: 'a', alg: 'RS256' },
      { ...(await exportJWK(b.publicKey)), kid: 'b', alg: 'ES256' },
    ];
    const verifier: JwtVerifier = createJwtVerifier({ jwksFile: file('jwks.json', JSON.stringify({ keys })) })!;
    const claims = { sub: 'u2', exp: nowS + 60 };
    expect(await verifier.verify(await sign(a.privateKey, 'RS256', claims, { kid: 'a' }), NOW)).toMatchObject({ ok: true });
    expect(await verifier.verify(await sign(b.privateKey, 'ES256', claims, { kid: 'b' }), NOW)).toMatchObject({ ok: true });
    const c = await generateKeyPair('RS256');
    expect(await verifier.verify(await sign(c.privateKey, 'RS256', claims, { kid: 'c' }), NOW)).toMatchObject({ ok: false, refusal: 'invalid' });
  });
});

describe('configuration errors name the option', () => {
  test.each([
    [{ secret: 'short' }, '--jwt-secret: must be at least 32 bytes'],
    [{ secret: SECRET, jwksFile: '/x' }, '--jwt-jwks: only one of'],
    [{ publicKeyFile: '/nonexistent/key.pem' }, '--jwt-public-key: cannot read'],
    [{ jwksFile: '/nonexistent/jwks.json' }, '--jwt-jwks: cannot read'],
  ])('%j', (config, message) => {
    expect(() => createJwtVerifier(config)).toThrow(ConfigError);
    expect(() => createJwtVerifier(config)).toThrow(message);
  });

  test('bad key files', async () => {
    const ed = await generateKeyPair('EdDSA');
    const rsa = await generateKeyPair('RS256', { extractable: true });
    expect(() => createJwtVerifier({ publicKeyFile: file('junk.pem', 'not a key') })).toThrow('--jwt-public-key: ');
    expect(() => createJwtVerifier({ publicKeyFile: file('ed.pem', '') })).toThrow('--jwt-public-key');
    const edPem = file('ed2.pem', await exportSPKI(ed.publicKey));
    expect(() => createJwtVerifier({ publicKeyFile: edPem })).toThrow('must be an RSA or EC P-256 key');
    expect(() => createJwtVerifier({ jwksFile: file('bad.json', '{') })).toThrow('--jwt-jwks: ');
    expect(() => createJwtVerifier({ jwksFile: file('empty.json', '{"keys":[]}') })).toThrow('at least one key');
    const priv = { keys: [await exportJWK(rsa.privateKey)] };
    expect(() => createJwtVerifier({ jwksFile: file('priv.json', JSON.stringify(priv)) })).toThrow('public keys only');
    expect(await exportPKCS8(rsa.privateKey)).toContain('PRIVATE KEY'); // the key really was private
  });

  test('no JWT option: no verifier', () => {
    expect(createJwtVerifier({})).toBeUndefined();
  });
});

describe('grants', () => {
  test('absent claims allow everything; empty lists allow nothing; the object form splits subscribe and publish', () => {
    const all = Grants.fromClaims(undefined, undefined) as Grants;
    expect([all.mayJoin('x'), all.maySubscribe('y'), all.mayPublish('z')]).toEqual([true, true, true]);
    const none = Grants.fromClaims([], []) as Grants;
    expect([none.mayJoin('x'), none.maySubscribe('y'), none.mayPublish('z')]).toEqual([false, false, false]);
    const split = Grants.fromClaims(['*'], { subscribe: ['news:*'], publish: ['news:mine'] }) as Grants;
    expect([split.mayJoin('any'), split.maySubscribe('news:eu'), split.mayPublish('news:eu'), split.mayPublish('news:mine')]).toEqual([true, true, false, true]);
    expect(Grants.fromClaims(undefined, 'news')).toContain('"channels"');
    expect(Grants.fromClaims(Array(300).fill('a'), undefined)).toContain('more than 256');
  });

  test('the default room is the first exact room of the claim', () => {
    expect((Grants.fromClaims(['team:*', 'lobby'], undefined) as Grants).defaultRoom('main')).toBe('lobby');
    expect(Grants.all.defaultRoom('main')).toBe('main');
  });
});

describe('token expiry on a live connection', () => {
  test('fires once at exp, not before; cancel stops it', () => {
    const clock = new ManualClock(1000);
    let fired = 0;
    const watch = new TokenExpiry(clock, 61_000, () => fired++);
    clock.advance(59_999);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);
    const other = new TokenExpiry(clock, clock.now() + 5000, () => fired++);
    other.cancel();
    clock.advance(10_000);
    expect(fired).toBe(1);
    watch.cancel();
  });

  test('a token valid for 40 days does not end the connection at once (timers cap at 2^31 ms)', () => {
    const clock = new ManualClock(0);
    let fired = 0;
    const days40 = 40 * 86_400_000;
    new TokenExpiry(clock, days40, () => fired++);
    clock.advance(MAX_TIMER_MS + 1);
    expect(fired).toBe(0);
    clock.advance(days40 - MAX_TIMER_MS - 2);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);
  });
});
