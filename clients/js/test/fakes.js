// Stand-ins for the browser: EventSource, timers, fetch, Web Locks.

export class FakeEventSource {
  static all = [];
  constructor(url) {
    this.url = url;
    this.listeners = new Map();
    this.closed = false;
    this.onerror = null;
    FakeEventSource.all.push(this);
  }
  addEventListener(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, []);
    this.listeners.get(name).push(fn);
  }
  close() {
    this.closed = true;
  }
  /** The server sends `event: name` with `data:` (unheard unless listened to by name, as in a browser). */
  send(name, data) {
    for (const fn of this.listeners.get(name) || []) fn({ data });
  }
  fail() {
    this.onerror?.({});
  }
  static last() {
    return FakeEventSource.all.at(-1);
  }
}

export class FakeTimers {
  constructor() {
    this.queue = [];
    this.next = 1;
  }
  setTimeout = (fn, ms) => {
    const id = this.next++;
    this.queue.push({ id, fn, ms });
    return id;
  };
  clearTimeout = (id) => {
    this.queue = this.queue.filter((t) => t.id !== id);
  };
  /** Runs the one pending timer; returns its delay. */
  fire() {
    const t = this.queue.shift();
    if (!t) throw new Error("no timer pending");
    t.fn();
    return t.ms;
  }
}

/** Lets pending promise callbacks run. */
export const settle = () => new Promise((r) => setImmediate(r));

/** A LockManager with one queue per name, as the browser's (exclusive locks). */
export class FakeLocks {
  constructor() {
    this.held = new Map();
    this.waiting = new Map();
  }
  request(name, options, callback) {
    return new Promise((resolve, reject) => {
      const entry = { callback, resolve, reject };
      options?.signal?.addEventListener("abort", () => {
        const q = this.waiting.get(name) || [];
        if (q.includes(entry)) {
          q.splice(q.indexOf(entry), 1);
          reject(new Error("AbortError"));
        }
      });
      if (this.held.has(name)) {
        if (!this.waiting.has(name)) this.waiting.set(name, []);
        this.waiting.get(name).push(entry);
      } else this.grant(name, entry);
    });
  }
  grant(name, entry) {
    this.held.set(name, entry);
    Promise.resolve(entry.callback({ name })).then((v) => {
      this.held.delete(name);
      entry.resolve(v);
      const next = this.waiting.get(name)?.shift();
      if (next) this.grant(name, next);
    });
  }
}

/** fetch answering from a table of `METHOD path` → (request) => [status, body]. */
export function fakeFetch(routes, log = []) {
  return async (url, init) => {
    const u = new URL(url);
    const key = `${init.method} ${u.pathname}`;
    log.push({ key, url: u, auth: init.headers.Authorization, credentials: init.credentials });
    const route = routes[key];
    const [status, body] = route ? await route(u, init) : [404, { success: false, error: "not found" }];
    return {
      status,
      ok: status >= 200 && status < 300,
      json: async () => body,
    };
  };
}
