#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sync fault 1 (issue 4): the collector is down for the first half of a 1,000-vote run, then
# comes up. The real demo collector over HTTPS and the real terminal under Xvfb, where E001
# opened a shift with a PIN and one vote went through; then the collector stops, the first
# 500 votes of the run (taps and outbox_fill) are cast while nothing listens on its port, and
# the other 500 after it is back. Asserts: while down, the terminal says it cannot connect,
# keeps every new vote pending and the collector holds none of them; after, every vote cast
# is stored exactly once, the terminal says the collector answers again and has every vote
# marked sent.
set -euo pipefail
. "$(dirname "$0")/fault_lib.bash"

collector_start
xvfb_start
kiosk_start
login
first_vote

# The collector goes down; the first half of the run is cast.
collector_stop
mark=$(log_mark)
tap 3 # a stored vote kicks the uploader, which finds nothing listening
wait_until 20 "the terminal to say it cannot reach the collector" \
        kiosk_log_since "$mark" "sync: cannot connect to the collector at https://127.0.0.1:$port"
note "collector down; the terminal says: $(said "$seen")"
fill 498
tap 1
[ "$(kiosk_total)" = 501 ] || fail "the terminal holds $(kiosk_total) votes, not the 501 cast"
[ "$(kiosk_states)" = "500 1 0" ] || fail "with the collector down, the terminal's 500 new votes are not all pending: $(kiosk_states)"
[ "$(collector_votes)" = 1 ] || fail "the collector's database holds votes it cannot have received"
alive "$kpid" || fail "the terminal exited while the collector was down"
note "500 votes cast with the collector down, all pending"

# The collector comes back on the same port; the second half.
collector_start
note "collector up again"
fill 499
tap 2 # the 1000th vote of the run; a stored vote also ends the uploader's backoff wait
drain 120
wait_until 10 "the terminal to say the collector answers again" \
        kiosk_log_since "$mark" "sync: the collector answers again"
fault_verify
[ "$(kiosk_total)" -ge 1001 ] || fail "only $(kiosk_total) votes were cast, not 1 + 1000"
note "collector down for the first half: ok"
