import assert from "node:assert/strict";
import { test } from "node:test";
import { BACKOFF_MAX_MS, backoffDelay } from "../src/backoff.js";

test("the delay doubles per attempt and is capped", () => {
  const top = () => 0.999999;
  assert.ok(Math.abs(backoffDelay(1, top) - 1000) < 1);
  assert.ok(Math.abs(backoffDelay(2, top) - 2000) < 1);
  assert.ok(Math.abs(backoffDelay(4, top) - 8000) < 1);
  assert.ok(Math.abs(backoffDelay(50, top) - BACKOFF_MAX_MS) < 1, "capped");
});

test("jitter spreads delays over half to all of the ceiling", () => {
  assert.equal(backoffDelay(3, () => 0), 2000);
  assert.equal(backoffDelay(3, () => 0.5), 3000);
  const seen = new Set(Array.from({ length: 50 }, () => Math.round(backoffDelay(3))));
  assert.ok(seen.size > 10, "random by default");
  for (const d of seen) assert.ok(d >= 2000 && d <= 4000, String(d));
});
