#!/usr/bin/env bash
# start-vcluster.sh [N]: burla's multi-node test cluster: a simulated N-node Slurm cluster on this one machine (default N=3, at most 50).
#
# Each compute node nodeK is a Linux network namespace "vc-nodeK" (own IP 10.77.0.(10+K) on a veth into
# the bridge vcbr0, own loopback) plus a UTS namespace (hostname nodeK), running its own slurmd. The
# filesystem, PID and user namespaces are NOT separated: every node sees the same files (a shared FS).
# slurmctld and a private munged run in the root namespace; the root namespace is the "login node",
# reachable from the nodes as 10.77.0.1. Traffic stays on loopback and on vcbr0: the nodes have no
# default route, and an 'unreachable 10.77.0.0/16' route keeps the root namespace from ever sending
# 10.77.x packets to eth0 (e.g. while vcbr0 is down).
#
# Everything lives under $BURLA_VCLUSTER_DIR (default /var/tmp/burla-vcluster); ports 7817 (slurmctld) and 7818 (slurmd) so
# that another Slurm on the default 6817/6818 on this machine is left alone; its own munge key and socket.
# Idempotent; needs root; no systemd. The last line on stdout is
#   export SLURM_CONF=$BURLA_VCLUSTER_DIR/slurm.conf
# and "source $BURLA_VCLUSTER_DIR/env.sh" sets that plus the Open MPI interface settings.
# Stop with stop-vcluster.sh. Environment knobs: BURLA_VCLUSTER_DIR, VC_CPUS (CPUs declared per node, default 2),
# VC_MEM_MB (RealMemory per node, default 2048), VC_SLURMD_TIMEOUT (s, default 10), VC_MSG_TIMEOUT
# (MessageTimeout, s, default 10), VC_UTS (1: own hostname per node, the default; 0: none), VC_PIN
# (1: pin node K to real CPU (K-1) mod nproc; default 0: every node uses every core).
set -euo pipefail

N="${1:-${VC_NODES:-3}}"
VC="${BURLA_VCLUSTER_DIR:-/var/tmp/burla-vcluster}"
CPUS="${VC_CPUS:-2}"
MEM="${VC_MEM_MB:-2048}"
SLURMD_TIMEOUT="${VC_SLURMD_TIMEOUT:-10}"
MSG_TIMEOUT="${VC_MSG_TIMEOUT:-10}"
UTS="${VC_UTS:-1}"   # 0: no UTS namespace (every node's hostname stays this machine's): for experiments
PIN="${VC_PIN:-0}"   # 1: pin node K's slurmd (and its jobs) to real CPU (K-1) mod nproc
NET=10.77.0          # our own /24, on our own bridge only
GUARD=10.77.0.0/16   # unreachable in the root namespace except for the /24 on vcbr0
BR=vcbr0
CTLD_IP="$NET.1"
CTLD_PORT=7817
SLURMD_PORT=7818
CONF="$VC/slurm.conf"
MUNGE_SOCK="$VC/munge/munge.socket"
export SLURM_CONF="$CONF"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { echo "start-vcluster: $*" >&2; }
die() {
  log "ERROR: $*"
  local f
  for f in "$VC/log/munged.log" "$VC/log/slurmctld.log" "$VC"/log/slurmd-node*.log; do
    [ -f "$f" ] || continue
    echo "---- last lines of $f ----" >&2
    tail -n 15 "$f" >&2
  done
  exit 1
}

[ "$(id -u)" -eq 0 ] || { log "ERROR: must run as root"; exit 1; }
case "$N" in '' | *[!0-9]*) die "N must be a number, got '$N'" ;; esac
[ "$N" -ge 1 ] && [ "$N" -le 50 ] || die "N must be 1..50"

t0=$(date +%s.%N)

# Is the pid in pid file $1 a live process (not a zombie) whose command name is $2?
pid_alive() {
  local pid st
  [ -s "$1" ] || return 1
  pid="$(cat "$1")"
  [ -n "$pid" ] && [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = "$2" ] &&
    st="$(ps -o stat= -p "$pid" 2>/dev/null)" && [ "${st#Z}" = "$st" ]
}

mkdir -p "$VC"
cat >"$VC/env.sh" <<EOF
# source this: Slurm client settings for the vcluster, and Open MPI kept on the vcluster's subnet.
export SLURM_CONF=$CONF
export OMPI_MCA_btl_tcp_if_include=$NET.0/24
export OMPI_MCA_oob_tcp_if_include=$NET.0/24
# mpirun binds each node's local rank 0 to core 0, rank 1 to core 1...: on a simulated cluster that piles
# the ranks of all nodes onto the same real cores (cross-node ping-pong ~1.8 ms instead of ~15-100 us).
export OMPI_MCA_hwloc_base_binding_policy=none
# Ranks of all nodes share this machine's few cores: busy-polling ranks then starve each other (a 6-rank
# ping-pong took 0.2-1.5 ms per message, or timed out). Yielding when idle keeps it at ~10-120 us.
export OMPI_MCA_mpi_yield_when_idle=1
# hwloc (in mpirun, orted, the ranks) would otherwise try to connect to every X display in /tmp/.X11-unix.
export HWLOC_COMPONENTS=-gl
# PMIx (in mpirun/orted, and the ranks) would authenticate through munge on the default socket
# /run/munge/munge.socket.2, which is not the vcluster's munged (there may be none): use peer credentials.
export PMIX_MCA_psec=native
# Each node's local disk (a directory of its own mounted here in the node's mount namespace): where
# burla's options.stage_program copies the program with sbcast, instead of /tmp, which all share.
export BURLA_STAGE_DIR=$VC/local
EOF

# ---- already up with the same settings? -----------------------------------------------------------------
PARAMS="nodes=$N cpus=$CPUS mem=$MEM slurmd_timeout=$SLURMD_TIMEOUT msg_timeout=$MSG_TIMEOUT uts=$UTS pin=$PIN"
if [ -f "$CONF" ] && [ "$(cat "$VC/params" 2>/dev/null)" = "$PARAMS" ] && pid_alive "$VC/run/slurmctld.pid" slurmctld; then
  up=1
  for k in $(seq "$N"); do pid_alive "$VC/node/node$k/slurmd.pid" slurmd || up=""; done
  if [ -n "$up" ] && [ "$(timeout 10 sinfo -h -o %T 2>/dev/null | grep -cvE '^(idle|mixed|allocated|completing)$')" = 0 ]; then
    log "already running ($N nodes, state in $VC)"
    echo "export SLURM_CONF=$CONF"
    exit 0
  fi
fi

# ---- packages -----------------------------------------------------------------------------------------
# slurm-wlm: slurmctld, slurmd, clients, plugins (mpi_pmix*.so among them); munge; iproute2 (ip), util-linux
# (nsenter, unshare); openmpi-bin + libopenmpi-dev (mpirun, mpicc); libpmix-dev: Slurm's mpi/pmix plugin
# dlopen()s /usr/lib/x86_64-linux-gnu/pmix2/lib/libpmix.so, which only the -dev package ships.
need=()
for c in slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client munged:munge ip:iproute2 nsenter:util-linux \
  mpirun:openmpi-bin mpicc:libopenmpi-dev; do
  command -v "${c%%:*}" >/dev/null || need+=("${c#*:}")
done
[ -e /usr/lib/x86_64-linux-gnu/pmix2/lib/libpmix.so ] || need+=(libpmix-dev)
[ -e /usr/lib/x86_64-linux-gnu/slurm-wlm/mpi_pmix_v4.so ] || need+=(slurm-wlm-basic-plugins)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing: ${need[*]} (and slurm-wlm munge)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends slurm-wlm munge "${need[@]}" >"/tmp/vcluster-apt.$$.log" 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends slurm-wlm munge "${need[@]}" >"/tmp/vcluster-apt.$$.log" 2>&1 ||
      { cat "/tmp/vcluster-apt.$$.log" >&2; die "apt-get install failed"; }
  fi
  rm -f "/tmp/vcluster-apt.$$.log"
fi

# ---- leftovers of an earlier start: stop them first -----------------------------------------------------
if [ -e "$VC/params" ] || [ -d /sys/class/net/$BR ] || ip netns list 2>/dev/null | grep -q '^vc-node'; then
  log "stopping an earlier vcluster first"
  "$HERE/stop-vcluster.sh" >&2 || true
fi

mkdir -p "$VC/run" "$VC/log" "$VC/ctld" "$VC/munge" "$VC/ns"
chmod 700 "$VC/munge"

# ---- munge: our own daemon, key and socket ------------------------------------------------------------
if ! munge -S "$MUNGE_SOCK" -n 2>/dev/null | unmunge -S "$MUNGE_SOCK" >/dev/null 2>&1; then
  [ -s "$VC/munge/munge.key" ] || { mungekey -c -k "$VC/munge/munge.key" >/dev/null 2>&1 ||
    dd if=/dev/urandom of="$VC/munge/munge.key" bs=1024 count=1 status=none; }
  chmod 600 "$VC/munge/munge.key"
  rm -f "$MUNGE_SOCK" "$MUNGE_SOCK.lock"
  munged --force --socket="$MUNGE_SOCK" --key-file="$VC/munge/munge.key" --pid-file="$VC/run/munged.pid" \
    --seed-file="$VC/munge/munged.seed" --log-file="$VC/log/munged.log" || die "munged did not start"
  for _ in $(seq 50); do
    munge -S "$MUNGE_SOCK" -n 2>/dev/null | unmunge -S "$MUNGE_SOCK" >/dev/null 2>&1 && break
    sleep 0.1
  done
  munge -S "$MUNGE_SOCK" -n | unmunge -S "$MUNGE_SOCK" >/dev/null 2>&1 || die "our munged does not answer"
fi

# ---- network: bridge + one netns (and persistent UTS ns) per node ----------------------------------------
ip link add "$BR" type bridge forward_delay 0 stp_state 0
sysctl -qw "net.ipv6.conf.$BR.disable_ipv6=1"
ip addr add "$CTLD_IP/24" dev "$BR"
ip link set "$BR" up
ip route replace unreachable "$GUARD"
for k in $(seq "$N"); do
  ns="vc-node$k"
  ip netns add "$ns"
  ip link add "vc$k-h" type veth peer name "vc$k-n"
  sysctl -qw "net.ipv6.conf.vc$k-h.disable_ipv6=1"
  ip link set "vc$k-n" netns "$ns"
  ip link set "vc$k-h" master "$BR" up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set "vc$k-n" name eth0
  ip -n "$ns" addr add "$NET.$((10 + k))/24" dev eth0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  # persistent UTS namespace, so that `hostname` on the node says nodeK
  if [ "$UTS" = 1 ]; then
    touch "$VC/ns/node$k.uts"
    unshare --uts="$VC/ns/node$k.uts" hostname "node$k"
  fi
  mkdir -p "$VC/node/node$k/spool" "$VC/node/node$k/tmp"
  # Open MPI's shared-memory segments that killed ranks left behind (/dev/shm is one for every
  # node here): a new job whose Slurm id repeats an old one (a fresh controller starts at 1) gets
  # the same segment names, and its ranks crashed in MPI_Init (half of the 65-rank jobs).
  rm -f /dev/shm/vader_segment."node$k".*
  rm -rf "$VC/node/node$k/tmp/"* 2>/dev/null || true
done
echo "$PARAMS" >"$VC/params"
echo "$PIN" >"$VC/pin"

# ---- slurm.conf --------------------------------------------------------------------------------------------
host="$(hostname -s)"
# slurmctld starts clean (-c): go on from the last job id seen, so that job ids (and the per-job temp dir
# names derived from them) are not reused across restarts.
first_id="$(cat "$VC/log/jobcomp.log" 2>/dev/null | grep -o 'JobId=[0-9]*' |
  awk -F= '$2 > m { m = $2 } END { print m + 1 }' || true)"
defmem=$((MEM / CPUS))
{
  cat <<EOF
# Written by start-vcluster.sh: simulated $N-node cluster (state in $VC). Do not edit.
ClusterName=vcluster
FirstJobId=${first_id:-1}
SlurmctldHost=$host($CTLD_IP)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCK
StateSaveLocation=$VC/ctld
SlurmdSpoolDir=$VC/node/%n/spool
SlurmctldPidFile=$VC/run/slurmctld.pid
SlurmdPidFile=$VC/node/%n/slurmd.pid
SlurmctldLogFile=$VC/log/slurmctld.log
SlurmdLogFile=$VC/log/slurmd-%n.log
# Per-node TmpFS: Slurm's PMIx plugin creates TmpFS/spmix_appdir_<uid>_<job>.<step> on each node of a
# step; with one shared dir the second node fails ("File exists") and srun --mpi=pmix aborts.
TmpFS=$VC/node/%n/tmp
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$defmem
# CPUs/RealMemory per node are declared, not measured: N nodes share this machine's $(nproc) cores.
SlurmdParameters=config_overrides
EnforcePartLimits=ALL
ReturnToService=2
MailProg=/bin/true
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,sched_interval=5,bf_interval=1
MessageTimeout=$MSG_TIMEOUT
# A node that stops answering is "not responding" after ~1.2-1.5x MessageTimeout and DOWN (its jobs
# NODE_FAIL) after ~2.5-3x MessageTimeout (measured: 10/10 -> ~25-29 s, 5/5 -> ~15 s, 3/3 -> ~10-12 s).
SlurmdTimeout=$SLURMD_TIMEOUT
KillWait=2
CompleteWait=0
MinJobAge=300
InactiveLimit=0
JobCompType=jobcomp/filetxt
JobCompLoc=$VC/log/jobcomp.log
EOF
  for k in $(seq "$N"); do
    echo "NodeName=node$k NodeHostname=node$k NodeAddr=$NET.$((10 + k)) CPUs=$CPUS Sockets=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=$MEM State=UNKNOWN"
  done
  echo "PartitionName=vc Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
} >"$CONF.new"
mv "$CONF.new" "$CONF"

# ---- daemons ---------------------------------------------------------------------------------------------
rm -f "$VC/run/slurmctld.pid"
# Each node has its own /tmp in a mount namespace that follows this machine's later mounts (a job
# directory on a file system mounted after the nodes started): that needs / to propagate them,
# as it does by default under systemd; this machine's init leaves it private.
[ "$(findmnt -no PROPAGATION /)" = shared ] || mount --make-shared / || die "could not make / a shared mount"
slurmctld -c -f "$CONF" || die "slurmctld did not start"
for k in $(seq "$N"); do
  rm -f "$VC/node/node$k/slurmd.pid"
  "$HERE/vcnode.sh" start "$k" || die "slurmd for node$k did not start"
done

ok=""
for _ in $(seq 300); do
  states="$(timeout 5 sinfo -h -N -o '%N %T' 2>/dev/null || true)"
  if [ "$(echo "$states" | grep -c ' idle$')" = "$N" ]; then
    ok=1
    break
  fi
  sleep 0.1
done
[ -n "$ok" ] || die "not all $N nodes idle within 30 s; sinfo: ${states:-no answer}. Daemons left running; stop-vcluster.sh stops them"

t1=$(date +%s.%N)
log "up in $(awk "BEGIN{printf \"%.1f\", $t1-$t0}") s: $N nodes node[1-$N] ($NET.11..), $CPUS CPUs + ${MEM} MB declared each, partition vc, slurmctld $CTLD_IP:$CTLD_PORT"
echo "export SLURM_CONF=$CONF"
