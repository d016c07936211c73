/**
 * Shared set-up of the browser e2e tests: a self-signed certificate (openssl), the gateway with the
 * demo page, nginx terminating TLS in front of it, and headless Debian Chromium via playwright-core.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { mountClientBundle } from '../../src/demo/client-bundle.js';
import { mountDemo } from '../../src/demo/mount-demo.js';
import type { Gateway, GatewayInit } from '../../src/index.js';
import { startGateway } from '../support/gateway.js';
import { startNginx, type NginxHandle } from '../support/nginx.js';

/** The launch flags of the project's Chromium runs (never a downloaded browser). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Everything one e2e file starts; `stop()` ends it all, in reverse order, even after a partial start. */
export interface BrowserStack {
  gw: Gateway;
  nginx: NginxHandle;
  browser: Browser;
  /** `https://127.0.0.1:PORT` (nginx). */
  origin: string;
  stop(): Promise<void>;
}

/**
 * The base64 SHA-256 of a certificate's public key, for Chromium's `--ignore-certificate-errors-spki-list`:
 * the browser trusts exactly this test certificate. Needed beyond the context's `ignoreHTTPSErrors`, which
 * does not reach a SharedWorker's WebSocket.
 */
export function spkiHash(certPath: string): string {
  const pub = execFileSync('openssl', ['x509', '-in', certPath, '-pubkey', '-noout']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  return createHash('sha256').update(der).digest('base64');
}

/** A throwaway self-signed certificate for 127.0.0.1. */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}

/** Build the browser bundle the demo page serves. */
export function buildClientBundle(): void {
  execFileSync(process.execPath, [join(process.cwd(), 'scripts', 'build-client.mjs')], { stdio: 'ignore' });
}

/** Start gateway + demo page + TLS nginx + Chromium. */
export async function startBrowserStack(init: GatewayInit = {}, demo: Parameters<typeof mountDemo>[1] = { publisher: false }): Promise<BrowserStack> {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-e2e-'));
  const stops: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    buildClientBundle();
    const tls = selfSignedCert(dir);
    const gw = await startGateway({ heartbeatInterval: 1, pingInterval: 1, pingTimeout: 1, ...init });
    stops.push(() => gw.close());
    mountDemo(gw, demo);
    mountClientBundle(gw); // /wsgate-client.js, as the wsgate command serves it
    const nginx = await startNginx({ upstreamPort: gw.port, tls });
    stops.push(() => nginx.stop());
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${spkiHash(tls.cert)}`] });
    stops.push(() => browser.close());
    return { gw, nginx, browser, origin: nginx.httpUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Cut the TCP socket of a session's live connection at the gateway: no close frame, like a network failure. */
export function killSocket(gw: Gateway, sessionId: string): boolean {
  return gw.dropConnection(sessionId);
}

/** What the demo page exposes on `window.demo`, as plain data. */
export interface PageView {
  state: string;
  sessionId: string | undefined;
  received: Record<string, number[]>;
  subStates: Record<string, string>;
  stats: Record<string, number>;
}

/** Read the demo page's client state. */
export function view(page: Page): Promise<PageView> {
  return page.evaluate(() => {
    const d = (window as unknown as { demo: { client: { state: string; sessionId?: string; stats: Record<string, number> }; received: Record<string, number[]>; subscriptions: Record<string, { state: string }> } }).demo;
    const subStates: Record<string, string> = {};
    for (const [k, s] of Object.entries(d.subscriptions)) subStates[k] = s.state;
    return { state: d.client.state, sessionId: d.client.sessionId, received: d.received, subStates, stats: { ...d.client.stats } };
  });
}

/** Poll `fn` until it returns true (or fail after `ms`). */
export async function eventually(fn: () => Promise<boolean> | boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** 1..n */
export function range(n: number, from = 1): number[] {
  return Array.from({ length: n }, (_, i) => i + from);
}
