#!/usr/bin/env bash
# CI's check that the addon reaches every platform it is published for (called by .ci/run):
#   1. cross-builds the Linux (x64/arm64 glibc, x64 musl) and Windows binaries into their platform packages and
#      proves from `objdump -T` that the glibc ones need nothing newer than glibc 2.17;
#   2. runs the core of the shm-queue suite on linux-arm64 under qemu-user (emulation makes the load and property
#      tests take minutes; the whole suite passes there apart from their timeouts: see test-linux-arm64.sh);
#   3. runs the shm-queue suite on Windows under Wine, all but the 10M-record load test (64 s there; it runs natively
#      in the main suite, and passes under Wine too: test-win32-x64.sh runs it).
# The Debian packages it needs are installed when missing (CI runs as root); Node and rolldown's bindings for the
# other platforms come from npm, cached by version outside the repository (npm-package-cache.sh).
# The macOS binaries are built and checked by the GitHub release matrix only.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
command -v aarch64-linux-gnu-objdump >/dev/null || need+=(binutils-aarch64-linux-gnu)
command -v musl-gcc >/dev/null || need+=(musl-tools)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
{ command -v wine64 || [ -x /usr/lib/wine/wine64 ]; } >/dev/null || need+=(wine wine64)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "ci-native-reach: missing ${need[*]} and cannot install them (needs root and apt-get)" >&2
    exit 1
  fi
  echo "ci-native-reach: installing ${need[*]} from Debian"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } >/dev/null
fi

started=$SECONDS
bash scripts/build-platforms.sh
echo "ci-native-reach: binaries built in $((SECONDS - started)) s"

# One emulated Node for all test files (worker threads, no per-file isolation): each extra emulated process start
# costs tens of seconds, and the suite cleans up after every test anyway. This halves the time of both runs.
fast=(--pool=threads --no-isolate)

started=$SECONDS
# Everything but the property tests (minutes each under emulation) of the core files: the ring over the arm64
# binary's mapping, doorbells across processes, and every corruption check.
bash scripts/test-linux-arm64.sh test/ring.test.ts test/doorbell.test.ts test/corruption.test.ts \
  --testNamePattern '^(?!.*property tests)' "${fast[@]}"
echo "ci-native-reach: linux-arm64 (qemu) run took $((SECONDS - started)) s"

started=$SECONDS
bash scripts/test-win32-x64.sh --exclude test/broadcast.test.ts "${fast[@]}"
echo "ci-native-reach: win32-x64 (Wine) run took $((SECONDS - started)) s"
