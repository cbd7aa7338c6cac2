import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { HeraldClient } from "../src/client.js";
import { FakeEventSource, FakeLocks, FakeTimers, fakeFetch } from "./fakes.js";
import { connected, item, note } from "./fixtures.js";

// A small Herald: one user, an inbox, tickets; the stream is FakeEventSource.
let herald, timers, locks, clients;

function makeHerald() {
  const h = { items: [], unread: 0, tickets: 0, log: [], pages: 0 };
  h.fetch = fakeFetch(
    {
      "GET /api/me": async () => [200, { id: 2, username: "alice", role: "user" }],
      "GET /api/notifications": async () => {
        h.pages++;
        return [200, { items: h.items, unread: h.unread, next_before: null }];
      },
      "POST /api/stream-tickets": async () => [201, { ticket: `tk${++h.tickets}`, expires_at: "x" }],
      "POST /api/notifications/read-all": async () => [200, { unread: 0 }],
      "POST /api/notifications/1/read": async () => [204, null],
    },
    h.log,
  );
  return h;
}

function client(extra = {}) {
  const c = new HeraldClient({
    baseUrl: "https://herald.test",
    getToken: async () => "tok",
    fetch: herald.fetch,
    EventSource: FakeEventSource,
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    random: () => 0,
    online: () => true,
    window: null,
    relay: { locks, BroadcastChannel: globalThis.BroadcastChannel },
    ...extra,
  });
  clients.push(c);
  return c;
}

/** Waits for a condition made true by promises and channel messages (bounded, no timer). */
async function until(cond, what) {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`never: ${what}`);
}

beforeEach(() => {
  FakeEventSource.all = [];
  herald = makeHerald();
  timers = new FakeTimers();
  locks = new FakeLocks();
  clients = [];
});

afterEach(() => {
  for (const c of clients) c.disconnect();
});

test("one tab opens the stream; the page is read once it is open; events reach every tab once", async () => {
  herald.items = [item(1)];
  herald.unread = 1;
  const a = client();
  const b = client();
  const arrivedInB = [];
  b.on("notification", (n) => arrivedInB.push(n.id));
  await a.connect();
  await b.connect();
  await until(() => FakeEventSource.all.length === 1, "a stream");
  const es = FakeEventSource.last();
  assert.match(es.url, /^https:\/\/herald\.test\/sse\/stream\?ticket=tk1&page=1$/);
  es.send("connected", connected(1));
  await until(() => a.snapshot.connection === "open" && b.snapshot.connection === "open", "open everywhere");
  await until(() => a.snapshot.items.length === 1, "the page after connected");

  herald.items = [item(2), item(1)];
  es.send("notification", note(2, { unread: 2, off: 2 }));
  es.send("notification", note(2, { unread: 2, off: 2 }));
  await until(() => b.snapshot.unread === 2 && a.snapshot.unread === 2, "the count in both tabs");
  assert.deepEqual(b.snapshot.items.map((n) => n.id)[0], 2);
  assert.deepEqual(arrivedInB, [2], "announced once");
  assert.equal(FakeEventSource.all.length, 1, "one stream for both tabs");
});

test("when the leading tab goes, another takes the stream over and resumes after what it saw", async () => {
  const a = client();
  const b = client();
  await a.connect();
  await b.connect();
  await until(() => FakeEventSource.all.length === 1, "a stream");
  FakeEventSource.last().send("connected", connected(0));
  FakeEventSource.last().send("notification", note(7, { off: 3 }));
  await until(() => b.inbox.position === 7, "relayed");
  a.disconnect();
  await until(() => FakeEventSource.all.length === 2, "the follower's stream");
  assert.equal(FakeEventSource.all[0].closed, true);
  assert.match(FakeEventSource.last().url, /ticket=tk2&page=1&last_event_id=7$/);
});

test("after a cut the stream resumes: replays are dropped, a gap refetches", async () => {
  const a = client();
  await a.connect();
  await until(() => FakeEventSource.all.length === 1, "a stream");
  let es = FakeEventSource.last();
  es.send("connected", connected(0));
  es.send("notification", note(3, { off: 1, unread: 1 }));
  es.fail();
  assert.equal(a.snapshot.connection, "reconnecting");
  timers.fire();
  await until(() => FakeEventSource.all.length === 2, "reopened");
  es = FakeEventSource.last();
  assert.match(es.url, /last_event_id=3$/);
  const pagesBefore = herald.pages;
  const arrived = [];
  a.on("notification", (n) => arrived.push(n.id));
  es.send("connected", connected(1));
  es.send("notification", note(3, { off: 1, unread: 1 }));
  es.send("notification", note(4, { off: 2, unread: 2 }));
  assert.deepEqual(arrived, [4]);
  assert.equal(herald.pages, pagesBefore, "resumed: no refetch");
  es.send("notification", note(9, { off: 5, unread: 5 }));
  await until(() => herald.pages === pagesBefore + 1, "the gap refetches");
});

test("custom event names are listened to when named, and are notifications", async () => {
  const a = client({ events: ["deploy.done"] });
  await a.connect();
  await until(() => FakeEventSource.all.length === 1, "a stream");
  const es = FakeEventSource.last();
  es.send("connected", connected(0));
  es.send("deploy.done", note(5, { title: "Deployed", unread: 1 }));
  assert.equal(a.snapshot.items[0].event, "deploy.done");
  assert.equal(a.snapshot.unread, 1);
});

test("actions: mark all read shows at once and leaves the count to the open stream", async () => {
  herald.items = [item(1), item(2)];
  herald.unread = 2;
  const a = client();
  await a.connect();
  await until(() => FakeEventSource.all.length === 1, "a stream");
  FakeEventSource.last().send("connected", connected(2));
  await until(() => a.snapshot.items.length === 2, "page");
  await a.markAllRead();
  assert.ok(a.snapshot.items.every((n) => n.read));
  assert.equal(a.snapshot.unread, 2, "the stream's notification.read carries the count");
  FakeEventSource.last().send("notification.read", JSON.stringify({ up_to_seq: 2, unread: 0 }));
  assert.equal(a.snapshot.unread, 0);
  assert.ok(herald.log.some((r) => r.key === "POST /api/notifications/read-all"));
});

test("custom event names the server announces are listened to at once, and on every reopened stream", async () => {
  const a = client();
  const names = [];
  a.on("notification", (n) => names.push(n.event));
  await a.connect();
  await until(() => FakeEventSource.all.length === 1, "a stream");
  const first = FakeEventSource.last();
  // Known before the stream opened: listed in `connected`.
  first.send("connected", JSON.stringify({ client_id: 1, user_id: 2, unread: 0, timestamp: "t", events: ["deploy.done", "bad name!"] }));
  first.send("deploy.done", note(1, { unread: 1 }));
  // New while it is open: `event.names` just before its first notification.
  first.send("event.names", JSON.stringify({ names: ["invoice.due"] }));
  first.send("invoice.due", note(2, { off: 2, unread: 2 }));
  first.send("bad name!", note(3, { off: 3, unread: 3 }));
  await until(() => names.length === 2, "both custom notifications");
  assert.deepEqual(names, ["deploy.done", "invoice.due"]);
  assert.equal(first.listeners.has("bad name!"), false, "a name outside the server's rule is not listened to");

  first.fail();
  timers.fire();
  await until(() => FakeEventSource.all.length === 2, "a reopened stream");
  const second = FakeEventSource.last();
  assert.ok(second.listeners.has("deploy.done") && second.listeners.has("invoice.due"));
  second.send("invoice.due", note(4, { off: 4, unread: 4 }));
  await until(() => names.length === 3, "after the reopen");
  assert.equal(a.snapshot.unread, 4);
});
