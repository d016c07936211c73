import type { StreamPosition } from '../protocol/events.js';
import type { Subscription } from './subscription.js';
import type { ResumeState } from './types.js';

/** What survives a reload: the session to resume and where each channel was. */
export interface ReloadState {
  resume: ResumeState;
  positions: Record<string, StreamPosition>;
}

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The tab's `sessionStorage` (per tab, gone with it), or undefined (Node, or storage blocked). */
function sessionStore(): StorageLike | undefined {
  try {
    return (globalThis as { sessionStorage?: StorageLike }).sessionStorage;
  } catch {
    return undefined; // a sandboxed frame throws on access
  }
}

function isPosition(v: unknown): v is StreamPosition {
  const p = v as StreamPosition;
  return typeof p === 'object' && p !== null && Number.isSafeInteger(p.offset) && typeof p.epoch === 'string';
}

/** The state an earlier page of this tab saved under `key`, if any and well-formed. */
export function loadReloadState(key: string): ReloadState | undefined {
  let raw: string | null | undefined;
  try {
    raw = sessionStore()?.getItem(key);
  } catch {
    return undefined;
  }
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as ReloadState;
    const r = v.resume;
    if (typeof r?.sessionId !== 'string' || typeof r.resumeToken !== 'string' || !Number.isSafeInteger(r.lastSeq)) return undefined;
    const positions: Record<string, StreamPosition> = {};
    for (const [ch, p] of Object.entries(v.positions ?? {})) if (isPosition(p)) positions[ch] = p;
    return { resume: r, positions };
  } catch {
    return undefined; // someone else's value under our key: start fresh
  }
}

/** What the store reads from a client when it saves. */
export interface ReloadSource {
  readonly resumeState: ResumeState | undefined;
  subscriptions(): Subscription[];
  on(event: 'connected', fn: () => void): () => void;
  /** Ack nothing past the saved state while the page goes away (`false`: it came back). */
  holdAcks?(hold: boolean): void;
}

/**
 * Keep `client`'s session and channel positions in `sessionStorage` under `key` — never
 * `localStorage`: a resume token must not outlive the tab or reach another one. Saved when a
 * session starts or resumes, and on `pagehide` (the last moment a reload gives us). From pagehide
 * on, the client acks nothing past what was saved: frames that still arrive while the page unloads
 * are replayed to the next page instead of acked away (which would make its resume a `gap`), and a reconnect
 * then saves nothing. A page restored from the back/forward cache (`pageshow` with `persisted`) acks and saves
 * normally again.
 */
export function keepForReload(client: ReloadSource, key: string): () => void {
  const store = sessionStore();
  if (!store) return () => undefined;
  const save = (): void => {
    const resume = client.resumeState;
    if (!resume) return;
    const positions: Record<string, StreamPosition> = {};
    for (const sub of client.subscriptions()) {
      const p = sub.position;
      if (p && sub.state !== 'failed' && sub.state !== 'unsubscribed') positions[sub.channel] = p;
    }
    try {
      store.setItem(key, JSON.stringify({ resume, positions } satisfies ReloadState));
    } catch {
      /* quota or blocked storage: the next page starts a fresh session */
    }
  };
  // From pagehide on, what was saved then is what the next page resumes from: a reconnect of the page going away
  // (it can live on for a moment while the next one loads) must not save a seq and positions past it, whose
  // messages this page processed but nobody saw and the next page would then skip.
  let leaving = false;
  const hide = (): void => {
    client.holdAcks?.(true);
    save();
    leaving = true;
  };
  const show = (ev: { persisted?: boolean }): void => {
    if (!ev.persisted) return;
    leaving = false;
    client.holdAcks?.(false);
  };
  const off = client.on('connected', () => {
    if (!leaving) save();
  });
  const win = globalThis as { addEventListener?(t: string, f: (ev: { persisted?: boolean }) => void): void; removeEventListener?(t: string, f: (ev: { persisted?: boolean }) => void): void };
  win.addEventListener?.('pagehide', hide);
  win.addEventListener?.('pageshow', show);
  return () => {
    off();
    win.removeEventListener?.('pagehide', hide);
    win.removeEventListener?.('pageshow', show);
  };
}
