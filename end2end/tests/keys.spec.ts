import { expect, test } from "@playwright/test";
import { signedInPage } from "./helpers";

test("an admin creates a service key, sees it once, and revokes it", async ({ browser, request }) => {
  const admin = await signedInPage(browser, "admin");
  await admin.goto("/admin");
  await expect(admin.getByTestId("connection-state")).toHaveText("live");

  const name = `ci-${Date.now()}`;
  const keys = admin.getByTestId("service-keys");
  await keys.getByTestId("key-name").fill(name);
  await keys.getByTestId("key-scope-read").check();
  await keys.getByTestId("key-scope-publish").check();
  await keys.getByTestId("create-key").click();
  const shown = keys.getByTestId("new-key");
  await expect(shown).toHaveValue(/^hrld_[0-9a-f]{12}_[0-9a-f]{64}$/);
  await expect(keys.getByTestId("new-key-box")).toContainText("shown only this once");
  const key = await shown.inputValue();
  const secret = key.slice(key.lastIndexOf("_") + 1);
  const row = admin.locator(`[data-testid="key-row"][data-name="${name}"]`);
  await expect(row).toHaveAttribute("data-status", "live");
  await expect(row).toContainText("publish, read");

  // A script uses it.
  const auth = { Authorization: `Bearer ${key}` };
  expect((await request.get("/api/sse/stats", { headers: auth })).status()).toBe(200);

  // Shown once: after a reload the key is nowhere on the page.
  await admin.reload();
  await expect(admin.getByTestId("connection-state")).toHaveText("live");
  await expect(row).toHaveAttribute("data-status", "live");
  await expect(admin.getByTestId("new-key")).toHaveCount(0);
  expect(await admin.content()).not.toContain(secret);

  // Revoked: the list says so and the key is refused at once.
  await row.getByTestId("revoke-key").click();
  await expect(row).toHaveAttribute("data-status", "revoked");
  expect((await request.get("/api/sse/stats", { headers: auth })).status()).toBe(401);
});
