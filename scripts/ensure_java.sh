#!/bin/sh
# Make sure a Java runtime for Spark (the [spark] extra, tests/test_engines.py) is present.
# Spark 4 runs on Java 17 or later; Debian's headless JRE 17 is used. Needs root (CI runs as
# root); otherwise it only reports, and the Spark tests skip with a reason.
set -e
if command -v java >/dev/null 2>&1 || { [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; }; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_java: no java and cannot apt-get install it (not root or not Debian);" \
         "the Spark tests will be skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null \
    || echo "ensure_java: apt-get install openjdk-17-jre-headless failed; the Spark tests will be skipped" >&2
