import type { SessionLink } from '../session/session.js';

/**
 * Holds the writes of the sockets that get frames from the bus until the end of the event loop turn: frames of
 * several pub/sub messages read in one go then leave each socket in one system call rather than one each (the
 * in-memory fan-out corks a subscriber's frames the same way, see ChannelHub).
 */
export class TurnCork {
  private held = new Set<SessionLink>();
  private scheduled = false;

  /** Cork `link` (once per turn) before frames are written to it; it is uncorked at the end of the turn. */
  hold(link: SessionLink): void {
    if (!link.cork || this.held.has(link)) return;
    link.cork();
    this.held.add(link);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.release);
    }
  }

  /** Uncork every socket held this turn (also when closing, so nothing stays held). */
  readonly release = (): void => {
    this.scheduled = false;
    const links = this.held;
    this.held = new Set();
    for (const link of links) link.uncork?.();
  };
}
