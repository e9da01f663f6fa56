#!/usr/bin/env bash
# Compiles the addon's Windows code path (CreateFileMapping, no POSIX) with the MinGW-w64 cross compiler, against
# this Node's own Node-API headers: proof on Linux that the `_WIN32` branch of src/native/shm.c builds, warning-free,
# before the CI matrix's Windows job links it against node.lib. Debian/Ubuntu: apt-get install gcc-mingw-w64-x86-64.
set -euo pipefail
cd "$(dirname "$0")/.."
cc=x86_64-w64-mingw32-gcc
if ! command -v "$cc" >/dev/null; then
  echo "check-windows-source: $cc not found (apt-get install gcc-mingw-w64-x86-64)" >&2
  exit 2
fi
headers="$(node -p "require('node:path').join(process.execPath, '..', '..', 'include', 'node')")"
if [ ! -f "$headers/node_api.h" ]; then
  echo "check-windows-source: no node_api.h in $headers" >&2
  exit 2
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$cc" -c -O2 -Wall -Wextra -Werror -I"$headers" src/native/shm.c -o "$out/shm.o"
echo "check-windows-source: src/native/shm.c compiles for x86_64-w64-mingw32 (Windows), no warnings"
