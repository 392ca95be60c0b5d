# Sourced by every bench that runs ccm-lua: the one rule for which binary a bench measures.
# Benches measure what users run, the binary scripts/install installs (static release build):
#   CCM_LUA_BINARY=PATH   that binary, e.g. /usr/local/bin/ccm-lua after `scripts/install`
#   SKIP_BUILD=1          the one an earlier bench installed into .build/bench-install
#   otherwise             `scripts/install --prefix .build/bench-install` first (an incremental
#                         build; the prefix is inside the checkout, so a bench writes nothing
#                         outside it), then that binary
# Sets $binary.
if [[ -n ${CCM_LUA_BINARY:-} ]]; then
  binary=$CCM_LUA_BINARY
else
  bench_prefix="$PWD/.build/bench-install"
  [[ -n ${SKIP_BUILD:-} ]] || scripts/install --prefix "$bench_prefix"
  binary="$bench_prefix/bin/ccm-lua"
fi
[[ -x $binary ]] || { echo "bench: no ccm-lua at $binary (run scripts/install, or unset SKIP_BUILD)" >&2; exit 1; }
