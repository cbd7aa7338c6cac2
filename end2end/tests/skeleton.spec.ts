import { expect, test } from "@playwright/test";
import { PASSWORD, signedInPage } from "./helpers";

test("an admin's broadcast reaches alice's bell live, without a reload", async ({ browser }) => {
  const alice = await signedInPage(browser, "alice");
  const badge = alice.getByTestId("unread-badge");
  // Other specs may have sent alice something: start from a clean slate.
  await alice.getByTestId("mark-all-read").first().click();
  await expect(badge).toHaveText("0");

  // Anything that reloads alice's page would reset this marker.
  await alice.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

  const admin = await signedInPage(browser, "admin");
  const adminUnread = Number(await admin.getByTestId("unread-badge").textContent());
  await admin.goto("/admin");
  await expect(admin.getByTestId("connection-state")).toHaveText("live");
  const title = "Scheduled maintenance tonight at 22:00";
  await admin.getByLabel("Title").fill(title);
  await admin.getByLabel("Message").fill("Herald will be read-only for about ten minutes.");
  await admin.getByLabel("Severity").selectOption("warning");
  await admin.getByTestId("send-broadcast").click();
  await expect(admin.getByTestId("send-result")).toHaveText("Sent to 3 users.");

  await expect(badge).toHaveText("1");
  await expect(alice.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(title);
  expect(await alice.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);

  // The admin's own bell got it too.
  await expect(admin.getByTestId("unread-badge")).toHaveText(String(adminUnread + 1));

  await alice.getByTestId("bell").click();
  await expect(alice.getByTestId("bell-list").getByTestId("notification-title").first()).toHaveText(title);
});

test("alice cannot open the admin page", async ({ browser }) => {
  const alice = await signedInPage(browser, "alice");
  const response = await alice.goto("/admin");
  expect(response?.status()).toBe(403);
  await expect(alice.getByTestId("forbidden")).toBeVisible();
  await expect(alice.getByTestId("send-broadcast")).toHaveCount(0);
});

test("signed-out visitors are sent to the login page", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/login$/);
});

test("a wrong password is refused with a clear message", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Username").fill("alice");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("login-error")).toHaveText("wrong username or password");
  await expect(page).toHaveURL(/\/login/);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("signing in and reading the inbox work", async ({ page, request }) => {
    // An announcement sent through the JSON API, to be read without JS.
    const login = await request.post("/api/auth/login", { data: { username: "admin", password: PASSWORD } });
    expect(login.status()).toBe(200);
    const { token } = await login.json();
    const title = `Read me without JS ${Date.now()}`;
    const sent = await request.post("/api/sse/broadcast", {
      headers: { Authorization: `Bearer ${token}` },
      data: { event: "notification", data: { title, body: "rendered on the server" } },
    });
    expect(sent.status()).toBe(200);

    await page.goto("/login");
    await page.getByLabel("Username").fill("bob");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByRole("heading", { name: "Inbox" })).toBeVisible();
    await expect(page.getByTestId("inbox").getByTestId("notification-title").first()).toHaveText(title);
    await expect(page.getByTestId("unread-badge")).not.toHaveText("0");
  });

  test("a wrong password comes back to the form with an error", async ({ page }) => {
    await page.goto("/login");
    await page.getByLabel("Username").fill("bob");
    await page.getByLabel("Password").fill("wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("login-error")).toBeVisible();
  });
});
