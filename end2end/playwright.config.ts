import { defineConfig } from "@playwright/test";

const chromium: { executablePath: string; args: string[] } = require("./chromium.json");

// Herald's own port for the suite, so a dev server on :3000 does not interfere.
const PORT = 3100;

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  // One server, one database: tests run one after another and make their own data.
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: "retain-on-failure",
    // Debian's Chromium (Playwright's own browser download cannot work here),
    // headless, with no network of its own: end2end/chromium.json, shared with
    // the scripts beside this file.
    launchOptions: chromium,
  },
  webServer: {
    command: "bash ./start-server.sh",
    url: `http://127.0.0.1:${PORT}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: { HERALD_E2E_PORT: String(PORT) },
  },
});
