import { bump } from '../stats.js';
import { BaseClient } from './base-client.js';
import { chatText, parseChatText } from './trackers.js';

/**
 * A v2 (legacy) client as docs/protocol.md §7 describes it: `/ws?password=&username=`, flat frames, `client/heartbeat`
 * each `heartbeat_interval` from its `system/init`. It cannot resume (v2 has none).
 */
export class V2Client extends BaseClient {
  readonly version = 2 as const;
  /** `member/list` frames seen (one per connection is expected). */
  memberLists = 0;

  protected url(): string {
    const q = new URLSearchParams({ password: this.ctx.config.password, username: this.key });
    return `${this.ctx.config.v2Url}?${q.toString()}`;
  }

  protected onOpen(): void {
    // v2 clients say nothing first: the adapter's system/init starts the session.
  }

  protected onFrame(f: Record<string, unknown>): void {
    const s = this.ctx.stats;
    switch (f.event) {
      case 'member/list':
        this.memberLists++;
        return;
      case 'system/init':
        this.startHeartbeat(Number(f.heartbeat_interval ?? 0));
        this.settle();
        return;
      case 'chat/message': {
        const line = parseChatText(f.content);
        if (line) this.onChat(line.sender, line.n, line.sentAt);
        return;
      }
      case 'system/error':
        bump(s.errors, `v2:${String(f.title)}`);
        return;
      default:
        return;
    }
  }

  sendChat(): void {
    if (this.send({ event: 'chat/message', content: chatText(this.key, this.sentChat + 1) })) {
      this.sentChat++;
      this.ctx.stats.messages.sent++;
    }
  }
}
