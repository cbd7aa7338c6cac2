import { expect, type APIRequestContext, type Browser, type Page } from "@playwright/test";

export const PASSWORD = "herald-demo";

/** Signs in through the login form and waits for the inbox to be live. */
export async function signIn(page: Page, username: string): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("/");
  // "live" is shown once the stream's `connected` event has arrived.
  await expect(page.getByTestId("connection-state")).toHaveText("live");
}

/** A fresh browser context (its own cookies), signed in as `username`. */
export async function signedInPage(browser: Browser, username: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, username);
  return page;
}

/** Sends an announcement through the JSON API as the demo admin. */
export async function announce(
  request: APIRequestContext,
  data: { title: string; body?: string; severity?: string; link?: string },
  target: { user_id?: number; role?: string } = {},
): Promise<void> {
  const login = await request.post("/api/auth/login", {
    data: { username: "admin", password: PASSWORD },
  });
  expect(login.status()).toBe(200);
  const { token } = await login.json();
  const path = target.user_id ? "/api/sse/send-to-user" : "/api/sse/broadcast";
  const sent = await request.post(path, {
    headers: { Authorization: `Bearer ${token}` },
    data: { event: "notification", data, ...target },
  });
  expect(sent.status()).toBe(200);
}

/** The unread count the bell shows. */
export async function badgeCount(page: Page): Promise<number> {
  return Number(await page.getByTestId("unread-badge").textContent());
}
