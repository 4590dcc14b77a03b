#!/usr/bin/env bash
#! Fetches the reference systems (GNU MIG, GNU Mach headers, kernel image and msgids) from
#! Debian trixie into .cache/reference (ignored by git), without installing anything.
#! The archive's address is read from the machine's own apt sources.
#! Result: .cache/reference/root/usr/{bin,lib,include,...} and a stamp file.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
C=${MIGC_REFERENCE_DIR:-$here/.cache/reference}
pkgs=(mig-x86-64-gnu gnumach-dev gnumach-image-1.8-amd64-up gnumach-common)
stamp="$C/stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${pkgs[*]}" ]; then exit 0; fi
src=/etc/apt/sources.list.d/debian.sources
uri=""
if [ -f "$src" ]; then
  uri=$(awk '/^URIs:/{print $2; exit}' "$src")
fi
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
  uri=$(awk '/^deb /{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list | grep -v security | head -1)
fi
if [ -z "$uri" ]; then echo "fetch-reference: no Debian archive found in the apt sources" >&2; exit 1; fi
mkdir -p "$C/lists/partial" "$C/cache/archives/partial" "$C/debs" "$C/root"
cat > "$C/trixie.sources" <<SRC
Types: deb
URIs: $uri
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
o=(-o "Dir::Etc::SourceList=$C/trixie.sources" -o Dir::Etc::SourceParts=/dev/null
   -o "Dir::State::Lists=$C/lists" -o Dir::State::status=/dev/null -o "Dir::Cache=$C/cache"
   -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
   -o Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false)
apt-get "${o[@]}" -qq update
rm -f "$C/debs"/*.deb
(cd "$C/debs" && apt-get "${o[@]}" -qq download "${pkgs[@]}")
for d in "$C/debs"/*.deb; do dpkg -x "$d" "$C/root"; done
echo "${pkgs[*]}" > "$stamp"
echo "fetch-reference: reference set in $C/root"
