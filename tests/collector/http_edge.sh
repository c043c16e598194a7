#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bad input at the HTTPS edge of the real collector: oversize bodies (announced or chunked),
# methods it does not serve, a missing credential, malformed JSON. Each gets a clear 4xx,
# nothing is stored, and the collector keeps serving.
set -euo pipefail

build=${OTSINKA_BUILD:?}
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$tmp/collector.log" >&2; exit 1; }

for attempt in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 20000))
        rm -rf "$tmp/demo"
        "$build/collector/otsinka-collector" demo --dir "$tmp/demo" --port "$port" \
                >/dev/null 2>"$tmp/collector.log" &
        pid=$!
        for _ in $(seq 1 100); do
                curl -fsS --cacert "$tmp/demo/ca.pem" "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break 2
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
done
base=https://127.0.0.1:$port
secret=$(sed -n 's/^terminal-secret = //p' "$tmp/demo/kiosk.conf")
auth=(-H "Authorization: Bearer T001:$secret")
json=(-H "Content-Type: application/json")
head -c 2000000 /dev/zero | tr '\0' a >"$tmp/big"

expect() { # expect CODE WHAT curl-arguments...
        local want=$1 what=$2 got
        shift 2
        got=$(curl -sS --cacert "$tmp/demo/ca.pem" -o "$tmp/body" -w '%{http_code}' "$@") || true
        [ "$got" = "$want" ] || fail "$what: HTTP $got, not $want ($(head -c 200 "$tmp/body"))"
}

expect 413 "a 2 MB batch with Content-Length" "${auth[@]}" "${json[@]}" --data-binary @"$tmp/big" "$base/api/v1/votes"
expect 413 "a 2 MB chunked batch" "${auth[@]}" "${json[@]}" -H "Transfer-Encoding: chunked" --data-binary @"$tmp/big" "$base/api/v1/votes"
expect 413 "a 2 MB chunked vote form" -H "Transfer-Encoding: chunked" --data-binary @"$tmp/big" "$base/r/abcdefghij"
expect 405 "DELETE" -X DELETE "$base/api/v1/votes"
expect 405 "GET of the terminal API" "$base/api/v1/votes"
expect 401 "a batch without a credential" "${json[@]}" -d '{"protocol":1}' "$base/api/v1/votes"
expect 400 "malformed JSON" "${auth[@]}" "${json[@]}" -d '{"protocol":1,' "$base/api/v1/votes"
grep -q '"error"' "$tmp/body" || fail "a malformed batch got no JSON error body"
expect 415 "a batch as a form" "${auth[@]}" -d 'level=3' "$base/api/v1/votes"
expect 404 "an unknown page" "$base/nowhere"
expect 404 "an unknown QR code" "$base/r/zzzzzzzzzzzz"
expect 404 "a QR code with SQL in it" "$base/r/abc%27%20OR%201%3D1--"

n=$(sqlite3 "$tmp/demo/collector.db" "SELECT COUNT(*) FROM votes")
[ "$n" = 0 ] || fail "bad input stored $n votes"
expect 200 "health after all that" "$base/healthz"
echo "http edge: ok"
