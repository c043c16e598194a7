#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sync fault 2 (issue 4): the collector is killed with SIGKILL while it stores a batch.
# The real demo collector over HTTPS and the real terminal under Xvfb, 1,000 votes.
#
# E001 logs in and a first vote goes through. Then, deterministically: the collector's
# database is held write-locked by sqlite3, a tap kicks the terminal into sending a batch, and
# the collector is killed once one of its threads is seen (in /proc) waiting inside the store
# for the lock: the request read whole, nothing answered. Asserts that nothing of that batch
# is stored, that the collector's database is intact, that the terminal keeps every new vote
# pending and says it lost the collector.
#
# Then inside the write transaction itself: while the terminal drains its outbox into the
# restarted collector, the collector is frozen (SIGSTOP) at random moments until a probe finds
# it holding the write lock, and is killed there (up to five drains; one must be caught). The
# database must be intact, and at the end every vote cast is stored exactly once and the
# terminal has every vote marked sent.
set -euo pipefail
. "$(dirname "$0")/fault_lib.bash"

collector_start
xvfb_start
kiosk_start
login
first_vote

# Killed inside the store, deterministically.
db_lock
fill 998
tap 2 # kicks the uploader: a batch goes out and the collector waits for the lock
wait_until 30 "a request of the terminal to be waiting inside the collector's store" collector_in_store
note "a request waits inside the store: $seen"
mark=$(log_mark)
collector_kill
db_unlock
[ "$(collector_votes)" = 1 ] || fail "the collector killed inside a batch left $(($(collector_votes) - 1)) of its votes stored"
[ "$(q "$cdb" "PRAGMA integrity_check")" = ok ] || fail "the collector's database is damaged after SIGKILL"
[ "$(kiosk_states)" = "999 1 0" ] || fail "the terminal's outbox is not 999 pending and 1 sent: $(kiosk_states)"
# Which words depends on libcurl (a reused connection that dies unanswered is retried once on
# a new one, which finds nothing listening); that it says so does not.
wait_until 20 "the terminal to say it lost the collector" kiosk_log_since "$mark" "warn +sync: "
note "the terminal says: $(said "$seen")"

# Killed with its write transaction open: the collector is kept frozen and let run for a few
# milliseconds at a time (kill_when); after each run a probe tries to take the write lock
# without waiting. "database is locked" means the frozen collector is inside its transaction,
# between BEGIN and the end of COMMIT (nothing else writes its database): it is killed there.
probe_locked() {
        local out
        out=$(sqlite3 -cmd ".timeout 0" "$cdb" "BEGIN IMMEDIATE; ROLLBACK;" 2>&1) && return 1
        [[ $out == *"database is locked"* ]] || fail "the probe of the collector's lock failed: $out"
}

# Up to five drains, each held back until the sampler runs: the terminal's request waits
# inside the restarted collector's store for the lock; the collector is frozen, the lock goes,
# the sampler starts.
landed=0
for attempt in 1 2 3 4 5; do
        db_lock
        collector_start
        fill 500
        tap $((attempt % 3 + 1)) # a resident's vote: ends the uploader's backoff
        wait_until 30 "a request of the terminal to be waiting inside the collector's store" collector_in_store
        signal STOP "$cpid"
        db_unlock
        if kill_when "$cpid" probe_locked; then
                landed=1
                note "drain $attempt: collector killed inside its write transaction at freeze $samples; stored, answer lost: $(lost_answers); terminal: $(kiosk_states)"
                [ "$(q "$cdb" "PRAGMA integrity_check")" = ok ] || fail "the collector's database is damaged after SIGKILL"
                break
        fi
        note "drain $attempt: the terminal drained before the collector was found storing ($samples freezes)"
        collector_stop
done
[ $landed = 1 ] || fail "in five drains the collector was never found inside its write transaction"

collector_start
tap 1
drain 120
fault_verify
[ "$(kiosk_total)" -ge 1000 ] || fail "only $(kiosk_total) votes were cast, not 1000"
note "collector killed while storing: ok"
