#!/usr/bin/env bash
# One command from a fresh checkout: installs what is missing, builds, and runs benchmon.
#   bash scripts/run.sh            the service (REST API on :8002, supervised local Prometheus on 127.0.0.1:9090)
#   bash scripts/run.sh demo       the whole job with an emulated workload (see README)
#   bash scripts/run.sh ARGS...    any other benchmon command
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci; fi
npm run build
if [ "$#" -eq 0 ]; then exec node bin/benchmon.js serve; fi
exec node bin/benchmon.js "$@"
