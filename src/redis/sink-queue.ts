import type { RedisSessionStore } from './session-store.js';

/** One pending step: a message to sessions, or a change of a session's channel positions. */
type Step =
  | { kind: 'send'; ids: string[]; event: string; json: string | undefined; id: string | undefined }
  | { kind: 'channel'; ids: string[]; json: string; channel: string; offset: number; epoch: string }
  | { kind: 'subscribing'; session: string; channel: string; epoch: string }
  | { kind: 'unsubscribed'; session: string; channel: string };

/**
 * The stream messages local sessions send during one tick, in order, batched: consecutive sends of
 * the same frame to different sessions (a channel message to every local subscriber, presence to a
 * room) become one Lua call. All steps go out on the store's one connection in the order they
 * were made, so Redis numbers them in that order. Channel frames also keep each session's channel
 * position in Redis, which makes their delivery idempotent when a session moves between processes.
 */
export class SinkQueue {
  private steps: Step[] = [];
  private scheduled = false;

  constructor(
    private readonly store: RedisSessionStore,
    /** A step Redis did not take (it is away, most likely): the caller logs it. */
    private readonly failed: (err: unknown, step: Step['kind']) => void,
  ) {}

  push(session: string, event: string, json: string | undefined, id: string | undefined): void {
    const last = this.steps[this.steps.length - 1];
    if (event === 'channel/message' && json !== undefined && id === undefined) {
      if (last?.kind === 'channel' && last.json === json) last.ids.push(session);
      else {
        const m = JSON.parse(json) as { channel: string; offset: number; epoch: string };
        this.steps.push({ kind: 'channel', ids: [session], json, channel: m.channel, offset: m.offset, epoch: m.epoch });
      }
    } else {
      if (event === 'channel/subscribed' && json !== undefined) {
        const m = JSON.parse(json) as { channel: string; epoch: string };
        this.steps.push({ kind: 'subscribing', session, channel: m.channel, epoch: m.epoch });
      }
      if (last?.kind === 'send' && last.event === event && last.json === json && last.id === id && id === undefined) last.ids.push(session);
      else this.steps.push({ kind: 'send', ids: [session], event, json, id });
      if (event === 'channel/unsubscribed' && json !== undefined) {
        this.steps.push({ kind: 'unsubscribed', session, channel: (JSON.parse(json) as { channel: string }).channel });
      }
    }
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Issue every pending step now (before a direct store call, so Redis sees them first). */
  flush(): void {
    this.scheduled = false;
    const steps = this.steps;
    if (steps.length === 0) return;
    this.steps = [];
    for (const step of steps) this.run(step).catch((err: unknown) => this.failed(err, step.kind));
  }

  private run(step: Step): Promise<unknown> {
    switch (step.kind) {
      case 'send':
        return this.store.deliverJson(step.ids, step.event, step.json, step.id);
      case 'channel':
        return this.store.channelDeliverJson(step.ids, step, step.json);
      case 'subscribing':
        return this.store.subscribing(step.session, step.channel, step.epoch);
      case 'unsubscribed':
        return this.store.unsubscribed(step.session, step.channel);
    }
  }
}
