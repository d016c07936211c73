import type { RedisSessionStore } from './session-store.js';

/** One pending step: a message to sessions, or a change of a session's channel positions. */
type ChannelStep = { kind: 'channel'; ids: string[]; json: string; channel: string; offset: number; epoch: string };
type Step =
  | { kind: 'send'; ids: string[]; event: string; json: string | undefined; id: string | undefined }
  | ChannelStep
  | { kind: 'subscribing'; session: string; channel: string; epoch: string }
  | { kind: 'unsubscribed'; session: string; channel: string };

/** Deliveries at most in one script of several channel messages (a script holds Redis: ~5 µs a delivery). */
const MAX_BATCH = 2048;

/**
 * The stream messages local sessions send during one tick, in order per session, batched: sends of the same frame
 * to different sessions (a channel message to every local subscriber, presence to a room) become one Lua call, also
 * when they were interleaved — a burst of publishes is handed out subscriber by subscriber (ChannelHub groups them),
 * so without this each (subscriber, message) would be a call of its own. A send joins an earlier step with the same
 * frame only when its session has no later step, so each session's messages keep their order; sessions' streams are
 * independent, so the order between sessions does not matter. All steps go out on the store's one connection in
 * order. Channel frames also keep each session's channel position in Redis, which makes their delivery idempotent
 * when a session moves between processes.
 */
export class SinkQueue {
  private steps: Step[] = [];
  /** Channel message JSON → index of the latest step carrying it. */
  private readonly channelSteps = new Map<string, number>();
  /** Event → payload JSON ('' none) → index of the latest step carrying it (sends without a client message id). */
  private readonly sendSteps = new Map<string, Map<string, number>>();
  /** Session → index of its latest step: a send may join an earlier step only if the session has nothing after it. */
  private readonly lastOf = new Map<string, number>();
  private scheduled = false;

  constructor(
    private readonly store: RedisSessionStore,
    /** A step Redis did not take (it is away, most likely): the caller logs it. */
    private readonly failed: (err: unknown, step: Step['kind']) => void,
  ) {}

  push(session: string, event: string, json: string | undefined, id: string | undefined): void {
    if (event === 'channel/message' && json !== undefined && id === undefined) {
      const at = this.channelSteps.get(json);
      if (!this.join(at, session)) {
        const m = JSON.parse(json) as { channel: string; offset: number; epoch: string };
        this.channelSteps.set(json, this.add(session, { kind: 'channel', ids: [session], json, channel: m.channel, offset: m.offset, epoch: m.epoch }));
      }
    } else {
      if (event === 'channel/subscribed' && json !== undefined) {
        const m = JSON.parse(json) as { channel: string; epoch: string };
        this.add(session, { kind: 'subscribing', session, channel: m.channel, epoch: m.epoch });
      }
      if (id !== undefined) this.add(session, { kind: 'send', ids: [session], event, json, id });
      else {
        let byJson = this.sendSteps.get(event);
        if (!byJson) this.sendSteps.set(event, (byJson = new Map()));
        const key = json ?? '';
        if (!this.join(byJson.get(key), session)) byJson.set(key, this.add(session, { kind: 'send', ids: [session], event, json, id }));
      }
      if (event === 'channel/unsubscribed' && json !== undefined) {
        this.add(session, { kind: 'unsubscribed', session, channel: (JSON.parse(json) as { channel: string }).channel });
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
    this.channelSteps.clear();
    this.sendSteps.clear();
    this.lastOf.clear();
    for (let i = 0; i < steps.length; ) {
      const step = steps[i]!;
      if (step.kind !== 'channel') {
        this.run(step).catch((err: unknown) => this.failed(err, step.kind));
        i++;
        continue;
      }
      // Consecutive channel messages go in one script (up to MAX_BATCH deliveries, so Redis is not held long):
      // a burst's frames then reach this process together and each socket is written once for all of them.
      const batch = [step];
      let n = step.ids.length;
      for (i++; i < steps.length && steps[i]!.kind === 'channel' && n + (steps[i] as ChannelStep).ids.length <= MAX_BATCH; i++) {
        batch.push(steps[i] as ChannelStep);
        n += (steps[i] as ChannelStep).ids.length;
      }
      this.store.channelDeliverMany(batch).catch((err: unknown) => this.failed(err, 'channel'));
    }
  }

  /** Add the session to the step at `at` if it has no later step; false when it cannot. */
  private join(at: number | undefined, session: string): boolean {
    if (at === undefined || (this.lastOf.get(session) ?? -1) > at) return false;
    (this.steps[at] as { ids: string[] }).ids.push(session);
    this.lastOf.set(session, at);
    return true;
  }

  /** Append a step of the session's; returns its index. */
  private add(session: string, step: Step): number {
    const at = this.steps.push(step) - 1;
    this.lastOf.set(session, at);
    return at;
  }

  private run(step: Exclude<Step, ChannelStep>): Promise<unknown> {
    switch (step.kind) {
      case 'send':
        return this.store.deliverJson(step.ids, step.event, step.json, step.id);
      case 'subscribing':
        return this.store.subscribing(step.session, step.channel, step.epoch);
      case 'unsubscribed':
        return this.store.unsubscribed(step.session, step.channel);
    }
  }
}
