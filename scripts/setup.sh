#!/usr/bin/env bash
#! Installs everything the project needs on a fresh Debian machine (run as root):
#! Debian packages for the tests (QEMU, GRUB ISO tools, gcc multilib, neovim), the
#! nightly fuzz tool, and the reference set (GNU MIG, GNU Mach) into an ignored cache.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
pkgs=(qemu-system-x86 grub-pc-bin grub-common xorriso mtools gcc-multilib neovim binutils)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "setup: need root to install: ${missing[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
"$here/scripts/fetch-reference.sh"
