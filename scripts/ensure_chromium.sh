#!/bin/sh
# Make sure a Chromium the browser test (tests/test_browser.py) can drive is present.
# Debian's package is used because `playwright install` downloads browsers from a CDN that CI
# machines cannot always reach. Needs root (CI runs as root); otherwise it only reports, and the
# browser test skips with a reason.
set -e
for candidate in "${RAI_NB_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
        exit 0
    fi
done
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: no chromium and cannot apt-get install it (not root or not Debian);" \
         "the browser test will be skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null \
    || echo "ensure_chromium: apt-get install chromium failed; the browser test will be skipped" >&2
