import assert from "node:assert/strict";
import { test } from "node:test";
import { Api, HeraldError } from "../src/api.js";
import { fakeFetch } from "./fakes.js";

test("a string token is kept until Herald refuses it, then asked for once more", async () => {
  let minted = 0;
  const log = [];
  const api = new Api({
    baseUrl: "https://h.test/",
    getToken: async () => `tok${++minted}`,
    fetch: fakeFetch({ "GET /api/me": async (_u, init) => (init.headers.Authorization === "Bearer tok1" ? [401, {}] : [200, { id: 2 }]) }, log),
  });
  assert.deepEqual(await api.me(), { id: 2 });
  assert.deepEqual(log.map((r) => r.auth), ["Bearer tok1", "Bearer tok2"]);
  await api.me();
  assert.equal(minted, 2, "kept while it works");
  assert.ok(log.every((r) => r.credentials === "omit"), "never a cookie");
});

test("an expiring token is renewed shortly before it expires", async () => {
  let now = Date.parse("2026-12-03T20:00:00Z");
  let minted = 0;
  const api = new Api({
    baseUrl: "https://h.test",
    now: () => now,
    getToken: async () => ({ token: `tok${++minted}`, expires_at: "2026-12-03T20:05:00Z" }),
    fetch: fakeFetch({ "GET /api/me": async () => [200, {}] }),
  });
  await Promise.all([api.me(), api.me(), api.me()]);
  assert.equal(minted, 1, "one token for calls made together");
  now += 4 * 60 * 1000;
  await api.me();
  assert.equal(minted, 1);
  now += 40 * 1000;
  await api.me();
  assert.equal(minted, 2, "within 30 s of expiry: a new one");
});

test("refusals carry the server's message and status; a second 401 is not retried", async () => {
  const api = new Api({
    baseUrl: "https://h.test",
    getToken: async () => "t",
    fetch: fakeFetch({
      "POST /api/notifications/5/archive": async () => [404, { success: false, error: "notification 5 not found" }],
      "GET /api/me": async () => [401, { error: "expired" }],
    }),
  });
  await assert.rejects(api.archive(5), (e) => e instanceof HeraldError && e.status === 404 && e.message === "notification 5 not found");
  await assert.rejects(api.me(), (e) => e.status === 401);
});

test("the stream URL carries a fresh ticket and the resume position, never the token", async () => {
  let n = 0;
  const api = new Api({
    baseUrl: "https://h.test",
    getToken: async () => "secret-token",
    fetch: fakeFetch({ "POST /api/stream-tickets": async () => [201, { ticket: `tk${++n}`, expires_at: "x" }] }),
  });
  assert.equal(await api.streamUrl(null), "https://h.test/sse/stream?ticket=tk1&page=1");
  const url = await api.streamUrl(42);
  assert.equal(url, "https://h.test/sse/stream?ticket=tk2&page=1&last_event_id=42");
  assert.ok(!url.includes("secret-token"));
});
