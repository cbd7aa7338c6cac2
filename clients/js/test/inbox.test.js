import assert from "node:assert/strict";
import { test } from "node:test";
import { Inbox, isNotificationEntry } from "../src/inbox.js";
import { connected, item, note } from "./fixtures.js";

const ids = (inbox) => inbox.list().map((n) => n.id);

test("connected opens, takes the server's count, and asks for a page when nothing can be resumed", () => {
  const inbox = new Inbox();
  assert.equal(inbox.connection, "connecting");
  const r = inbox.apply("connected", connected(3));
  assert.equal(inbox.connection, "open");
  assert.equal(inbox.unread, 3);
  assert.equal(r.refetch, true, "no position yet: what came before the stream is read from a page");
  inbox.apply("notification", note(5));
  assert.equal(inbox.apply("connected", connected(4)).refetch, false, "a reconnect resumes instead");
});

test("a notification arrives once, however often it is replayed or relayed", () => {
  const inbox = new Inbox();
  const first = inbox.apply("notification", note(1, { unread: 1 }));
  assert.equal(first.arrived.id, 1);
  assert.equal(first.arrived.event, "notification");
  assert.equal(first.arrived.ch, undefined, "wire bookkeeping is not part of the item");
  const again = inbox.apply("notification", note(1, { unread: 1 }));
  assert.deepEqual(again, { changed: false, arrived: null, refetch: false });
  assert.deepEqual(ids(inbox), [1]);
});

test("the count is always the server's, never counted here", () => {
  const inbox = new Inbox();
  inbox.apply("notification", note(1, { unread: 7 }));
  assert.equal(inbox.unread, 7, "taken from the event, not 1");
  inbox.apply("notification.read", JSON.stringify({ ids: [1], unread: 6 }));
  assert.equal(inbox.unread, 6);
  inbox.apply("notification.read", JSON.stringify({ ids: [1] }));
  assert.equal(inbox.unread, 6, "a read without a count is ignored");
});

test("a gap in a channel's offsets asks for a refetch; other channels are independent", () => {
  const inbox = new Inbox();
  assert.equal(inbox.apply("notification", note(1, { off: 1 })).refetch, false);
  assert.equal(inbox.apply("notification", note(2, { ch: "user:2", off: 9 })).refetch, false);
  const gap = inbox.apply("notification", note(4, { off: 3 }));
  assert.equal(gap.refetch, true, "offset 2 of `all` never came");
  assert.equal(gap.arrived.id, 4, "what did come is still shown");
  assert.equal(inbox.apply("notification", note(5, { ch: "user:2", off: 10 })).refetch, false);
});

test("resync asks for a refetch; pings and unknown shapes change nothing", () => {
  const inbox = new Inbox();
  assert.equal(inbox.apply("resync", '{"reason":"lagged"}').refetch, true);
  assert.equal(inbox.apply("ping", '{"timestamp":"t"}').changed, false);
  assert.equal(inbox.apply("deploy.done", '{"build":3}').changed, false);
  assert.equal(inbox.apply("notification", "{").changed, false);
});

test("custom event names with a notification's shape are notifications", () => {
  const inbox = new Inbox();
  const r = inbox.apply("deploy.done", note(3, { title: "Deployed" }));
  assert.equal(r.arrived.event, "deploy.done");
  assert.equal(isNotificationEntry(JSON.parse(note(3))), true);
  assert.equal(isNotificationEntry({ id: 1, seq: 1, ch: "all", off: 1, title: "x" }), false, "no count");
});

test("reads by id and up to a position; archived ones leave", () => {
  const inbox = new Inbox();
  for (const id of [1, 2, 3, 4]) inbox.apply("notification", note(id));
  const before = inbox.list().find((n) => n.id === 2);
  inbox.apply("notification.read", JSON.stringify({ ids: [2], unread: 3 }));
  assert.equal(before.read, false, "items are replaced, not mutated");
  inbox.apply("notification.read", JSON.stringify({ ids: [4], archived: true, unread: 2 }));
  inbox.apply("notification.read", JSON.stringify({ up_to_seq: 1, unread: 1 }));
  assert.deepEqual(inbox.list().map((n) => [n.id, n.read]), [[3, false], [2, true], [1, true]]);
  assert.equal(inbox.unread, 1);
});

test("a removal is a stored event: gap-checked, and replays change nothing", () => {
  const inbox = new Inbox();
  inbox.apply("notification", note(1, { off: 1 }));
  inbox.apply("notification", note(2, { off: 2 }));
  const removal = JSON.stringify({ ids: [1], seq: 3, ch: "all", off: 3, unread: 1 });
  assert.equal(inbox.apply("notification.removed", removal).changed, true);
  assert.deepEqual(ids(inbox), [2]);
  assert.equal(inbox.apply("notification.removed", removal).changed, false, "replayed");
  const gap = JSON.stringify({ ids: [2], seq: 9, ch: "all", off: 5, unread: 0 });
  assert.equal(inbox.apply("notification.removed", gap).refetch, true);
});

test("a page replaces the list, keeping what arrived and changed while it was read", () => {
  const inbox = new Inbox();
  inbox.apply("connected", connected(5));
  inbox.apply("notification", note(1, { unread: 5 })); // before the refetch: the page knows it
  inbox.beginPage();
  inbox.apply("notification", note(9, { off: 2, unread: 6 })); // during: the page may not have it
  inbox.apply("notification.read", JSON.stringify({ ids: [7], unread: 5 })); // during: the page may predate it
  inbox.endPage({ items: [item(8), item(7), item(1)], unread: 4, next_before: 1 });
  assert.deepEqual(ids(inbox), [9, 8, 7, 1]);
  assert.equal(inbox.list().find((n) => n.id === 7).read, true, "the read made meanwhile holds");
  assert.equal(inbox.unread, 5, "the stream counted meanwhile: its count is the newer one");
  assert.equal(inbox.nextBefore, 1);

  inbox.beginPage();
  inbox.endPage({ items: [item(9)], unread: 2, next_before: null });
  assert.deepEqual(ids(inbox), [9], "what the server no longer lists is gone");
  assert.equal(inbox.unread, 2, "nothing counted meanwhile: the page's count");
  assert.equal(inbox.nextBefore, null);
});

test("an older page goes below and leaves the count to the stream", () => {
  const inbox = new Inbox();
  inbox.beginPage();
  inbox.endPage({ items: [item(5), item(4)], unread: 2, next_before: 4 });
  inbox.appendPage({ items: [item(4), item(2)], unread: 99, next_before: null });
  assert.deepEqual(ids(inbox), [5, 4, 2]);
  assert.equal(inbox.unread, 2);
});

test("local actions show at once; an action's count is taken only without an open stream", () => {
  const inbox = new Inbox();
  for (const id of [1, 2, 3]) inbox.apply("notification", note(id, { unread: id }));
  inbox.markedRead(2);
  inbox.archived(3);
  assert.deepEqual(inbox.list().map((n) => [n.id, n.read]), [[2, true], [1, false]]);
  inbox.markedAllRead();
  assert.ok(inbox.list().every((n) => n.read));

  inbox.apply("connected", connected(1));
  assert.equal(inbox.answered(0), false, "the stream's notification.read will carry it, in order");
  assert.equal(inbox.unread, 1);
  inbox.apply("_state", "reconnecting");
  assert.equal(inbox.answered(0), true);
  assert.equal(inbox.unread, 0);
});

test("the stream's state comes through the tabs; unknown states are ignored", () => {
  const inbox = new Inbox();
  assert.equal(inbox.apply("_state", "reconnecting").changed, true);
  assert.equal(inbox.connection, "reconnecting");
  assert.equal(inbox.apply("_state", "sleepy").changed, false);
  assert.equal(inbox.connection, "reconnecting");
});
