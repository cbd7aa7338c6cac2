import assert from "node:assert/strict";
import { test } from "node:test";
import { HELLO, STATE, decode, encode } from "../src/tabs.js";

test("the wire shape is Herald's own tabs'", () => {
  assert.equal(encode(HELLO), '{"event":"_hello","data":""}');
  assert.equal(encode(STATE, "offline"), '{"event":"_state","data":"offline"}');
  assert.deepEqual(decode('{"event":"resync","data":""}'), { event: "resync", data: "" });
});

test("anything else on the channel is ignored", () => {
  for (const text of ["not json", "null", "3", '{"event":1,"data":""}', '{"event":"x"}']) {
    assert.equal(decode(text), null, text);
  }
});
