#!/usr/bin/env bash
# Profiling shim: bench/peers puts a folder with `docker` and `podman` links to this script first
# on ccm-lua's PATH for its profiled rounds. Each engine call is run as usual and logged as
# "START END ARGS..." (CLOCK_REALTIME seconds) to $BENCH_SHIM_LOG. A signal (ccm-lua ending a log
# follower) is passed on to the real client, so no client outlives the round.
real=$BENCH_SHIM_REAL_DIR/$(basename "$0")
start=$EPOCHREALTIME
"$real" "$@" <&0 &   # explicit stdin: a background job would get /dev/null
child=$!
trap 'kill -TERM $child 2>/dev/null' TERM INT HUP
wait $child; rc=$?
# wait returns early when a trapped signal arrives: wait again for the client's own exit.
while kill -0 $child 2>/dev/null; do wait $child; rc=$?; done
echo "$start $EPOCHREALTIME $*" >>"$BENCH_SHIM_LOG"
exit $rc
