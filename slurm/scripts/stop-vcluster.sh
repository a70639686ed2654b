#!/usr/bin/env bash
# stop-vcluster.sh: stops what start-vcluster.sh started (same BURLA_VCLUSTER_DIR, default /var/tmp/burla-vcluster): cancels
# the jobs left, stops each node's slurmd and kills every process left inside that node's network
# namespace (job steps and tasks: only the vcluster's own processes live there), stops slurmctld and
# munged through their pid files, then removes the namespaces, veths, the bridge vcbr0 and the guard
# route. Idempotent. Logs, slurm.conf and the munge key under BURLA_VCLUSTER_DIR are kept.
set -uo pipefail

VC="${BURLA_VCLUSTER_DIR:-/var/tmp/burla-vcluster}"
CONF="$VC/slurm.conf"
export SLURM_CONF="$CONF"
BR=vcbr0
GUARD=10.77.0.0/16

log() { echo "stop-vcluster: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { log "ERROR: must run as root"; exit 1; }
t0=$(date +%s.%N)

# Is pid $1 alive? A zombie is not: PID 1 on this kind of machine reaps orphans only after 1-2 s.
alive() {
  local st
  st="$(ps -o stat= -p "$1" 2>/dev/null)" && [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}
live_pid() { # pid file, command name
  local pid
  [ -s "$1" ] || return 1
  pid="$(cat "$1")"
  [ -n "$pid" ] && [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = "$2" ] && alive "$pid" && echo "$pid"
}
# stop_daemons TENTHS PIDFILE:COMM...: SIGTERM all of them at once, wait up to TENTHS tenths of a second
# for all to exit, then SIGKILL those left.
stop_daemons() {
  local tenths="$1" spec pid pids=() files=() left
  shift
  for spec in "$@"; do
    pid="$(live_pid "${spec%%:*}" "${spec#*:}")" && pids+=("$pid")
    files+=("${spec%%:*}")
  done
  [ "${#pids[@]}" -gt 0 ] || { rm -f "${files[@]}"; return 0; }
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq "$tenths"); do
    left=""
    for pid in "${pids[@]}"; do alive "$pid" && left=1; done
    [ -z "$left" ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if alive "$pid"; then
      log "pid $pid ($(ps -o comm= -p "$pid")) ignored SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${pids[@]}"; do while alive "$pid"; do sleep 0.1; done; done
  rm -f "${files[@]}"  # (the daemons remove their own; a killed one leaves it)
}

# 1. cancel what is left (briefly: the nodes' processes are killed below anyway)
if live_pid "$VC/run/slurmctld.pid" slurmctld >/dev/null && [ -f "$CONF" ]; then
  if [ -n "$(timeout 5 squeue -h -t PD,R,CG,S,CF -o %i 2>/dev/null)" ]; then
    log "cancelling remaining jobs"
    timeout 5 scancel --partition=vc 2>/dev/null || true
    for _ in $(seq 50); do
      [ -z "$(timeout 5 squeue -h -t PD,R,CG,S,CF -o %i 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
fi

# 2. nodes: slurmd, then everything still inside the node's netns
nodes=""
for d in "$VC"/node/node*; do [ -d "$d" ] && nodes="$nodes ${d##*/node/}"; done
for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^vc-node[0-9]+$/ {print $1}'); do
  n="${ns#vc-}"
  case " $nodes " in *" $n "*) ;; *) nodes="$nodes $n" ;; esac
done
specs=()
for n in $nodes; do specs+=("$VC/node/$n/slurmd.pid:slurmd"); done
stop_daemons 50 "${specs[@]}"
for n in $nodes; do
  ns="vc-$n"
  [ -e "/run/netns/$ns" ] || continue
  for _ in $(seq 20); do
    [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
    sleep 0.1
  done
  stray="$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
  if [ -n "${stray// /}" ]; then
    log "killing processes left in $ns: $stray"
    # shellcheck disable=SC2086
    kill -KILL $stray 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.1; done
  fi
done

# 3. controller and munged
stop_daemons 100 "$VC/run/slurmctld.pid:slurmctld" "$VC/run/munged.pid:munged"

# 4. what killed ranks left in /dev/shm (see start-vcluster.sh)
for n in $nodes; do rm -f /dev/shm/vader_segment."$n".*; done

# 5. network and namespaces
for n in $nodes; do
  k="${n#node}"
  ip link del "vc$k-h" 2>/dev/null || true
  ip netns del "vc-$n" 2>/dev/null || true
  if [ -e "$VC/ns/$n.uts" ]; then
    umount "$VC/ns/$n.uts" 2>/dev/null || true
    rm -f "$VC/ns/$n.uts"
  fi
done
ip link del "$BR" 2>/dev/null || true
ip route del unreachable "$GUARD" 2>/dev/null || true
rm -f "$VC/params"
t1=$(date +%s.%N)
log "stopped in $(awk "BEGIN{printf \"%.1f\", $t1-$t0}") s"
