// <herald-inbox>: Herald's bell for any page, on the headless client.
//
//   <script type="module" src="https://herald.example.com/sdk/herald-inbox.js"></script>
//   <herald-inbox base-url="https://herald.example.com" token-url="/herald-token"></herald-inbox>
//
// A real button with the unread count in its accessible name ("Notifications,
// 3 unread", as Herald's own bell), aria-expanded/aria-controls on a dialog
// dropdown; Escape closes it and gives focus back to the bell; new
// notifications are read out by a polite live region. Everything a
// notification carries is set as text (textContent), never parsed as HTML,
// and links follow Herald's link rule. Theming: the --herald-* custom
// properties; light and dark from prefers-color-scheme, or `theme="dark"`.

import { HeraldClient } from "./client.js";
import { linkOpens } from "./link.js";

export { HeraldClient } from "./client.js";
export { HeraldError } from "./api.js";
export { linkOpens } from "./link.js";

const ANNOUNCE_MS = 8000;
const STATE_LABEL = { connecting: "connecting", open: "live", reconnecting: "reconnecting", offline: "offline", closed: "offline" };

const LIGHT = "--_bg:var(--herald-bg,#fff);--_fg:var(--herald-fg,#1c1f2a);--_muted:var(--herald-muted,#646b7d);--_line:var(--herald-border,#e3e6ee);--_accent:var(--herald-accent,#4f46e5);--_unread:var(--herald-unread-bg,#eef0ff);--_info:var(--herald-info,#2563eb);--_warning:var(--herald-warning,#b45309);--_critical:var(--herald-critical,#dc2626);--_ok:var(--herald-ok,#15803d);";
const DARK = "--_bg:var(--herald-bg,#1b1e28);--_fg:var(--herald-fg,#e8eaf2);--_muted:var(--herald-muted,#9aa1b3);--_line:var(--herald-border,#2c3040);--_accent:var(--herald-accent,#818cf8);--_unread:var(--herald-unread-bg,#242a44);--_info:var(--herald-info,#60a5fa);--_warning:var(--herald-warning,#fbbf24);--_critical:var(--herald-critical,#f87171);--_ok:var(--herald-ok,#4ade80);";

const CSS = `
:host{${LIGHT}display:inline-block;position:relative;font-family:var(--herald-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);color:var(--_fg);line-height:1.45}
@media (prefers-color-scheme:dark){:host(:not([theme=light])){${DARK}}}
:host([theme=dark]){${DARK}}
*{box-sizing:border-box}
.bell{position:relative;display:inline-flex;align-items:center;justify-content:center;width:2.4rem;height:2.4rem;border-radius:50%;border:1px solid var(--_line);background:var(--_bg);color:var(--_fg);cursor:pointer;padding:0}
.bell:focus-visible,button:focus-visible,a:focus-visible,.dropdown:focus-visible{outline:2px solid var(--_accent);outline-offset:2px}
.badge{position:absolute;top:-.3rem;right:-.35rem;min-width:1.25rem;height:1.25rem;padding:0 .3rem;border-radius:.7rem;background:var(--herald-badge-bg,var(--_critical));color:var(--herald-badge-fg,#fff);font-size:.72rem;font-weight:700;line-height:1.25rem;text-align:center}
.badge[data-count="0"]{background:var(--_muted);opacity:.75}
.dot{position:absolute;bottom:.05rem;right:.05rem;width:.5rem;height:.5rem;border-radius:50%;background:var(--_muted);border:1px solid var(--_bg)}
.dot[data-state=open]{background:var(--_ok)}.dot[data-state=reconnecting]{background:var(--_warning)}.dot[data-state=offline]{background:var(--_critical)}
.dropdown{position:absolute;right:0;top:2.9rem;z-index:var(--herald-z,1000);width:var(--herald-width,min(24rem,92vw));background:var(--_bg);border:1px solid var(--_line);border-radius:var(--herald-radius,10px);box-shadow:0 10px 30px rgb(0 0 0/.18);padding:.5rem;max-height:var(--herald-max-height,70vh);overflow-y:auto;text-align:left}
.dropdown[hidden]{display:none}
.head{display:flex;align-items:center;gap:.6rem;padding:.3rem .5rem .5rem}
.state{font-size:.75rem;color:var(--_muted);margin-right:auto}
button.link{background:none;border:none;color:var(--_accent);cursor:pointer;font:inherit;padding:0}
ul{list-style:none;margin:0;padding:0}
li{padding:.6rem .7rem;border-radius:8px;border-left:3px solid var(--_info);margin-bottom:.35rem}
li.unread{background:var(--_unread)}
li.sev-warning{border-left-color:var(--_warning)}li.sev-critical{border-left-color:var(--_critical)}
.top{display:flex;align-items:baseline;gap:.5rem}
.sev{font-size:.68rem;text-transform:uppercase;letter-spacing:.04em;color:var(--_muted)}
.sev-warning .sev{color:var(--_warning)}.sev-critical .sev{color:var(--_critical)}
.title{font-weight:700;background:none;border:none;padding:0;margin:0;font:inherit;font-weight:700;color:inherit;text-align:left;overflow-wrap:anywhere}
button.title{cursor:pointer}button.title:hover{text-decoration:underline}
li.read .title{font-weight:500}
time{margin-left:auto;color:var(--_muted);font-size:.78rem;white-space:nowrap}
.body{margin:.25rem 0 0;white-space:pre-wrap;overflow-wrap:anywhere}
.acts{display:flex;gap:.9rem;margin-top:.3rem;font-size:.85rem}
a{color:var(--_accent)}
.empty{color:var(--_muted);padding:.3rem .5rem}
.foot{padding:.4rem .5rem 0}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

const BELL_PATH = "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z";

/** document.createElement with attributes and children; text children are Text nodes. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/** "2026-11-21T06:08:29Z" → "2026-11-21 06:08", as Herald's list. */
const shortTime = (t) => (typeof t === "string" ? `${t.slice(0, 10)} ${t.slice(11, 16)}` : "");

const Base = globalThis.HTMLElement || class {};

export class HeraldInbox extends Base {
  static observedAttributes = ["base-url", "token-url", "events", "page-size"];

  constructor() {
    super();
    this.tokenFn = null;
    this.herald = null;
    this.unsubscribe = [];
    const root = this.attachShadow({ mode: "open" });
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "22");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", BELL_PATH);
    svg.append(path);
    this.badge = h("span", { class: "badge", part: "badge", "data-testid": "herald-badge", "data-count": "0", "aria-hidden": "true" }, "0");
    this.dot = h("span", { class: "dot", "data-state": "connecting", "aria-hidden": "true" });
    this.button = h(
      "button",
      { type: "button", class: "bell", part: "bell", "data-testid": "herald-bell", "aria-haspopup": "dialog", "aria-expanded": "false", "aria-controls": "herald-dropdown", onclick: () => this.toggle() },
      svg,
      this.badge,
      this.dot,
    );
    this.state = h("span", { class: "state", "data-testid": "herald-state", "data-state": "connecting" }, "connecting");
    this.markAll = h("button", { type: "button", class: "link", "data-testid": "herald-mark-all", onclick: () => this.act(() => this.herald.markAllRead()) }, "Mark all read");
    this.list = h("ul", { "data-testid": "herald-list" });
    this.empty = h("p", { class: "empty", "data-testid": "herald-empty" }, "You're all caught up.");
    this.more = h("button", { type: "button", class: "link", onclick: () => this.act(() => this.herald.loadMore()) }, "Load more");
    this.dropdown = h(
      "div",
      { id: "herald-dropdown", class: "dropdown", part: "dropdown", role: "dialog", "aria-label": "Latest notifications", "data-testid": "herald-dropdown", tabindex: "-1", hidden: true },
      h("div", { class: "head" }, h("strong", {}, "Notifications"), this.state, this.markAll),
      this.list,
      this.empty,
      h("div", { class: "foot" }, this.more),
    );
    this.live = h("div", { class: "sr", "aria-live": "polite", "aria-atomic": "false", "data-testid": "herald-announcer" });
    const wrap = h("div", { onkeydown: (e) => this.onKey(e) }, this.button, this.dropdown, this.live);
    root.append(h("style", {}, CSS), wrap);
    this.onOutside = (e) => {
      if (!e.composedPath().includes(this)) this.close(false);
    };
    this.render();
  }

  /** `async () => token` (or `{token, expires_at}`): how the host page gets a user token from its backend. */
  set getToken(fn) {
    this.tokenFn = fn;
    this.restart();
  }
  get getToken() {
    return this.tokenFn;
  }

  /** The HeraldClient behind the bell, for the host page's own listeners. */
  get client() {
    return this.herald;
  }

  connectedCallback() {
    document.addEventListener("click", this.onOutside);
    this.restart();
  }

  disconnectedCallback() {
    document.removeEventListener("click", this.onOutside);
    this.stop();
  }

  attributeChangedCallback(_name, before, after) {
    if (before !== after) this.restart();
  }

  tokenSource() {
    if (this.tokenFn) return this.tokenFn;
    const url = this.getAttribute("token-url");
    if (!url) return null;
    // The host's own backend, same origin, with the host's own cookies.
    return async () => {
      const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error(`${url}: ${res.status}`);
      return res.json();
    };
  }

  stop() {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.herald?.disconnect();
    this.herald = null;
  }

  /** Once per task, however many attributes changed (an upgrade reports each). */
  restart() {
    if (this.restarting) return;
    this.restarting = true;
    queueMicrotask(() => {
      this.restarting = false;
      this.start();
    });
  }

  start() {
    this.stop();
    const baseUrl = this.getAttribute("base-url");
    const getToken = this.tokenSource();
    if (!this.isConnected || !baseUrl || !getToken) return;
    const events = (this.getAttribute("events") || "").split(/[\s,]+/).filter(Boolean);
    const pageSize = Number(this.getAttribute("page-size")) || undefined;
    const herald = new HeraldClient({ baseUrl, getToken, events, pageSize });
    this.herald = herald;
    this.unsubscribe = [
      herald.on("change", () => this.render()),
      herald.on("notification", (n) => this.announce(n)),
      herald.on("error", (err) => this.dispatchEvent(new CustomEvent("herald-error", { detail: err }))),
    ];
    herald.connect();
    this.render();
  }

  toggle() {
    if (this.dropdown.hidden) this.open();
    else this.close(true);
  }

  open() {
    this.dropdown.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.render();
    // Into the dialog, so its name is read and Tab walks its items.
    this.dropdown.focus();
  }

  close(refocus) {
    if (this.dropdown.hidden) return;
    this.dropdown.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (refocus) this.button.focus();
  }

  onKey(e) {
    if (e.key === "Escape" && !this.dropdown.hidden) {
      e.stopPropagation();
      this.close(true);
    }
  }

  announce(n) {
    const line = h("p", {}, `New notification: ${n.title}`);
    this.live.append(line);
    setTimeout(() => line.remove(), ANNOUNCE_MS);
  }

  async act(action) {
    try {
      await action();
    } catch (err) {
      this.dispatchEvent(new CustomEvent("herald-error", { detail: err }));
    }
  }

  render() {
    const s = this.herald?.snapshot;
    const unread = s?.unread ?? 0;
    this.badge.textContent = String(unread);
    this.badge.dataset.count = String(unread);
    this.button.setAttribute("aria-label", unread === 0 ? "Notifications, none unread" : `Notifications, ${unread} unread`);
    const state = s?.connection ?? "connecting";
    this.dot.dataset.state = state;
    this.state.dataset.state = state;
    this.state.textContent = STATE_LABEL[state] || state;
    this.button.title = `Notifications (${STATE_LABEL[state] || state})`;
    if (this.dropdown.hidden) return;
    const items = s?.items ?? [];
    // Re-rendering replaces the buttons: keep focus on the same one.
    const focused = this.shadowRoot.activeElement?.dataset?.key;
    this.list.replaceChildren(...items.map((n) => this.item(n)));
    this.empty.hidden = items.length > 0;
    this.more.hidden = !s?.hasMore;
    if (focused) {
      const again = this.list.querySelector(`[data-key="${CSS_escape(focused)}"]`);
      (again || this.dropdown).focus();
    }
  }

  item(n) {
    const sev = ["info", "warning", "critical"].includes(n.severity) ? n.severity : "info";
    const title = n.read
      ? h("strong", { class: "title", "data-testid": "herald-title" }, n.title)
      : h("button", { type: "button", class: "title", title: "Mark as read", "data-testid": "herald-title", "data-key": `read-${n.id}`, onclick: () => this.act(() => this.herald.markRead(n.id)) }, n.title);
    const link = linkOpens(n.link) ? h("a", { href: n.link, rel: "noopener noreferrer", target: "_blank", "data-testid": "herald-open" }, "Open") : null;
    return h(
      "li",
      { class: `sev-${sev} ${n.read ? "read" : "unread"}`, "data-testid": "herald-item", "data-id": n.id, "data-read": String(!!n.read) },
      h("div", { class: "top" }, h("span", { class: "sev" }, sev), title, h("time", { datetime: n.created_at }, shortTime(n.created_at))),
      n.body ? h("p", { class: "body" }, n.body) : null,
      h("div", { class: "acts" }, link, h("button", { type: "button", class: "link", "data-testid": "herald-archive", "data-key": `archive-${n.id}`, onclick: () => this.act(() => this.herald.archive(n.id)) }, "Archive")),
    );
  }
}

const CSS_escape = (s) => String(s).replace(/["\\]/g, "\\$&");

if (globalThis.customElements && !customElements.get("herald-inbox")) {
  customElements.define("herald-inbox", HeraldInbox);
}
