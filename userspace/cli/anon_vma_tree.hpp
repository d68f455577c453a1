// The fork tree of a page's mappers, rebuilt from the anon_vma parent links
// the module reports: each anon_vma under its parent, each mapping under
// its VMA's own anon_vma.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "devexcl/rmap_types.hpp"

namespace devexcl::cli {

struct AnonVmaNode {
    AnonVmaInfo info;
    std::vector<std::uint64_t> children;  // ids, sorted
    std::vector<RmapEntry> mappings;      // mappers whose VMA's anon_vma this is
};

struct AnonVmaTree {
    std::map<std::uint64_t, AnonVmaNode> nodes;
    std::vector<std::uint64_t> roots;
    std::vector<RmapEntry> unplaced;  // redacted, or without a known anon_vma
};

// `chains`: the anon_vma_chain of each mapper's VMA, in any order.
AnonVmaTree build_anon_vma_tree(const std::vector<std::vector<AnonVmaInfo>>& chains,
                                const std::vector<RmapEntry>& mappings);

// An indented tree, one anon_vma per line with its mappers; `page_anon_vma`
// is marked as the anon_vma the page itself belongs to.
std::string render_anon_vma_tree(const AnonVmaTree& tree, std::uint64_t page_anon_vma);

}  // namespace devexcl::cli
