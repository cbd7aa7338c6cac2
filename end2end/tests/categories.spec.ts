import { expect, test, type APIRequestContext } from "@playwright/test";
import { badgeCount, PASSWORD, signIn } from "./helpers";

/** The demo admin's bearer token. */
async function adminToken(request: APIRequestContext): Promise<string> {
  const login = await request.post("/api/auth/login", {
    data: { username: "admin", password: PASSWORD },
  });
  expect(login.status()).toBe(200);
  return (await login.json()).token;
}

/** Broadcasts `data` (title, category, actions…); returns the announcement's id. */
async function send(request: APIRequestContext, data: Record<string, unknown>): Promise<number> {
  const sent = await request.post("/api/sse/broadcast", {
    headers: { Authorization: `Bearer ${await adminToken(request)}` },
    data: { data },
  });
  expect(sent.status()).toBe(200);
  return (await sent.json()).data.id;
}

test("a muted category raises no toast and no badge, and its tab still counts it", async ({ browser, request }) => {
  const category = `m${Date.now()}`;
  await send(request, { title: `First of ${category}`, category });

  const context = await browser.newContext();
  const inbox = await context.newPage();
  await signIn(inbox, "bob");
  const tab = inbox.locator(`[data-testid="category-tab"][data-category="${category}"]`);
  await expect(tab.getByTestId("tab-count")).toHaveText("1");

  // Muted in another tab: the inbox tab takes it at once (the `preferences` event).
  const prefs = await context.newPage();
  await prefs.goto("/preferences");
  await expect(prefs.getByText("Critical notifications are never muted.")).toBeVisible();
  const before = await badgeCount(inbox);
  await prefs.locator(`[data-testid="preference-row"][data-category="${category}"]`).getByTestId("mute").check();
  await prefs.getByTestId("save-preferences").click();
  await expect(prefs.getByTestId("preferences-saved")).toBeVisible();
  await expect(inbox.getByTestId("unread-badge")).toHaveText(String(before - 1));

  // A new one in the muted category: listed, counted in its tab, no toast, no badge.
  const quiet = `Quiet ${category}`;
  await send(request, { title: quiet, category });
  await expect(tab.getByTestId("tab-count")).toHaveText("2");
  await expect(inbox.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(quiet);
  // Checked once, not retried: a toast would be there by now (the same
  // update that listed it), and a retrying check would pass once it expired.
  expect(await inbox.getByTestId("toast").filter({ hasText: quiet }).count()).toBe(0);
  await expect(inbox.getByTestId("unread-badge")).toHaveText(String(before - 1));

  // A critical one in the muted category is announced all the same.
  const loud = `Critical ${category}`;
  await send(request, { title: loud, category, severity: "critical" });
  await expect(inbox.getByTestId("toast").filter({ hasText: loud })).toHaveCount(1);
  await expect(tab.getByTestId("tab-count")).toHaveText("3");
  await expect(inbox.getByTestId("unread-badge")).toHaveText(String(before));

  // The tab lists only its category; reading it reads only that one.
  await tab.click();
  await expect(inbox.getByTestId("inbox").getByTestId("notification")).toHaveCount(3);
  await inbox.getByTestId("inbox").locator("xpath=ancestor::section[1]").getByTestId("mark-all-read").click();
  await expect(tab.getByTestId("tab-count")).toHaveText("0");
  await expect(inbox.getByTestId("unread-badge")).toHaveText(String(before - 1));
  await context.close();
});

test("an action button opens its link and the click is recorded", async ({ browser, request }) => {
  const title = `Action ${Date.now()}`;
  const id = await send(request, {
    title,
    category: "security",
    actions: [{ label: "Open the runbook", url: "/healthz" }],
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, "alice");
  const item = page.getByTestId("inbox").getByTestId("notification").filter({ hasText: title });
  const action = item.getByTestId("action");
  await expect(action).toHaveText("Open the runbook");
  const opened = context.waitForEvent("page");
  await action.click();
  await (await opened).close();
  const token = await adminToken(request);
  await expect
    .poll(async () => {
      const history = await request.get("/api/announcements", {
        headers: { Authorization: `Bearer ${token}` },
      });
      const row = (await history.json()).data.find((a: { id: number }) => a.id === id);
      return row?.clicked;
    })
    .toBe(1);
  // The console's funnel shows it.
  const admin = await browser.newContext();
  const console = await admin.newPage();
  await signIn(console, "admin");
  await console.goto("/admin");
  const row = console.locator(`[data-testid="history-row"][data-id="${id}"]`);
  await expect(row.getByTestId("funnel-clicked")).toHaveText("1");
  await admin.close();
  await context.close();
});

test("a category's tab lists all of it from the server, older pages included, and stays live", async ({ browser, request }) => {
  const stamp = Date.now();
  const category = `p${stamp}`;
  const other = `o${stamp}`;
  const token = await adminToken(request);
  const broadcast = async (data: Record<string, unknown>) => {
    const sent = await request.post("/api/sse/broadcast", {
      headers: { Authorization: `Bearer ${token}` },
      data: { data },
    });
    expect(sent.status()).toBe(200);
  };
  // More of the category than a page holds (20), then a page of others on
  // top: the whole inbox's first page holds none of the category.
  await broadcast({ title: `${other} first`, category: other });
  for (let i = 1; i <= 22; i++) {
    await broadcast({ title: `${category} #${i}`, category });
  }
  for (let i = 1; i <= 20; i++) {
    await broadcast({ title: `Filler ${stamp} #${i}` });
  }

  const context = await browser.newContext();
  const inbox = await context.newPage();
  await signIn(inbox, "bob");
  const list = inbox.getByTestId("inbox");
  const titles = list.getByTestId("notification-title");
  await expect(titles.first()).toHaveText(`Filler ${stamp} #20`);
  await expect(list.getByTestId("category").filter({ hasText: category })).toHaveCount(0);
  const tab = inbox.locator(`[data-testid="category-tab"][data-category="${category}"]`);
  const otherTab = inbox.locator(`[data-testid="category-tab"][data-category="${other}"]`);
  await expect(tab.getByTestId("tab-count")).toHaveText("22");

  // The tab: the category's newest page, from the server.
  await tab.click();
  await expect(tab).toHaveAttribute("aria-selected", "true");
  await expect(titles).toHaveCount(20);
  await expect(titles.first()).toHaveText(`${category} #22`);
  await expect(titles.last()).toHaveText(`${category} #3`);

  // Older: the rest of the category, not other categories' older ones.
  await inbox.getByTestId("older").click();
  await expect(titles).toHaveCount(2);
  await expect(titles).toHaveText([`${category} #2`, `${category} #1`]);
  await expect(tab).toHaveAttribute("aria-selected", "true");
  await inbox.getByTestId("newest").click();
  await expect(titles).toHaveCount(20);
  await expect(titles.first()).toHaveText(`${category} #22`);

  // Live: another category's arrival counts in its tab, not listed here;
  // this category's goes on top.
  await broadcast({ title: `${other} live`, category: other });
  await expect(otherTab.getByTestId("tab-count")).toHaveText("2");
  await expect(titles.first()).toHaveText(`${category} #22`);
  await expect(list.getByText(`${other} live`)).toHaveCount(0);
  await broadcast({ title: `${category} live`, category });
  await expect(titles.first()).toHaveText(`${category} live`);
  await expect(tab.getByTestId("tab-count")).toHaveText("23");
  await expect(titles).toHaveCount(20);

  // "All": the whole inbox again.
  await inbox.locator('[data-testid="category-tab"][data-category=""]').click();
  await expect(titles.first()).toHaveText(`${category} live`);
  await expect(titles.nth(1)).toHaveText(`${other} live`);
  await context.close();
});
