#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sync fault 4 (issue 4): connections are cut at random points, mid-request and mid-response.
# The real demo collector over HTTPS and the real terminal under Xvfb, with cutproxy
# (tests/tools) between them on loopback: with a seeded RNG it cuts a share of the
# connections after a random number of bytes in one direction, with a FIN or a RST, on both
# sides. TLS stays end to end: the terminal still checks the collector's certificate.
#
# E001 logs in and a first vote goes through while the proxy still passes everything; then the
# proxy is restarted on the same port to cut. Votes go in rounds of 250 (outbox_fill, and a
# tap that kicks the uploader) until at least 1,000 are cast and both kinds of cut happened
# past the TLS handshake: a request cut on its way to the collector, and a response cut on its
# way back after the collector stored the batch, so that the terminal sent those votes again
# and the collector answered them as duplicates (its /metrics counts them). Asserts those
# happened, and that every vote cast is stored exactly once. FAULT_SEED picks another plan.
set -euo pipefail
. "$(dirname "$0")/fault_lib.bash"

seed=${FAULT_SEED:-4}
collector_start
proxy_start --share 0 # first a clean line: the terminal pulls its roster, E001 logs in
xvfb_start
kiosk_start --collector-url="https://127.0.0.1:$proxy_port" --batch-size=50
login
first_vote
proxy_stop
proxy_start --seed "$seed" --share 100 --min-bytes 1 --max-bytes 40000
note "cutproxy on port $proxy_port, seed $seed: each connection is cut after 1-40000 bytes of one direction"

# Cuts past this many bytes are past the TLS handshake (about 2 KB each way here), inside a
# request or a response.
past=4096
cuts() { # cuts DIRECTION: how many connections were cut in that direction past the handshake
        awk -v d="$1" -v past=$past '$3 == "cut" && $4 == d && $6 > past { n++ } END { print n + 0 }' "$tmp/proxy.log"
}
for round in 1 2 3 4 5 6 7 8; do
        fill 250
        tap $((round % 3 + 1))
        drain 120 5
        c2s=$(cuts c2s)
        s2c=$(cuts s2c)
        resent=$(metric 'otsinka_votes_received_total{source="terminal",result="duplicate"}')
        note "round $round: $(kiosk_total) votes cast, all sent; cuts mid-request $c2s, mid-response $s2c; answered as duplicates $resent; connections $(grep -c ' plan ' "$tmp/proxy.log")"
        [ "$(kiosk_total)" -ge 1000 ] && [ "$c2s" -gt 0 ] && [ "$s2c" -gt 0 ] && [ "$resent" -gt 0 ] && break
done
[ "$c2s" -gt 0 ] || fail "no request was cut on its way to the collector (seed $seed)"
[ "$s2c" -gt 0 ] || fail "no response was cut on its way to the terminal (seed $seed)"
[ "$resent" -gt 0 ] || fail "no answer was lost after the collector stored a batch (seed $seed)"
kiosk_log_has "sync: the connection to the collector broke" ||
        kiosk_log_has "sync: TLS with the collector failed" ||
        fail "the terminal never said that a connection broke"
fault_verify
note "connections cut: ok"
