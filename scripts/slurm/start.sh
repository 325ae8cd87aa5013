#!/usr/bin/env bash
# Starts a single-node Slurm 22.05 cluster on this machine without systemd, for benchmon's Slurm
# features and tests (facts and settings: ../shared/SLURM-NOTES.md). Installs slurmctld, slurmd,
# slurm-client and munge from Debian's archive when missing, writes /etc/slurm/slurm.conf (only when
# it is absent or was written by this script), starts munged, slurmctld and slurmd directly, waits
# until the node is idle and records the PIDs it started so that stop.sh stops exactly those.
#
# Idempotent: when the cluster this script started is still running it says so and exits 0.
# Needs root (or sudo). Settings (environment):
#   BENCHMON_SLURM_STATE_DIR    where PIDs are recorded          (default /run/benchmon-slurm)
#   BENCHMON_SLURM_CPUS         CPUs the node advertises         (default 8; may exceed the real cores)
#   BENCHMON_SLURM_MIN_JOB_AGE  seconds a finished job stays visible in squeue (default 600)
#   BENCHMON_SLURM_WAIT         seconds to wait for the node to become idle   (default 30)
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo -E bash "$0" "$@"; fi
  echo "slurm/start: must run as root (or with sudo available)" >&2
  exit 1
fi

STATE_DIR=${BENCHMON_SLURM_STATE_DIR:-/run/benchmon-slurm}
CPUS=${BENCHMON_SLURM_CPUS:-8}
MIN_JOB_AGE=${BENCHMON_SLURM_MIN_JOB_AGE:-600}
WAIT_S=${BENCHMON_SLURM_WAIT:-30}
CONF=/etc/slurm/slurm.conf
MARKER='# Written by benchmon scripts/slurm/start.sh'
NODE=$(hostname -s)

say() { echo "slurm/start: $*"; }
die() { echo "slurm/start: $*" >&2; exit 1; }

# The start time of a process (clock ticks since boot, /proc/PID/stat field 22): recorded with the PID
# so that stop.sh never signals an unrelated process that reused the number.
proc_start() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }

# A daemon this script started and that still runs (pid file present, process alive, same start time).
ours_alive() {
  local f="$STATE_DIR/$1.pid" pid start
  [ -f "$f" ] || return 1
  read -r pid start <"$f" || return 1
  [ -n "$pid" ] && [ "$(proc_start "$pid")" = "$start" ]
}

if ours_alive slurmctld && ours_alive slurmd; then
  if state=$(sinfo -h -n "$NODE" -o '%t' 2>/dev/null) && [ -n "$state" ]; then
    say "already running (node $NODE is $state; PIDs in $STATE_DIR); nothing to do"
    exit 0
  fi
fi

# ---- install -------------------------------------------------------------------------------------
need=()
[ -x /usr/sbin/slurmctld ] || need+=(slurmctld)
[ -x /usr/sbin/slurmd ] || need+=(slurmd)
command -v sbatch >/dev/null 2>&1 || need+=(slurm-client)
[ -x /usr/sbin/munged ] || need+=(munge)
if [ "${#need[@]}" -gt 0 ]; then
  say "installing ${need[*]} from Debian's archive"
  apt-get update -qq
  # Where /usr/sbin/policy-rc.d denies it (containers), the postinst scripts start no daemons.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v sbatch >/dev/null 2>&1 || die "sbatch not found after installing slurm-client"

# ---- refuse to fight a cluster we did not start ----------------------------------------------------
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in 6817 6818; do
  if port_busy "$port"; then
    die "port $port is in use (a Slurm daemon not started by this script?); stop it first or run scripts/slurm/stop.sh"
  fi
done

# ---- configure -------------------------------------------------------------------------------------
if [ -f "$CONF" ] && ! head -n 1 "$CONF" | grep -qF "$MARKER"; then
  die "$CONF exists and was not written by this script; refusing to overwrite it (move it away to use this script)"
fi
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm "$STATE_DIR"
tmp=$(mktemp "$CONF.XXXXXX")
cat >"$tmp" <<CONF
$MARKER — single-node test cluster; it is rewritten on every start. Remove this line to keep your own edits.
ClusterName=benchmon
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
# CR_Core, not CR_Core_Memory: with memory consumable a job without --mem takes the whole node.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Without batch_sched_delay=0 batch jobs start up to 3 s late.
SchedulerParameters=batch_sched_delay=0
# Lets CPUs= exceed the real cores so several test jobs run at once.
SlurmdParameters=config_overrides
ReturnToService=2
# Finished jobs stay visible in squeue this long (there is no accounting to ask afterwards).
MinJobAge=$MIN_JOB_AGE
KillWait=5
MailProg=/bin/true
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
chmod 0644 "$tmp"
mv -f "$tmp" "$CONF"
say "wrote $CONF (node $NODE, CPUs=$CPUS, MinJobAge=$MIN_JOB_AGE)"

# ---- munge -------------------------------------------------------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
  say "creating /etc/munge/munge.key"
  mungekey --create --force
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
fi
mkdir -p /run/munge
chown munge:munge /run/munge
chmod 0755 /run/munge

record() { # name pid
  echo "$2 $(proc_start "$2")" >"$STATE_DIR/$1.pid"
}

wait_pidfile() { # file → prints the pid once the file names a live process
  local i
  for i in $(seq 1 50); do
    if [ -s "$1" ]; then
      local pid
      pid=$(tr -dc '0-9' <"$1")
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; return 0; fi
    fi
    sleep 0.1
  done
  return 1
}

if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "munged already running (not started by this script; left alone)"
else
  rm -f /run/munge/munged.pid
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged
  pid=$(wait_pidfile /run/munge/munged.pid) || die "munged did not start (see /var/log/munge/munged.log)"
  record munged "$pid"
  say "started munged (pid $pid)"
fi

# ---- slurmctld, slurmd ----------------------------------------------------------------------------------
rm -f /run/slurmctld.pid /run/slurmd.pid
# -c: start without the jobs of an earlier run (job ids still continue from the last one here).
/usr/sbin/slurmctld -c
pid=$(wait_pidfile /run/slurmctld.pid) || die "slurmctld did not start; see /var/log/slurm/slurmctld.log"
record slurmctld "$pid"
say "started slurmctld (pid $pid)"

/usr/sbin/slurmd -N "$NODE"
pid=$(wait_pidfile /run/slurmd.pid) || die "slurmd did not start; see /var/log/slurm/slurmd.log"
record slurmd "$pid"
say "started slurmd (pid $pid)"

# ---- wait for the node -----------------------------------------------------------------------------------
deadline=$((SECONDS + WAIT_S))
state=""
while [ $SECONDS -lt $deadline ]; do
  state=$(sinfo -h -n "$NODE" -o '%t' 2>/dev/null || true)
  case "$state" in
    idle|mix|alloc) break ;;
  esac
  sleep 0.25
done
case "$state" in
  idle|mix|alloc) say "node $NODE is $state; Slurm is ready (stop it with scripts/slurm/stop.sh)" ;;
  *) die "node $NODE did not become idle within ${WAIT_S}s (state: '${state:-none}'); see /var/log/slurm/slurmctld.log and slurmd.log, then run scripts/slurm/stop.sh" ;;
esac
