// A process's whole address space as the module inspects it: every VMA
// with its anon_vma_chain and each anon_vma's counters, to hold one
// snapshot against another (a failed syscall must change nothing).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "devexcl/device.hpp"

namespace devexcl::test {

// Every VMA of `pid` (from /proc/PID/maps, [vsyscall] aside) as
// DEVEXCL_IOC_INSPECT_VMA reports it, in address order.
std::vector<VmaInspection> inspect_every_vma(const Device& dev, pid_t pid);

// One line: range, VM_* flags, pgoff, anon_vma, and the chain in same_vma
// order with each anon_vma's root, parent, num_children, num_active_vmas
// and refcount.
std::string describe(const VmaInspection& vma);
// One line per VMA, so that two snapshots compare as text.
std::string describe(const std::vector<VmaInspection>& vmas);

}  // namespace devexcl::test
