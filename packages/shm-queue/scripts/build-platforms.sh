#!/usr/bin/env bash
# Builds the published binaries of the addon, one per platform package: npm/<platform>/shm-queue.<platform>.node.
# Plain compiler calls against the Node-API headers from the node-api-headers package (one binary serves every Node
# version), so cross-compiling needs no Node for the target:
#   linux-x64-gnu    gcc (glibc 2.17+: checked by scripts/check-glibc-symbols.sh)     Debian: gcc
#   linux-arm64-gnu  aarch64-linux-gnu-gcc (glibc 2.17+: checked likewise)            Debian: gcc-aarch64-linux-gnu
#   linux-x64-musl   musl-gcc                                                         Debian: musl-tools
#   win32-x64        x86_64-w64-mingw32-gcc, linked against node.exe through an import library made from
#                    node-api-headers' node_api.def                                   Debian: gcc-mingw-w64-x86-64
#   darwin-x64, darwin-arm64: clang on macOS (the release workflow's macOS job; not buildable on Linux)
# Usage: build-platforms.sh [platform...]   (no argument: the four Linux-buildable platforms)
set -euo pipefail
cd "$(dirname "$0")/.."

platforms=("$@")
[ ${#platforms[@]} -gt 0 ] || platforms=(linux-x64-gnu linux-arm64-gnu linux-x64-musl win32-x64)

headers="$(node -p "require('node-api-headers').include_dir")"
source=src/native/shm.c
cflags=(-O2 -std=c11 -Wall -Wextra -Werror -DNAPI_VERSION=8 -I"$headers")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

need() {
  command -v "$1" >/dev/null || { echo "build-platforms: $1 not found (Debian: apt-get install $2)" >&2; exit 2; }
}

for platform in "${platforms[@]}"; do
  out="npm/$platform/shm-queue.$platform.node"
  [ -f "npm/$platform/package.json" ] || { echo "build-platforms: unknown platform $platform" >&2; exit 2; }
  case "$platform" in
    linux-x64-gnu)
      need x86_64-linux-gnu-gcc gcc
      x86_64-linux-gnu-gcc "${cflags[@]}" -shared -fPIC -s "$source" -o "$out" ;;
    linux-arm64-gnu)
      need aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
      aarch64-linux-gnu-gcc "${cflags[@]}" -shared -fPIC -s "$source" -o "$out" ;;
    linux-x64-musl)
      need musl-gcc musl-tools
      musl-gcc "${cflags[@]}" -shared -fPIC -s "$source" -o "$out" ;;
    win32-x64)
      need x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
      # Node-API functions are exported by node.exe itself; the import library says so to the linker.
      x86_64-w64-mingw32-dlltool -d node_modules/node-api-headers/def/node_api.def -l "$work/node.lib"
      x86_64-w64-mingw32-gcc "${cflags[@]}" -shared -s "$source" "$work/node.lib" -o "$out" ;;
    darwin-x64 | darwin-arm64)
      arch=$([ "$platform" = darwin-x64 ] && echo x86_64 || echo arm64)
      cc "${cflags[@]}" -arch "$arch" -mmacosx-version-min=11.0 -bundle -undefined dynamic_lookup "$source" -o "$out" ;;
    *)
      echo "build-platforms: no recipe for $platform" >&2; exit 2 ;;
  esac
  echo "build-platforms: $out"
done

gnu=()
for platform in "${platforms[@]}"; do
  case "$platform" in linux-*-gnu) gnu+=("npm/$platform/shm-queue.$platform.node") ;; esac
done
[ ${#gnu[@]} -eq 0 ] || bash scripts/check-glibc-symbols.sh "${gnu[@]}"
