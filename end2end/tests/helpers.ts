import { expect, type Browser, type Page } from "@playwright/test";

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
