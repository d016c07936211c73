#!/usr/bin/env bash
# Shared by `npm start` and `npm test`: install node modules when missing or stale, build when stale.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=dist/.build-stamp
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund   # its `prepare` builds
  mkdir -p dist && touch "$stamp"
fi
if [ ! -f "$stamp" ] || [ -n "$(find src bin legacy-adapter load scripts package.json tsconfig.json tsconfig.build.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  npm run build --silent
  touch "$stamp"
fi
