#!/usr/bin/env bash
# `npm start [-- options]`: the gateway on its embedded defaults (in-memory broker, port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh >&2
exec node dist/bin/wsgate.js "$@"
