// What the tabs of one browser say to each other over the BroadcastChannel:
// `{"event","data"}`, the shape Herald's own tabs use (src/ui/inbox/tabs.rs):
// a stream event as the leading tab received it, `_state` with the stream's
// state, or `_hello` from a tab that just joined.

export const HELLO = "_hello";
export const STATE = "_state";

export function encode(event, data = "") {
  return JSON.stringify({ event, data });
}

/** `{event, data}` or null for anything else on the channel. */
export function decode(text) {
  try {
    const m = JSON.parse(text);
    return m && typeof m.event === "string" && typeof m.data === "string" ? m : null;
  } catch {
    return null;
  }
}
