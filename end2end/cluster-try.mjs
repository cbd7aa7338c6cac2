// Not part of the suite: a by-hand check of `make cluster` in Chromium,
// through the proxy. With the cluster running (default http://127.0.0.1:8080):
//
//   cd end2end && node cluster-try.mjs [URL]
//
// Alice signs in twice (two browsers, so two streams that nginx is likely to
// send to different instances), admin once; admin broadcasts from /admin
// (a publish on whichever instance takes the POST) and both of alice's bells
// must show it. Saves docs/screenshots/cluster.png.
import { chromium, expect } from "@playwright/test";
import * as path from "node:path";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BASE = process.argv[2] || process.env.CLUSTER_URL || "http://127.0.0.1:8080";
const SHOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "docs", "screenshots", "cluster.png");
expect.configure({ timeout: 10_000 });

// Debian's Chromium, headless, no network of its own: the suite's own flags.
const browser = await chromium.launch(
  JSON.parse(readFileSync(new URL("./chromium.json", import.meta.url), "utf8")),
);

async function signedIn(username) {
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill("herald-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${BASE}/`);
  await expect(page.getByTestId("connection-state")).toHaveText("live");
  return page;
}

try {
  const alices = [await signedIn("alice"), await signedIn("alice")];
  const admin = await signedIn("admin");
  await admin.goto("/admin");
  await expect(admin.getByTestId("connection-state")).toHaveText("live");

  const before = await Promise.all(alices.map(async (p) => Number(await p.getByTestId("unread-badge").textContent())));
  const title = `Through the cluster ${new Date().toISOString().slice(11, 19)}`;
  await admin.getByLabel("Title").fill(title);
  await admin.getByLabel("Message").fill("Sent on one instance, delivered by all three.");
  await admin.getByTestId("send-broadcast").click();
  await expect(admin.getByTestId("send-result")).toHaveText(/^Sent to \d+ users\.$/);
  console.log(`admin: ${await admin.getByTestId("send-result").textContent()}`);

  for (const [i, alice] of alices.entries()) {
    await expect(alice.getByTestId("unread-badge")).toHaveText(String(before[i] + 1));
    await expect(alice.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(title);
    console.log(`alice #${i + 1}: bell ${before[i]} -> ${before[i] + 1}, "${title}" on top`);
  }
  // The console's numbers cover every instance (refreshed every 2 s).
  await admin.waitForTimeout(2500);
  console.log(`admin console: total streams ${await admin.getByTestId("total-streams").textContent()}`);

  const alice = alices[0];
  await alice.setViewportSize({ width: 900, height: 560 });
  await alice.getByTestId("bell").click();
  await expect(alice.getByTestId("bell-dropdown").getByTestId("notification-title").first()).toHaveText(title);
  await alice.screenshot({ path: SHOT });
  console.log(`screenshot: ${SHOT}`);
} finally {
  await browser.close();
}
