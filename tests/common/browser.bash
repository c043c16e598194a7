# SPDX-License-Identifier: MIT
# Sourced by the browser tests (tests/*/browser_*.sh): Debian's chromium driven by
# playwright-core from tests/browser. Sets browser_dir and chromium.
browser_dir=${OTSINKA_SOURCE:?}/tests/browser
chromium=${OTSINKA_CHROMIUM:-/usr/bin/chromium}

# browser_require WHAT [TOOL...]: node, npm (unless playwright-core is installed), chromium and
# the TOOLs must be there; else skip (77), or fail when CI is set. WHAT names the test.
browser_require() {
        local what=$1 tool missing=
        shift
        command -v node >/dev/null || missing="node (apt-get install nodejs)"
        [ -d "$browser_dir/node_modules/playwright-core" ] || command -v npm >/dev/null ||
                missing="${missing:+$missing, }npm (apt-get install npm)"
        [ -x "$chromium" ] || missing="${missing:+$missing, }chromium (apt-get install chromium)"
        for tool in "$@"; do
                command -v "$tool" >/dev/null || missing="${missing:+$missing, }$tool"
        done
        [ -z "$missing" ] && return 0
        if [ -n "${CI:-}" ] && [ "$CI" != false ] && [ "$CI" != 0 ]; then
                echo "FAIL: $what: missing $missing, and CI is set" >&2
                exit 1
        fi
        echo "SKIP: $what: missing $missing"
        exit 77
}

# browser_install LOG: playwright-core from the lock file, once; npm ci writes nothing but
# node_modules/ (ignored by git) beside it. Returns npm's status, its output in LOG.
browser_install() {
        [ -d "$browser_dir/node_modules/playwright-core" ] && return 0
        npm ci --prefix "$browser_dir" --no-audit --no-fund >"$1" 2>&1
}

# browser_spki PEM: the pin chromium is given for the demo's certificate in PEM, base64 of the
# SHA-256 of its SubjectPublicKeyInfo.
browser_spki() {
        openssl x509 -in "$1" -pubkey -noout |
                openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64
}
