#!/usr/bin/env bash
# Pin a running QEMU's vCPU threads to host CPUs of their own.
#
#   scripts/pin-vcpus.sh QEMU_PID VCPUS
#
# vCPU k goes to host CPU k (mod the host's count); QEMU's other threads
# (main loop, RCU, workers: threads they create inherit it) go to the host
# CPUs no vCPU uses, or to the last one if every CPU has a vCPU. Used for
# benchmark boots: unpinned, the host scheduler sometimes runs a vCPU that
# wakes from HLT on the CPU of the vCPU being measured, and a ratio of two
# medians then moves by 20% from one run to the next in the same boot.
# Needs QEMU's "-name ...,debug-threads=on", which names the threads
# "CPU k/TCG" (or "CPU k/KVM"). Prints what it did on stderr.
source "$(dirname "$0")/common.sh"

[ $# -eq 2 ] || die "usage: $0 QEMU_PID VCPUS"
qemu_pid=$1
vcpus=$2
host_cpus=$(nproc)
if [ "$host_cpus" -lt 2 ]; then
	log "pin-vcpus: one host CPU, nothing to separate"
	exit 0
fi

# The vCPU threads appear once QEMU has set the machine up.
declare -A vcpu_tid=()
for _ in $(seq 300); do
	for task in /proc/"$qemu_pid"/task/*; do
		comm=$(cat "$task/comm" 2>/dev/null) || continue
		if [[ $comm =~ ^CPU\ ([0-9]+)/ ]]; then
			vcpu_tid[${BASH_REMATCH[1]}]=${task##*/}
		fi
	done
	[ "${#vcpu_tid[@]}" -lt "$vcpus" ] || break
	kill -0 "$qemu_pid" 2>/dev/null || die "pin-vcpus: QEMU $qemu_pid exited"
	sleep 0.1
done
[ "${#vcpu_tid[@]}" -ge "$vcpus" ] ||
	die "pin-vcpus: found ${#vcpu_tid[@]} of $vcpus vCPU threads of QEMU $qemu_pid"

if [ "$host_cpus" -gt "$vcpus" ]; then
	others="$vcpus-$((host_cpus - 1))"
else
	others=$((host_cpus - 1))
fi
for task in /proc/"$qemu_pid"/task/*; do
	tid=${task##*/}
	comm=$(cat "$task/comm" 2>/dev/null) || continue
	if [[ $comm =~ ^CPU\ ([0-9]+)/ ]]; then
		cpu=$((BASH_REMATCH[1] % host_cpus))
	else
		cpu=$others
	fi
	taskset -p -c "$cpu" "$tid" >/dev/null
done
log "pinned QEMU's vCPU k to host CPU k (of $host_cpus), its other threads to $others"
