// Herald's HTTP API as a user token sees it. The token comes from the host
// page (`getToken`, which asks the host's own backend, which asks Herald with
// its service key): a string, kept until Herald refuses it (401), or
// `{token, expires_at}`, kept until shortly before it expires. A 401 asks for
// a fresh token once and tries again. No cookie is ever sent (credentials:
// "omit"): the host page's origin gets CORS from Herald without credentials.

const EARLY_MS = 30000;

export class HeraldError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "HeraldError";
    this.status = status;
  }
}

export class Api {
  /**
   * @param {{baseUrl: string, getToken: () => Promise<string | {token: string, expires_at?: string}>, fetch?: typeof fetch, now?: () => number}} options
   */
  constructor({ baseUrl, getToken, fetch: f, now }) {
    this.baseUrl = String(baseUrl || "").replace(/\/+$/, "");
    this.getToken = getToken;
    this.fetch = f || ((...args) => globalThis.fetch(...args));
    this.now = now || Date.now;
    this.cached = null;
    this.asking = null;
  }

  async token(fresh) {
    if (fresh) this.cached = null;
    const c = this.cached;
    if (c && (c.until === null || this.now() < c.until)) return c.token;
    // One request for a token at a time, however many calls want one.
    this.asking ??= (async () => {
      try {
        const got = await this.getToken();
        const token = typeof got === "string" ? got : got && got.token;
        if (typeof token !== "string" || !token) throw new HeraldError(0, "getToken gave no token");
        const expires = got && typeof got === "object" && got.expires_at ? Date.parse(got.expires_at) : NaN;
        this.cached = { token, until: Number.isFinite(expires) ? expires - EARLY_MS : null };
        return token;
      } finally {
        this.asking = null;
      }
    })();
    return this.asking;
  }

  /** JSON (or null for 204); throws HeraldError with the server's message. */
  async request(method, path) {
    for (let attempt = 0; ; attempt++) {
      const token = await this.token(attempt > 0);
      const res = await this.fetch(this.baseUrl + path, {
        method,
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        mode: "cors",
        credentials: "omit",
        cache: "no-store",
      });
      if (res.status === 401 && attempt === 0) continue;
      if (!res.ok) {
        let message = `${method} ${path}: ${res.status}`;
        try {
          const body = await res.json();
          if (body && typeof body.error === "string") message = body.error;
        } catch {
          // not JSON: the status says it
        }
        throw new HeraldError(res.status, message);
      }
      return res.status === 204 ? null : res.json();
    }
  }

  me() {
    return this.request("GET", "/api/me");
  }
  page(before, limit) {
    const q = new URLSearchParams();
    if (before !== null && before !== undefined) q.set("before", String(before));
    if (limit) q.set("limit", String(limit));
    return this.request("GET", `/api/notifications?${q}`);
  }
  markRead(id) {
    return this.request("POST", `/api/notifications/${encodeURIComponent(id)}/read`);
  }
  markAllRead() {
    return this.request("POST", "/api/notifications/read-all");
  }
  archive(id) {
    return this.request("POST", `/api/notifications/${encodeURIComponent(id)}/archive`);
  }

  /**
   * The stream's URL with a fresh single-use ticket: EventSource cannot send
   * an Authorization header, and a ticket in the URL is worth nothing once
   * used or after ~30 s, unlike the token. `position`: resume after it.
   */
  async streamUrl(position) {
    const { ticket } = await this.request("POST", "/api/stream-tickets");
    // page=1: the stream also says which custom event names notifications
    // may arrive under (`connected.events`, `event.names`), as to Herald's page.
    const q = new URLSearchParams({ ticket, page: "1" });
    if (position !== null && position !== undefined) q.set("last_event_id", String(position));
    return `${this.baseUrl}/sse/stream?${q}`;
  }
}
