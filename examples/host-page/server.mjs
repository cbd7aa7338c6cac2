// A host app on its own origin that shows Herald's bell: the page, and the
// one route a host backend adds, /herald-token, which turns the host's own
// session into a short-lived Herald user token with the host's service key
// (scope `users`). The key never leaves this process; the page only ever sees
// user tokens that expire in minutes. No dependencies beyond node.
//
//   HERALD_URL=http://127.0.0.1:3000 HERALD_KEY=hrld_… PORT=3001 node server.mjs
//
// Sign-in is faked for the example: /?as=alice sets the host's session cookie.

import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const HERALD_URL = (process.env.HERALD_URL || "http://127.0.0.1:3000").replace(/\/+$/, "");
const HERALD_KEY = process.env.HERALD_KEY || "";
const PORT = Number(process.env.PORT || 3001);
// Where the page loads the component from: Herald's own copy by default (its
// stable alias, which redirects to the current versioned, cache-busted path),
// or HERALD_SDK_URL=/herald-inbox.js for this host's copy of clients/js/dist.
const SDK_URL = process.env.HERALD_SDK_URL || `${HERALD_URL}/sdk/herald-inbox.js`;
const DIST = join(HERE, "../../clients/js/dist");
const SESSION = "acme_session"; // not Herald's cookie name: cookies are per host, not per port

if (!HERALD_KEY) {
  console.error("HERALD_KEY is not set: make one with `herald key add NAME --scope users`");
  process.exit(1);
}

function sessionUser(req) {
  const cookies = Object.fromEntries(
    (req.headers.cookie || "").split(/;\s*/).filter(Boolean).map((c) => {
      const i = c.indexOf("=");
      return [c.slice(0, i), decodeURIComponent(c.slice(i + 1))];
    }),
  );
  return cookies[SESSION] || null;
}

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function page(res, user) {
  const html = (await readFile(join(HERE, "index.html"), "utf8"))
    .replaceAll("{{HERALD_URL}}", escapeHtml(HERALD_URL))
    .replaceAll("{{SDK_URL}}", escapeHtml(SDK_URL))
    .replaceAll("{{USER}}", escapeHtml(user));
  send(res, 200, "text/html; charset=utf-8", html);
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...headers });
  res.end(body);
}

/** Herald's answer for a user token: {token, expires_at} (enveloped as the key routes are). */
async function mintToken(user) {
  const res = await fetch(`${HERALD_URL}/api/users/${encodeURIComponent(user)}/tokens`, {
    method: "POST",
    headers: { Authorization: `Bearer ${HERALD_KEY}`, Accept: "application/json" },
  });
  const body = await res.json().catch(() => ({}));
  const data = body && body.data ? body.data : body;
  if (res.status !== 201 || !data || typeof data.token !== "string") {
    throw new Error(`Herald answered ${res.status}: ${body && body.error ? body.error : "no token"}`);
  }
  return { token: data.token, expires_at: data.expires_at };
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  try {
    if (url.pathname === "/healthz") return send(res, 200, "text/plain", "ok");
    if (url.pathname === "/" && url.searchParams.has("as")) {
      const user = url.searchParams.get("as");
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(user)) return send(res, 400, "text/plain", "bad user name");
      return send(res, 303, "text/plain", "", {
        location: "/",
        "set-cookie": `${SESSION}=${encodeURIComponent(user)}; HttpOnly; SameSite=Lax; Path=/`,
      });
    }
    const user = sessionUser(req);
    if (url.pathname === "/") {
      if (!user) return send(res, 200, "text/html; charset=utf-8", '<p>Sign in: <a href="/?as=alice">alice</a> or <a href="/?as=bob">bob</a></p>');
      return page(res, user);
    }
    if (url.pathname === "/herald-token") {
      // Only for the signed-in user of this app, and only for this app's page.
      if (!user) return send(res, 401, "application/json", '{"error":"not signed in"}');
      return send(res, 200, "application/json", JSON.stringify(await mintToken(user)));
    }
    if (url.pathname === "/herald-inbox.js" || url.pathname === "/herald.js") {
      const js = await readFile(join(DIST, url.pathname.slice(1)));
      return send(res, 200, "text/javascript; charset=utf-8", js);
    }
    send(res, 404, "text/plain", "not found");
  } catch (err) {
    console.error(err);
    send(res, 502, "application/json", JSON.stringify({ error: String(err.message || err) }));
  }
});

server.listen(PORT, "127.0.0.1", () => {
  console.log(`example host listening on http://127.0.0.1:${PORT} (Herald at ${HERALD_URL})`);
});
