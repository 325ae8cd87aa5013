#!/usr/bin/env bash
# Stops the single-node Slurm started by start.sh: cancels every job first (job processes outlive
# slurmd because slurmstepd is re-parented), then stops exactly the daemons start.sh recorded in
# its state directory, by PID (checked against the recorded start time). Idempotent.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo -E bash "$0" "$@"; fi
  echo "slurm/stop: must run as root (or with sudo available)" >&2
  exit 1
fi

STATE_DIR=${BENCHMON_SLURM_STATE_DIR:-/run/benchmon-slurm}
say() { echo "slurm/stop: $*"; }

proc_start() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }
# Alive and not a zombie (a stopped daemon can linger as a zombie briefly).
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# The recorded PID when that process still runs, else nothing.
ours() {
  local f="$STATE_DIR/$1.pid" pid start
  [ -f "$f" ] || return 0
  read -r pid start <"$f" || return 0
  if [ -n "$pid" ] && [ "$(proc_start "$pid")" = "$start" ] && alive "$pid"; then echo "$pid"; fi
}

if [ ! -d "$STATE_DIR" ] || [ -z "$(ls -A "$STATE_DIR" 2>/dev/null)" ]; then
  say "nothing to stop (no daemons recorded in $STATE_DIR)"
  exit 0
fi

ctld=$(ours slurmctld)
if [ -n "$ctld" ] && command -v squeue >/dev/null 2>&1; then
  jobs=$(squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ' || true)
  if [ -n "${jobs// /}" ]; then
    say "cancelling jobs: $jobs"
    # shellcheck disable=SC2086
    scancel $jobs || true
  fi
  # Wait until no job is running or completing, so that no job process outlives the cluster.
  for _ in $(seq 1 60); do
    left=$(squeue -h -t running,completing,configuring -o '%A' 2>/dev/null || true)
    [ -z "$left" ] && break
    sleep 0.25
  done
  [ -n "${left:-}" ] && say "warning: jobs still running after 15 s: $(echo "$left" | tr '\n' ' ')"
fi

stop_one() { # name
  local pid
  pid=$(ours "$1")
  if [ -z "$pid" ]; then
    say "$1 was not running"
  else
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      say "$1 (pid $pid) did not stop on SIGTERM within 10 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    say "stopped $1 (pid $pid)"
  fi
  rm -f "$STATE_DIR/$1.pid"
}

# slurmd first so that it cannot report jobs to a dead controller; munged last since both use it.
stop_one slurmd
stop_one slurmctld
stop_one munged
rmdir "$STATE_DIR" 2>/dev/null || true

# Job steps (slurmstepd) are re-parented and outlive slurmd; after the scancel above they end on
# their own. Report any that remain rather than killing processes this script did not start.
live_stepds() { for p in $(pgrep -x slurmstepd 2>/dev/null); do alive "$p" && echo "$p"; done; true; }
for _ in $(seq 1 20); do [ -z "$(live_stepds)" ] && break; sleep 0.25; done
if [ -n "$(live_stepds)" ]; then
  say "warning: slurmstepd processes remain: $(live_stepds | tr '\n' ' ')"
fi
say "done"
