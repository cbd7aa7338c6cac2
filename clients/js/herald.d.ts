// Types for dist/herald.js (the headless client). Hand-written; the shapes
// are Herald's wire types (src/model/notification.rs, events.rs, api.rs).

export type Severity = "info" | "warning" | "critical";

/** The stream's state: "open" once the stream's `connected` event arrived. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "offline" | "closed";

/** One notification, as the inbox API and the stream give it. */
export interface Notification {
  id: number;
  /** Its position in the user's event log. */
  seq: number;
  title: string;
  body: string;
  severity: Severity;
  link?: string;
  /** RFC 3339, UTC. */
  created_at: string;
  read: boolean;
  /** The event name it came with on the stream ("notification", or an admin's custom name); absent for items read from a page. */
  event?: string;
  [extra: string]: unknown;
}

export interface User {
  id: number;
  username: string;
  role: "user" | "admin";
}

export interface Snapshot {
  readonly connection: ConnectionState;
  /** The server's unread count; null until the server said one. */
  readonly unread: number | null;
  /** Newest first. */
  readonly items: readonly Notification[];
  readonly hasMore: boolean;
  readonly progress: { task_id: string; progress: number; status: string } | null;
  readonly user: User | null;
}

/** What `getToken` may return: the token, or the token and when it expires (then renewed 30 s before). */
export type TokenAnswer = string | { token: string; expires_at?: string };

export interface HeraldClientOptions {
  /** Herald's origin, e.g. "https://herald.example.com". */
  baseUrl: string;
  /** Asks the host app's backend for a Herald user token (never put a service key in a page). */
  getToken: () => Promise<TokenAnswer>;
  /** Custom event names to listen to from the start (e.g. "deploy.done"); the stream announces the others. Treated as notifications. */
  events?: string[];
  /** Notifications per page (default 20). */
  pageSize?: number;
}

export interface HeraldEvents {
  change: Snapshot;
  /** Each new notification, once, however often it is replayed or relayed. */
  notification: Notification;
  /** Every stream event this tab takes in, by name and raw `data:`. */
  event: { name: string; data: string };
  progress: { task_id: string; progress: number; status: string };
  error: unknown;
}

export class HeraldClient {
  constructor(options: HeraldClientOptions);
  readonly snapshot: Snapshot;
  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof HeraldEvents>(type: K, listener: (value: HeraldEvents[K]) => void): () => void;
  /** Who the token is for, then the tabs, the stream (if this tab leads them) and the first page. */
  connect(): Promise<void>;
  /** Closes the stream (another tab takes it over) and stops. */
  disconnect(): void;
  markRead(id: number): Promise<void>;
  markAllRead(): Promise<void>;
  archive(id: number): Promise<void>;
  loadMore(): Promise<void>;
  /** Reads the first page again. */
  refetch(): Promise<void>;
}

export class HeraldError extends Error {
  /** The HTTP status (0: no token). */
  readonly status: number;
}

/** Herald's link rule: only http(s) URLs and same-origin paths open. */
export function linkOpens(link: unknown): boolean;

/** Reconnect delay for attempt `attempt` (1-based): exponential, capped at 30 s, jittered to 50-100 %. */
export function backoffDelay(attempt: number, random?: () => number, base?: number, max?: number): number;

export const STREAM_EVENTS: readonly string[];
