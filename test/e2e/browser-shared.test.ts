import type { BrowserContext, Page } from 'playwright-core';
import { metric } from '../support/http-api.js';
import { eventually, range, startBrowserStack, view, type BrowserStack } from './browser-support.js';

// The demo page in real Chromium (through TLS nginx): every tab of the browser on one WebSocket
// through the SDK's SharedWorker, per-tab pause, resume for all, and sessions that survive a reload.

let stack: BrowserStack;
let context: BrowserContext | undefined;

beforeAll(async () => {
  // History deep enough that a reload taking seconds on a loaded machine, with messages published all through it,
  // stays recoverable (the default 100 is ~0.5 s of the reload test's publishing; past it the SDK says `missed`).
  stack = await startBrowserStack({ historySize: 10_000 });
}, 60_000);
afterAll(async () => {
  await context?.close();
  await stack?.stop();
});
afterEach(async () => {
  await context?.close();
  context = undefined;
});

async function newPage(query: string): Promise<Page> {
  context ??= await stack.browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(`${stack.origin}/demo/?${query}`);
  return page;
}

async function subscribed(page: Page, channel: string, state = 'subscribed', ms = 15_000): Promise<void> {
  await eventually(async () => {
    const v = await view(page);
    return v.state === 'connected' && v.subStates[channel] === state;
  }, ms, `the page to connect and be ${state} to ${channel}`);
}

/** 1,2,3,5,6 → "1-3,5-6": a list of offsets as runs, short enough to read in a failure. */
function spans(xs: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    out.push(i === j ? `${xs[i]}` : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

async function publish(channel: string, values: number[]): Promise<void> {
  for (const v of values) await stack.gw.publish(channel, { level: 'INFO', text: `line ${v}` });
}

async function receivedAll(pages: Page[], channel: string, n: number): Promise<void> {
  for (const page of pages) await eventually(async () => ((await view(page)).received[channel]?.length ?? 0) >= n, 15_000, `${n} on ${channel}`);
}

/** Open WebSockets the gateway counts itself (`wsgate_connections{transport="ws"}` on /metrics). */
async function wsConnections(): Promise<number> {
  return metric(await (await fetch(stack.gw.url('/metrics'))).text(), 'wsgate_connections', { transport: 'ws' });
}

/** Emulate the page being hidden/shown: Chrome headless keeps pages visible, so override and dispatch. */
function setHidden(page: Page, hidden: boolean): Promise<void> {
  return page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

describe('the demo page in Chromium, shared mode', () => {
  it('puts ten tabs on one WebSocket; with nine closed the last keeps receiving, and a closed tab releases its channels', async () => {
    const ch = 'e2e:ten';
    const pages: Page[] = [];
    for (let i = 0; i < 10; i++) pages.push(await newPage(`channels=${ch}${i === 0 ? ',e2e:first-only' : ''}&name=tab${i}`));
    for (const page of pages) await subscribed(page, ch);
    expect((await view(pages[0]!)).subStates['e2e:first-only']).toBe('subscribed');
    expect(await pages[0]!.evaluate(() => (window as unknown as { demo: { client: { mode: string } } }).demo.client.mode)).toBe('shared');
    expect(await wsConnections()).toBe(1);
    const connected = stack.gw.sessions().filter((s) => s.isConnected);
    expect(connected).toHaveLength(1);
    const session = connected[0]!;
    expect(new Set((await Promise.all(pages.map(view))).map((v) => v.sessionId))).toEqual(new Set([session.id]));
    expect(session.subscriptions.has('e2e:first-only')).toBe(true);

    await publish(ch, range(20));
    await receivedAll(pages, ch, 20);
    for (const page of pages.slice(0, 9)) await page.close();
    // The first tab's own channel goes with it (its Web Lock is released when the page is gone).
    await eventually(() => !session.subscriptions.has('e2e:first-only'), 10_000, 'the closed tab to release its channel');
    await publish(ch, range(10, 21));
    const last = pages[9]!;
    await receivedAll([last], ch, 30);
    await new Promise((r) => setTimeout(r, 2500)); // past the server's heartbeat timeout: the socket must stay
    const v = await view(last);
    expect(v.received[ch]).toEqual(range(30));
    expect(v.state).toBe('connected');
    expect(v.stats.reconnects).toBe(0);
    expect(await wsConnections()).toBe(1);
    const shown = await last.$$eval(`[data-channel="${ch}"] li[data-offset]`, (els) => els.map((e) => Number((e as HTMLElement).dataset.offset)));
    expect(shown).toEqual(range(30));
  });

  it('pauses only the hidden tab; it shows what it missed once visible, while the socket drop resumes every tab', async () => {
    const ch = 'e2e:pause';
    const pages = [await newPage(`channels=${ch}`), await newPage(`channels=${ch}`), await newPage(`channels=${ch}`)];
    for (const page of pages) await subscribed(page, ch);
    await publish(ch, range(10));
    await receivedAll(pages, ch, 10);
    await setHidden(pages[0]!, true);
    await eventually(async () => (await view(pages[0]!)).subStates[ch] === 'paused', 5_000, 'the hidden tab paused');
    expect((await view(pages[1]!)).subStates[ch]).toBe('subscribed');
    await publish(ch, range(10, 11));
    await receivedAll(pages.slice(1), ch, 20);
    expect((await view(pages[0]!)).received[ch]).toEqual(range(10)); // nothing delivered to the hidden tab

    // Cut the one socket: every tab resumes on the same session.
    const { sessionId } = await view(pages[1]!);
    expect(stack.gw.dropConnection(sessionId!)).toBe(true);
    await publish(ch, range(10, 21));
    await setHidden(pages[0]!, false);
    await receivedAll(pages, ch, 30);
    await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive now
    for (const page of pages) {
      const v = await view(page);
      expect(v.received[ch]).toEqual(range(30));
      expect(v.sessionId).toBe(sessionId);
      expect(v.stats.resumes).toBe(1);
    }
    expect(await wsConnections()).toBe(1);
  });
});

describe('which tabs share', () => {
  it('shares a session between clients with the same token, never with a different one', async () => {
    const page = await newPage('channels=e2e:nothing&shared=0');
    const ids = await page.evaluate(async () => {
      type C = { sessionId?: string; on(e: string, f: () => void): void };
      const sdk = (await import('./wsgate-client.js' as string)) as { createClient(o: unknown): C };
      const connected = (c: C): Promise<string> => new Promise((resolve) => (c.sessionId ? resolve(c.sessionId) : c.on('connected', () => resolve(c.sessionId!))));
      const [a1, a2, b] = [sdk.createClient({ token: 'ann' }), sdk.createClient({ token: 'ann' }), sdk.createClient({ token: 'bob' })];
      return Promise.all([connected(a1), connected(a2), connected(b)]);
    });
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });
});

describe('a shared worker that cannot start', () => {
  it('falls back to this tab\'s own connection, asking again what the dead worker never answered', async () => {
    const page = await newPage('channels=e2e:nothing&shared=0');
    const result = await page.evaluate(async () => {
      type C = { mode: string; state: string; subscribe(ch: string, f: (m: { data: unknown }) => void): unknown; publish(ch: string, d: unknown): Promise<unknown> };
      const sdk = (await import('./wsgate-client.js' as string)) as { createClient(o: unknown): C };
      const c = sdk.createClient({ shared: { workerUrl: '/demo/no-such-worker.js' } });
      const got = new Promise<unknown>((resolve) => c.subscribe('e2e:fallback', (m) => resolve(m.data)));
      await c.publish('e2e:fallback', 'made before the worker failed');
      return { mode: c.mode, state: c.state, data: await got };
    });
    expect(result).toEqual({ mode: 'tab', state: 'connected', data: 'made before the worker failed' });
  });
});

describe('the demo page in Chromium, reload (the SDK option is opt-in; the demo turns it on)', () => {
  for (const mode of ['shared', 'per-tab'] as const) {
    it(`keeps the session across a reload with nothing lost (${mode}), and only in sessionStorage`, async () => {
      const ch = `e2e:reload-${mode}`;
      const page = await newPage(`channels=${ch}${mode === 'per-tab' ? '&shared=0' : ''}`);
      await subscribed(page, ch);
      await publish(ch, range(10));
      await receivedAll([page], ch, 10);
      const before = await view(page);
      const storage = await page.evaluate(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage) }));
      expect(storage.session.some((k) => k.startsWith('wsgate:'))).toBe(true);
      expect(storage.local).toEqual([]);

      // Keep publishing through the reload. What the old page processed is noted at its pagehide
      // (after the SDK saved its state there); the new page must show exactly the rest.
      await page.evaluate(() => {
        addEventListener('pagehide', () => {
          const d = (window as unknown as { demo: { received: Record<string, number[]>; events: string[] } }).demo;
          sessionStorage.setItem('e2e-before', JSON.stringify({ shown: Object.values(d.received)[0], events: d.events }));
        });
      });
      let n = 10;
      let publishing = true;
      const publisher = (async () => {
        while (publishing) {
          await publish(ch, [++n]);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await eventually(() => n >= 40, 30_000, 'some messages published before the reload');
      await page.reload();
      await subscribed(page, ch, 'subscribed', 30_000);
      // Go on publishing until the new page has shown one message sent after it subscribed (so the
      // live stream is proven too, not only the recovery), then stop.
      const atSubscribe = n;
      await eventually(async () => ((await view(page)).received[ch] ?? []).some((o) => o > atSubscribe), 30_000, 'a live message on the new page');
      publishing = false;
      await publisher;
      // Everything up to the last one published, then a marker: delivery is in order, so once the
      // marker is shown a late duplicate or replay of an earlier message would already be there.
      await publish(ch, [++n]);
      await eventually(async () => ((await view(page)).received[ch] ?? []).includes(n), 30_000, `message ${n} on the new page`);
      const after = await view(page);
      const old = JSON.parse((await page.evaluate(() => sessionStorage.getItem('e2e-before')))!) as { shown: number[]; events: string[] };
      const oldPage = old.shown;
      const shownAfter = after.received[ch]!;
      expect(after.sessionId).toBe(before.sessionId);
      expect(oldPage.length).toBeGreaterThan(10);
      expect(shownAfter.length).toBeGreaterThan(0);
      // Nothing lost, nothing twice, in order. On failure the pages' own event logs say which way it went.
      const newEvents = await page.evaluate(() => (window as unknown as { demo: { events: string[] } }).demo.events);
      const shown = spans([...oldPage, ...shownAfter]);
      const want = spans(range(n));
      expect({ shown, log: shown === want ? 'ok' : { oldPage: old.events, newPage: newEvents, stats: after.stats } }).toEqual({ shown: want, log: 'ok' });
      expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
    }, 120_000); // generous: on a loaded machine a reload alone can take seconds
  }

  // The shared worker acks the gateway no further than its tabs processed: a tab lagging behind its
  // worker (a loaded machine) saves at pagehide a lastSeq below what the worker received, and a
  // resume from below the acked seq is answered `gap`, which ends the session.
  it('keeps the session across a reload of a tab that lags behind its shared worker', async () => {
    const ch = 'e2e:reload-lagging';
    const page = await newPage(`channels=${ch}`);
    await subscribed(page, ch);
    await publish(ch, range(10));
    await receivedAll([page], ch, 10);
    const before = (await view(page)).sessionId;
    await page.evaluate(() => {
      addEventListener('pagehide', () => {
        const d = (window as unknown as { demo: { received: Record<string, number[]> } }).demo;
        sessionStorage.setItem('e2e-before', JSON.stringify(Object.values(d.received)[0]));
      });
    });
    // Block the tab's main thread past the worker's ack delay (1 s) while messages arrive: the
    // worker receives and acks them, the tab has not processed them when it unloads.
    await page.evaluate(() => void setTimeout(() => {
      const t = Date.now();
      while (Date.now() - t < 1500);
    }, 0));
    await publish(ch, range(60, 11));
    await page.reload();
    await subscribed(page, ch, 'subscribed', 30_000);
    const events = await page.evaluate(() => (window as unknown as { demo: { events: string[] } }).demo.events);
    expect(events.filter((e) => e.includes('resume failed'))).toEqual([]);
    expect((await view(page)).sessionId).toBe(before);
    const oldPage = JSON.parse((await page.evaluate(() => sessionStorage.getItem('e2e-before')))!) as number[];
    await eventually(async () => ((await view(page)).received[ch] ?? []).includes(70), 30_000, 'message 70 on the new page');
    expect([...oldPage, ...(await view(page)).received[ch]!]).toEqual(range(70)); // nothing lost, nothing twice
  }, 60_000);

  it('starts a new session after a reload with ?reload=0, and stores nothing', async () => {
    const ch = 'e2e:no-reload';
    const page = await newPage(`channels=${ch}&reload=0&shared=0`);
    await subscribed(page, ch);
    const before = (await view(page)).sessionId;
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual([]);
    await page.reload();
    await subscribed(page, ch);
    expect((await view(page)).sessionId).not.toBe(before);
  });

  it('starts a subscription made while the tab is hidden paused, and recovers it once visible', async () => {
    const ch = 'e2e:hidden-start';
    context ??= await stack.browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    // Hidden from the first script on, as a tab opened in the background is.
    await page.addInitScript(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    });
    await page.goto(`${stack.origin}/demo/?channels=${ch}&reload=1`);
    await subscribed(page, ch, 'paused');
    await publish(ch, range(5));
    await new Promise((r) => setTimeout(r, 300));
    expect((await view(page)).received[ch]).toEqual([]);
    await setHidden(page, false);
    await subscribed(page, ch);
    await publish(ch, range(5, 6));
    await receivedAll([page], ch, 5);
    expect((await view(page)).received[ch]).toEqual(range(5, 6));
  });
});
