#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The operations commands on the demo's database, as an administrator runs them: enroll-code
# prints a one-time code, set-pin takes the PIN on stdin, terminal-setting and revoke-terminal
# change what terminals get; bad input fails with a clear message and changes nothing. The
# restarted collector then serves the result over HTTPS: the pull carries the setting and the
# new PIN (with an ETag that answers 304), and the code enrolls a terminal exactly once.
set -euo pipefail

source "${OTSINKA_SOURCE:?}/tests/common/demo.bash"
demo_test

stop_demo() {
        kill "$demo_pid" 2>/dev/null || true
        wait "$demo_pid" 2>/dev/null || true
        demo_pid=
}
# The demo again, on its folder and port (the folder's kiosk.conf names the port).
restart_demo() {
        "$bin" demo --dir "$demo" --port "$demo_port" >"$demo.out" 2>"$demo.log" &
        demo_pid=$!
        for _ in $(seq 1 300); do
                curl -fsS --cacert "$demo_ca" "$demo_base/healthz" >/dev/null 2>&1 && return 0
                kill -0 "$demo_pid" 2>/dev/null || break
                sleep 0.1
        done
        stop_demo
        return 1
}

start_demo "$demo" || exit 1
base=$demo_base
db=sqlite:$demo/collector.db
secret=$(sed -n 's/^terminal-secret = //p' "$demo/kiosk.conf")

# pull TERMINAL SECRET [ETAG]: GET /api/v1/terminal; prints the status, body in $tmp/pull
pull() {
        local inm=()
        [ $# -gt 2 ] && inm=(-H "If-None-Match: $3")
        rm -f "$tmp/pull" # curl leaves the file alone when no body comes
        curl -sS --cacert "$demo_ca" -D "$tmp/headers" -o "$tmp/pull" -w '%{http_code}' \
                -H "Authorization: Bearer $1:$2" "${inm[@]}" "$base/api/v1/terminal"
}
# enroll CODE: POST /api/v1/enroll; prints the status, body in $tmp/enroll
enroll() {
        rm -f "$tmp/enroll"
        curl -sS --cacert "$demo_ca" -o "$tmp/enroll" -w '%{http_code}' \
                -H "Content-Type: application/json" -d "{\"protocol\":1,\"code\":\"$1\"}" \
                "$base/api/v1/enroll"
}
# pin_hash ID: that employee's pin_hash in the last pull (compact JSON, "/" not escaped)
pin_hash() { grep -o "{\"id\":\"$1\"[^}]*}" "$tmp/pull" | sed -n 's/.*"pin_hash":"\([^"]*\)".*/\1/p'; }
# refuses WHAT MESSAGE COMMAND...: the command must fail and say MESSAGE on stderr
refuses() {
        local what=$1 msg=$2
        shift 2
        if "$@" >"$tmp/out" 2>"$tmp/err"; then fail "$what: succeeded: $(cat "$tmp/out")"; fi
        grep -qF -- "$msg" "$tmp/err" || fail "$what: said \"$(cat "$tmp/err")\", not \"$msg\""
}

[ "$(pull T001 "$secret")" = 200 ] || fail "the demo terminal cannot pull: $(cat "$tmp/pull")"
grep -q '"min_interval_s":5,' "$tmp/pull" || fail "the demo's min_interval_s is not the default 5"
pin_before=$(pin_hash E001)
[[ $pin_before == '$argon2id$'* ]] || fail "E001 has no PIN in the demo: $pin_before"
stop_demo

# ---- the commands, with the collector stopped ----
code=$("$bin" enroll-code W002 --database "$db" 2>"$tmp/err") || fail "enroll-code: $(cat "$tmp/err")"
[[ $code =~ ^[0-9]{4}-[0-9]{4}-[0-9]{4}$ ]] ||
        fail "enroll-code printed \"$code\", not a code like 1234-5678-9012"
refuses "enroll-code for an unknown workplace" "W999: no such workplace" \
        "$bin" enroll-code W999 --database "$db"

"$bin" set-pin E001 --database "$db" <<<"4321" >"$tmp/out" 2>"$tmp/err" ||
        fail "set-pin E001: $(cat "$tmp/err")"
grep -q "PIN set for E001" "$tmp/out" || fail "set-pin said \"$(cat "$tmp/out")\""
for bad in 12ab 123 1234567890123 ""; do
        refuses "set-pin with the PIN \"$bad\"" "must be 4 to 12 digits" \
                "$bin" set-pin E001 --database "$db" <<<"$bad"
done
refuses "set-pin with no stdin" "must be 4 to 12 digits" "$bin" set-pin E001 --database "$db" </dev/null
refuses "set-pin for an unknown employee" "E999: no such employee" \
        "$bin" set-pin E999 --database "$db" <<<"4321"

"$bin" terminal-setting min_interval_s 7 --database "$db" >"$tmp/out" 2>"$tmp/err" ||
        fail "terminal-setting min_interval_s 7: $(cat "$tmp/err")"
refuses "an unknown setting" "colour: not a terminal setting" \
        "$bin" terminal-setting colour red --database "$db"
refuses "a setting that is not a number" "min_interval_s" \
        "$bin" terminal-setting min_interval_s abc --database "$db"
refuses "a setting out of range" "min_interval_s" \
        "$bin" terminal-setting min_interval_s 99999 --database "$db"
refuses "revoke-terminal of an unknown terminal" "T999: no such terminal" \
        "$bin" revoke-terminal T999 --database "$db"

# ---- what terminals see after a restart ----
restart_demo || restart_demo || fail "the demo collector did not restart on port $demo_port"
[ "$(pull T001 "$secret")" = 200 ] || fail "the demo terminal cannot pull after the restart"
grep -q '"min_interval_s":7,' "$tmp/pull" || fail "the pull does not carry min_interval_s 7: $(cat "$tmp/pull")"
pin_after=$(pin_hash E001)
[[ $pin_after == '$argon2id$'* && $pin_after != "$pin_before" ]] ||
        fail "E001's PIN hash did not change: $pin_after"
etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *\([^\r]*\)\r*$/\1/p' "$tmp/headers")
[ -n "$etag" ] || fail "the pull has no ETag: $(cat "$tmp/headers")"
[ "$(pull T001 "$secret" "$etag")" = 304 ] || fail "the same pull with If-None-Match is not 304"
[ ! -s "$tmp/pull" ] || fail "a 304 came with a body"

[ "$(enroll "$code")" = 200 ] || fail "the enroll code was refused: $(cat "$tmp/enroll")"
terminal=$(sed -n 's/.*"terminal":"\([^"]*\)".*/\1/p' "$tmp/enroll")
new_secret=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$tmp/enroll")
[ -n "$terminal" ] && [ "$terminal" != T001 ] && [ -n "$new_secret" ] ||
        fail "enrollment answered $(cat "$tmp/enroll")"
[ "$(pull "$terminal" "$new_secret")" = 200 ] || fail "the enrolled terminal cannot pull"
grep -q '"workplace":{"code":"W002"' "$tmp/pull" || fail "the enrolled terminal is not at W002"
grep -q '"min_interval_s":7,' "$tmp/pull" || fail "the enrolled terminal lacks the setting"
[ "$(enroll "$code")" = 403 ] || fail "the enroll code worked twice"
grep -q '"error":"code:' "$tmp/enroll" || fail "a used code got $(cat "$tmp/enroll")"

# revoking works on a running collector, at the terminal's next request
"$bin" revoke-terminal "$terminal" --database "$db" >"$tmp/out" 2>"$tmp/err" ||
        fail "revoke-terminal $terminal: $(cat "$tmp/err")"
[ "$(pull "$terminal" "$new_secret")" = 401 ] || fail "a revoked terminal can still pull"
[ "$(pull T001 "$secret")" = 200 ] || fail "revoking $terminal locked out T001"
echo "admin cli: ok"
