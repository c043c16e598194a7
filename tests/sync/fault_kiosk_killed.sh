#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sync fault 3 (issue 4): the terminal (otsinka-kiosk) is killed with SIGKILL while it
# uploads, then restarted. The real demo collector over HTTPS and the real terminal under
# Xvfb, 1,000 votes.
#
# E001 logs in and a first vote goes through. Then, deterministically, the answer lost with
# the terminal: the collector's database is held write-locked, a tap kicks the terminal into
# sending a batch, and the terminal is killed once the collector is seen waiting inside its
# store with that request; then the lock goes and the collector stores the batch for a
# terminal that is gone. Asserts that the collector holds votes the terminal still has
# pending.
#
# Then at a random point of the restarted terminal's drain: the terminal is frozen at random
# moments and killed the first time the collector has stored votes that the frozen terminal
# has not marked sent (its answer in flight or not yet applied).
#
# Each time the terminal is started again (its shift resumes) and sends those votes again;
# the collector must answer them as duplicates (its /metrics counts them). At the end every
# vote cast is stored exactly once, the terminal has every vote marked sent, and its outbox
# and the collector's database are intact.
set -euo pipefail
. "$(dirname "$0")/fault_lib.bash"

collector_start
xvfb_start
kiosk_start
login
first_vote

# Killed with its request inside the collector's store.
db_lock
fill 998
tap 2 # kicks the uploader: a batch goes out and the collector waits for the lock
wait_until 30 "a request of the terminal to be waiting inside the collector's store" collector_in_store
kiosk_kill
note "terminal killed while its request waits inside the collector's store ($seen)"
lines=$(wc -l <"$tmp/collector.log")
db_unlock
stored_or_busy() {
        seen=$(tail -n +"$((lines + 1))" "$tmp/collector.log" | grep -E -m 1 "batch of|locked") || return 1
}
wait_until 20 "the collector to finish the dead terminal's request" stored_or_busy
[[ $seen == *"batch of"* ]] || fail "the collector gave up on the lock before it was released: $seen"
lost_a=$(lost_answers)
note "the collector stored it: $seen; stored but pending at the terminal: $lost_a"
[ "$lost_a" -gt 0 ] || fail "no vote is stored at the collector and pending at the killed terminal"
[ "$(q "$kdb" "PRAGMA integrity_check")" = ok ] || fail "the terminal's outbox is damaged after SIGKILL"

# Restarted; killed again once an answer is in flight. The restarted terminal's first request
# is held inside the store until the terminal is frozen, so that the drain cannot run ahead.
# Only votes the collector receives from now on count: the first request carries the votes
# whose answer was lost above, which the collector answers as duplicates.
since=$(date +%s%3N)
db_lock
kiosk_start
wait_until 30 "the restarted terminal's request to be waiting inside the collector's store" collector_in_store
signal STOP "$kpid"
db_unlock
answer_in_flight() { inflight=$(lost_answers "$since") && [ "$inflight" -gt 0 ]; }
if ! kill_when "$kpid" answer_in_flight; then
        fail "the restarted terminal drained everything without the collector ever storing ahead of it"
fi
lost=$(lost_answers "$since")
# After the kill the outbox may show fewer: a commit of the ack that had reached the outbox's
# WAL when the terminal was frozen (e.g. inside its fsync) is durable, and shows once the
# next reader recovers the WAL.
note "terminal killed at freeze $samples: $inflight votes stored at the collector were pending at the terminal; after the kill $lost still are ($(kiosk_states))"
[ "$(q "$kdb" "PRAGMA integrity_check")" = ok ] || fail "the terminal's outbox is damaged after SIGKILL"

kiosk_start
tap 1
drain 120
fault_verify
dups=$(metric 'otsinka_votes_received_total{source="terminal",result="duplicate"}')
note "votes sent again after a lost answer and answered as duplicates: $dups (at least $lost_a + $lost)"
[ "$dups" -ge $((lost_a + lost)) ] ||
        fail "the collector answered $dups votes as duplicates, fewer than the $((lost_a + lost)) whose answer was lost"
[ "$(kiosk_total)" -ge 1000 ] || fail "only $(kiosk_total) votes were cast, not 1000"
note "terminal killed while uploading: ok"
