#!/usr/bin/env bash
# The floor: one job done by hand with the bare engine client, as a careful shell user would.
# Called by bench/peers once per round; prints "PHASE SECONDS" lines on stdout (up, exec, down,
# or one "exec" line per call for the exec job). Timing uses $EPOCHREALTIME: no process per clock read.
#
#   floor.sh ENGINE etcd  NAME NODES serial|parallel IMAGE   network, run -d, wait for the ready
#                                                             lines (logs -f), one endpoint health,
#                                                             rm -f (+ -t 0 on Podman), network rm
#   floor.sh ENGINE light NAME NODES serial|parallel IMAGE   the same with `sleep infinity` nodes
#                                                             (no readiness beyond "started")
#   floor.sh ENGINE execs CONTAINER COUNT                    COUNT x `exec C etcdctl get k`
#   floor.sh ENGINE wait CONTAINER...                        waits for every ready line (the
#                                                             compose rounds use it after `up -d`)
#
# Everything it creates is named NAME-*; bench/peers removes what is left, also on Ctrl-C.
set -uo pipefail
engine=$1 job=$2
rm_flags=(rm -f); [[ $engine == podman ]] && rm_flags+=(-t 0)
ready_line="ready to serve client requests"
t() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }
fail() { echo "floor: $*" >&2; exit 1; }

# Waits until container $1 has logged the ready line, from following its log (no polling).
wait_ready() {
  local c=$1 pid rc
  exec 3< <(exec "$engine" logs -f "$c" 2>&1)
  pid=$!
  timeout 120 grep -m1 -q -F "$ready_line" <&3; rc=$?
  kill "$pid" 2>/dev/null; exec 3<&-
  return $rc
}

case $job in
  etcd|light)
    name=$3 nodes=$4 order=$5 image=$6 net="$3-net"
    members=""
    for ((i = 1; i <= nodes; i++)); do members+="${members:+,}node$i=http://node$i:2380"; done
    t0=$(t)
    "$engine" network create "$net" >/dev/null || fail "network create $net failed"
    pids=() ok=1
    for ((i = 1; i <= nodes; i++)); do
      if [[ $job == etcd ]]; then
        cmd=(etcd --name "node$i" --data-dir "/var/lib/etcd/node$i"
             --listen-peer-urls http://0.0.0.0:2380 --listen-client-urls http://0.0.0.0:2379
             --initial-advertise-peer-urls "http://node$i:2380" --advertise-client-urls "http://node$i:2379"
             --initial-cluster "$members" --initial-cluster-token "$name" --initial-cluster-state new)
      else
        cmd=(sleep infinity)
      fi
      run=("$engine" run -d --name "$name-node$i" --network "$net" --network-alias "node$i" --hostname "node$i" "$image" "${cmd[@]}")
      if [[ $order == parallel ]]; then "${run[@]}" >/dev/null & pids+=($!); else "${run[@]}" >/dev/null || ok=0; fi
    done
    for p in "${pids[@]}"; do wait "$p" || ok=0; done
    (( ok )) || fail "run -d failed"
    if [[ $job == etcd ]]; then
      pids=()
      for ((i = 1; i <= nodes; i++)); do wait_ready "$name-node$i" & pids+=($!); done
      for p in "${pids[@]}"; do wait "$p" || ok=0; done
      (( ok )) || fail "a node never logged '$ready_line'"
    fi
    t1=$(t)
    if [[ $job == etcd ]]; then
      "$engine" exec "$name-node1" etcdctl --endpoints=http://127.0.0.1:2379 endpoint health >/dev/null 2>&1 \
        || fail "endpoint health failed"
    fi
    t2=$(t)
    names=(); for ((i = 1; i <= nodes; i++)); do names+=("$name-node$i"); done
    "$engine" "${rm_flags[@]}" "${names[@]}" >/dev/null || fail "rm failed"
    # Docker may still be detaching endpoints of just-removed containers ("has active
    # endpoints"): a careful script tries again for a while.
    for ((try = 0; ; try++)); do
      "$engine" network rm "$net" >/dev/null 2>&1 && break
      (( try < 50 )) || fail "network rm $net failed"
      sleep 0.1
    done
    t3=$(t)
    echo "up $(elapsed "$t0" "$t1")"
    [[ $job == etcd ]] && echo "exec $(elapsed "$t1" "$t2")"
    echo "down $(elapsed "$t2" "$t3")"
    ;;
  execs)
    c=$3 count=$4
    for ((i = 0; i < count; i++)); do
      a=$(t)
      "$engine" exec "$c" etcdctl --endpoints=http://127.0.0.1:2379 get k >/dev/null || fail "exec failed"
      b=$(t)
      echo "exec $(elapsed "$a" "$b")"
    done
    ;;
  wait)
    shift 2
    pids=() ok=1
    for c in "$@"; do wait_ready "$c" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || ok=0; done
    (( ok )) || fail "a node never logged '$ready_line'"
    ;;
  *) fail "unknown job '$job'" ;;
esac
