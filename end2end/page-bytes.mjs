// Table 6 of `make bench` (scripts/bench-page.sh starts the server): what the
// page costs the network in a real Chromium, first visit and repeat visit.
//
//   cd end2end && node page-bytes.mjs URL [RESULTS.json]
//
// alice signs in through the API (the browser context's cookie jar), so the
// first page Chromium loads is / with an empty cache; it waits until the page
// is hydrated and live (the WASM ran), then opens / again in a new tab of the
// same context, as a returning visitor would. Bytes are Chromium's own count
// (DevTools protocol: encodedDataLength, headers included) of every response
// for the bundle (/pkg/*.wasm, .js, .css). Then each bundle file is asked for
// as brotli, gzip and identity, outside the browser, to print the three sizes.
// Exit status 3 when the repeat visit downloaded any of the bundle again.
import { chromium, expect } from "@playwright/test";
import { readFileSync, writeFileSync } from "node:fs";
import * as http from "node:http";

const BASE = process.argv[2] || "http://127.0.0.1:3204";
const RESULTS = process.argv[3];
expect.configure({ timeout: 20_000 });

const isBundle = (url) => /^\/pkg\/.+\.(wasm|js|css)$/.test(new URL(url).pathname);
const kb = (n) => (n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`);

// Debian's Chromium, headless, no network of its own: the suite's own flags.
const browser = await chromium.launch(
  JSON.parse(readFileSync(new URL("./chromium.json", import.meta.url), "utf8")),
);

/** One visit to / in a new tab of `context`: what each response cost. */
async function visit(context) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const requests = new Map();
  const entry = (id) => requests.get(id) ?? requests.set(id, { bytes: 0, cached: false }).get(id);
  cdp.on("Network.requestWillBeSent", (e) => (entry(e.requestId).url = e.request.url));
  cdp.on("Network.requestServedFromCache", (e) => (entry(e.requestId).cached = true));
  cdp.on("Network.responseReceived", (e) => {
    const r = entry(e.requestId);
    r.status = e.response.status;
    r.encoding = e.response.headers["content-encoding"] ?? e.response.headers["Content-Encoding"] ?? "identity";
    if (e.response.fromDiskCache || e.response.fromPrefetchCache || e.response.fromServiceWorker) r.cached = true;
  });
  cdp.on("Network.loadingFinished", (e) => (entry(e.requestId).bytes = e.encodedDataLength));
  await cdp.send("Network.enable");
  await page.goto(`${BASE}/`);
  // Hydrated and streaming: the WASM was fetched and ran.
  await expect(page.getByTestId("connection-state")).toHaveText("live");
  await page.close();

  const all = [...requests.values()].filter((r) => r.url);
  const bundle = all.filter((r) => isBundle(r.url));
  const fromNetwork = bundle.filter((r) => !r.cached);
  const document = all.find((r) => new URL(r.url).pathname === "/");
  return {
    bundle_bytes: fromNetwork.reduce((sum, r) => sum + r.bytes, 0),
    bundle_requests_network: fromNetwork.length,
    bundle_requests_cache: bundle.length - fromNetwork.length,
    document_bytes: document?.bytes ?? 0,
    files: bundle.map((r) => ({
      path: new URL(r.url).pathname,
      bytes: r.cached ? 0 : r.bytes,
      encoding: r.encoding,
      cached: r.cached,
    })),
  };
}

/** The body's size on the wire when asked with `acceptEncoding` (not decoded). */
function bodySize(path, acceptEncoding) {
  return new Promise((resolve, reject) => {
    const headers = acceptEncoding ? { "accept-encoding": acceptEncoding } : {};
    http
      .get(`${BASE}${path}`, { headers }, (res) => {
        let size = 0;
        res.on("data", (chunk) => (size += chunk.length));
        res.on("end", () =>
          resolve({ size, encoding: res.headers["content-encoding"] ?? "identity", cache: res.headers["cache-control"] }),
        );
      })
      .on("error", reject);
  });
}

const version = browser.version();
let first, repeat;
try {
  const context = await browser.newContext();
  const login = await context.request.post(`${BASE}/api/auth/login`, {
    data: { username: "alice", password: "herald-demo" },
  });
  if (!login.ok()) throw new Error(`sign-in as alice: ${login.status()}`);
  first = await visit(context);
  repeat = await visit(context);
} finally {
  await browser.close();
}

const paths = [...new Set(first.files.map((f) => f.path))].sort();
const sizes = [];
for (const path of paths) {
  const [br, gzip, identity] = [await bodySize(path, "br"), await bodySize(path, "gzip"), await bodySize(path, null)];
  sizes.push({ path, br, gzip, identity });
}

console.log();
console.log("Table 6. The page in Chromium: bundle bytes over the wire, first visit and repeat visit");
console.log();
console.log(`Run: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC. Chromium ${version}, headless, on loopback.`);
console.log(
  "alice signed in, / loaded until live, then / again in a new tab of the same context. " +
    "Bytes: Chromium's encodedDataLength (headers included) of the bundle's responses (/pkg/*.wasm, .js, .css).",
);
console.log();
console.log("| Visit | Bundle bytes over the wire | Bundle requests to the network | From the cache | Page HTML |");
console.log("|---|---:|---:|---:|---:|");
for (const [name, v] of [["first (empty cache)", first], ["repeat (same context)", repeat]]) {
  console.log(
    `| ${name} | ${kb(v.bundle_bytes)} | ${v.bundle_requests_network} | ${v.bundle_requests_cache} | ${kb(v.document_bytes)} |`,
  );
}
console.log();
console.log(
  `Target: a repeat visit downloads 0 bytes of bundle — ${repeat.bundle_bytes} B: ${repeat.bundle_bytes === 0 ? "met" : "**NOT met**"}.`,
);
console.log();
console.log("| Bundle file | identity | gzip (-9, build time) | brotli (11, build time) | brotli / identity | Cache-Control |");
console.log("|---|---:|---:|---:|---:|---|");
for (const { path, br, gzip, identity } of sizes) {
  const named = (r, want) => (r.encoding === want ? kb(r.size) : `${kb(r.size)} (${r.encoding})`);
  console.log(
    `| ${path.replace(/^\/pkg\//, "")} | ${kb(identity.size)} | ${named(gzip, "gzip")} | ${named(br, "br")} | ` +
      `${((100 * br.size) / identity.size).toFixed(0)}% | ${identity.cache ?? "—"} |`,
  );
}
const total = (key) => sizes.reduce((sum, s) => sum + s[key].size, 0);
console.log(`| **all** | ${kb(total("identity"))} | ${kb(total("gzip"))} | ${kb(total("br"))} | ${((100 * total("br")) / total("identity")).toFixed(0)}% | |`);

if (RESULTS) writeFileSync(RESULTS, JSON.stringify({ first, repeat, sizes }, null, 2));
process.exit(repeat.bundle_bytes > 0 ? 3 : 0);
