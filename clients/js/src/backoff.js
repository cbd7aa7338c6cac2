// Reconnect delays: `base · 2^(attempt-1)`, capped, then jittered to between
// half and all of it, so that many clients cut at once do not come back in
// lockstep (the same rule as Herald's own page, src/ui/live/stream.rs).

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 30000;

/** The delay before attempt `attempt` (1 for the first retry). */
export function backoffDelay(attempt, random = Math.random, base = BACKOFF_BASE_MS, max = BACKOFF_MAX_MS) {
  const ceiling = Math.min(base * 2 ** Math.max(0, attempt - 1), max);
  return ceiling * (0.5 + random() * 0.5);
}
