// The inbox one tab keeps, and what each stream event does to it: pure data,
// no DOM, so it runs (and is tested) under node. It mirrors Herald's own
// src/ui/inbox/state.rs:
// - every stored event goes through the Cursor: a replay changes nothing, a
//   channel gap asks for a refetch (`refetch: true` in the result);
// - the unread count is always the server's (every event carries it), never
//   counted here: it already includes what other tabs and devices did;
// - a notification is announced (`arrived`) once, however often it is
//   replayed or relayed.
//
// The inbox page (GET /api/notifications) is read after the stream is open,
// and events keep arriving while it is in flight: those events, and the
// read/archive changes made meanwhile, are kept and applied again on top of
// the page, so a slow page can never undo them; and while it is in flight the
// stream's count wins over the page's, because the stream's is ordered with
// every change and the page's may have been read before the latest one.

import { AFTER_GAP, Cursor, REPLAYED } from "./cursor.js";
import { STATE } from "./tabs.js";

/** The stream's own event names (model::EventName on the server). */
export const STREAM_EVENTS = ["connected", "notification", "notification.read", "notification.removed", "progress", "resync", "event.names"];

export const CONNECTION_STATES = ["connecting", "open", "reconnecting", "offline", "closed"];

const int = Number.isInteger;

function parse(text) {
  try {
    const data = JSON.parse(text);
    return data && typeof data === "object" ? data : null;
  } catch {
    return null;
  }
}

/**
 * A stored notification entry, whatever its event name: an admin may send
 * `deploy.done` with the same shape as `notification` (and an `id:`).
 */
export function isNotificationEntry(d) {
  return !!d && int(d.id) && int(d.seq) && typeof d.ch === "string" && int(d.off) && typeof d.title === "string" && int(d.unread);
}

export class Inbox {
  constructor() {
    /** @type {"connecting"|"open"|"reconnecting"|"offline"|"closed"} */
    this.connection = "connecting";
    /** The server's count; null until the server said one. */
    this.unread = null;
    /** id → notification. */
    this.items = new Map();
    this.cursor = new Cursor();
    this.progress = null;
    /** `before` for the next (older) page; null when there is none. */
    this.nextBefore = null;
    /** While a page that replaces the list is in flight: what happened meanwhile. */
    this.pending = null;
  }

  /** Newest first. */
  list() {
    return [...this.items.values()].sort((a, b) => b.seq - a.seq);
  }

  /** Where a (re)opened stream resumes; null: nowhere yet (refetch after it opens). */
  get position() {
    return this.cursor.position;
  }

  /**
   * Applies one event, by its SSE name and `data:` text. Returns what the
   * caller does next: `changed` (re-render), `arrived` (a notification seen
   * for the first time, to announce), `refetch` (the page must be read again).
   */
  apply(name, text) {
    const out = { changed: false, arrived: null, refetch: false };
    if (name === "ping") return out;
    if (name === "resync") {
      out.refetch = true;
      return out;
    }
    if (name === STATE) {
      if (CONNECTION_STATES.includes(text) && text !== this.connection) {
        this.connection = text;
        out.changed = true;
      }
      return out;
    }
    const d = parse(text);
    if (name === "connected") {
      this.connection = "open";
      if (d && int(d.unread)) this.count(d.unread);
      // Nothing stored seen yet: nothing to resume from, so what happened
      // before this stream opened comes from a page read now.
      out.refetch = this.cursor.position === null;
      out.changed = true;
    } else if (name === "notification.read") {
      if (!d || !int(d.unread)) return out;
      this.change({ ids: Array.isArray(d.ids) ? d.ids : [], up_to_seq: d.up_to_seq, archived: d.archived === true });
      this.count(d.unread);
      out.changed = true;
    } else if (name === "notification.removed") {
      if (!d || !Array.isArray(d.ids) || !int(d.seq) || typeof d.ch !== "string" || !int(d.off) || !int(d.unread)) return out;
      const step = this.cursor.take(d.seq, d.ch, d.off);
      if (step === REPLAYED) return out;
      out.refetch = step === AFTER_GAP;
      this.change({ ids: d.ids, archived: true });
      this.count(d.unread);
      out.changed = true;
    } else if (name === "progress") {
      if (!d) return out;
      this.progress = d;
      out.changed = true;
    } else if (isNotificationEntry(d)) {
      const step = this.cursor.take(d.seq, d.ch, d.off);
      if (step === REPLAYED) return out;
      out.refetch = step === AFTER_GAP;
      this.count(d.unread);
      out.changed = true;
      if (!this.items.has(d.id)) {
        const { ch, off, unread, ...item } = d;
        item.event = name;
        this.items.set(item.id, item);
        this.pending?.arrived.add(item.id);
        out.arrived = item;
      }
    }
    return out;
  }

  /** A page that replaces the list is being read from now on. */
  beginPage() {
    this.pending = { arrived: new Set(), changes: [], counted: false };
  }

  /** The page came back (`{items, unread, next_before}`). */
  endPage(page) {
    const pending = this.pending;
    this.pending = null;
    const arrived = pending ? [...pending.arrived].map((id) => this.items.get(id)).filter(Boolean) : [];
    this.items = new Map(page.items.map((n) => [n.id, { ...n }]));
    for (const n of arrived) if (!this.items.has(n.id)) this.items.set(n.id, n);
    for (const change of pending ? pending.changes : []) this.change(change, false);
    if (!pending || !pending.counted || this.unread === null) this.unread = page.unread;
    this.nextBefore = page.next_before ?? null;
  }

  /** The page read to replace the list failed: nothing to apply. */
  abandonPage() {
    this.pending = null;
  }

  /** An older page ("load more"): added below, the count left to the stream. */
  appendPage(page) {
    for (const n of page.items) if (!this.items.has(n.id)) this.items.set(n.id, { ...n });
    this.nextBefore = page.next_before ?? null;
  }

  // What the user did here, shown before the server's event confirms it.
  markedRead(id) {
    this.change({ ids: [id] });
  }
  archived(id) {
    this.change({ ids: [id], archived: true });
  }
  markedAllRead() {
    const newest = this.list()[0];
    if (newest) this.change({ ids: [], up_to_seq: newest.seq });
  }

  /**
   * The count an action answered with. Taken only while no stream is open:
   * with one, the stream's `notification.read` carries the same count in
   * order with every other event, while this answer may arrive after a newer
   * notification's count and would undo it.
   */
  answered(unread) {
    if (this.connection !== "open" && int(unread)) {
      this.unread = unread;
      return true;
    }
    return false;
  }

  count(unread) {
    this.unread = unread;
    if (this.pending) this.pending.counted = true;
  }

  /** Marks read (by ids or up to a position), and takes archived ones out. */
  change(change, record = true) {
    const ids = new Set(change.ids || []);
    for (const [id, n] of this.items) {
      if (ids.has(id)) {
        if (change.archived) this.items.delete(id);
        else if (!n.read) this.items.set(id, { ...n, read: true });
      } else if (int(change.up_to_seq) && n.seq <= change.up_to_seq && !n.read) {
        // A new object: a UI that compares by reference sees the change.
        this.items.set(id, { ...n, read: true });
      }
    }
    if (record && this.pending) this.pending.changes.push(change);
  }
}
