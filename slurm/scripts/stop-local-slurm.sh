#!/usr/bin/env bash
# Stops the single-node Slurm that slurm/scripts/start-local-slurm.sh started (same BURLA_SLURM_DIR):
# cancels the jobs still queued or running, then stops slurmd and slurmctld, and munged if that script
# started it, through their pid files, waiting until each has exited. Idempotent; the state directory
# (conf, logs, jobcomp.log) is kept.
set -euo pipefail

STATE="${BURLA_SLURM_DIR:-/var/tmp/burla-slurm}"
CONF="$STATE/slurm.conf"
export SLURM_CONF="$CONF"

log() { echo "stop-local-slurm: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { log "ERROR: must run as root (no sudo found)"; exit 1; }
  exec sudo BURLA_SLURM_DIR="$STATE" "$0" "$@"
fi

# Prints the pid in pid file $1 if it is a live process whose command name is $2.
live_pid() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(cat "$1")"
  [ -n "$pid" ] && [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = "$2" ] && echo "$pid"
}

# Sends SIGTERM to the daemon of pid file $1 (command name $2), waits up to $3 tenths of a second for it
# to exit, then SIGKILLs it.
stop_daemon() {
  local pid
  pid="$(live_pid "$1" "$2")" || { rm -f "$1"; return 0; }
  log "stopping $2 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq "$3"); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$2 (pid $pid) ignored SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$1"
}

ctld_pid="$(live_pid "$STATE/slurmctld.pid" slurmctld || true)"

# Cancel what is left, and wait (up to 20 s) until no job is pending, running or completing, so that
# no job process outlives the daemons.
if [ -n "$ctld_pid" ] && [ -f "$CONF" ] && timeout 10 squeue -h -o %i >/dev/null 2>&1; then
  if [ -n "$(timeout 10 squeue -h -t PD,R,CG,S,CF -o %i 2>/dev/null)" ]; then
    log "cancelling remaining jobs"
    timeout 10 scancel --partition=debug 2>/dev/null || true
    for _ in $(seq 200); do
      [ -z "$(timeout 10 squeue -h -t PD,R,CG,S,CF -o %i 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
fi

# slurmstepd processes (one per job step) of our slurmd: they inherited SLURM_CONF=$CONF from it.
our_stepds() {
  local p
  for p in $(pgrep -x slurmstepd || true); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "SLURM_CONF=$CONF" && echo "$p"
  done
  return 0
}

# Prints pid $1 and all its descendants.
process_tree() {
  local c
  echo "$1"
  for c in $(pgrep -P "$1" || true); do process_tree "$c"; done
}

stop_daemon "$STATE/slurmd.pid" slurmd 100
# Job steps outlive slurmd (they are left when slurmctld was not there to cancel their jobs): give the
# ones still ending 5 s, then kill each with the job processes under it.
for _ in $(seq 50); do
  [ -z "$(our_stepds)" ] && break
  sleep 0.1
done
for p in $(our_stepds); do
  tree="$(process_tree "$p")"
  log "killing leftover slurmstepd $p and its processes: ${tree//$'\n'/ }"
  # shellcheck disable=SC2086
  kill -KILL $tree 2>/dev/null || true
done
stop_daemon "$STATE/slurmctld.pid" slurmctld 100

if [ -f "$STATE/munged.started-by-us" ]; then
  stop_daemon "$STATE/munged.pid" munged 50
  rm -f "$STATE/munged.started-by-us"
fi
log "stopped"
