// How rmap inspections are shown: readable tables and trees, or JSON.
#pragma once

#include <sys/types.h>

#include <ostream>
#include <string>
#include <vector>

#include "anon_vma_tree.hpp"
#include "devexcl/json_writer.hpp"
#include "devexcl/rmap_types.hpp"
#include "table.hpp"

namespace devexcl::cli {

// The report of a range, fed a page at a time so that a GiB range is never
// held: JSON records are written as they come, table rows fold runs of
// equal pages.
class RangeReport {
public:
    RangeReport(std::ostream& out, bool json, pid_t pid, std::uint64_t start, std::uint64_t length,
                std::uint64_t page_size);
    void add(const PageInfo& p);
    void finish();

private:
    void close_run();

    std::ostream& out_;
    bool json_;
    JsonWriter json_writer_;
    Table table_{{"first", "last", "pages", "pte", "page", "mapping", "mapcount", "found", "rmap"}};
    PageInfo run_first_;
    std::uint64_t run_last_addr_ = 0;
    std::uint64_t run_pages_ = 0;
};

// A mapper of a page and the VMA it maps the page through.
struct MapperVma {
    pid_t pid = 0;
    std::uint64_t vaddr = 0;
    VmaInspection vma;
};

struct InspectReporter {
    std::ostream& out;
    bool json = false;

    void page(pid_t pid, const PageInspection& p) const;
    void range(pid_t pid, std::uint64_t start, std::uint64_t page_size,
               const std::vector<PageInfo>& pages) const;
    void vma(pid_t pid, const VmaInspection& v) const;
    // `mapper_vmas`: the VMA of each mapper placed in `t`, for its lock state.
    void tree(pid_t pid, const PageInspection& p, const AnonVmaTree& t,
              const std::vector<MapperVma>& mapper_vmas) const;
};

}  // namespace devexcl::cli
