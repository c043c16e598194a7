#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# With no display to draw on, the terminal says so and stops, instead of taking votes on a
# screen nobody sees (SDL would quietly fall back to its offscreen driver).
set -euo pipefail

build=${OTSINKA_BUILD:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

set +e
env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER XDG_RUNTIME_DIR="$tmp" \
        timeout 20 "$build/kiosk/otsinka-kiosk" --database="$tmp/kiosk.db" --windowed=true \
        --software=true >"$tmp/out" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || { cat "$tmp/out" >&2; echo "FAIL: the terminal ran without a display (exit $rc)" >&2; exit 1; }
grep -q "No display" "$tmp/out" || { cat "$tmp/out" >&2; echo "FAIL: the terminal did not say why it stopped" >&2; exit 1; }
echo "ok: no display, a clear error and exit $rc"
