import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { announce, badgeCount, PASSWORD, signedInPage } from "./helpers";

/** A bearer token for a demo user. */
async function tokenOf(request: APIRequestContext, username: string): Promise<string> {
  const login = await request.post("/api/auth/login", { data: { username, password: PASSWORD } });
  expect(login.status()).toBe(200);
  return (await login.json()).token;
}

/** The inbox item with this title. */
function item(page: Page, title: string) {
  return page.getByTestId("inbox").getByTestId("notification").filter({ hasText: title });
}

test("an event sent under its own name appears live", async ({ browser, request }) => {
  const alice = await signedInPage(browser, "alice");
  const before = await badgeCount(alice);
  const admin = await tokenOf(request, "admin");
  // A name this server has never sent: the page learns it on the stream.
  const event = `deploy.e2e${Date.now()}`;
  const title = `Deployed ${Date.now()}`;
  const sent = await request.post("/api/sse/broadcast", {
    headers: { Authorization: `Bearer ${admin}` },
    data: { event, data: { title } },
  });
  expect(sent.status()).toBe(200);
  await expect(alice.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(title);
  await expect(alice.getByTestId("unread-badge")).toHaveText(String(before + 1));
  // The same name again: the listener it has serves it.
  await request.post("/api/sse/broadcast", {
    headers: { Authorization: `Bearer ${admin}` },
    data: { event, data: { title: `${title} again` } },
  });
  await expect(alice.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(
    `${title} again`,
  );
});

test("a snoozed notification leaves every tab and comes back live", async ({ browser, request }) => {
  const context = await browser.newContext();
  const tabA = await context.newPage();
  await tabA.goto("/login");
  await tabA.getByLabel("Username").fill("bob");
  await tabA.getByLabel("Password").fill(PASSWORD);
  await tabA.getByRole("button", { name: "Sign in" }).click();
  await tabA.waitForURL("/");
  await expect(tabA.getByTestId("connection-state")).toHaveText("live");
  const tabB = await context.newPage();
  await tabB.goto("/");
  await expect(tabB.getByTestId("connection-state")).toHaveText("live");

  const later = `Snooze me ${Date.now()}`;
  await announce(request, { title: later });
  await expect(item(tabA, later)).toHaveCount(1);
  const before = await badgeCount(tabA);

  // The preset: gone from both tabs and from the count.
  await item(tabA, later).getByTestId("snooze").locator("summary").click();
  await item(tabA, later).getByTestId("snooze-hour").click();
  await expect(item(tabA, later)).toHaveCount(0);
  await expect(item(tabB, later)).toHaveCount(0);
  await expect(tabB.getByTestId("unread-badge")).toHaveText(String(before - 1));

  // A short snooze through the API, to see one come back.
  const soon = `Back soon ${Date.now()}`;
  await announce(request, { title: soon });
  await expect(item(tabB, soon)).toHaveCount(1);
  const id = await item(tabB, soon).getAttribute("data-id");
  const bob = await tokenOf(request, "bob");
  const until = new Date(Date.now() + 1500).toISOString();
  const snoozed = await request.post(`/api/notifications/${id}/snooze`, {
    headers: { Authorization: `Bearer ${bob}` },
    data: { until },
  });
  expect(snoozed.status()).toBe(200);
  await expect(item(tabA, soon)).toHaveCount(0);
  await expect(tabA.getByTestId("unread-badge")).toHaveText(String(before - 1));
  // Back, unread, on top, in both tabs, once.
  await expect(item(tabA, soon)).toHaveCount(1);
  await expect(item(tabB, soon)).toHaveCount(1);
  await expect(item(tabB, soon)).toHaveAttribute("data-read", "false");
  await expect(tabB.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(soon);
  await expect(tabA.getByTestId("unread-badge")).toHaveText(String(before));
  await context.close();
});

test("archive read and archive selected, one click each", async ({ browser, request }) => {
  const alice = await signedInPage(browser, "alice");
  const stamp = Date.now();
  const titles = [0, 1, 2, 3].map((n) => `Bulk ${n} ${stamp}`);
  for (const title of titles) await announce(request, { title });
  await expect(item(alice, titles[3])).toHaveCount(1);
  const before = await badgeCount(alice);

  // Read one, then archive everything read: it goes, the unread stay.
  await alice.getByTestId("inbox").getByRole("button", { name: titles[0] }).click();
  await expect(item(alice, titles[0])).toHaveAttribute("data-read", "true");
  await alice.getByTestId("archive-read").click();
  await expect(item(alice, titles[0])).toHaveCount(0);
  await expect(item(alice, titles[1])).toHaveCount(1);
  await expect(alice.getByTestId("unread-badge")).toHaveText(String(before - 1));

  // Select two and archive them.
  await item(alice, titles[1]).getByTestId("select").check();
  await item(alice, titles[2]).getByTestId("select").check();
  await expect(alice.getByTestId("archive-selected")).toHaveText("Archive selected (2)");
  await alice.getByTestId("archive-selected").click();
  await expect(item(alice, titles[1])).toHaveCount(0);
  await expect(item(alice, titles[2])).toHaveCount(0);
  await expect(item(alice, titles[3])).toHaveCount(1);
  await expect(alice.getByTestId("unread-badge")).toHaveText(String(before - 3));
  await expect(alice.getByTestId("archive-selected")).toBeDisabled();
});

test("the console updates over the stream, with its clock stopped", async ({ browser }) => {
  const alice = await signedInPage(browser, "alice");
  const watcher = await signedInPage(browser, "admin");
  // Timers stopped: a poll could not run; only the stream can update it.
  await watcher.clock.install();
  await watcher.goto("/admin");
  await expect(watcher.getByTestId("connection-state")).toHaveText("live");
  await watcher.clock.pauseAt(Date.now() + 1000);

  const sender = await signedInPage(browser, "admin");
  await sender.goto("/admin");
  await expect(sender.getByTestId("connection-state")).toHaveText("live");
  const title = `Console ${Date.now()}`;
  await sender.getByLabel("Title").fill(title);
  await sender.getByTestId("send-broadcast").click();
  await expect(sender.getByTestId("send-result")).toContainText("Sent to");
  // The form cleared: a second click cannot send it again.
  await expect(sender.getByLabel("Title")).toHaveValue("");
  await sender.getByTestId("send-broadcast").click();
  await expect(sender.getByTestId("history-row").filter({ hasText: title })).toHaveCount(1);

  // The other admin tab shows it, then its funnel moving as alice reads.
  const row = watcher.getByTestId("history-row").filter({ hasText: title });
  await expect(row).toHaveCount(1);
  await alice.getByTestId("inbox").getByRole("button", { name: title }).click();
  await expect(row.getByTestId("funnel")).toHaveText(/ \/ 1$/);
});
