#!/usr/bin/env bash
# Captures real `docker`/`podman` output on this machine into the fixtures the unit tests parse.
# Run it again when an engine version changes: `Tests/CoreTests/Fixtures/capture.sh [docker|podman]`.
# Needs the test image ccm-lua-test/base:bookworm (scripts/setup builds it). Everything it creates
# carries the label ccm-lua.cluster=fixtures and is removed at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
engines=${*:-docker podman}

# Saves the exit code, stderr and stdout of one failing command under errors/ENGINE-CASE.txt
# (Docker prints some errors, e.g. an exec of a missing binary, on stdout).
err() {
  local name=$1; shift
  local code tmp; tmp=$(mktemp -d)
  "$@" >"$tmp/out" 2>"$tmp/err"; code=$?
  mkdir -p "$here/errors"
  { echo "exit: $code"; echo "command: $*"; echo "--- stderr"; cat "$tmp/err"; echo "--- stdout"; cat "$tmp/out"; } >"$here/errors/$e-$name.txt"
  rm -rf "$tmp"
}

for e in $engines; do
  img=ccm-lua-test/base:bookworm
  [ "$e" = podman ] && img=localhost/$img
  rmf="$e rm -f"; [ "$e" = podman ] && rmf="$e rm -f -t 0"
  L="--label ccm-lua.cluster=fixtures"
  cleanup() { $rmf fx-run fx-created fx-exited fx-paused >/dev/null 2>&1; $e network rm fx-net >/dev/null 2>&1; $e volume rm fx-vol >/dev/null 2>&1; }
  cleanup

  $e version --format json >"$here/$e-version.json"
  $e image inspect "$img" >"$here/$e-image-inspect.json"
  $e network create $L --label ccm-lua.run=fixturesrun --subnet 10.213.7.0/24 fx-net >/dev/null
  $e volume create $L fx-vol >/dev/null
  $e run -d $L --label ccm-lua.node=n1 --name fx-run --network fx-net --network-alias n1 \
     --hostname n1 -e GREETING=hello "$img" sh -c 'echo started; echo warn >&2; sleep 1000' >/dev/null
  $e create $L --name fx-created "$img" true >/dev/null
  $e run -d $L --name fx-exited "$img" sh -c 'exit 3' >/dev/null
  $e run -d $L --name fx-paused "$img" sleep 1000 >/dev/null
  $e pause fx-paused >/dev/null
  sleep 1
  $e ps -a --no-trunc --filter label=ccm-lua.cluster=fixtures --format json >"$here/$e-ps.json"
  $e ps -a --no-trunc --filter label=ccm-lua.cluster=nothing-has-this --format json >"$here/$e-ps-empty.json"
  $e container inspect fx-run >"$here/$e-inspect-running.json"
  $e container inspect fx-exited >"$here/$e-inspect-exited.json"
  $e container inspect fx-paused >"$here/$e-inspect-paused.json"
  $e container inspect fx-created >"$here/$e-inspect-created.json"
  $e network ls --filter label=ccm-lua.cluster=fixtures --format json >"$here/$e-network-ls.json"
  $e volume ls --filter label=ccm-lua.cluster=fixtures --format json >"$here/$e-volume-ls.json"
  $e logs --timestamps fx-run >"$here/$e-logs.txt" 2>"$here/$e-logs-stderr.txt"

  err container-not-found   $e container inspect fx-nosuch
  err start-not-found       $e start fx-nosuch
  err stop-not-found        $e stop fx-nosuch
  err kill-not-found        $e kill fx-nosuch
  err logs-not-found        $e logs fx-nosuch
  err image-not-found       $e image inspect ccm-lua-test/nosuch:1
  err create-image-not-found $e create --pull never --name fx-nosuch ccm-lua-test/nosuch:1
  err network-not-found     $e network rm fx-nosuch
  err network-conflict      $e network create $L fx-net
  err name-conflict         $e create $L --name fx-run "$img" true
  err invalid-memory        $e create $L --name fx-bad -m 12zz "$img" true
  err invalid-cpus          $e create $L --name fx-bad --cpus abc "$img" true
  err exec-stopped          $e exec fx-exited true
  err exec-created          $e exec fx-created true
  err exec-no-binary        $e exec fx-run fx-nosuch-binary
  err pause-stopped         $e pause fx-exited
  err unpause-running       $e unpause fx-run
  $e create $L --name fx-bad "$img" fx-nosuch-binary >/dev/null 2>&1
  err start-failed          $e start fx-bad
  $rmf fx-bad >/dev/null 2>&1
  if [ "$e" = docker ]; then
    DOCKER_HOST=unix:///nonexistent.sock $e version --format json >"$here/$e-version-nodaemon.json" 2>/dev/null
    err daemon-not-running env DOCKER_HOST=unix:///nonexistent.sock $e ps
  else
    $e --remote --url unix:///nonexistent.sock version --format json >"$here/$e-version-nodaemon.json" 2>/dev/null
    err daemon-not-running $e --remote --url unix:///nonexistent.sock ps
  fi
  cleanup
done
