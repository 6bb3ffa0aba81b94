#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for the tests marked `slurm` (root needed).
#
#   tests/slurm/cluster.sh up [DIR]     start munged (unless one runs), slurmctld and slurmd;
#                                       print the SLURM_CONF to export; wait until the node is idle
#   tests/slurm/cluster.sh down [DIR]   stop exactly the daemons that `up` started (pid files)
#
# Everything (slurm.conf, state, spool, logs, pid files) lives in DIR (default
# ${REPRO_SLURM_DIR:-/tmp/repro-slurm}). The controller listens on ${REPRO_SLURM_PORT:-6817}
# and slurmd on the port after it, so two such clusters can run side by side. Accounting is off: `sacct` fails here, and
# submitit falls back to squeue/scontrol for job states.
# Debian packages: slurmctld slurmd slurm-client munge (.ci/run installs them).
set -euo pipefail
cmd=${1:-}
dir=${2:-${REPRO_SLURM_DIR:-/tmp/repro-slurm}}
conf="$dir/slurm.conf"
port=${REPRO_SLURM_PORT:-6817}

die() { echo "cluster.sh: $*" >&2; exit 1; }

up() {
  [ "$(id -u)" = 0 ] || die "needs root (it starts munged, slurmctld and slurmd)"
  for bin in munged slurmctld slurmd sinfo; do
    command -v "$bin" >/dev/null || die "$bin not found: apt-get install slurmctld slurmd slurm-client munge"
  done
  mkdir -p "$dir/state" "$dir/spool"
  : > "$dir/started"
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) * 9 / 10 / 1024 ))  # MB, ~90%
  cat > "$conf" <<CONF
ClusterName=repro
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
JobRequeue=1
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=300
KillWait=2
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  if ! pgrep -x munged >/dev/null; then
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
    cp /run/munge/munged.pid "$dir/munged.pid"
    echo munged >> "$dir/started"
  fi
  SLURM_CONF="$conf" slurmctld -f "$conf"
  echo slurmctld >> "$dir/started"
  SLURM_CONF="$conf" slurmd -f "$conf"
  echo slurmd >> "$dir/started"
  for _ in $(seq 120); do
    if SLURM_CONF="$conf" sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then
      echo "export SLURM_CONF=$conf"
      return 0
    fi
    sleep 0.5
  done
  die "the node did not become idle within 60 s; see $dir/slurmctld.log and $dir/slurmd.log"
}

down() {
  [ -f "$dir/started" ] || { echo "cluster.sh: nothing started in $dir"; return 0; }
  local daemon pid
  for daemon in slurmd slurmctld munged; do
    grep -qx "$daemon" "$dir/started" || continue
    [ -s "$dir/$daemon.pid" ] || continue
    pid=$(cat "$dir/$daemon.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -f "$dir/started"
}

case "$cmd" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down [DIR]" >&2; exit 2 ;;
esac
