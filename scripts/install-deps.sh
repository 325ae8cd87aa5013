#!/usr/bin/env bash
# Installs what benchmon and its tests need on Debian 12: Prometheus (with promtool), node_exporter,
# pushgateway, the load generators wrk and hey, and with --for-tests Chromium (browser tests) from Debian's archive, when missing. Needs root (or sudo) for apt.
set -euo pipefail

need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-node-exporter >/dev/null 2>&1 || need+=(prometheus-node-exporter)
command -v prometheus-pushgateway >/dev/null 2>&1 || need+=(prometheus-pushgateway)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v hey >/dev/null 2>&1 || need+=(hey)
# Browser tests of the web UI and report.html drive Debian's Chromium through playwright-core (never a
# download); only the tests need it, so only `--for-tests` installs it (.ci/run, README "Test it").
if [ "${1:-}" = "--for-tests" ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
fi

if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "benchmon: missing Debian packages ${need[*]}; install them as root: apt-get install ${need[*]}" >&2
      exit 1
    fi
  fi
  echo "benchmon: installing ${need[*]} from Debian's archive" >&2
  $SUDO apt-get update -qq
  # The packages' init scripts would start system-wide daemons on the default ports; benchmon
  # runs its own, so keep them from starting where policy-rc.d allows it.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "benchmon: Node.js 20 or newer is required (found $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
