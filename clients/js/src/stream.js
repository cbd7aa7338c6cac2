// One EventSource to Herald's stream, reopened by us rather than by the
// browser: EventSource's own retry would reuse the URL, whose ticket is
// single-use, so every (re)open asks for a new ticket first. On an error the
// source is closed and reopened after a backoff with jitter, resuming after
// the last position the inbox took in. Nothing here touches the DOM beyond
// what is passed in, so it runs under node with a fake EventSource.

import { backoffDelay } from "./backoff.js";

export class Stream {
  /**
   * @param {object} o
   * @param {(position: number|null) => Promise<string>} o.url  a fresh URL (new ticket) for each open
   * @param {() => number|null} o.position  where to resume
   * @param {() => string[]} o.names  the event names to listen to
   * @param {(name: string, data: string) => void} o.onEvent
   * @param {(state: string) => void} o.onState  "connecting" | "reconnecting" | "offline" (the inbox sets "open" on `connected`)
   * @param {(err: unknown) => void} [o.onError]
   * @param {typeof EventSource} [o.EventSource]
   * @param {() => boolean} [o.online]
   * @param {() => number} [o.random]
   * @param {typeof setTimeout} [o.setTimeout]
   * @param {typeof clearTimeout} [o.clearTimeout]
   */
  constructor(o) {
    this.o = o;
    this.ES = o.EventSource || globalThis.EventSource;
    this.online = o.online || (() => globalThis.navigator?.onLine !== false);
    this.random = o.random || Math.random;
    this.setTimeout = o.setTimeout || ((f, ms) => globalThis.setTimeout(f, ms));
    this.clearTimeout = o.clearTimeout || ((t) => globalThis.clearTimeout(t));
    this.source = null;
    /** The names the open source has a listener for. */
    this.heard = new Set();
    this.attempt = 0;
    this.timer = null;
    /** Bumped by every open and close: a late answer for an older one is dropped. */
    this.generation = 0;
    this.running = false;
  }

  start() {
    if (this.running) return;
    this.running = true;
    if (this.online()) {
      this.o.onState("connecting");
      this.open();
    } else {
      this.o.onState("offline");
    }
  }

  stop() {
    this.running = false;
    this.close();
    this.cancelRetry();
  }

  /** The browser went offline: stop trying until it is back. */
  offline() {
    if (!this.running) return;
    this.close();
    this.cancelRetry();
    this.o.onState("offline");
  }

  /** Back online: reconnect now, with a fresh backoff. */
  onlineAgain() {
    if (!this.running || this.source || this.opening) return;
    this.cancelRetry();
    this.attempt = 0;
    this.o.onState("reconnecting");
    this.open();
  }

  /** Closes the open source (if any) and reopens it after a backoff, as after an error. */
  drop() {
    if (!this.running) return;
    this.close();
    this.retry();
  }

  async open() {
    this.close();
    const generation = ++this.generation;
    this.opening = true;
    let url;
    try {
      url = await this.o.url(this.o.position());
    } catch (err) {
      if (generation !== this.generation) return;
      this.opening = false;
      this.o.onError?.(err);
      this.retry();
      return;
    }
    if (generation !== this.generation || !this.running) return;
    this.opening = false;
    const source = new this.ES(url);
    this.source = source;
    this.heard = new Set();
    for (const name of this.o.names()) this.listen(name);
    source.onerror = () => {
      if (this.source !== source) return;
      this.close();
      this.retry();
    };
  }

  /**
   * Listens to `name` on the open source too (EventSource has no wildcard:
   * a name nobody listens to is never dispatched). Called while an event is
   * being handled, the listener is in place before the next one is
   * dispatched, so a notification right after `event.names` is heard.
   */
  listen(name) {
    const source = this.source;
    if (!source || this.heard.has(name)) return;
    this.heard.add(name);
    source.addEventListener(name, (event) => {
      if (this.source !== source) return;
      if (name === "connected") this.attempt = 0;
      this.o.onEvent(name, event.data);
    });
  }

  close() {
    this.generation++;
    this.opening = false;
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  }

  retry() {
    if (!this.running) return;
    this.cancelRetry();
    if (!this.online()) {
      this.o.onState("offline");
      return;
    }
    this.o.onState("reconnecting");
    this.attempt += 1;
    const delay = backoffDelay(this.attempt, this.random);
    this.timer = this.setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
  }

  cancelRetry() {
    if (this.timer !== null) {
      this.clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
