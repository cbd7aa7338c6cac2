// Carries text between the tabs of one browser and elects the one tab that
// leads them (Herald's src/ui/live/relay.rs). Tabs join a BroadcastChannel by
// name and ask Web Locks for a lock of another name; the tab holding the lock
// leads (holds the stream), and when it closes or disconnects the browser
// hands the lock to a waiting tab. Without Web Locks (an old browser, or a page
// on plain http that is not a secure context) every tab leads: one stream per
// tab, still correct, only less frugal.

export class Relay {
  /**
   * @param {string} name  the channel
   * @param {(text: string) => void} onMessage  what another tab posted
   * @param {{BroadcastChannel?: typeof BroadcastChannel, locks?: LockManager | null}} [env]
   */
  constructor(name, onMessage, env = {}) {
    const BC = "BroadcastChannel" in env ? env.BroadcastChannel : globalThis.BroadcastChannel;
    this.locks = "locks" in env ? env.locks : globalThis.navigator?.locks;
    this.leading = false;
    this.release = null;
    this.abort = typeof AbortController === "function" ? new AbortController() : null;
    this.closed = false;
    this.channel = BC ? new BC(name) : null;
    if (this.channel) {
      this.channel.onmessage = (e) => {
        if (!this.closed && typeof e.data === "string") onMessage(e.data);
      };
    }
  }

  /** Sends to every other tab that joined. */
  post(text) {
    if (this.channel && !this.closed) this.channel.postMessage(text);
  }

  /** Sends to the other tabs if this one leads them. */
  share(text) {
    if (this.leading) this.post(text);
  }

  /** `onLead` runs once this tab holds lock `name`: now, later, or never. */
  requestLead(name, onLead) {
    if (!this.locks || typeof this.locks.request !== "function") {
      this.leading = true;
      onLead();
      return;
    }
    const options = this.abort ? { signal: this.abort.signal } : {};
    this.locks
      .request(name, options, () => {
        if (this.closed) return undefined;
        this.leading = true;
        onLead();
        // Held until this promise settles: when the relay closes.
        return new Promise((resolve) => (this.release = resolve));
      })
      // Aborted while waiting (closed), or refused: this tab follows.
      .catch(() => {});
  }

  /** Leaves the channel and gives up the lead, or the wait for it. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.leading = false;
    if (this.channel) {
      this.channel.onmessage = null;
      this.channel.close();
    }
    this.abort?.abort();
    this.release?.();
    this.release = null;
  }
}
