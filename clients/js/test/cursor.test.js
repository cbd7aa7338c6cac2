import assert from "node:assert/strict";
import { test } from "node:test";
import { AFTER_GAP, Cursor, IN_ORDER, REPLAYED } from "../src/cursor.js";

test("consecutive offsets are in order and move the resume point", () => {
  const c = new Cursor();
  assert.equal(c.position, null);
  assert.equal(c.take(11, "all", 5), IN_ORDER, "a new channel is adopted");
  assert.equal(c.take(15, "user:7", 3), IN_ORDER);
  assert.equal(c.take(16, "all", 6), IN_ORDER);
  assert.equal(c.position, 16);
});

test("a skipped offset is a gap once, then the channel goes on from there", () => {
  const c = new Cursor();
  c.take(10, "all", 4);
  assert.equal(c.take(13, "all", 6), AFTER_GAP, "offset 5 never came");
  assert.equal(c.take(14, "all", 7), IN_ORDER);
});

test("positions already taken in are replays and change nothing", () => {
  const c = new Cursor();
  c.take(10, "all", 4);
  assert.equal(c.take(10, "all", 4), REPLAYED);
  assert.equal(c.take(7, "all", 2), REPLAYED);
  assert.equal(c.take(11, "all", 5), IN_ORDER);
  assert.equal(c.take(11, "all", 5), REPLAYED, "relayed twice");
  assert.equal(c.position, 11);
  assert.equal(c.take(12, "all", 6), IN_ORDER, "offsets untouched by replays");
});
