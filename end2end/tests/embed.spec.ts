import { expect, test, type APIRequestContext, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { signIn, PASSWORD } from "./helpers";

// Herald's bell on another origin (issue 18): examples/host-page, a host app on
// 127.0.0.1:3101 (HERALD_ALLOWED_ORIGINS in start-server.sh), with its own
// backend minting user tokens with a service key, and <herald-inbox> from
// clients/js. Every check waits on the page or polls the server: no sleeps.

const ROOT = path.resolve(__dirname, "../..");
const HOST_PORT = 3101;
const HOST = `http://127.0.0.1:${HOST_PORT}`;

let host: ChildProcess;
let hostLog = "";
let key: string;

test.beforeAll(async ({ baseURL }) => {
  // The host app's key, made with the CLI on the test server's database.
  key = execFileSync(
    process.env.HERALD_E2E_BIN ?? path.join(ROOT, "target/release/herald"),
    ["key", "add", `embed-${Date.now()}`, "--scope", "users"],
    { cwd: ROOT, env: { ...process.env, DATABASE_URL: "sqlite://end2end/.e2e-data/herald.db", HERALD_DEMO: "1" } },
  )
    .toString()
    .trim();
  expect(key).toMatch(/^hrld_/);
  host = spawn("node", ["examples/host-page/server.mjs"], {
    cwd: ROOT,
    env: { ...process.env, HERALD_URL: baseURL, HERALD_KEY: key, PORT: String(HOST_PORT) },
  });
  host.stdout!.on("data", (chunk) => (hostLog += chunk));
  host.stderr!.on("data", (chunk) => (hostLog += chunk));
  await expect.poll(() => hostLog, { timeout: 10_000 }).toContain("example host listening");
});

/** Browser contexts a test opened: closed after it, so no page of it asks the host for tokens later. */
const contexts: BrowserContext[] = [];

async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  contexts.push(context);
  return context;
}

test.afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

/** Users this spec made: deleted at the end, so later specs count the demo's users only. */
const made: string[] = [];

test.afterAll(async ({ request }) => {
  host?.kill();
  for (const username of made) {
    const res = await request.delete(`/api/users/${username}`, { headers: { Authorization: `Bearer ${key}` } });
    expect(res.status()).toBe(204);
  }
});

/** A fresh user for one test (so counts start at 0), provisioned with the host's key. */
async function newUser(request: APIRequestContext): Promise<{ id: number; username: string }> {
  const username = `embed${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const res = await request.post("/api/users", {
    headers: { Authorization: `Bearer ${key}` },
    data: { username, role: "user", password: PASSWORD },
  });
  expect(res.status(), await res.text()).toBe(201);
  made.push(username);
  const { data } = await res.json();
  return { id: data.id, username };
}

async function adminToken(request: APIRequestContext): Promise<string> {
  const login = await request.post("/api/auth/login", { data: { username: "admin", password: PASSWORD } });
  expect(login.status()).toBe(200);
  return (await login.json()).token;
}

async function sendTo(request: APIRequestContext, username: string, title: string, event = "notification"): Promise<void> {
  const sent = await request.post("/api/sse/send-to-user", {
    headers: { Authorization: `Bearer ${await adminToken(request)}` },
    data: { username, event, data: { title, body: "from the admin", severity: "info" } },
  });
  expect(sent.status(), await sent.text()).toBe(200);
}

/** The host page signed in (host session) as `username`, its bell live. */
async function hostPage(browser: Browser, username: string, page?: Page): Promise<Page> {
  page ??= await (await newContext(browser)).newPage();
  await page.goto(`${HOST}/?as=${username}`);
  await expect(page.getByTestId("host-user")).toHaveText(username);
  await expect(page.getByTestId("herald-state")).toHaveAttribute("data-state", "open");
  return page;
}

const badge = (page: Page) => page.getByTestId("herald-badge");

/** Open streams of `userId`, as Herald counts them. */
async function streamsOf(request: APIRequestContext, userId: number): Promise<number> {
  const res = await request.get("/api/sse/stats", { headers: { Authorization: `Bearer ${await adminToken(request)}` } });
  const { data } = await res.json();
  return data.user_clients[String(userId)] ?? 0;
}

test("the bell on another origin updates live when an admin sends", async ({ browser, request }) => {
  const user = await newUser(request);
  const page = await hostPage(browser, user.username);
  expect(new URL(page.url()).origin).not.toBe(new URL(test.info().project.use.baseURL!).origin);
  await expect(badge(page)).toHaveText("0");
  await expect(page.getByTestId("herald-bell")).toHaveAttribute("aria-label", "Notifications, none unread");

  await sendTo(request, user.username, "Deploy <b>finished</b>");
  await expect(badge(page)).toHaveText("1");
  await expect(page.getByTestId("herald-bell")).toHaveAttribute("aria-label", "Notifications, 1 unread");
  await expect(page.getByTestId("herald-announcer")).toContainText("New notification: Deploy <b>finished</b>");

  // The dropdown: a dialog, focus moves in, the title is text (no markup), Escape gives focus back.
  await page.getByTestId("herald-bell").click();
  await expect(page.getByTestId("herald-bell")).toHaveAttribute("aria-expanded", "true");
  await expect(page.getByTestId("herald-title")).toHaveText("Deploy <b>finished</b>");
  await expect(page.getByTestId("herald-dropdown").locator("b")).toHaveCount(0);
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("herald-dropdown")).toBeHidden();
  await expect(page.getByTestId("herald-bell")).toBeFocused();

  // A custom event name the page listens to (events="deploy.done") is a notification too.
  await sendTo(request, user.username, "Custom name", "deploy.done");
  await expect(badge(page)).toHaveText("2");
});

test("a dropped connection resumes with nothing missed or doubled", async ({ browser, request }) => {
  const user = await newUser(request);
  const page = await hostPage(browser, user.username);
  // Every arrival the client announces, in order.
  await page.evaluate(() => {
    const w = window as unknown as { arrivals: string[] };
    w.arrivals = [];
    const el = document.querySelector("herald-inbox") as unknown as { client: { on(t: string, f: (n: { title: string }) => void): void } };
    el.client.on("notification", (n) => w.arrivals.push(n.title));
  });
  await sendTo(request, user.username, "Before the cut");
  await expect(badge(page)).toHaveText("1");

  await page.context().setOffline(true);
  await expect(page.getByTestId("herald-state")).toHaveAttribute("data-state", "offline");
  await expect.poll(() => streamsOf(request, user.id)).toBe(0);
  await sendTo(request, user.username, "While away 1");
  await sendTo(request, user.username, "While away 2");
  await page.context().setOffline(false);

  await expect(page.getByTestId("herald-state")).toHaveAttribute("data-state", "open");
  await expect(badge(page)).toHaveText("3");
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { arrivals: string[] }).arrivals))
    .toEqual(["Before the cut", "While away 1", "While away 2"]);
  await page.getByTestId("herald-bell").click();
  await expect(page.getByTestId("herald-title")).toHaveText(["While away 2", "While away 1", "Before the cut"]);
  // Still exactly once after one more live one.
  await sendTo(request, user.username, "After");
  await expect(page.getByTestId("herald-title")).toHaveText(["After", "While away 2", "While away 1", "Before the cut"]);
  await expect(badge(page)).toHaveText("4");
});

test("a stream the server closes resumes with a new token and ticket, nothing missed or doubled", async ({ browser, request }) => {
  const user = await newUser(request);
  const context = await newContext(browser);
  const page = await context.newPage();
  // The user tokens the page got from its host backend, the last one first.
  const tokens: string[] = [];
  await page.route(`${HOST}/herald-token`, async (route) => {
    const res = await route.fetch();
    tokens.unshift((await res.json()).token);
    await route.fulfill({ response: res });
  });
  await hostPage(browser, user.username, page);
  await page.evaluate(() => {
    const w = window as unknown as { arrivals: string[] };
    w.arrivals = [];
    const el = document.querySelector("herald-inbox") as unknown as { client: { on(t: string, f: (n: { title: string }) => void): void } };
    el.client.on("notification", (n) => w.arrivals.push(n.title));
  });
  await sendTo(request, user.username, "Before the cut");
  await expect(badge(page)).toHaveText("1");

  // Hold every new ticket request until the test lets go: the page stays away meanwhile.
  let letGo!: () => void;
  const held = new Promise<void>((resolve) => (letGo = resolve));
  let ticketAsks = 0;
  await page.route("**/api/stream-tickets", async (route) => {
    ticketAsks++;
    await held;
    await route.continue();
  });
  // Signing the page's token out ends its session and closes its stream, server side.
  const out = await request.post("/api/auth/logout", { headers: { Authorization: `Bearer ${tokens[0]}` } });
  expect(out.status()).toBe(204);
  await expect(page.getByTestId("herald-state")).toHaveAttribute("data-state", "reconnecting");
  await expect.poll(() => streamsOf(request, user.id)).toBe(0);
  await expect.poll(() => ticketAsks).toBeGreaterThan(0);
  await sendTo(request, user.username, "While cut 1");
  await sendTo(request, user.username, "While cut 2");
  letGo();

  await expect(page.getByTestId("herald-state")).toHaveAttribute("data-state", "open");
  await expect(badge(page)).toHaveText("3");
  expect(tokens.length, "a fresh token after the old one was refused").toBeGreaterThan(1);
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { arrivals: string[] }).arrivals))
    .toEqual(["Before the cut", "While cut 1", "While cut 2"]);
  await page.getByTestId("herald-bell").click();
  await expect(page.getByTestId("herald-title")).toHaveText(["While cut 2", "While cut 1", "Before the cut"]);
});

test("two tabs share one stream, and the other takes over when the leader closes", async ({ browser, request }) => {
  const user = await newUser(request);
  const context = await newContext(browser);
  const first = await hostPage(browser, user.username, await context.newPage());
  const second = await hostPage(browser, user.username, await context.newPage());
  await expect.poll(() => streamsOf(request, user.id)).toBe(1);

  await sendTo(request, user.username, "To both tabs");
  await expect(badge(first)).toHaveText("1");
  await expect(badge(second)).toHaveText("1");
  await expect.poll(() => streamsOf(request, user.id)).toBe(1);

  await first.close();
  await expect(second.getByTestId("herald-state")).toHaveAttribute("data-state", "open");
  await sendTo(request, user.username, "After the leader left");
  await expect(badge(second)).toHaveText("2");
  await expect.poll(() => streamsOf(request, user.id)).toBe(1);
  await second.getByTestId("herald-bell").click();
  await expect(second.getByTestId("herald-title")).toHaveText(["After the leader left", "To both tabs"]);
});

test("counts agree with Herald's own page for the same user", async ({ browser, request }) => {
  const user = await newUser(request);
  const host = await hostPage(browser, user.username);
  const herald = await (await newContext(browser)).newPage();
  await signIn(herald, user.username);

  for (const title of ["One", "Two", "Three"]) await sendTo(request, user.username, title);
  await expect(badge(host)).toHaveText("3");
  await expect(herald.getByTestId("unread-badge")).toHaveText("3");

  // Read on the host page: Herald's page follows.
  await host.getByTestId("herald-bell").click();
  await host.getByTestId("herald-title").filter({ hasText: "Two" }).click();
  await expect(badge(host)).toHaveText("2");
  await expect(herald.getByTestId("unread-badge")).toHaveText("2");

  // Archive on the host page, read all on Herald's page: both at 0.
  await host.getByTestId("herald-item").filter({ hasText: "One" }).getByTestId("herald-archive").click();
  await expect(badge(host)).toHaveText("1");
  await expect(herald.getByTestId("unread-badge")).toHaveText("1");
  await herald.getByRole("main").getByTestId("mark-all-read").click();
  await expect(herald.getByTestId("unread-badge")).toHaveText("0");
  await expect(badge(host)).toHaveText("0");
  await expect(host.getByTestId("herald-item")).toHaveCount(2);
});
