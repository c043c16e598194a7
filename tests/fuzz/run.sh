#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the fuzz configuration (clang, -DOTSINKA_FUZZ=ON) in BUILD_DIR and runs every
# fuzz_* target for FUZZ_SECONDS (default 20) on a corpus kept under BUILD_DIR, seeded from
# tests/fuzz/corpus/<target>/. Exits non-zero when a target fails to build or a fuzzer finds
# a crash, leak, timeout or failed check; the reproducer lands in BUILD_DIR/fuzz-artifacts/.
#
#   tests/fuzz/run.sh BUILD_DIR [TARGET...]      e.g. FUZZ_SECONDS=60 tests/fuzz/run.sh build-fuzz
set -euo pipefail

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
        echo "usage: $0 BUILD_DIR [fuzz_TARGET...]   (env: FUZZ_SECONDS, default 20)" >&2
        exit 2
fi
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(mkdir -p "$1" && cd "$1" && pwd)
shift
seconds=${FUZZ_SECONDS:-20}

if [[ $# -gt 0 ]]; then
        targets=("$@")
else
        targets=()
        for f in "$src"/tests/fuzz/fuzz_*.c; do
                [[ -e $f ]] && targets+=("$(basename "$f" .c)")
        done
fi
if [[ ${#targets[@]} -eq 0 ]]; then
        echo "no fuzz targets in $src/tests/fuzz" >&2
        exit 1
fi

CC=clang cmake -S "$src" -B "$build" -DOTSINKA_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DOTSINKA_SANITIZE=OFF >/dev/null
failed=()
for t in "${targets[@]}"; do
        # one target at a time, so that one that does not build does not stop the others
        if ! cmake --build "$build" --target "$t" -j"$(nproc)"; then
                echo "!! $t does not build" >&2
                failed+=("$t")
                continue
        fi
        corpus=$build/fuzz-corpus/$t
        artifacts=$build/fuzz-artifacts/$t
        log=$build/fuzz-logs/$t.log
        mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
        if [[ -d $src/tests/fuzz/corpus/$t ]]; then
                cp -n "$src/tests/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
        fi
        dict=()
        [[ -f $src/tests/fuzz/$t.dict ]] && dict=(-dict="$src/tests/fuzz/$t.dict")
        echo "== $t: ${seconds}s, corpus $corpus"
        if "$build/tests/fuzz/$t" "${dict[@]}" -max_total_time="$seconds" -max_len=65536 \
                -timeout=30 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" \
                >"$log" 2>&1; then
                grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
        else
                echo "!! $t failed (log $log):" >&2
                tail -n 40 "$log" >&2
                failed+=("$t")
        fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
        echo "fuzzers that failed: ${failed[*]}" >&2
        exit 1
fi
echo "all fuzzers clean: ${targets[*]}"
