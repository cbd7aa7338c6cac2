// Types for dist/herald-inbox.js: defines <herald-inbox> and re-exports the client.
import type { HeraldClient, TokenAnswer } from "./herald";

export * from "./herald";

/**
 * `<herald-inbox base-url="https://herald.example.com" token-url="/herald-token">`
 * Attributes: `base-url`, `token-url` (a same-origin URL answering `{token, expires_at}`),
 * `events` (custom event names, space-separated), `page-size`, `theme` ("light" | "dark").
 * Events: `herald-error` (detail: the error).
 */
export class HeraldInbox extends HTMLElement {
  /** Overrides `token-url`: how the host page gets a user token from its backend. */
  getToken: (() => Promise<TokenAnswer>) | null;
  /** The client behind the bell (null until connected to the page with a base URL and a token source). */
  readonly client: HeraldClient | null;
}

declare global {
  interface HTMLElementTagNameMap {
    "herald-inbox": HeraldInbox;
  }
}
