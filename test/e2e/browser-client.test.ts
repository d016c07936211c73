import type { BrowserContext, Page } from 'playwright-core';
import { eventually, killSocket, range, startBrowserStack, view, type BrowserStack } from './browser-support.js';

let stack: BrowserStack;
let context: BrowserContext | undefined;

beforeAll(async () => {
  stack = await startBrowserStack();
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});
afterEach(async () => {
  await context?.close();
  context = undefined;
});

async function openDemo(channel: string, n = 1, query = ''): Promise<Page[]> {
  context ??= await stack.browser.newContext({ ignoreHTTPSErrors: true });
  const pages: Page[] = [];
  for (let i = 0; i < n; i++) {
    const page = await context.newPage();
    await page.goto(`${stack.origin}/demo/?channels=${encodeURIComponent(channel)}&name=tab${i}${query}`);
    pages.push(page);
  }
  for (const page of pages) {
    await eventually(async () => {
      const v = await view(page);
      return v.state === 'connected' && v.subStates[channel] === 'subscribed';
    }, 15_000, 'the page to connect and subscribe');
  }
  return pages;
}

async function publish(channel: string, values: number[]): Promise<void> {
  for (const v of values) await stack.gw.publish(channel, { level: 'INFO', text: `line ${v}` });
}

/** Emulate the page being hidden/shown: Chrome headless keeps pages visible, so override and dispatch. */
function setHidden(page: Page, hidden: boolean): Promise<void> {
  return page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

describe('the SDK in headless Chromium, over wss through nginx', () => {
  it('connects over wss, receives channel messages and resumes after the server kills its socket, losing and duplicating nothing', async () => {
    const [page] = await openDemo('e2e:kill');
    expect(await page!.evaluate(() => location.protocol)).toBe('https:');
    const ch = 'e2e:kill';
    for (let n = 1; n <= 120; n++) {
      await stack.gw.publish(ch, { level: 'INFO', text: `line ${n}` });
      if (n === 40 || n === 80) {
        await eventually(async () => (await view(page!)).state === 'connected', 15_000, 'reconnection');
        const { sessionId } = await view(page!);
        expect(killSocket(stack.gw, sessionId!)).toBe(true);
      }
      if (n % 10 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    await eventually(async () => ((await view(page!)).received[ch]?.length ?? 0) >= 120, 20_000, '120 messages');
    await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive now
    const v = await view(page!);
    expect(v.received[ch]).toEqual(range(120));
    expect(v.stats.resumes).toBe(2);
    // What the user sees: every line once, in order.
    const shown = await page!.$$eval('[data-channel="e2e:kill"] li[data-offset]', (els) => els.map((e) => Number((e as HTMLElement).dataset.offset)));
    expect(shown).toEqual(range(120));
  });

  it('shows every message a hidden tab missed, in order, once it is visible again', async () => {
    const ch = 'e2e:hidden';
    const [page] = await openDemo(ch);
    await publish(ch, range(10));
    await eventually(async () => ((await view(page!)).received[ch]?.length ?? 0) === 10, 10_000, 'the first 10');
    await setHidden(page!, true);
    await eventually(async () => (await view(page!)).subStates[ch] === 'paused', 5_000, 'auto-pause');
    await publish(ch, range(30, 11));
    await new Promise((r) => setTimeout(r, 300));
    expect((await view(page!)).received[ch]).toEqual(range(10)); // nothing delivered while hidden
    await setHidden(page!, false);
    await eventually(async () => ((await view(page!)).received[ch]?.length ?? 0) >= 40, 10_000, 'recovery');
    await publish(ch, [41]);
    await eventually(async () => ((await view(page!)).received[ch]?.length ?? 0) >= 41, 10_000, 'live again');
    expect((await view(page!)).received[ch]).toEqual(range(41));
    const shown = await page!.$$eval(`[data-channel="${ch}"] li[data-offset]`, (els) => els.map((e) => Number((e as HTMLElement).dataset.offset)));
    expect(shown).toEqual(range(41));
  });

  it('keeps ten tabs of one browser connected and live at once, each on its own socket with shared=0', async () => {
    const ch = 'e2e:fan';
    const pages = await openDemo(ch, 10, '&shared=0');
    const views = await Promise.all(pages.map(view));
    const ids = new Set(views.map((v) => v.sessionId));
    expect(ids.size).toBe(10);
    const connected = stack.gw.sessions().filter((s) => ids.has(s.id) && s.isConnected);
    expect(connected).toHaveLength(10);
    await publish(ch, range(20));
    // Stay past the server's heartbeat_timeout (2 × 1 s) so a tab whose heartbeat lapsed would be closed.
    await new Promise((r) => setTimeout(r, 3000));
    await publish(ch, range(5, 21));
    for (const page of pages) {
      await eventually(async () => ((await view(page)).received[ch]?.length ?? 0) >= 25, 10_000, 'every tab to get 25');
    }
    for (const v of await Promise.all(pages.map(view))) {
      expect(v.received[ch]).toEqual(range(25));
      expect(v.state).toBe('connected');
      expect(v.stats.reconnects).toBe(0);
    }
  });
});
