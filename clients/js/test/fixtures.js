// Events as Herald's stream writes them (src/model/events.rs).
export function note(id, { seq = id, ch = "all", off = id, unread = 1, title = `n${id}`, read = false, link } = {}) {
  const d = { id, seq, title, body: "", severity: "info", created_at: "2026-12-03T20:00:00Z", read, ch, off, unread };
  if (link !== undefined) d.link = link;
  return JSON.stringify(d);
}

export function item(id, { seq = id, read = false, title = `n${id}` } = {}) {
  return { id, seq, title, body: "", severity: "info", created_at: "2026-12-03T20:00:00Z", read };
}

export const connected = (unread) => JSON.stringify({ client_id: 1, user_id: 2, unread, timestamp: "t" });
