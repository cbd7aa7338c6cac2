import { expect, test } from "@playwright/test";
import { announce, PASSWORD, signedInPage } from "./helpers";

/** `YYYY-MM-DDTHH:MM:SS` in UTC, `ms` from now, as the datetime inputs take it. */
function utcInput(ms: number): string {
  return new Date(Date.now() + ms).toISOString().slice(0, 19);
}

test("an admin sends to one user and only that user sees it", async ({ browser }) => {
  const bob = await signedInPage(browser, "bob");
  const alice = await signedInPage(browser, "alice");
  const admin = await signedInPage(browser, "admin");
  await admin.goto("/admin");
  await expect(admin.getByTestId("connection-state")).toHaveText("live");

  const title = `Just for bob ${Date.now()}`;
  await admin.getByLabel("Title").fill(title);
  await expect(admin.getByTestId("preview-title")).toHaveText(title);
  await admin.getByTestId("target").selectOption("user");
  await admin.getByTestId("target-username").fill("bob");
  await admin.getByTestId("send-broadcast").click();
  await expect(admin.getByTestId("send-result")).toHaveText("Sent to 1 user.");

  await expect(bob.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(title);
  // A broadcast after it reaches alice; the targeted one never did.
  const after = `For everyone ${Date.now()}`;
  await admin.getByLabel("Title").fill(after);
  await admin.getByTestId("target").selectOption("all");
  await admin.getByTestId("send-broadcast").click();
  await expect(alice.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(after);
  await expect(alice.getByTestId("inbox").getByText(title)).toHaveCount(0);

  // The history shows both, with their funnel.
  const rows = admin.getByTestId("history-row");
  await expect(rows.filter({ hasText: title }).getByTestId("funnel")).toHaveText(/^1 \/ 1 \/ 0$/);
});

test("field errors show next to the field", async ({ browser }) => {
  const admin = await signedInPage(browser, "admin");
  await admin.goto("/admin");
  await expect(admin.getByTestId("connection-state")).toHaveText("live");
  await admin.getByLabel("Title").fill("Bad link");
  await admin.getByLabel("Link (optional)").fill("javascript:alert(1)");
  await admin.getByTestId("send-broadcast").click();
  await expect(admin.getByTestId("error-link")).toContainText("http(s) URL");
  await admin.getByTestId("target").selectOption("user");
  await admin.getByLabel("Link (optional)").fill("");
  await admin.getByTestId("target-username").fill("nobody-here");
  await admin.getByTestId("send-broadcast").click();
  await expect(admin.getByTestId("error-username")).toContainText("no user named");
});

test("a scheduled announcement arrives on time, not before", async ({ browser, request }) => {
  const alice = await signedInPage(browser, "alice");
  const admin = await signedInPage(browser, "admin");
  await admin.goto("/admin");
  await expect(admin.getByTestId("connection-state")).toHaveText("live");
  const title = `Scheduled ${Date.now()}`;
  // Alice's page notes when the title first shows in her inbox, by the
  // browser's clock: the machine's, as this test's and the server's are.
  await alice.evaluate((title) => {
    const w = window as unknown as { __arrivedAt?: number };
    const inbox = () => document.querySelector('[data-testid="inbox"]');
    new MutationObserver(() => {
      if (w.__arrivedAt === undefined && inbox()?.textContent?.includes(title)) w.__arrivedAt = Date.now();
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  }, title);
  // The input takes whole seconds: this is the instant the server is given.
  const sendAt = utcInput(6_000);
  const sendAtMs = Date.parse(`${sendAt}Z`);
  await admin.getByLabel("Title").fill(title);
  await admin.getByTestId("send-at").fill(sendAt);
  await admin.getByTestId("send-broadcast").click();
  await expect(admin.getByTestId("send-result")).toHaveText("Scheduled.");
  await expect(admin.getByTestId("history-row").filter({ hasText: title })).toHaveAttribute(
    "data-status",
    "scheduled",
  );
  // Not yet: something sent now reaches alice (her stream is delivering),
  // and the scheduled one is still not there — checked before its time, or
  // the check would prove nothing.
  const now = `Sent meanwhile ${Date.now()}`;
  await announce(request, { title: now });
  await expect(alice.getByTestId("inbox").getByText(now)).toHaveCount(1);
  const checkedAt = Date.now();
  const early = await alice.getByTestId("inbox").getByText(title).count();
  expect(checkedAt, "checked before the scheduled time (the 6 s lead was too short)").toBeLessThan(sendAtMs);
  expect(early, "not there yet").toBe(0);
  // ...then live, without a reload, and not before its time.
  await expect(alice.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(title, {
    timeout: 15_000,
  });
  const arrivedAt = await alice.evaluate(() => (window as unknown as { __arrivedAt?: number }).__arrivedAt);
  expect(arrivedAt, "the arrival was seen").toBeDefined();
  expect(arrivedAt!, "not before its time").toBeGreaterThanOrEqual(sendAtMs);
  // The scheduler looks every second (HERALD_SCHEDULER_MS): on time is within a few.
  expect(arrivedAt! - sendAtMs, "on time").toBeLessThan(5_000);
});

test("a retracted announcement disappears live", async ({ browser }) => {
  const alice = await signedInPage(browser, "alice");
  const admin = await signedInPage(browser, "admin");
  await admin.goto("/admin");
  await expect(admin.getByTestId("connection-state")).toHaveText("live");
  const title = `Sent by mistake ${Date.now()}`;
  await admin.getByLabel("Title").fill(title);
  await admin.getByTestId("send-broadcast").click();
  await expect(alice.getByTestId("inbox").getByText(title)).toHaveCount(1);
  const before = Number(await alice.getByTestId("unread-badge").textContent());

  await admin.getByTestId("history-row").filter({ hasText: title }).getByTestId("retract").click();
  await expect(alice.getByTestId("inbox").getByText(title)).toHaveCount(0);
  await expect(alice.getByTestId("unread-badge")).toHaveText(String(before - 1));
  await expect(admin.getByTestId("history-row").filter({ hasText: title })).toHaveAttribute(
    "data-status",
    "retracted",
  );
  await expect(admin.getByTestId("audit")).toContainText("announcement.retracted");
});

test("users get 403 from the admin page and the admin API", async ({ browser, request }) => {
  const alice = await signedInPage(browser, "alice");
  const page = await alice.goto("/admin");
  expect(page?.status()).toBe(403);

  const login = await request.post("/api/auth/login", { data: { username: "alice", password: PASSWORD } });
  const { token } = await login.json();
  for (const [method, path] of [
    ["POST", "/api/sse/broadcast"],
    ["GET", "/api/sse/stats"],
    ["GET", "/api/announcements"],
    ["GET", "/api/audit"],
  ]) {
    const res = await request.fetch(path, {
      method,
      headers: { Authorization: `Bearer ${token}` },
      data: method === "POST" ? { data: { title: "nope" } } : undefined,
    });
    expect(res.status(), `${method} ${path}`).toBe(403);
    expect((await res.json()).success).toBe(false);
  }
});
