import { expect, test } from "@playwright/test";
import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import * as path from "node:path";

// README, "A service's walkthrough": scripts/service-walkthrough.sh, curl and
// one API key, with the user reading the notification in a real browser; the
// script itself checks the signed `notification.read` webhook with openssl.

const ROOT = path.resolve(__dirname, "../..");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

test("a service provisions, sends by username and gets the signed read webhook", async ({ page, baseURL }) => {
  test.setTimeout(120_000);
  // The key, made with the CLI on the test server's database (start-server.sh).
  const key = execFileSync(
    process.env.HERALD_E2E_BIN ?? path.join(ROOT, "target/release/herald"),
    ["key", "add", `walkthrough-${Date.now()}`, "--scope", "users", "--scope", "publish", "--scope", "read"],
    { cwd: ROOT, env: { ...process.env, DATABASE_URL: "sqlite://end2end/.e2e-data/herald.db", HERALD_DEMO: "1" } },
  )
    .toString()
    .trim();
  expect(key).toMatch(/^hrld_/);

  const script = spawn("bash", ["scripts/service-walkthrough.sh"], {
    cwd: ROOT,
    env: { ...process.env, HERALD_URL: baseURL, HERALD_KEY: key, RECEIVER_PORT: String(await freePort()) },
  });
  let output = "";
  script.stdout.on("data", (chunk) => (output += chunk));
  script.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => script.on("close", resolve));

  // The script says whom to sign in as, then waits for the read.
  await expect.poll(() => output, { timeout: 30_000 }).toMatch(/sign in as \S+ with the password \S+/);
  const [, username, password] = output.match(/sign in as (\S+) with the password (\S+?)(?:,|\s)/)!;
  await page.goto("/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("/");
  await expect(page.getByTestId("connection-state")).toHaveText("live");
  await page.getByTestId("inbox").getByRole("button", { name: "Your invoice is due" }).click();

  expect(await exited, output).toBe(0);
  expect(output).toContain("signature valid");
  expect(output).toContain("recipients 1, delivered 1, read 1");
});
