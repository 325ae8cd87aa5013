#!/usr/bin/env bash
# One command from a fresh checkout to a running benchmon: installs what is missing, builds,
# and starts the service (REST API on :8002, supervised local Prometheus on 127.0.0.1:9090).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci; fi
npm run build
exec node bin/benchmon.js serve "$@"
