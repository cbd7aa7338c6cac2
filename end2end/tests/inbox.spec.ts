import { expect, test } from "@playwright/test";
import { announce, badgeCount, PASSWORD, signIn } from "./helpers";

test("marking read in one tab clears the badge in the other", async ({ browser, request }) => {
  const context = await browser.newContext();
  const tabA = await context.newPage();
  await signIn(tabA, "bob");
  const tabB = await context.newPage();
  await tabB.goto("/");
  await expect(tabB.getByTestId("connection-state")).toHaveText("live");

  const before = await badgeCount(tabA);
  const title = `Two tabs ${Date.now()}`;
  await announce(request, { title });
  await expect(tabA.getByTestId("unread-badge")).toHaveText(String(before + 1));
  await expect(tabB.getByTestId("unread-badge")).toHaveText(String(before + 1));

  await tabA.getByTestId("inbox").getByRole("button", { name: title }).click();
  await expect(tabA.getByTestId("unread-badge")).toHaveText(String(before));
  await expect(tabB.getByTestId("unread-badge")).toHaveText(String(before));
  await expect(tabB.getByTestId("inbox").locator(`[data-read="true"]`, { hasText: title })).toHaveCount(1);

  await announce(request, { title: `${title} again` });
  await expect(tabB.getByTestId("unread-badge")).toHaveText(String(before + 1));
  await tabB.getByTestId("mark-all-read").first().click();
  await expect(tabA.getByTestId("unread-badge")).toHaveText("0");
  await expect(tabA).toHaveTitle("Herald");
  await context.close();
});

test("eight tabs of one user all get a broadcast over one shared stream", async ({ browser, request }) => {
  const context = await browser.newContext();
  const first = await context.newPage();
  await signIn(first, "alice");
  const tabs = [first];
  for (let i = 1; i < 8; i++) {
    const tab = await context.newPage();
    await tab.goto("/");
    await expect(tab.getByTestId("connection-state")).toHaveText("live");
    tabs.push(tab);
  }
  const title = `Eight tabs ${Date.now()}`;
  await announce(request, { title });
  for (const tab of tabs) {
    await expect(tab.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(title);
  }
  // The leader tab closes: another takes the stream over within a few seconds.
  await tabs[0].close();
  const second = `After the leader left ${Date.now()}`;
  await announce(request, { title: second });
  for (const tab of tabs.slice(1)) {
    await expect(tab.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(second);
  }
  await context.close();
});

test("going offline and back shows the missed notification exactly once", async ({ browser, request }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, "bob");
  await context.setOffline(true);
  await expect(page.getByTestId("connection-state")).toHaveText("offline");

  const title = `While you were away ${Date.now()}`;
  await announce(request, { title });
  await context.setOffline(false);
  await expect(page.getByTestId("connection-state")).toHaveText("live");
  const items = page.getByTestId("inbox").getByTestId("notification-title").filter({ hasText: title });
  await expect(items).toHaveCount(1);
  const toasts = page.getByTestId("toast").filter({ hasText: title });
  await expect(toasts).toHaveCount(1);
  // A duplicate would come with the catch-up (a second replay, a refetch on
  // top of the replay), after the first copy: something sent after it,
  // arriving, shows the stream has moved past that point; only then is
  // "once" still once. (Toasts last 6 s: at most one may be left.)
  const after = `After coming back ${Date.now()}`;
  await announce(request, { title: after });
  await expect(page.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(after);
  expect(await items.count(), "the missed one, still once").toBe(1);
  expect(await toasts.count(), "its toast, never twice").toBeLessThanOrEqual(1);
  await context.close();
});

test("a critical announcement shows a banner until acknowledged", async ({ browser, request }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, "alice");
  const title = `Outage ${Date.now()}`;
  await announce(request, { title, body: "Payments are down.", severity: "critical" });
  const banner = page.getByTestId("critical-banner").filter({ hasText: title });
  await expect(banner).toBeVisible();
  await expect(page.locator(".banners")).toHaveAttribute("aria-live", "assertive");
  await expect(page.getByTestId("toast").filter({ hasText: title })).toBeVisible();
  const unread = await badgeCount(page);
  await banner.getByRole("button", { name: "Acknowledge" }).click();
  await expect(banner).toHaveCount(0);
  await expect(page.getByTestId("unread-badge")).toHaveText(String(unread - 1));
  await context.close();
});

test("a hidden tab raises a system notification when the user allowed it", async ({ browser, request }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Stand-ins for a hidden tab and a granted permission, recording what is shown.
  await page.addInitScript(() => {
    const shown: string[] = [];
    (window as unknown as { __shown: string[] }).__shown = shown;
    class RecordingNotification {
      static permission = "granted";
      static requestPermission() {
        return Promise.resolve("granted");
      }
      constructor(title: string) {
        shown.push(title);
      }
    }
    Object.defineProperty(window, "Notification", { value: RecordingNotification });
    Object.defineProperty(document, "visibilityState", { get: () => "hidden" });
  });
  await signIn(page, "bob");
  const title = `While hidden ${Date.now()}`;
  await announce(request, { title });
  await expect(page.getByTestId("inbox").getByText(title)).toHaveCount(1);
  expect(await page.evaluate(() => (window as unknown as { __shown: string[] }).__shown)).toContain(title);
  await context.close();
});

test("the bell opens with the keyboard and Escape gives focus back", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, "alice");
  const bell = page.getByTestId("bell");
  await bell.focus();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("bell-dropdown")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("bell-dropdown")).toHaveCount(0);
  await expect(bell).toBeFocused();
  await context.close();
});

test("the export's progress bar reaches 100% and the result arrives", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, "bob");
  await page.getByTestId("start-export").click();
  await expect(page.getByTestId("export-status")).toHaveText("100% — done", { timeout: 15_000 });
  await expect(page.getByTestId("export-progress")).toHaveAttribute("value", "100");
  await expect(page.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(
    "Your export is ready",
  );
  await context.close();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("marking read and archiving work with plain forms", async ({ page, request }) => {
    const title = `No-JS actions ${Date.now()}`;
    await announce(request, { title });
    await page.goto("/login");
    await page.getByLabel("Username").fill("alice");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/$/);
    const item = page.getByTestId("inbox").getByTestId("notification").filter({ hasText: title });
    await expect(item).toHaveAttribute("data-read", "false");
    const unread = Number(await page.getByTestId("unread-badge").textContent());

    await item.getByRole("button", { name: title }).click();
    await expect(page).toHaveURL(/\/\??$/);
    await expect(item).toHaveAttribute("data-read", "true");
    await expect(page.getByTestId("unread-badge")).toHaveText(String(unread - 1));

    await item.getByTestId("archive").click();
    await expect(item).toHaveCount(0);
  });
});

// The inbox in both color schemes and on a phone (the README's screenshots of
// them come from `make screenshots`, end2end/screenshots.mjs).
test.describe("inbox layouts", () => {
  for (const scheme of ["light", "dark"] as const) {
    test(`inbox in ${scheme} mode`, async ({ browser, request }) => {
      const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1000, height: 640 } });
      const page = await context.newPage();
      await signIn(page, "alice");
      await announce(request, {
        title: `Deploy finished (${scheme})`,
        body: "Version 2.4 is live for everyone.",
        severity: "info",
        link: "/",
      });
      await expect(page.getByTestId("toast").first()).toBeVisible();
      await page.getByTestId("bell").click();
      await expect(page.getByTestId("bell-dropdown")).toBeVisible();
      await context.close();
    });
  }

  test("inbox at 360 px", async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 360, height: 720 }, isMobile: true });
    const page = await context.newPage();
    await signIn(page, "alice");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.getByTestId("bell").click();
    const box = await page.getByTestId("bell-dropdown").boundingBox();
    expect(box).not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(360);
    await context.close();
  });
});
