// Where this client stands in the user's event log, so it takes each stored
// event in once and notices when it missed one (Herald's src/ui/inbox/cursor.rs).
//
// Two numbers per stored event: its log position (`seq`, also the SSE `id:`),
// increasing but with holes (other users' events), and its offset `off` in its
// channel `ch` (`all`, `role:admin`, `user:42`), which is consecutive. So a
// position at or below the newest one seen is a replay, and an offset that is
// not the channel's last plus one means something in between never arrived.

export const REPLAYED = "replayed";
export const IN_ORDER = "in-order";
export const AFTER_GAP = "after-gap";

export class Cursor {
  constructor() {
    /** Highest position taken in (where a reconnect resumes); null before any. */
    this.position = null;
    /** Last offset seen per channel. */
    this.offsets = new Map();
  }

  /**
   * Takes in the stored event at `position`, offset `off` of channel `ch`.
   * A channel not seen yet is adopted as it is: what came before it is in the
   * inbox page, which is fetched after the stream is open.
   */
  take(position, ch, off) {
    if (this.position !== null && position <= this.position) return REPLAYED;
    this.position = position;
    const last = this.offsets.get(ch);
    this.offsets.set(ch, off);
    return last !== undefined && off !== last + 1 ? AFTER_GAP : IN_ORDER;
  }
}
