#!/bin/sh
# Builds probe.c with the differential suite's runtime (conformance/suite/rt, copied into a
# scratch folder, never modified) and boots it on GNU Mach from the reference set, printing
# the transcript. `sh run.sh > expected.txt` re-records it.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
WORK=${TMPDIR:-/tmp}/mach_r-ipc-probe
rm -rf "$WORK" && mkdir -p "$WORK/src"
cp -r "$ROOT/conformance/suite/rt" "$ROOT/conformance/suite/Makefile" "$HERE/probe.c" "$WORK/src/"
sed -i "s|^REF     ?= .*|REF     ?= $ROOT/.cache/reference/root|; s|-I\$(HERE)../gnumach-boot/include|-I$ROOT/conformance/gnumach-boot/include|" "$WORK/src/Makefile"
make -s -C "$WORK/src" OUT="$WORK/out" "$WORK/out/probe.elf" "$WORK/out/gnumach.elf32" >/dev/null
cd "$WORK/out"
timeout 60 qemu-system-x86_64 -m 128 -kernel gnumach.elf32 -append console=com0 \
  -initrd 'probe.elf --host-priv-port=${host-port} --device-master-port=${device-port} $(task-create) $(task-resume)' \
  -nographic -no-reboot -serial stdio -display none -monitor none 2>&1 |
  tr -d '\r' | sed -n '/suite-begin/,/suite-end/p' | sed 's/^start probe.elf: //'
