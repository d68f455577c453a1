#!/usr/bin/env bash
# Boot the test kernel in QEMU and run one command in it.
#
#   scripts/vm.sh [options] [--] COMMAND...    run COMMAND (sh -c) as root in the VM
#   scripts/vm.sh --shell                      interactive shell on the console
#
# options:
#   --timeout SECONDS   kill the VM after this long (default 900)
#   --kvm               use KVM (opt-in: on some hosts a KVM guest hangs)
#   --name NAME         log directory under build/vm/runs (default: run)
#   --no-gate           do not fail on kernel splats (the gate's own self-test)
#   --pin               give each vCPU thread a host CPU of its own (benchmarks;
#                       see scripts/pin-vcpus.sh)
#
# Writes build/vm/runs/NAME/{console.log,output.log,peer.log}. Exits with the
# guest command's status; 124 on timeout; 125 if the guest died without
# reporting one; 1 if the console shows BUG/WARNING/Oops/lockdep/... even
# when the command succeeded.
source "$(dirname "$0")/common.sh"

timeout_s=900
accel=tcg
name=run
shell=0
gate=1
pin=0
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout_s=$2; shift 2 ;;
	--kvm) accel=kvm; shift ;;
	--name) name=$2; shift 2 ;;
	--shell) shell=1; shift ;;
	--no-gate) gate=0; shift ;;
	--pin) pin=1; shift ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $shell -eq 1 ] || [ $# -gt 0 ] || die "no command given (or use --shell)"

# DEVEXCL_STOCK_KVER boots a distribution kernel as its package installed
# it (scripts/check-stock.sh), instead of a test kernel of ours: its image
# from /boot, and no modules of its own in the initramfs (the suite loads
# none but test_hmm, which stock kernels do not build).
if [ -n "${DEVEXCL_STOCK_KVER:-}" ]; then
	kdir=/lib/modules/$DEVEXCL_STOCK_KVER/build
	ksrc=$kdir
	bzimage=/boot/vmlinuz-$DEVEXCL_STOCK_KVER
	modroot=
	[ -f "$bzimage" ] || die "no $bzimage (scripts/stock-kernel.sh install)"
else
	kdir=$("$DEVEXCL_ROOT/scripts/build-kernel.sh" --dir)
	ksrc=$("$DEVEXCL_ROOT/scripts/build-kernel.sh" --src)
	bzimage="$kdir/arch/x86/boot/bzImage"
	modroot="$(dirname "$kdir")/modroot"
	[ -f "$bzimage" ] || die "no test kernel at $kdir (run 'make kernel')"
fi

vm_out="$DEVEXCL_BUILD/vm"
run_dir="$vm_out/runs/$name"
mkdir -p "$run_dir"
console="$run_dir/console.log"
output="$run_dir/output.log"
peer="$run_dir/peer.log"
# Emptied first: a run that fails to boot must not leave the last run's logs.
: >"$console"
: >"$output"
: >"$peer"
base="$vm_out/initramfs.cpio"
"$DEVEXCL_ROOT/scripts/mkinitramfs.sh" "$modroot" "$base"

# The command rides in a second cpio archive appended to the base one.
cmd_stage=$(mktemp -d)
trap 'rm -rf "$cmd_stage"' EXIT
mkdir -p "$cmd_stage/devexcl"
if [ $shell -eq 1 ]; then
	echo shell >"$cmd_stage/devexcl/mode"
else
	echo run >"$cmd_stage/devexcl/mode"
	printf '%s\n' "$*" >"$cmd_stage/devexcl/cmd"
fi
initrd="$cmd_stage/initramfs.cpio"  # 39 MB: not kept per run
(cd "$cmd_stage" && find devexcl | cpio -o -H newc --quiet -R 0:0) | cat "$base" - >"$initrd"

vcpus=2
# Named threads ("CPU 0/TCG"), so that --pin can find them.
qemu=(qemu-system-x86_64 -name devexcl,debug-threads=on -machine "accel=$accel"
	-smp "$vcpus" -m 4G -nodefaults -no-reboot
	-display none -kernel "$bzimage" -initrd "$initrd")
if [ "$accel" = tcg ]; then
	qemu+=(-cpu max)
else
	[ -w /dev/kvm ] || die "--kvm needs a writable /dev/kvm"
	qemu+=(-cpu host)
fi
append="console=ttyS0 panic=-1 oops=panic hung_task_panic=1 softlockup_panic=1"
append+=" printk.time=1 transparent_hugepage=madvise numa=fake=2 loglevel=5"
# 6.1's identify_cpu() clears the boot CPU's feature bits for a moment, LA57
# among them, and KASAN's shadow bounds follow that bit: an interrupt in the
# window is reported as a wild-memory-access. So the KASAN (debug) flavour
# boots with 4-level paging; the default flavour keeps 5-level walks tested.
if [ "$DEVEXCL_FLAVOUR" = debug ]; then
	append+=" no5lvl"
fi
# The anon_vma_clone() failure tests narrow failslab to the anon_vma_chain
# cache. Where that cache's sysfs failslab flag is read-only (6.1), only the
# boot can set it. It fails nothing until a test arms failslab; slub_debug=
# also makes the kernel print its pointers unhashed, so only those kernels
# get it.
if grep -qs 'SLAB_ATTR_RO(failslab)' "$ksrc/mm/slub.c"; then
	# A cache named in slub_debug= gets only the flags given there: under
	# SLUB_DEBUG_ON (the debug flavour) keep its default FZPU as well.
	slub_flags=A
	grep -qs '^CONFIG_SLUB_DEBUG_ON=y' "$kdir/.config" && slub_flags=FZPUA
	append+=" slub_debug=$slub_flags,anon_vma_chain"
fi

if [ $shell -eq 1 ]; then
	qemu+=(-serial mon:stdio -serial "file:$output" -serial "file:$peer"
		-virtfs "local,path=$DEVEXCL_ROOT,mount_tag=hostshare,security_model=none,readonly=on")
	# Not exec: the EXIT trap removes the staged initramfs afterwards.
	"${qemu[@]}" -append "$append"
	exit $?
fi

# One boot; sets status (and timed_out).
boot() {
	log "booting $bzimage under $accel (timeout ${timeout_s}s); console: $console"
	"${qemu[@]}" -append "$append" -monitor none \
		-serial "file:$console" -serial "file:$output" -serial "file:$peer" </dev/null &
	qemu_pid=$!
	if [ $pin -eq 1 ]; then
		"$DEVEXCL_ROOT/scripts/pin-vcpus.sh" "$qemu_pid" "$vcpus" ||
			log "warning: vCPUs not pinned; benchmark ratios will be noisier"
	fi
	# Show the console live; tail exits when QEMU does.
	tail -n +1 -F --pid=$qemu_pid "$console" 2>/dev/null &
	tail_pid=$!

	deadline=$((SECONDS + timeout_s))
	timed_out=0
	while kill -0 $qemu_pid 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then
			timed_out=1
			kill $qemu_pid 2>/dev/null || true
			break
		fi
		sleep 1
	done
	wait $qemu_pid 2>/dev/null || true
	wait $tail_pid 2>/dev/null || true

	status=$(sed -nE 's/.*devexcl-vm: exit status ([0-9]+).*/\1/p' "$console" | tail -n 1)
	if [ $timed_out -eq 1 ]; then
		log "VM timed out after ${timeout_s}s"
		status=124
	elif [ -z "$status" ]; then
		log "the guest died without reporting an exit status (panic or crash?)"
		status=125
	fi
}

boot
# A kernel that dies while it boots, before init (and so before anything of
# ours) ran, is booted once more: under TCG, 7.3 has been seen to take an
# int3 Oops in sched_clock_cpu() while boot-time code patching flips a
# static key. The first console is kept and the retry is said, not hidden.
if [ "$status" -eq 125 ] && ! grep -q "devexcl-vm: init started" "$console"; then
	cp "$console" "$console.boot-crash"
	log "the kernel crashed while booting, before init: console kept in $console.boot-crash; booting once more"
	boot
fi

if [ $gate -eq 1 ] && ! "$DEVEXCL_ROOT/scripts/console-gate.sh" "$console"; then
	[ "$status" -ne 0 ] || status=1
fi
exit "$status"
