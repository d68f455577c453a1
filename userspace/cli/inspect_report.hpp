// How rmap inspections are shown: readable tables and trees, or JSON.
#pragma once

#include <sys/types.h>

#include <ostream>
#include <vector>

#include "anon_vma_tree.hpp"
#include "devexcl/rmap_types.hpp"

namespace devexcl::cli {

struct InspectReporter {
    std::ostream& out;
    bool json = false;

    void page(pid_t pid, const PageInspection& p) const;
    void range(pid_t pid, std::uint64_t start, std::uint64_t page_size,
               const std::vector<PageInfo>& pages) const;
    void vma(pid_t pid, const VmaInspection& v) const;
    void tree(pid_t pid, const PageInspection& p, const AnonVmaTree& t) const;
};

}  // namespace devexcl::cli
