#!/usr/bin/env bash
# vcnode.sh ACTION K [CMD...]: act on node K of the vcluster that start-vcluster.sh started (BURLA_VCLUSTER_DIR).
#   exec K CMD...   run CMD "on" nodeK: in its network namespace (and UTS namespace: hostname nodeK;
#                   nodeK's local disk, $BURLA_VCLUSTER_DIR/local there, is .../node/nodeK/local)
#   start K         start nodeK's slurmd (again); it registers and, after a failure, returns to service
#   crash K         SIGKILL nodeK's slurmd and every process in its netns (its job steps and tasks):
#                   a node that died; Slurm sees it "not responding", then DOWN, its jobs NODE_FAIL
#   netdown K       take nodeK's link down (its processes keep running, cut off: a network partition)
#   netup K         bring it back up
#   pids K          list the processes in nodeK's netns
set -euo pipefail
VC="${BURLA_VCLUSTER_DIR:-/var/tmp/burla-vcluster}"
CONF="$VC/slurm.conf"
[ $# -ge 2 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
act="$1" k="$2"
shift 2
ns="vc-node$k"
[ -e "/run/netns/$ns" ] || { echo "vcnode: no netns $ns (is the vcluster up?)" >&2; exit 1; }
enter=(nsenter --net="/run/netns/$ns")
[ -e "$VC/ns/node$k.uts" ] && enter+=(--uts="$VC/ns/node$k.uts")

case "$act" in
exec) exec "${enter[@]}" -- "$@" ;;
start)
  pidf="$VC/node/node$k/slurmd.pid"
  # (a zombie slurmd, not yet reaped by PID 1, does not count)
  if [ -s "$pidf" ] && [ "$(ps -o stat=,comm= -p "$(cat "$pidf")" 2>/dev/null | awk '$1 !~ /^Z/ {print $2}')" = slurmd ]; then
    echo "vcnode: node$k's slurmd is already running" >&2
    exit 0
  fi
  rm -f "$pidf"
  # SLURM_CONF in its environment: slurmd and its slurmstepds read this cluster's slurm.conf.
  # PMIX_MCA_psec=native: the PMIx server in slurmstepd (and so its clients, told PMIX_SECURITY_MODE)
  # authenticate by socket peer credentials, not through a munged on the default socket (not ours).
  # HWLOC_COMPONENTS=-gl: hwloc would otherwise probe every X display in /tmp/.X11-unix.
  # VC_PIN=1 (start-vcluster.sh writes it to $VC/pin): pin the node (slurmd, and so its steps and tasks,
  # which inherit the CPU affinity) to real CPU (K-1) mod nproc, a crude per-node cpuset.
  pin=()
  [ "$(cat "$VC/pin" 2>/dev/null)" = 1 ] && pin=(taskset -c $(((k - 1) % $(nproc))))
  # A local disk of its own at $VC/local (what sbcast copies there: BURLA_STAGE_DIR in env.sh),
  # in a mount namespace that still sees every other mount of this machine (--propagation slave).
  # Not over /tmp: a checkout or job directory under /tmp must stay the same on every node.
  mkdir -p "$VC/local" "$VC/node/node$k/local" && chmod 1777 "$VC/node/node$k/local"
  SLURM_CONF="$CONF" PMIX_MCA_psec=native HWLOC_COMPONENTS=-gl "${enter[@]}" -- "${pin[@]}" \
    unshare --mount --propagation slave sh -c 'mount --bind "$0" "$1" && shift && exec "$@"' \
    "$VC/node/node$k/local" "$VC/local" slurmd -f "$CONF" -N "node$k"
  ;;
crash)
  pids="$(ip netns pids "$ns" | tr '\n' ' ')"
  # shellcheck disable=SC2086
  [ -n "${pids// /}" ] && kill -KILL $pids
  for _ in $(seq 50); do # until they are gone (a 'start' right after must not see the dying slurmd)
    [ -z "$(ip netns pids "$ns")" ] && break
    sleep 0.1
  done
  echo "vcnode: killed on node$k: ${pids:-nothing}" >&2
  ;;
netdown) ip -n "$ns" link set eth0 down ;;
netup) ip -n "$ns" link set eth0 up ;;
pids) for p in $(ip netns pids "$ns"); do ps -o pid=,comm=,args= -p "$p" || true; done ;;
*) echo "vcnode: unknown action $act" >&2; exit 2 ;;
esac
