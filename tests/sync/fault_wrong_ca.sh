#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sync fault 6 (issue 4): the collector's certificate does not match the configured CA. The
# real demo collector over HTTPS and the real terminal under Xvfb. The terminal works first:
# E001 logs in and a vote goes through. Then the collector's CA is made anew (its CA and
# server certificate removed; the demo makes a new CA with the same name, "CN=Otsinka
# development CA", and a new key) while the terminal keeps trusting the old one, as when a
# server is rebuilt and the terminals are not given the new ca.pem.
#
# Asserts that nothing is sent: the terminal names the reason in its log, keeps every new
# vote pending, and no connection carries more than a TLS handshake towards the collector
# (cutproxy, passing everything through, counts the bytes); the collector stores no new vote
# and logs no batch. Then, as a control, the same terminal given the new CA sends every vote,
# each stored exactly once.
set -euo pipefail
. "$(dirname "$0")/fault_lib.bash"

collector_start
cp "$demo/ca.pem" "$tmp/old-ca.pem" # what the terminal was given at enrollment
proxy_start --share 0 # passes everything through; its log counts the bytes of each connection
xvfb_start
kiosk_start --collector-url="https://127.0.0.1:$proxy_port" --ca-file="$tmp/old-ca.pem"
login
first_vote

# The collector comes back with a new CA.
collector_stop
rm "$demo/ca.pem" "$demo/ca.key" "$demo/server.pem" "$demo/server.key"
lines=$(wc -l <"$tmp/collector.log")
collector_start # healthy() checks it with the new ca.pem
cmp -s "$demo/ca.pem" "$tmp/old-ca.pem" && fail "the demo did not make a new CA"
grep -q "making a development CA" <(tail -n +"$((lines + 1))" "$tmp/collector.log") ||
        fail "the collector did not say it made a new CA"
conns=$(grep -c ' plan ' "$tmp/proxy.log" || true) # connections before the new certificate

mark=$(log_mark)
tap 2 # kicks the uploader
why="sync: the collector's certificate is not signed by the configured CA ($tmp/old-ca.pem)"
wait_until 30 "the terminal to say why it cannot send" kiosk_log_since "$mark" "$(sed 's/[][().*^$\\/]/\\&/g' <<<"$why")"
note "the terminal says: $(said "$seen")"

# More votes are cast; the last tap kicks the uploader into another attempt, which must fail
# the same way.
fill 40
connections() { grep -c ' plan ' "$tmp/proxy.log" || true; }
over() { grep -cE '^conn [0-9]+ (close|cut|upstream|.* read:|.* write:)' "$tmp/proxy.log" || true; }
n0=$(connections)
tap 1
attempted() { seen="$(connections) connections, $(over) over"; [ "$(connections)" -gt "$n0" ] && [ "$(over)" = "$(connections)" ]; }
wait_until 30 "an upload attempt after the votes were cast" attempted
note "$seen, the last after the tap that found 42 votes waiting"

[ "$(kiosk_states)" = "42 1 0" ] || fail "the terminal's new votes are not all pending: $(kiosk_states)"
[ "$(collector_votes)" = 1 ] || fail "the collector stored $(($(collector_votes) - 1)) votes from a terminal that does not trust it"
tail -n +"$((lines + 1))" "$tmp/collector.log" | grep -q "Terminal T001" &&
        fail "the collector logged a request of the terminal that does not trust it"
most=$(awk -v from="$conns" '$1 == "conn" && $2 > from && match($0, /\(c2s [0-9]+,/) {
                n = substr($0, RSTART + 5, RLENGTH - 6) + 0; if (n > m) m = n } END { print m + 0 }' "$tmp/proxy.log")
note "the most a connection carried towards the collector since its new CA: $most bytes"
[ "$most" -lt 2048 ] || fail "a connection carried $most bytes to the collector: more than a TLS handshake"
alive "$kpid" || fail "the terminal exited"

# The control: the same terminal, given the new CA, sends them all.
kiosk_gone() { ! alive "$kpid"; }
signal TERM "$kpid"
wait_until 20 "the terminal to stop on SIGTERM" kiosk_gone
kiosk_start --collector-url="https://127.0.0.1:$proxy_port" # kiosk.conf's ca-file: the new ca.pem
tap 3
drain 60
fault_verify
note "wrong CA: ok"
