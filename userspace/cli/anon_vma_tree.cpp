#include "anon_vma_tree.hpp"

#include <algorithm>
#include <functional>
#include <sstream>

#include "report.hpp"

namespace devexcl::cli {

AnonVmaTree build_anon_vma_tree(const std::vector<std::vector<AnonVmaInfo>>& chains,
                                const std::vector<RmapEntry>& mappings) {
    AnonVmaTree tree;
    for (const auto& chain : chains) {
        for (const AnonVmaInfo& av : chain) {
            tree.nodes[av.id].info = av;
        }
    }
    for (auto& [id, node] : tree.nodes) {
        const std::uint64_t parent = node.info.parent_id;
        if (parent == id || tree.nodes.find(parent) == tree.nodes.end()) {
            tree.roots.push_back(id);
        } else {
            tree.nodes[parent].children.push_back(id);
        }
    }
    for (const RmapEntry& m : mappings) {
        auto it = tree.nodes.find(m.anon_vma_id);
        if (m.redacted || it == tree.nodes.end()) {
            tree.unplaced.push_back(m);
        } else {
            it->second.mappings.push_back(m);
        }
    }
    return tree;
}

std::string render_anon_vma_tree(const AnonVmaTree& tree, std::uint64_t page_anon_vma) {
    std::ostringstream out;
    std::function<void(std::uint64_t, const std::string&, bool, bool)> visit =
        [&](std::uint64_t id, const std::string& prefix, bool last, bool top) {
            const AnonVmaNode& node = tree.nodes.at(id);
            const AnonVmaInfo& av = node.info;
            std::string branch = top ? "" : (last ? "`- " : "|- ");
            out << prefix << branch << "anon_vma " << hex(av.id) << " ["
                << (av.is_root() ? "root, " : "") << "children " << av.num_children
                << ", active vmas " << av.num_active_vmas << ", refcount " << av.refcount << "]"
                << (av.id == page_anon_vma ? "  <- the page's anon_vma" : "") << '\n';
            std::string inner = prefix + (top ? "" : (last ? "   " : "|  "));
            for (const RmapEntry& m : node.mappings) {
                out << inner << (node.children.empty() ? "   " : "|  ") << "pid " << m.pid << " ("
                    << m.comm << ") maps it at " << hex(m.vaddr) << ", " << to_string(m.pte)
                    << '\n';
            }
            for (std::size_t i = 0; i < node.children.size(); ++i) {
                visit(node.children[i], inner, i + 1 == node.children.size(), false);
            }
        };
    for (std::uint64_t root : tree.roots) {
        visit(root, "", true, true);
    }
    for (const RmapEntry& m : tree.unplaced) {
        if (m.redacted) {
            out << "(a mapping in a process you may not inspect, " << to_string(m.pte) << ")\n";
        } else {
            out << "pid " << m.pid << " (" << m.comm << ") maps it at " << hex(m.vaddr)
                << ", anon_vma unknown\n";
        }
    }
    return out.str();
}

}  // namespace devexcl::cli
