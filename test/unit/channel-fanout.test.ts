import { MemoryBroker } from '../../src/broker/memory-broker.js';
import { ChannelHub } from '../../src/channels/channel-hub.js';
import { Subscription } from '../../src/client/subscription.js';
import { Session, type SessionLink } from '../../src/session/session.js';

/** A session whose link records the channel messages' data, in order. */
function session(i: number): { s: Session; got: unknown[] } {
  const got: unknown[] = [];
  const link: SessionLink = {
    sendText: () => undefined,
    sendStream: (_seq, text) => {
      const f = JSON.parse(text) as { event: string; payload: { data: unknown } };
      if (f.event === 'channel/message') got.push(f.payload.data);
    },
    close: () => undefined,
    terminate: () => undefined,
  };
  const s = new Session(`s${i}`, 'token', `r${i}`, {}, true, { bufferMaxMessages: 1000, bufferMaxBytes: 1 << 20, dedupWindow: 1024 }, 0);
  s.link = link;
  return { s, got };
}

async function setup(n: number) {
  const broker = new MemoryBroker(100, 300);
  const hub = new ChannelHub(broker, 10, { chunk: 100, sliceMs: 1000 });
  const all = Array.from({ length: n }, (_, i) => session(i));
  for (const { s } of all) await hub.subscribe(s, 'big');
  return { broker, hub, all };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a publish to many subscribers is delivered in slices: a timer that falls due meanwhile runs before it finishes', async () => {
  const { broker, all } = await setup(1000);
  await broker.publish('big', 'm1');
  // Delivery starts on the next turn (a burst of publishes goes out together), one slice per turn.
  expect(all.filter((x) => x.got.length > 0).length).toBe(0);
  await turn();
  expect(all.filter((x) => x.got.length > 0).length).toBe(100);
  let atTimer = -1;
  setTimeout(() => (atTimer = all.filter((x) => x.got.length > 0).length), 0);
  const due = Date.now() + 2;
  while (Date.now() < due); // the timer is due while the fan-out is under way
  while (all.some((x) => x.got.length === 0)) await turn();
  expect(atTimer).toBeGreaterThanOrEqual(100);
  expect(atTimer).toBeLessThan(1000);
  expect(all.every((x) => x.got.length === 1)).toBe(true);
});

test('a burst of publishes reaches each subscriber in one corked write, in order', async () => {
  const { broker, all } = await setup(300);
  const writes = all.map(({ s }) => {
    const log: string[] = [];
    const inner = s.link!;
    s.link = {
      ...inner,
      sendStream: (seq, text) => (log.push(String((JSON.parse(text) as { payload: { data: number } }).payload.data)), inner.sendStream(seq, text)),
      cork: () => log.push('cork'),
      uncork: () => log.push('uncork'),
    };
    return log;
  });
  for (let k = 1; k <= 5; k++) await broker.publish('big', k);
  while (all.some((x) => x.got.length < 5)) await turn();
  for (const log of writes) expect(log).toEqual(['cork', '1', '2', '3', '4', '5', 'uncork']);
});

test('publishes that overlap keep their order for every subscriber', async () => {
  const { broker, all } = await setup(500);
  for (let k = 1; k <= 5; k++) await broker.publish('big', k);
  while (all.some((x) => x.got.length < 5)) await turn();
  for (const x of all) expect(x.got).toEqual([1, 2, 3, 4, 5]);
});

test('a subscriber that leaves during a fan-out gets nothing more; one that comes back with recovery gets each message once', async () => {
  const { broker, hub, all } = await setup(500);
  const first = await broker.publish('big', 'm1');
  const leaver = all[499]!;
  const returner = all[498]!;
  await hub.unsubscribe(leaver.s, 'big');
  await hub.unsubscribe(returner.s, 'big');
  await hub.subscribe(returner.s, 'big', { offset: 0, epoch: first.epoch });
  await broker.publish('big', 'm2');
  while (all.slice(0, 498).some((x) => x.got.length < 2)) await turn();
  for (let i = 0; i < 5; i++) await turn();
  expect(leaver.got).toEqual([]);
  expect(returner.got).toEqual(['m1', 'm2']);
});

test('subscribed again while already subscribed (a reloaded page whose session kept the channel): a message on its way is not skipped', async () => {
  const broker = new MemoryBroker(100, 300);
  const hub = new ChannelHub(broker, 10);
  const { s } = session(0);
  await hub.subscribe(s, 'ch');
  await broker.publish('ch', 'm1');
  await turn();
  // The new page's SDK subscription, at the position its previous page saved, fed the session's frames in order.
  const epoch = (await broker.recover('ch')).position.epoch;
  const sub = new Subscription('ch', { requestSubscribe: () => undefined, requestUnsubscribe: () => undefined, forget: () => undefined }, false, { offset: 1, epoch });
  const shown: unknown[] = [];
  const missed: unknown[] = [];
  sub.on('message', (m) => shown.push(m.data));
  sub.on('missed', (e) => missed.push(e));
  s.link = {
    ...s.link!,
    sendStream: (_seq, text) => {
      const f = JSON.parse(text) as { event: string; payload: never };
      if (f.event === 'channel/subscribed') sub.handleSubscribed(f.payload);
      if (f.event === 'channel/message') sub.handleMessage(f.payload);
    },
  };
  sub.start();
  await broker.publish('ch', 'm2'); // published, its delivery to the subscribers not yet made (next turn)
  await hub.subscribe(s, 'ch', { offset: 1, epoch }); // the page's subscribe arrives meanwhile
  for (let i = 0; i < 3; i++) await turn();
  expect({ shown, missed, state: sub.state }).toEqual({ shown: ['m2'], missed: [], state: 'subscribed' });
});
