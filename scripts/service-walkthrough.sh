#!/usr/bin/env bash
# Herald for another service, with curl and one API key (README, "A service's
# walkthrough"): provision a user, send them a notification by username, read
# its funnel, and receive the signed `notification.read` webhook when they
# read it, its signature checked with openssl.
#
#   HERALD_KEY=hrld_… bash scripts/service-walkthrough.sh
#
# The key needs the scopes users, publish and read:
#   ./target/release/herald key add walkthrough --scope users --scope publish --scope read
# Herald must allow a receiver on loopback: HERALD_WEBHOOK_ALLOW_PRIVATE=1.
#
# Settings (environment):
#   HERALD_URL     Herald's address                 (default http://127.0.0.1:3000)
#   HERALD_KEY     the API key                      (required)
#   RECEIVER_PORT  where the webhook receiver listens on 127.0.0.1 (default 8099)
#   READ_BY        browser: wait for the user to read it in a browser (default);
#                  api: read it as the user through the API, so the script runs alone
#
# The webhook receiver stands for the service's own endpoint: a few lines of
# Python that write each request to a file; everything sent to Herald is curl.
set -euo pipefail

URL="${HERALD_URL:-http://127.0.0.1:3000}"
KEY="${HERALD_KEY:?set HERALD_KEY to a key with the scopes users, publish and read}"
PORT="${RECEIVER_PORT:-8099}"
READ_BY="${READ_BY:-browser}"
USERNAME="walkthrough-$(date +%s)"
PASSWORD="walkthrough-$RANDOM-$RANDOM"
# This run's own path on the receiver: another endpoint on the same port
# (an earlier run's) signs with another secret.
HOOK_PATH="/herald-$RANDOM$RANDOM"
WORK="$(mktemp -d)"
cleanup() {
    [[ -z "${HOOK_ID:-}" ]] || api DELETE "/api/webhooks/$HOOK_ID" >/dev/null 2>&1 || true
    kill "${RECEIVER_PID:-}" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
api() { # method path [json body]
    curl -sS --fail-with-body -X "$1" "$URL$2" -H "authorization: Bearer $KEY" \
        -H 'content-type: application/json' ${3:+--data "$3"}
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

say "a webhook receiver on 127.0.0.1:$PORT (writes each request to $WORK)"
python3 - "$PORT" "$WORK" "$HOOK_PATH" <<'PY' &
import http.server, sys, pathlib
port, out, path = int(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        if self.path != path:
            self.send_response(410)
            self.end_headers()
            return
        n = len(list(out.glob("*.body")))
        (out / f"{n}.headers").write_text("".join(f"{k.lower()}: {v}\n" for k, v in self.headers.items()))
        (out / f"{n}.body").write_bytes(body)
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
PY
RECEIVER_PID=$!

say "1. register the endpoint for notification.read (the secret is shown this once)"
created="$(api POST /api/webhooks "{\"url\":\"http://127.0.0.1:$PORT$HOOK_PATH\",\"events\":[\"notification.read\"]}")"
echo "$created"
SECRET="$(echo "$created" | field 'd["data"]["secret"]')"
HOOK_ID="$(echo "$created" | field 'd["data"]["id"]')"

say "2. provision $USERNAME"
api POST /api/users "{\"username\":\"$USERNAME\",\"role\":\"user\",\"password\":\"$PASSWORD\"}"
echo

say "3. send them a notification by username"
sent="$(api POST /api/sse/send-to-user "{\"username\":\"$USERNAME\",\"event\":\"notification\",\"data\":{\"title\":\"Your invoice is due\",\"body\":\"Invoice #42, due Friday\"}}")"
echo "$sent"
ANNOUNCEMENT="$(echo "$sent" | field 'd["data"]["id"]')"

funnel() {
    api GET /api/announcements | ANNOUNCEMENT="$ANNOUNCEMENT" python3 -c '
import json, os, sys
a = next(a for a in json.load(sys.stdin)["data"] if a["id"] == int(os.environ["ANNOUNCEMENT"]))
print("recipients %d, delivered %d, read %d" % (a["recipients"], a["delivered"], a["read"]))'
}
say "4. its funnel"
funnel

say "5. the user reads it"
if [[ "$READ_BY" == api ]]; then
    TOKEN="$(curl -sS --fail-with-body "$URL/api/auth/login" -H 'content-type: application/json' \
        --data "{\"username\":\"$USERNAME\",\"password\":\"$PASSWORD\"}" | field 'd["token"]')"
    ID="$(curl -sS --fail-with-body "$URL/api/notifications" -H "authorization: Bearer $TOKEN" |
        field 'd["items"][0]["id"]')"
    curl -sS --fail-with-body -X POST "$URL/api/notifications/$ID/read" -H "authorization: Bearer $TOKEN"
    echo "read through the API as $USERNAME"
else
    echo "Open $URL, sign in as $USERNAME with the password $PASSWORD, and open the bell."
fi

say "6. waiting for the signed notification.read webhook (up to 5 min)"
for _ in $(seq 1 3000); do
    [[ -f "$WORK/0.body" ]] && break
    sleep 0.1
done
[[ -f "$WORK/0.body" ]] || { echo "no webhook arrived"; exit 1; }
cat "$WORK/0.headers" | grep '^webhook-'
cat "$WORK/0.body"
echo

say "7. its signature, checked with openssl (Standard Webhooks: HMAC-SHA256 of id.timestamp.body)"
id="$(sed -n 's/^webhook-id: //p' "$WORK/0.headers" | tr -d '\r')"
ts="$(sed -n 's/^webhook-timestamp: //p' "$WORK/0.headers" | tr -d '\r')"
signature="$(sed -n 's/^webhook-signature: //p' "$WORK/0.headers" | tr -d '\r')"
key_hex="$(printf '%s' "${SECRET#whsec_}" | base64 -d | xxd -p -c 256)"
expected="v1,$( { printf '%s.%s.' "$id" "$ts"; cat "$WORK/0.body"; } |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | base64)"
if [[ " $signature " == *" $expected "* ]]; then
    echo "signature valid: $expected"
else
    echo "SIGNATURE INVALID: got $signature, expected $expected"
    exit 1
fi

say "8. the funnel now"
funnel

say "cleaning up: the endpoint and the user"
api DELETE "/api/webhooks/$HOOK_ID"
HOOK_ID=
api DELETE "/api/users/$USERNAME"
echo "done"
