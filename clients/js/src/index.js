// herald.js: the headless client and its pure parts.
export { HeraldClient } from "./client.js";
export { HeraldError } from "./api.js";
export { linkOpens } from "./link.js";
export { backoffDelay } from "./backoff.js";
export { Cursor } from "./cursor.js";
export { Inbox, STREAM_EVENTS } from "./inbox.js";
