#!/usr/bin/env bash
# `npm test [-- jest args]`: everything the suite needs, then the whole suite.
# Installs from Debian's packages what is missing (nginx, chromium, openssl, redis-server), the node modules,
# builds (the bin and the browser bundle are tested as built), type-checks, and runs jest.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The Redis tests start their own redis-server (test/support/redis.ts); Debian's package also starts a system
# one where systemd runs, which the tests neither need nor use.
[ -x /usr/bin/redis-server ] || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "test.sh: installing from Debian: ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
bash scripts/ensure-deps.sh
npx tsc -p tsconfig.json --noEmit
results=$(mktemp)
rc=0
node --experimental-vm-modules --disable-warning=ExperimentalWarning node_modules/jest/bin/jest.js --json --outputFile="$results" "$@" || rc=$?
# One plain closing line with the counts (jest's own summary is not a format every CI reader knows).
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed, ${r.numPendingTests} skipped`);' "$results" || true
rm -f "$results"
exit "$rc"
