// The headless client: Herald's inbox for one user, live, in any page.
//
//   const herald = new HeraldClient({ baseUrl, getToken });
//   herald.on("change", (s) => render(s.unread, s.items, s.connection));
//   await herald.connect();
//
// One stream per browser: every tab of the same page (same origin, same Herald,
// same user) joins a Relay; the tab holding the Web Lock opens the stream and
// passes each event and its state on; the others apply what it passes on, with
// their own cursor, and one of them takes over, resuming after the last
// position it saw, when the leader goes (Herald's src/ui/live/stream.rs).

import { Api } from "./api.js";
import { backoffDelay } from "./backoff.js";
import { Inbox, STREAM_EVENTS } from "./inbox.js";
import { Relay } from "./relay.js";
import { Stream } from "./stream.js";
import { HELLO, STATE, decode, encode } from "./tabs.js";

const PAGE_SIZE = 20;
/** The server's rule for event names (model::events::EventName). */
const EVENT_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
/** The server lists at most 128 known names; room for those announced one by one past it. */
const MAX_NAMES = 512;

export class HeraldClient {
  /**
   * @param {object} o
   * @param {string} o.baseUrl  Herald's origin, e.g. "https://herald.example.com"
   * @param {() => Promise<string | {token: string, expires_at?: string}>} o.getToken
   * @param {string[]} [o.events]  custom event names to listen to from the start (`deploy.done`);
   *   the stream announces the others (`learnNames`); they are treated as notifications
   * @param {number} [o.pageSize]
   */
  constructor(o) {
    if (!o || !o.baseUrl || typeof o.getToken !== "function") {
      throw new TypeError("HeraldClient needs {baseUrl, getToken}");
    }
    this.o = o;
    this.api = new Api({ baseUrl: o.baseUrl, getToken: o.getToken, fetch: o.fetch });
    this.inbox = new Inbox();
    this.names = [...new Set([...STREAM_EVENTS, ...(o.events || [])])];
    this.listeners = new Map();
    this.user = null;
    this.relay = null;
    this.stream = null;
    this.fetching = null;
    this.again = false;
    this.started = false;
    this.snapshotCache = null;
    this.window = "window" in o ? o.window : globalThis.window;
    this.onOffline = () => this.stream?.offline();
    this.onOnline = () => this.stream?.onlineAgain();
  }

  /** `change` (snapshot), `notification` (each new one, once), `event` ({name, data}), `progress`, `error`. */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type)?.delete(fn);
  }

  emit(type, value) {
    for (const fn of this.listeners.get(type) || []) {
      try {
        fn(value);
      } catch (err) {
        // A listener's bug must not stop the stream.
        if (type !== "error") this.emit("error", err);
      }
    }
  }

  changed() {
    this.snapshotCache = null;
    this.emit("change", this.snapshot);
  }

  /** What to show: `{connection, unread, items, hasMore, progress, user}`. */
  get snapshot() {
    const i = this.inbox;
    this.snapshotCache ??= Object.freeze({
      connection: i.connection,
      unread: i.unread,
      items: i.list(),
      hasMore: i.nextBefore !== null,
      progress: i.progress,
      user: this.user,
    });
    return this.snapshotCache;
  }

  /** Who the token is for, then the tabs, the stream (if this tab leads) and the first page. */
  async connect() {
    if (this.started) return;
    this.started = true;
    for (let attempt = 1; this.started && !this.user; attempt++) {
      try {
        this.user = await this.api.me();
      } catch (err) {
        this.emit("error", err);
        await new Promise((r) => setTimeout(r, backoffDelay(attempt)));
      }
    }
    if (!this.started) return;
    const scope = `${this.api.baseUrl}|${this.user.id}`;
    this.relay = new Relay(`herald:${scope}`, (text) => this.fromTab(text), this.o.relay);
    this.relay.post(encode(HELLO));
    this.relay.requestLead(`herald-stream:${scope}`, () => this.lead());
    this.refetch();
  }

  /** Closes the stream (handing it to another tab) and stops. */
  disconnect() {
    this.started = false;
    this.stream?.stop();
    this.stream = null;
    this.relay?.close();
    this.relay = null;
    this.window?.removeEventListener?.("offline", this.onOffline);
    this.window?.removeEventListener?.("online", this.onOnline);
    this.inbox.connection = "closed";
    this.changed();
  }

  /**
   * Custom event names the server announces (`connected.events`, then
   * `event.names` just before a new name's first notification): listened to
   * from now on, on this stream and every reopened one. Bounded, in case a
   * server announces names without end.
   */
  learnNames(name, data) {
    if (name !== "connected" && name !== "event.names") return;
    let d;
    try {
      d = JSON.parse(data);
    } catch {
      return;
    }
    const names = name === "connected" ? d?.events : d?.names;
    if (!Array.isArray(names)) return;
    for (const n of names) {
      if (typeof n !== "string" || !EVENT_NAME.test(n) || this.names.includes(n)) continue;
      if (this.names.length >= MAX_NAMES) return;
      this.names.push(n);
      this.stream?.listen(n);
    }
  }

  /** This tab now holds the stream for the whole browser. */
  lead() {
    if (!this.started) return;
    this.stream = new Stream({
      url: (position) => this.api.streamUrl(position),
      position: () => this.inbox.position,
      names: () => this.names,
      onEvent: (name, data) => {
        this.take(name, data);
        this.relay?.share(encode(name, data));
      },
      onState: (state) => this.setState(state),
      onError: (err) => this.emit("error", err),
      EventSource: this.o.EventSource,
      online: this.o.online,
      random: this.o.random,
      setTimeout: this.o.setTimeout,
      clearTimeout: this.o.clearTimeout,
    });
    this.window?.addEventListener?.("offline", this.onOffline);
    this.window?.addEventListener?.("online", this.onOnline);
    this.stream.start();
  }

  setState(state) {
    this.take(STATE, state);
    this.relay?.share(encode(STATE, state));
  }

  /** Another tab spoke: the leader answers a newcomer; a follower applies what the leader passes on. */
  fromTab(text) {
    const m = decode(text);
    if (!m) return;
    if (m.event === HELLO) {
      if (this.relay?.leading) this.relay.post(encode(STATE, this.inbox.connection));
    } else if (!this.relay?.leading) {
      this.take(m.event, m.data);
    }
  }

  /** Applies one event, from this tab's stream or passed on by the leader. */
  take(name, data) {
    this.learnNames(name, data);
    const r = this.inbox.apply(name, data);
    if (name !== STATE) this.emit("event", { name, data });
    if (r.arrived) this.emit("notification", r.arrived);
    if (name === "progress" && r.changed) this.emit("progress", this.inbox.progress);
    if (r.changed) this.changed();
    if (r.refetch) this.refetch();
  }

  /** Reads the first page again (after a gap, a `resync`, or a stream opened with nothing to resume from). */
  refetch() {
    if (this.fetching) {
      this.again = true;
      return this.fetching;
    }
    this.inbox.beginPage();
    this.fetching = (async () => {
      try {
        const page = await this.api.page(null, this.o.pageSize || PAGE_SIZE);
        this.inbox.endPage(page);
        this.changed();
      } catch (err) {
        this.inbox.abandonPage();
        this.emit("error", err);
      } finally {
        this.fetching = null;
        if (this.again && this.started) {
          this.again = false;
          this.refetch();
        }
      }
    })();
    return this.fetching;
  }

  /** The next older page, below the list. */
  async loadMore() {
    if (this.inbox.nextBefore === null) return;
    const page = await this.api.page(this.inbox.nextBefore, this.o.pageSize || PAGE_SIZE);
    this.inbox.appendPage(page);
    this.changed();
  }

  async markRead(id) {
    this.inbox.markedRead(id);
    this.changed();
    await this.settle(() => this.api.markRead(id));
  }

  async markAllRead() {
    this.inbox.markedAllRead();
    this.changed();
    await this.settle(() => this.api.markAllRead());
  }

  async archive(id) {
    this.inbox.archived(id);
    this.changed();
    await this.settle(() => this.api.archive(id));
  }

  /**
   * Runs an action. Its answer's count is used only without an open stream
   * (Inbox.answered says why); without a stream and without a count in the
   * answer (mark read: 204), or when it failed, the page is read again.
   */
  async settle(action) {
    try {
      const answer = await action();
      if (!this.inbox.answered(answer?.unread) && this.inbox.connection !== "open") this.refetch();
      else this.changed();
    } catch (err) {
      this.refetch();
      throw err;
    }
  }
}
