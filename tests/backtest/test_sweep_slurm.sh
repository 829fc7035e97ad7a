#!/bin/sh
# test_sweep_slurm.sh: `bourse sweep --slurm` on a real one-node Slurm cluster.
# Starts munged (a key made here), slurmctld and slurmd from Debian's
# slurm-wlm with a minimal slurm.conf in a temp dir (free ports probed, no
# system files touched), submits a sharded sweep as a job array, and checks the
# merged table is byte-identical to the single-process one; then the same with
# --no-wait and `bourse sweep merge`. Skips (exit 77) with the reason when the
# daemons cannot start here; stops them at the end, also on failure.
# usage: test_sweep_slurm.sh BOURSE_BIN SOURCE_DIR
set -u
BIN=$1
SRC=$2
PY=/usr/bin/python3

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

for t in munged mungekey slurmctld slurmd sbatch squeue sinfo; do
    command -v $t >/dev/null 2>&1 || skip "$t not installed (Debian packages slurm-wlm and munge)"
done
[ "$(id -u)" = 0 ] || skip "slurmd must run as root to start jobs (running as uid $(id -u))"

D=$(mktemp -d /tmp/brs-slurm.XXXXXX) || fail "mktemp"
chmod 700 "$D"
cleanup() {
    for p in slurmd slurmctld munged; do
        if [ -f "$D/$p.pid" ]; then
            pid=$(cat "$D/$p.pid")
            kill "$pid" 2>/dev/null
            i=0
            while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
            kill -9 "$pid" 2>/dev/null
        fi
    done
    rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

logs() {
    for f in "$D"/munged.log "$D"/slurmctld.log "$D"/slurmd.log; do
        [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }
    done
}

# munge, with its own key and socket
mungekey -c -k "$D/munge.key" >/dev/null 2>&1 || skip "mungekey could not create a key"
chmod 600 "$D/munge.key"
munged --socket="$D/munge.sock" --key-file="$D/munge.key" --pid-file="$D/munged.pid" \
       --log-file="$D/munged.log" --seed-file="$D/munge.seed" --force >/dev/null 2>&1 \
    || { logs; skip "munged did not start"; }
i=0
while [ ! -S "$D/munge.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$D/munge.sock" ] || { logs; skip "munged made no socket"; }

port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
P1=$(port)
P2=$(port)
HOST=$(hostname -s)
mkdir -p "$D/state" "$D/spool"
cat > "$D/slurm.conf" <<EOF
ClusterName=bourse-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$P1
SlurmdPort=$P2
AuthType=auth/munge
AuthInfo=socket=$D/munge.sock
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=brsnode NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=brsnode Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$D/slurm.conf"
# Without a usable network (a network namespace, `unshare -n`) slurmctld
# exits after daemonizing and every sinfo waits ~10 s for its timeouts: so
# the wait is bounded in wall time (30 s), each sinfo by `timeout`, and a
# daemon that is gone ends it at once with a skip naming it.
alive() { [ -f "$D/$1.pid" ] && kill -0 "$(cat "$D/$1.pid")" 2>/dev/null; }
slurmctld -i >/dev/null 2>&1 || { logs; skip "slurmctld did not start"; }
slurmd -N brsnode >/dev/null 2>&1 || { logs; skip "slurmd did not start"; }
start=$(date +%s)
until timeout 4 sinfo -h -o %T 2>/dev/null | grep -q idle; do
    waited=$(($(date +%s) - start))
    for p in slurmctld slurmd; do
        # the pid file appears once the daemon has daemonized: give it 2 s
        if [ $waited -ge 2 ] && ! alive $p; then
            logs
            skip "$p exited after starting (no usable network here, e.g. a network namespace?)"
        fi
    done
    [ $waited -lt 30 ] || { logs; skip "the node did not become idle within 30 s"; }
    sleep 0.2
done
echo "one-node cluster up: slurmctld :$P1, slurmd :$P2, munge $D/munge.sock"

# data: 600 daily bars, and the sweep's config
$PY - "$D/bars.csv" <<'EOF' || fail "writing bars"
import sys, math, datetime
p, d, seed = 100.0, datetime.date(2020, 1, 1), 7
with open(sys.argv[1], "w") as f:
    f.write("Date,Open,High,Low,Close,Adj Close,Volume\n")
    for i in range(600):
        seed = (seed * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        u = (seed >> 11) / 9007199254740992.0
        o = p
        p = round(p * (1 + (u - 0.49) * 0.04), 2)
        f.write(f"{d},{o:.2f},{max(o, p):.2f},{min(o, p):.2f},{p:.2f},{p:.2f},1000\n")
        d += datetime.timedelta(days=1)
EOF
cat > "$D/cfg.json" <<EOF
{"mode": "signal", "data": "$D/bars.csv", "strategy": {"file": "ma_cross"}}
EOF
cd "$D" || fail "cd"
GRID="--grid fast=2:30 --grid slow=5:80:5 --where fast<slow"

"$BIN" sweep cfg.json $GRID --jobs 2 --quiet --out single || fail "single-process sweep"
timeout 300 "$BIN" sweep cfg.json $GRID --slurm --shards 3 --sbatch --time=10 --quiet --out viaslurm \
    || { logs; ls -R viaslurm | head -30; cat viaslurm/slurm/*.out 2>/dev/null; fail "sweep --slurm"; }
[ -f viaslurm/slurm/job.sh ] || fail "no job script"
grep -q -- '--array=0-2' viaslurm/slurm/job.sh || fail "the script is not an array of 3"
for s in 1 2 3; do
    grep -q '"status":[[:space:]]*"complete"' viaslurm/shards/$s/sweep.json || fail "shard $s did not complete"
done
cmp single/results.csv viaslurm/results.csv || fail "results.csv through Slurm differs"
cmp single/results.json viaslurm/results.json || fail "results.json through Slurm differs"
rows=$(($(wc -l < viaslurm/results.csv) - 1))
echo "merged == single-process: $rows combinations"

# --no-wait: submit, wait for the queue ourselves, merge by hand
out=$("$BIN" sweep cfg.json $GRID --slurm --shards 2 --no-wait --quiet --out nowait) || fail "--no-wait"
job=$(echo "$out" | sed -n 's/^slurm job \([0-9]*\);.*/\1/p')
[ -n "$job" ] || fail "--no-wait printed no job id: $out"
i=0
while [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; do
    i=$((i + 1))
    [ $i -lt 1500 ] || fail "job $job did not finish in 300 s"
    sleep 0.2
done
"$BIN" sweep merge nowait/shards/1 nowait/shards/2 --out nowait --quiet || fail "merge"
cmp single/results.csv nowait/results.csv || fail "--no-wait + merge differs"
echo "ok"
