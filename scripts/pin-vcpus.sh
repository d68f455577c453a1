#!/usr/bin/env bash
# Pin a running QEMU's vCPU threads to host CPUs of their own.
#
#   scripts/pin-vcpus.sh QEMU_PID VCPUS
#
# vCPU k goes to the k-th host CPU this script may use (mod their count);
# QEMU's other threads (main loop, RCU, workers: threads they create
# inherit it) go to the CPUs no vCPU uses, or to the last one if every CPU
# has a vCPU (so on a 2-CPU host vCPU 1 shares its CPU with them). Used for
# benchmark boots: unpinned, the host scheduler sometimes runs a vCPU that
# wakes from HLT on the CPU of the vCPU being measured, and a ratio of two
# medians then moves by 20% from one run to the next in the same boot.
# Needs QEMU's "-name ...,debug-threads=on", which names the threads
# "CPU k/TCG" (or "CPU k/KVM"). Prints what it did on stderr; exits 1 when
# it cannot pin every thread (some may be pinned by then).
source "$(dirname "$0")/common.sh"

[ $# -eq 2 ] || die "usage: $0 QEMU_PID VCPUS"
qemu_pid=$1
vcpus=$2

# The CPUs this process may run on (cpusets, taskset), as a list of numbers.
allowed=()
IFS=, read -ra ranges <<<"$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)"
for range in "${ranges[@]}"; do
	first=${range%-*}
	last=${range#*-}
	for ((cpu = first; cpu <= last; cpu++)); do
		allowed+=("$cpu")
	done
done
host_cpus=${#allowed[@]}
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
		elif [[ $comm == "ALL CPUs/"* ]]; then
			log "pin-vcpus: single-threaded TCG runs every vCPU on one thread; nothing to pin"
			exit 1
		fi
	done
	[ "${#vcpu_tid[@]}" -lt "$vcpus" ] || break
	kill -0 "$qemu_pid" 2>/dev/null || die "pin-vcpus: QEMU $qemu_pid exited"
	sleep 0.1
done
[ "${#vcpu_tid[@]}" -ge "$vcpus" ] ||
	die "pin-vcpus: found ${#vcpu_tid[@]} of $vcpus vCPU threads of QEMU $qemu_pid"

if [ "$host_cpus" -gt "$vcpus" ]; then
	others=$(IFS=,; echo "${allowed[*]:vcpus}")
else
	others=${allowed[host_cpus - 1]}
fi
declare -A is_vcpu=()
for k in "${!vcpu_tid[@]}"; do
	tid=${vcpu_tid[$k]}
	is_vcpu[$tid]=1
	taskset -p -c "${allowed[k % host_cpus]}" "$tid" >/dev/null ||
		die "pin-vcpus: could not pin vCPU $k (thread $tid)"
done
for task in /proc/"$qemu_pid"/task/*; do
	tid=${task##*/}
	[ -z "${is_vcpu[$tid]:-}" ] || continue
	# A thread may end between the listing and here.
	taskset -p -c "$others" "$tid" >/dev/null 2>&1 || [ ! -d "$task" ] ||
		die "pin-vcpus: could not pin thread $tid to CPU(s) $others"
done
log "pinned QEMU's vCPUs 0.. to host CPUs ${allowed[*]:0:vcpus}, its other threads to $others"
