// `make screenshots` (scripts/screenshots.sh starts the servers): the README's
// screenshots of the seeded demo, in a real Chromium.
//
//   cd end2end && node screenshots.mjs HERALD_URL HOST_URL OUT_DIR
//
// HERALD_URL is a fresh demo Herald WITH its week of notifications
// (HERALD_DEMO_SEED=1); HOST_URL the example host app (examples/host-page),
// an origin that Herald allows. The story is one a team would see: alice and
// bob are online and alice has read the week's oldest two, the admin sends a
// maintenance notice from the console and it reaches alice's bell live; then
// the inbox (light, dark, 360 px), the console with the week's funnels, alice's
// preferences and the bell on the host page. Every step waits on the page's
// state (the stream "live", the badge, the funnel's numbers): no sleeps.
import { chromium, expect } from "@playwright/test";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const [BASE, HOST, OUT] = process.argv.slice(2);
if (!BASE || !HOST || !OUT) {
  console.error("usage: node screenshots.mjs HERALD_URL HOST_URL OUT_DIR");
  process.exit(2);
}
const PASSWORD = "herald-demo";
// The seed's oldest two (src/server/store/demo.rs), which alice has read.
const READ_BY_ALICE = ["Welcome to Herald", "Deployed api v2.14.0 to production"];
const LIVE_TITLE = "Scheduled maintenance tonight at 22:00";
expect.configure({ timeout: 20_000 });
mkdirSync(OUT, { recursive: true });

// Debian's Chromium, headless, no network of its own: the suite's own flags.
const browser = await chromium.launch(JSON.parse(readFileSync(new URL("./chromium.json", import.meta.url), "utf8")));
const written = [];
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A new browser context signed in as `username` through the login form, on `/`, live. */
async function signedIn(username, options = {}) {
  const context = await browser.newContext({ baseURL: BASE, ...options });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${BASE}/`);
  // "live" is shown once the stream's `connected` event has arrived.
  await expect(page.getByTestId("connection-state")).toHaveText("live");
  return page;
}

async function shot(page, name) {
  const file = path.join(OUT, name);
  await page.screenshot({ path: file });
  written.push(file);
}

/** The open inbox page at rest: the seeded week listed, the tabs counted, the bell closed. */
async function inboxAtRest(page) {
  await expect(page.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(LIVE_TITLE);
  await expect(page.getByTestId("category-tab").first()).toBeVisible();
  await expect(page.getByTestId("bell-dropdown")).toBeHidden();
}

try {
  const alice = await signedIn("alice", { viewport: { width: 900, height: 560 } });
  // bob is online too: the console counts his deliveries.
  const bob = await signedIn("bob");
  await expect(bob.getByTestId("inbox").getByTestId("notification").first()).toBeVisible();

  // alice has read the week's oldest two (a click on a title marks it read).
  for (const title of READ_BY_ALICE) {
    const item = alice.getByTestId("inbox").getByTestId("notification").filter({ hasText: title });
    await item.getByTestId("notification-title").click();
    await expect(item).toHaveAttribute("data-read", "true");
  }
  const unread = Number(await alice.getByTestId("unread-badge").textContent());
  // Those clicks scrolled down to the oldest; the bell opens over the newest.
  await alice.evaluate(() => window.scrollTo(0, 0));

  // The admin sends from the console; alice's bell takes it live.
  const admin = await signedIn("admin", { viewport: { width: 1000, height: 900 } });
  await admin.goto("/admin");
  await expect(admin.getByTestId("connection-state")).toHaveText("live");
  await admin.getByLabel("Title").fill(LIVE_TITLE);
  await admin.getByLabel("Message").fill("Herald will be read-only for about ten minutes.");
  await admin.getByLabel("Severity").selectOption("warning");
  await admin.getByTestId("send-broadcast").click();
  await expect(admin.getByTestId("send-result")).toHaveText("Sent to 3 users.");

  await expect(alice.getByTestId("unread-badge")).toHaveText(String(unread + 1));
  await alice.getByTestId("bell").click();
  await expect(alice.getByTestId("bell-dropdown")).toBeVisible();
  await expect(alice.getByTestId("bell-list").getByTestId("notification-title").first()).toHaveText(LIVE_TITLE);
  await shot(alice, "bell.png");
  await alice.context().close();

  // The inbox as each look would first show it: a fresh sign-in, nothing open.
  for (const scheme of ["light", "dark"]) {
    const page = await signedIn("alice", { colorScheme: scheme, viewport: { width: 1000, height: 640 } });
    await inboxAtRest(page);
    await shot(page, `inbox-${scheme}.png`);
    await page.context().close();
  }
  const phone = await signedIn("alice", { viewport: { width: 360, height: 720 }, isMobile: true });
  await inboxAtRest(phone);
  await shot(phone, "inbox-mobile.png");
  await phone.context().close();

  // alice's preferences: the seeded categories, one per row (her page stays
  // open, so the console counts her online).
  const prefs = await signedIn("alice", { viewport: { width: 1000, height: 460 } });
  await prefs.getByTestId("preferences-link").click();
  await prefs.waitForURL(`${BASE}/preferences`);
  await expect(prefs.locator('[data-testid="preference-row"][data-category="security"]')).toBeVisible();
  await shot(prefs, "preferences.png");

  // The console: the week's history with funnels that count real deliveries
  // and reads (recorded in batches, the table refreshed every 2 s).
  const rows = admin.getByTestId("history-row");
  await expect(rows.filter({ hasText: LIVE_TITLE }).getByTestId("funnel")).toHaveText(/^3 \/ 3 \/ \d+$/);
  await expect(rows.filter({ hasText: READ_BY_ALICE[0] }).getByTestId("funnel")).toHaveText(/^3 \/ [23] \/ 1$/);
  // The online list is refreshed every 2 s too: alice's preferences tab is in it.
  await expect(admin.getByTestId("online-user").filter({ hasText: "alice" })).toBeVisible();
  // Who is online and what was sent, from the top (the compose form is above).
  await admin.getByTestId("hub-stats").evaluate((el) => el.scrollIntoView({ block: "start" }));
  // The admin's own toast of the live send (6 s) would hide the table's corner.
  await expect(admin.getByTestId("toast")).toHaveCount(0);
  await shot(admin, "admin.png");

  // The bell on the example host app, another origin, open.
  const host = await (await browser.newContext()).newPage();
  await host.goto(`${HOST}/?as=alice`);
  await expect(host.getByTestId("host-user")).toHaveText("alice");
  await expect(host.getByTestId("herald-state")).toHaveAttribute("data-state", "open");
  await expect(host.getByTestId("herald-badge")).not.toHaveText("0");
  await host.getByTestId("herald-bell").click();
  await expect(host.getByTestId("herald-bell")).toHaveAttribute("aria-expanded", "true");
  await expect(host.getByTestId("herald-title").first()).toHaveText(LIVE_TITLE);
  await shot(host, "embed-host-page.png");
} finally {
  await browser.close();
}

for (const file of written) console.log(`wrote ${path.relative(ROOT, path.resolve(file))} (${statSync(file).size} bytes)`);
