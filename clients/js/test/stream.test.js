import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { Stream } from "../src/stream.js";
import { FakeEventSource, FakeTimers, settle } from "./fakes.js";

let timers, events, states, urls, position, online;

function stream(extra = {}) {
  let ticket = 0;
  return new Stream({
    url: async (pos) => {
      urls.push(pos);
      return `https://h.test/sse/stream?ticket=t${++ticket}&last_event_id=${pos}`;
    },
    position: () => position,
    names: () => ["connected", "notification", "deploy.done"],
    onEvent: (name, data) => events.push([name, data]),
    onState: (s) => states.push(s),
    EventSource: FakeEventSource,
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    random: () => 0.5,
    online: () => online,
    ...extra,
  });
}

beforeEach(() => {
  FakeEventSource.all = [];
  timers = new FakeTimers();
  events = [];
  states = [];
  urls = [];
  position = null;
  online = true;
});

test("opens with a fresh ticket and hands over the names it listens to", async () => {
  const s = stream();
  s.start();
  await settle();
  assert.deepEqual(states, ["connecting"]);
  const es = FakeEventSource.last();
  assert.match(es.url, /ticket=t1/);
  es.send("connected", "{}");
  es.send("deploy.done", '{"x":1}');
  es.send("other", "{}");
  assert.deepEqual(events, [["connected", "{}"], ["deploy.done", '{"x":1}']]);
});

test("an error closes the source and reopens it after a growing, jittered delay, with a new ticket and the last position", async () => {
  const s = stream();
  s.start();
  await settle();
  const first = FakeEventSource.last();
  position = 41;
  first.fail();
  assert.equal(first.closed, true, "the browser's own retry (same ticket) must not run");
  assert.deepEqual(states, ["connecting", "reconnecting"]);
  assert.equal(timers.fire(), 750, "1 s ceiling, jittered to 0.75");
  await settle();
  const second = FakeEventSource.last();
  assert.notEqual(second, first);
  assert.match(second.url, /ticket=t2&last_event_id=41/);
  second.fail();
  assert.equal(timers.fire(), 1500, "doubled");
  await settle();
  FakeEventSource.last().send("connected", "{}");
  FakeEventSource.last().fail();
  assert.equal(timers.fire(), 750, "back to the first delay once connected");
  assert.deepEqual(urls, [null, 41, 41, 41]);
});

test("a failed ticket request backs off too", async () => {
  let calls = 0;
  const s = stream({
    url: async () => {
      calls++;
      if (calls === 1) throw new Error("503");
      return "https://h.test/sse/stream?ticket=ok";
    },
  });
  s.start();
  await settle();
  assert.equal(FakeEventSource.all.length, 0);
  assert.deepEqual(states, ["connecting", "reconnecting"]);
  timers.fire();
  await settle();
  assert.equal(FakeEventSource.last().url, "https://h.test/sse/stream?ticket=ok");
});

test("events from a source already replaced are dropped", async () => {
  const s = stream();
  s.start();
  await settle();
  const old = FakeEventSource.last();
  s.drop();
  timers.fire();
  await settle();
  old.send("notification", "late");
  old.fail();
  assert.deepEqual(events, []);
  assert.equal(timers.queue.length, 0, "no second retry from the old source");
});

test("offline pauses, online reconnects at once; stop closes everything", async () => {
  const s = stream();
  s.start();
  await settle();
  s.offline();
  assert.equal(FakeEventSource.last().closed, true);
  assert.equal(states.at(-1), "offline");
  online = false;
  s.drop();
  assert.equal(timers.queue.length, 0, "no retry while offline");
  online = true;
  s.onlineAgain();
  await settle();
  assert.equal(FakeEventSource.all.length, 2);
  assert.equal(states.at(-1), "reconnecting");
  s.stop();
  assert.equal(FakeEventSource.last().closed, true);
  FakeEventSource.last().fail();
  assert.equal(timers.queue.length, 0);
});
