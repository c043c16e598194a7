#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sync fault 5 (issue 4): the collector answers 500 and 503 for a while. The real demo
# collector over HTTPS and the real terminal under Xvfb.
#
# 503 is the collector's own answer: its database is held write-locked by sqlite3 (BEGIN
# EXCLUSIVE), so its store gives up after its 5 s busy timeout and it answers 503 "store:
# busy, try again later" (collector/api.c). It answers an upload 500 only when it cannot
# allocate or encode its answer, which no outside fault brings about; so the 500s come from a
# gateway in front of it, as nginx would answer: cutproxy (tests/tools) terminates TLS with
# the collector's own certificate for three connections, reads each request whole and
# answers 500; the connections before and after are passed through to the collector.
#
# Asserts: the terminal says the collector is busy with each code, nothing is stored while
# the store is locked (and /metrics counts the 5xx answers), every vote cast is stored exactly
# once afterwards, and every vote is marked sent.
set -euo pipefail
. "$(dirname "$0")/fault_lib.bash"

collector_start
proxy_start --share 0 # first a clean line: the terminal pulls its roster, E001 logs in
xvfb_start
kiosk_start --collector-url="https://127.0.0.1:$proxy_port"
login
first_vote

# 500 from the gateway: the proxy is restarted on the same port to answer the next three
# connections itself.
proxy_stop
proxy_start --share 0 --answer 500 --answer-count 3 --cert "$demo/server.pem" --key "$demo/server.key"
mark=$(log_mark)
fill 300
tap 3 # kicks the uploader
wait_until 30 "the terminal to say the collector answered 500" \
        kiosk_log_since "$mark" "sync: the collector is busy \(HTTP 500\): gateway: HTTP 500 injected by cutproxy"
note "the terminal says: $(said "$seen")"
drain 60
answered=$(grep -c ' answer 500 (request of ' "$tmp/proxy.log" || true)
[ "$answered" = 3 ] || fail "the gateway answered $answered requests with 500, not 3"
batches=$(awk '$3 == "answer" && $6 > 10000 { n++ } END { print n + 0 }' "$tmp/proxy.log")
[ "$batches" -ge 1 ] || fail "none of the requests answered 500 was a batch of votes"
note "the gateway answered 3 requests 500 ($batches of them batches of votes), then all $(kiosk_total) votes were sent"

# 503 from the collector: its store is busy.
before=$(collector_votes)
errors=$(metric 'otsinka_http_requests_total{code="5xx"}')
mark=$(log_mark)
db_lock
fill 400
tap 2 # kicks the uploader
wait_until 60 "the terminal to say the collector answered 503" \
        kiosk_log_since "$mark" "sync: the collector is busy \(HTTP 503\): store: busy, try again later"
note "the terminal says: $(said "$seen")"
[ "$(collector_votes)" = "$before" ] || fail "the collector stored votes while its store was locked"
set -- $(kiosk_states)
[ "$1" -ge 401 ] || fail "the terminal has only $1 votes pending while the collector answers 503"
[ "$(metric 'otsinka_http_requests_total{code="5xx"}')" -gt "$errors" ] ||
        fail "the collector's /metrics counts no 5xx answer"
db_unlock
grep -q "database is locked" "$tmp/collector.log" || fail "the collector did not log why it answered 503"
tap 1
drain 120
wait_until 10 "the terminal to say the collector answers again" \
        kiosk_log_since "$mark" "sync: the collector answers again"
fault_verify
note "500 and 503: ok"
