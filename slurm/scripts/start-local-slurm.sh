#!/usr/bin/env bash
# Brings up a single-node Slurm (munged, slurmctld, slurmd) on this machine, for tests and examples.
#
# Idempotent, needs no stdin, must run as root (re-runs itself with sudo otherwise). All state (slurm.conf,
# spool, logs, pid files) lives under ${BURLA_SLURM_DIR:-/var/tmp/burla-slurm}; /etc/slurm is not touched.
# Slurm commands then need SLURM_CONF: the last line printed on stdout is
#   export SLURM_CONF=<state dir>/slurm.conf
# so `eval "$(slurm/scripts/start-local-slurm.sh)"` sets it in the calling shell.
# Stop everything again with slurm/scripts/stop-local-slurm.sh (same BURLA_SLURM_DIR).
set -euo pipefail

STATE="${BURLA_SLURM_DIR:-/var/tmp/burla-slurm}"
CONF="$STATE/slurm.conf"
export SLURM_CONF="$CONF"

log() { echo "start-local-slurm: $*" >&2; }
die() {
  log "ERROR: $*"
  local f
  for f in "$STATE/slurmctld.log" "$STATE/slurmd.log" "$STATE/munged.log"; do
    if [ -f "$f" ]; then
      echo "---- last lines of $f ----" >&2
      tail -n 20 "$f" >&2
    fi
  done
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { log "ERROR: must run as root (no sudo found)"; exit 1; }
  exec sudo BURLA_SLURM_DIR="$STATE" "$0" "$@"
fi

# Is the pid in pid file $1 a live process whose command name is $2?
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(cat "$1")"
  [ -n "$pid" ] && [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = "$2" ]
}

# ---- already up? ----------------------------------------------------------------------------------
# (answering, with its node usable: idle, or busy with jobs)
if [ -f "$CONF" ] && pid_alive "$STATE/slurmctld.pid" slurmctld && pid_alive "$STATE/slurmd.pid" slurmd; then
  case "$(timeout 10 sinfo -h -n "$(hostname -s)" -o %T 2>/dev/null || true)" in
    idle | mixed | allocated | completing)
      log "already running (state in $STATE)"
      echo "export SLURM_CONF=$CONF"
      exit 0
      ;;
  esac
fi

# ---- packages -------------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  log "installing slurm-wlm munge"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends slurm-wlm munge >"/tmp/burla-slurm-apt.$$.log" 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >"/tmp/burla-slurm-apt.$$.log" 2>&1 ||
      { cat "/tmp/burla-slurm-apt.$$.log" >&2; die "apt-get install slurm-wlm munge failed"; }
  fi
  rm -f "/tmp/burla-slurm-apt.$$.log"
fi

mkdir -p "$STATE/ctld" "$STATE/d"

# Leftovers of an earlier start that is only half up (or whose pid files went stale): stop them first.
if pid_alive "$STATE/slurmctld.pid" slurmctld || pid_alive "$STATE/slurmd.pid" slurmd; then
  log "a partial earlier start is running; stopping it first"
  "$(dirname "$0")/stop-local-slurm.sh" >&2 || true
fi

# ---- munge ----------------------------------------------------------------------------------------
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  : # a munged (ours or the system's) already answers; keep the record of who started it as it is
else
  log "starting munged"
  mkdir -p /run/munge
  chown munge:munge /run/munge 2>/dev/null || true
  [ -s /etc/munge/munge.key ] || die "/etc/munge/munge.key is missing (the munge package creates it)"
  munged --force --pid-file="$STATE/munged.pid" --log-file="$STATE/munged.log" ||
    die "munged did not start"
  touch "$STATE/munged.started-by-us"
  for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
  done
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || die "munged started but 'munge -n | unmunge' fails"
fi

# ---- slurm.conf -----------------------------------------------------------------------------------
host="$(hostname -s)"
# slurmctld starts clean (-c, below), which would restart job ids at 1: go on from the last id this
# state directory has seen, so that an id never names two jobs (in jobcomp.log, say).
first_id="$(cat "$STATE/jobcomp.log" "$STATE/slurmctld.log" 2>/dev/null |
  grep -o 'JobId=[0-9][0-9]*' | awk -F= '$2 < 60000000 && $2 > m { m = $2 } END { print m + 1 }' || true)"
cpus="$(nproc)"
mem_mb=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
real_mb=$((mem_mb * 95 / 100))   # slurmd drains a node that reports less memory than configured
defmem=$((real_mb / cpus))       # so that CPUs, not memory, limit how many jobs share the node

cat >"$CONF.new" <<EOF
# Written by burla's slurm/scripts/start-local-slurm.sh: single-node Slurm for tests. Do not edit.
ClusterName=burla-local
FirstJobId=${first_id:-1}
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$defmem
# Reject at submission a job that asks for more CPUs or nodes than there are; otherwise it stays PENDING
# (Reason=PartitionConfig or PartitionNodeLimit) forever.
EnforcePartLimits=ALL
ReturnToService=2
MailProg=/bin/true
# Fast turnaround for tests. sbatch only queues a job; slurmctld starts it in its next scheduling pass:
# the main one (background loop, about once a second; batch_sched_delay=0 lets each of them take new
# jobs) or the backfill one (every bf_interval=1 s). A trivial job is COMPLETED 0.1-1 s (mean about
# 0.5 s) after sbatch, against about 2.4 s with Slurm's defaults.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,sched_interval=5,bf_interval=1
# Clients (sbatch, squeue, srun) give up on an unreachable slurmctld after about MessageTimeout-1 s.
MessageTimeout=5
# Seconds between SIGTERM and SIGKILL when a job is cancelled or times out.
KillWait=2
CompleteWait=0
# Finished jobs stay visible for 5 minutes (squeue shows them only with -t all, even with -j ID).
MinJobAge=300
InactiveLimit=0
JobCompType=jobcomp/filetxt
JobCompLoc=$STATE/jobcomp.log
NodeName=$host CPUs=$cpus RealMemory=$real_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
mv "$CONF.new" "$CONF"

# ---- daemons --------------------------------------------------------------------------------------
rm -f "$STATE/slurmctld.pid" "$STATE/slurmd.pid"
log "starting slurmctld and slurmd (state in $STATE)"
# -c: recover no state from an earlier run: its jobs would show as still RUNNING (their processes are
# gone) and a node it drained would stay drained.
slurmctld -c -f "$CONF" || die "slurmctld did not start"
slurmd -f "$CONF" || die "slurmd did not start"

ok=""
for _ in $(seq 300); do
  state="$(timeout 5 sinfo -h -n "$host" -o %T 2>/dev/null || true)"
  if [ "$state" = "idle" ]; then
    ok=1
    break
  fi
  sleep 0.1
done
[ -n "$ok" ] || die "node $host did not become idle within 30 s (sinfo says: '${state:-no answer}');" \
  "the daemons are left running: see the logs in $STATE, stop them with $(dirname "$0")/stop-local-slurm.sh"

log "up: node $host ($cpus CPUs, ${real_mb} MB, DefMemPerCPU=$defmem), partition debug"
echo "export SLURM_CONF=$CONF"
