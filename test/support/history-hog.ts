import type { TestClient } from './ws-client.js';

/** `hog` publishes `n` messages of `size` bytes, each to a new channel `hog.I`; resolves once the last is acked. */
export async function hogPublish(hog: TestClient, n: number, size: number, ms = 10_000): Promise<void> {
  const big = 'x'.repeat(size);
  for (let i = 0; i < n; i++) hog.send('channel/publish', { channel: `hog.${i}`, data: big }, `p${i}`);
  await hog.next((f) => f.event === 'system/ack' && (f.payload as { id?: string }).id === `p${n - 1}`, ms);
}

/**
 * What a client recovering `channel` from its very start is told: the channel's position (read by a plain subscribe
 * on `reader`), then `late`'s `channel/subscribed` for a subscribe since offset 0 of that epoch, and the first message
 * replayed when it recovered.
 */
export async function recoverFromStart(reader: TestClient, late: TestClient, channel: string): Promise<{ position: { offset: number; epoch: string }; answer: Record<string, unknown>; first?: unknown }> {
  const mine = (event: string) => (f: { event: string; payload?: unknown }) => f.event === event && (f.payload as { channel?: string }).channel === channel;
  reader.send('channel/subscribe', { channel });
  const position = (await reader.next(mine('channel/subscribed'))).payload as { offset: number; epoch: string };
  late.send('channel/subscribe', { channel, since: { offset: 0, epoch: position.epoch } });
  const answer = (await late.next(mine('channel/subscribed'))).payload as Record<string, unknown>;
  if (answer.recovered !== true || position.offset === 0) return { position, answer };
  return { position, answer, first: ((await late.next(mine('channel/message'))).payload as { data: unknown }).data };
}

/** The hog's connection still works: one more publish is acked. */
export async function stillPublishing(hog: TestClient): Promise<void> {
  hog.send('channel/publish', { channel: 'hog.more', data: 'still here' }, 'last');
  await hog.next((f) => f.event === 'system/ack' && (f.payload as { id?: string }).id === 'last');
}
