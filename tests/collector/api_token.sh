#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# API tokens over real HTTPS, as another city system uses them: `api-token-add` prints a token
# once (while the collector serves: no restart needed); curl with "Authorization: Bearer" then
# reads a report the public may not (per employee), 200 JSON; without the token 401, with a
# wrong one 401 and a WWW-Authenticate challenge; a manager's token reads its unit's subtree and
# gets 403 elsewhere; a token opens no administration page. The command refuses bad input with
# a clear message, the administrator sees the token (by name) and its audit entry, and the
# token's text is nowhere in the database files.
set -euo pipefail

source "${OTSINKA_SOURCE:?}/tests/common/demo.bash"
demo_test

start_demo "$demo" || exit 1
db=sqlite:$demo/collector.db
period=$(date +%Y-%m)

# get TOKEN PATH: GET over HTTPS with the token ("" for none); prints the status, body in
# $tmp/body, headers in $tmp/headers
get() {
        local auth=()
        [ -n "$1" ] && auth=(-H "Authorization: Bearer $1")
        rm -f "$tmp/body"
        curl -sS --cacert "$demo_ca" -D "$tmp/headers" -o "$tmp/body" -w '%{http_code}' \
                "${auth[@]}" "$demo_base$2"
}
# refuses WHAT MESSAGE COMMAND...: the command must fail and say MESSAGE on stderr
refuses() {
        local what=$1 msg=$2
        shift 2
        if "$@" >"$tmp/out" 2>"$tmp/err"; then fail "$what: succeeded: $(cat "$tmp/out")"; fi
        grep -qF -- "$msg" "$tmp/err" || fail "$what: said \"$(cat "$tmp/err")\", not \"$msg\""
        [ ! -s "$tmp/out" ] || fail "$what: printed \"$(cat "$tmp/out")\""
}

# ---- an auditor's token, made while the collector serves ----
token=$("$bin" api-token-add --name "Power BI" --role auditor --database "$db" 2>"$tmp/err") ||
        fail "api-token-add: $(cat "$tmp/err")"
[[ $token =~ ^otk_[A-Za-z0-9_-]{43}$ ]] || fail "api-token-add printed \"$token\", not otk_ and 43 characters"
grep -q "shown only this once" "$tmp/err" || fail "api-token-add did not say the token is shown once"

# a phone's vote on the demo's vote page, so that this month has a row to read
vote_url=$(sed -n 's/^ *A vote page: *//p' "$demo.out")
[ -n "$vote_url" ] || fail "the demo printed no vote page"
ft=$(curl -fsS --cacert "$demo_ca" -c "$tmp/phone" -b "$tmp/phone" "$vote_url" |
        sed -n 's/.*name="ft" value="\([0-9a-f-]*\)".*/\1/p')
[ -n "$ft" ] || fail "the vote page has no form token"
curl -fsS --cacert "$demo_ca" -c "$tmp/phone" -b "$tmp/phone" -o /dev/null \
        --data "level=3&ft=$ft" "$vote_url" || fail "the vote was not taken"

cut="/api/v1/reports/cut?by=employee"
status=$(get "$token" "$cut")
[ "$status" = 200 ] || fail "the token's cut: $status $(cat "$tmp/body")"
grep -qi '^content-type: application/json' "$tmp/headers" || fail "the cut is not JSON"
grep -q '"rows":\[{' "$tmp/body" || fail "the cut has no rows: $(cat "$tmp/body")"
grep -q '"by":"employee"' "$tmp/body" || fail "the cut is not by employee: $(cat "$tmp/body")"

status=$(get "" "$cut")
[ "$status" = 401 ] || fail "the cut without a token: $status, not 401"

wrong=${token:0:20}x${token:21}
[ "$wrong" != "$token" ] || wrong=${token:0:20}y${token:21}
status=$(get "$wrong" "$cut")
[ "$status" = 401 ] || fail "a wrong token: $status, not 401"
grep -qi '^www-authenticate: Bearer .*error="invalid_token"' "$tmp/headers" ||
        fail "a wrong token got no WWW-Authenticate challenge: $(cat "$tmp/headers")"
grep -q '"error":"authorization:' "$tmp/body" || fail "a wrong token's body: $(cat "$tmp/body")"
status=$(get "$wrong" "/open/v1/units/$period.json")
[ "$status" = 401 ] || fail "a wrong token on open data: $status, not 401 (never the public answer)"

status=$(get "$token" "/reports/monthly.csv?table=units")
[ "$status" = 200 ] || fail "the token's monthly CSV: $status $(cat "$tmp/body")"
status=$(get "$token" "/reports/monthly.pdf")
[ "$status" = 200 ] && [ "$(head -c 4 "$tmp/body")" = "%PDF" ] ||
        fail "the token's monthly PDF: $status"

# read only: no administration page
status=$(get "$token" "/admin/tokens")
[ "$status" = 303 ] || fail "a token on /admin/tokens: $status, not 303 to the sign-in page"

# ---- a manager's token: U2 (the department of administrative services) ----
mtoken=$("$bin" api-token-add --name=cnap --role=manager --unit U2 --expires 2099-12-31 \
        --database "$db" 2>"$tmp/err") || fail "api-token-add manager: $(cat "$tmp/err")"
status=$(get "$mtoken" "/api/v1/reports/cut?by=employee&unit=2")
[ "$status" = 200 ] || fail "a manager's token in its subtree: $status $(cat "$tmp/body")"
status=$(get "$mtoken" "/api/v1/reports/cut?by=employee&unit=3")
[ "$status" = 200 ] || fail "a manager's token below its unit: $status $(cat "$tmp/body")"
status=$(get "$mtoken" "/api/v1/reports/cut?by=employee&unit=5")
[ "$status" = 403 ] || fail "a manager's token outside its subtree: $status, not 403"

# ---- the command refuses bad input ----
refuses "a manager without a unit" "needs --unit" "$bin" api-token-add --name x --role manager --database "$db"
refuses "an auditor with a unit" "takes none" "$bin" api-token-add --name x --role auditor --unit U2 --database "$db"
refuses "an unknown unit" "U999: no such unit" "$bin" api-token-add --name x --role manager --unit U999 --database "$db"
refuses "another role" "expected auditor or manager" "$bin" api-token-add --name x --role admin --database "$db"
refuses "a day over" "that day is over" "$bin" api-token-add --name x --role auditor --expires 2020-01-01 --database "$db"
refuses "not a day" "expected YYYY-MM-DD" "$bin" api-token-add --name x --role auditor --expires 2099-12 --database "$db"
refuses "no name" "api-token-add --name NAME" "$bin" api-token-add --role auditor --database "$db"

# ---- the administrator sees them, and the audit log ----
admin_login "$demo" "$tmp/jar"
page=$(curl -fsS --cacert "$demo_ca" -b "$tmp/jar" "$demo_base/admin/tokens?lang=en")
grep -q "Power BI" <<<"$page" || fail "/admin/tokens does not list the token"
grep -q "cnap" <<<"$page" || fail "/admin/tokens does not list the manager's token"
grep -q "2099-12-31" <<<"$page" || fail "/admin/tokens does not show the expiry"
grep -qF "${token:4}" <<<"$page" && fail "/admin/tokens shows a token's text again"
audit=$(curl -fsS --cacert "$demo_ca" -b "$tmp/jar" "$demo_base/admin/audit")
[ "$(grep -o 'api_token_add' <<<"$audit" | wc -l)" -eq 2 ] || fail "the audit log lacks the two tokens"

# ---- only hashes on disk ----
for f in "$demo"/collector.db*; do
        ! grep -qF "${token:4}" "$f" || fail "the token's text is in $f"
        ! grep -qF "${mtoken:4}" "$f" || fail "the manager token's text is in $f"
done
echo "api_token: ok"
