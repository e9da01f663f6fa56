#!/usr/bin/env bash
# Fails unless every glibc symbol a binary needs exists in glibc 2.17 (CentOS/RHEL 7, the oldest glibc Node 20's own
# Linux builds support), read from `objdump -T`: a newer symbol version makes the addon refuse to load on older
# systems (the reason src/native/shm.c opens /dev/shm itself instead of calling shm_open@GLIBC_2.34).
# Usage: check-glibc-symbols.sh [file.node...]   (default: the linux-*-gnu platform packages' binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
max=2.17

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(npm/linux-*-gnu/*.node)
status=0
for file in "${files[@]}"; do
  [ -f "$file" ] || { echo "check-glibc-symbols: $file does not exist (run scripts/build-platforms.sh)" >&2; exit 2; }
  # Debian's objdump reads only the host's architecture; cross binutils read their own.
  objdump=objdump
  if readelf -h "$file" | grep -q AArch64; then objdump=aarch64-linux-gnu-objdump; fi
  symbols="$("$objdump" -T "$file")"
  versions="$(grep -o 'GLIBC_[0-9.]*' <<<"$symbols" | sort -u -V)"
  newest="$(tail -n 1 <<<"$versions")"
  if [ -z "$newest" ]; then
    echo "check-glibc-symbols: $file needs no versioned glibc symbol?" >&2
    status=1
    continue
  fi
  too_new=()
  while read -r version; do
    [ "$(printf '%s\n%s\n' "${version#GLIBC_}" "$max" | sort -V | tail -n 1)" = "$max" ] || too_new+=("$version")
  done <<<"$versions"
  count="$(grep -c 'GLIBC_' <<<"$symbols")"
  if [ ${#too_new[@]} -gt 0 ]; then
    echo "check-glibc-symbols: $file needs glibc newer than $max:" >&2
    grep -E "$(IFS='|'; echo "${too_new[*]}")" <<<"$symbols" >&2
    status=1
  else
    echo "check-glibc-symbols: $file: $count glibc symbols, newest $newest (<= GLIBC_$max)"
  fi
done
exit "$status"
