#include "inspect_report.hpp"

#include "devexcl/json_writer.hpp"
#include "report.hpp"
#include "table.hpp"

namespace devexcl::cli {

namespace {

void vma_lock_json(JsonWriter& j, const VmaLock& l) {
    j.key("vma_lock").begin_object().field("per_vma_locks", l.present);
    if (l.present) {
        j.field("attached", l.attached).field("readers", std::uint64_t{l.readers});
        j.field("writer", l.writer).field("write_locked", l.write_locked);
    }
    j.end_object();
}

void page_json(JsonWriter& j, const PageInfo& p) {
    j.field("addr", p.addr).field("pte", to_string(p.pte));
    j.field("pte_flags", pte_flags_string(p.pte_flags));
    j.field("page_flags", page_flags_string(p.page_flags));
    j.field("mapping", to_string(p.mapping)).field("folio_order", std::uint64_t{p.folio_order});
    j.field("mapcount", std::int64_t{p.mapcount});
    j.field("folio_mapcount", std::int64_t{p.folio_mapcount});
    j.field("refcount", p.refcount).field("index", p.index).field("pfn", p.pfn);
    j.field("anon_vma", p.anon_vma_id).field("root_anon_vma", p.root_anon_vma_id);
    j.field("rmap_flags", rmap_flags_string(p.rmap_flags));
    j.field("mappings_found", p.nr_mappings).field("redacted", p.nr_redacted);
}

std::string rmap_verdict(const PageInfo& p) {
    if (!p.walked()) {
        return p.has_page() ? "not walked" : "no page";
    }
    std::string v =
        std::to_string(p.nr_mappings) + " found, kernel mapcount " + std::to_string(p.mapcount);
    if (p.mapcount_mismatch()) {
        v += ": MISMATCH";
        if (p.mapcount == 0 &&
            (p.pte == PteKind::DeviceExclusiveRead || p.pte == PteKind::DeviceExclusiveWrite)) {
            v += " (6.1 drops the mapcount of device-exclusive entries)";
        }
    }
    if (p.truncated()) {
        v += ", list truncated";
    }
    if (p.rmap_flags & DEVEXCL_RMAP_INCOMPLETE) {
        v += ", incomplete";
    }
    return v;
}

}  // namespace

void InspectReporter::page(pid_t pid, const PageInspection& insp) const {
    const PageInfo& p = insp.page;
    if (json) {
        JsonWriter j;
        j.begin_object().field("step", "inspect").field("pid", std::int64_t{pid});
        page_json(j, p);
        j.key("mappings").begin_array();
        for (const RmapEntry& m : insp.mappings) {
            j.begin_object().field("redacted", m.redacted).field("pte", to_string(m.pte));
            if (!m.redacted) {
                j.field("pid", std::int64_t{m.pid}).field("tgid", std::int64_t{m.tgid});
                j.field("comm", m.comm).field("vaddr", m.vaddr);
                j.field("pte_flags", pte_flags_string(m.pte_flags));
                j.field("mm", m.mm_id).field("anon_vma", m.anon_vma_id);
            }
            j.end_object();
        }
        j.end_array().end_object();
        out << j.str() << '\n';
        return;
    }
    out << "page at " << hex(p.addr) << " of pid " << pid << '\n';
    Table t({"", ""});
    t.add_row({"pte", std::string(to_string(p.pte)) + "  " + pte_flags_string(p.pte_flags)});
    t.add_row({"page", page_flags_string(p.page_flags)});
    t.add_row({"folio", "order " + std::to_string(p.folio_order) + ", mapcount " +
                            std::to_string(p.mapcount) + " (folio " +
                            std::to_string(p.folio_mapcount) + "), refcount " +
                            std::to_string(p.refcount)});
    t.add_row({"mapping", std::string(to_string(p.mapping)) + ", index " + hex(p.index)});
    t.add_row({"pfn", p.pfn ? hex(p.pfn) : "hidden (CAP_SYS_ADMIN only) or none"});
    t.add_row({"anon_vma",
               p.anon_vma_id ? hex(p.anon_vma_id) + ", root " + hex(p.root_anon_vma_id) : "-"});
    t.add_row({"rmap", rmap_verdict(p)});
    t.print(out);
    if (insp.mappings.empty()) {
        return;
    }
    Table m({"pid", "tgid", "comm", "vaddr", "pte", "anon_vma"});
    for (const RmapEntry& e : insp.mappings) {
        if (e.redacted) {
            m.add_row({"-", "-", "(redacted)", "-", std::string(to_string(e.pte)), "-"});
        } else {
            m.add_row({std::to_string(e.pid), std::to_string(e.tgid), e.comm, hex(e.vaddr),
                       std::string(to_string(e.pte)), hex(e.anon_vma_id)});
        }
    }
    m.print(out);
}

namespace {

// Pages that fold into one row of the range table.
bool same_row(const PageInfo& a, const PageInfo& b) {
    return a.pte == b.pte && a.pte_flags == b.pte_flags && a.page_flags == b.page_flags &&
           a.mapping == b.mapping && a.mapcount == b.mapcount && a.nr_mappings == b.nr_mappings &&
           a.rmap_flags == b.rmap_flags;
}

}  // namespace

RangeReport::RangeReport(std::ostream& out, bool json, pid_t pid, std::uint64_t start,
                         std::uint64_t length, std::uint64_t page_size)
    : out_(out), json_(json) {
    if (json_) {
        json_writer_.begin_object().field("step", "inspect").field("pid", std::int64_t{pid});
        json_writer_.field("start", start).field("pages", length / page_size);
        json_writer_.key("records").begin_array();
        json_writer_.flush_to(out_);
        return;
    }
    out_ << "inspect pid " << pid << ' ' << hex(start) << " +" << human_size(length) << ":\n";
}

void RangeReport::add(const PageInfo& p) {
    if (json_) {
        json_writer_.begin_object();
        page_json(json_writer_, p);
        json_writer_.end_object();
        json_writer_.flush_to(out_);
        return;
    }
    if (run_pages_ != 0 && same_row(run_first_, p)) {
        ++run_pages_;
        run_last_addr_ = p.addr;
        return;
    }
    close_run();
    run_first_ = p;
    run_last_addr_ = p.addr;
    run_pages_ = 1;
}

void RangeReport::close_run() {
    if (run_pages_ == 0) {
        return;
    }
    const PageInfo& p = run_first_;
    table_.add_row({hex(p.addr), hex(run_last_addr_), std::to_string(run_pages_),
                    std::string(to_string(p.pte)), page_flags_string(p.page_flags),
                    std::string(to_string(p.mapping)), std::to_string(p.mapcount),
                    p.walked() ? std::to_string(p.nr_mappings) : "-",
                    rmap_flags_string(p.rmap_flags)});
    run_pages_ = 0;
}

void RangeReport::finish() {
    if (json_) {
        json_writer_.end_array().end_object();
        json_writer_.flush_to(out_);
        out_ << '\n';
        return;
    }
    close_run();
    table_.print(out_);
}

void InspectReporter::range(pid_t pid, std::uint64_t start, std::uint64_t page_size,
                            const std::vector<PageInfo>& pages) const {
    RangeReport report(out, json, pid, start, pages.size() * page_size, page_size);
    for (const PageInfo& p : pages) {
        report.add(p);
    }
    report.finish();
}

void InspectReporter::vma(pid_t pid, const VmaInspection& v) const {
    if (json) {
        JsonWriter j;
        j.begin_object().field("step", "vma").field("pid", std::int64_t{pid});
        j.field("start", v.start).field("end", v.end).field("flags", v.flags);
        j.field("flag_names", vm_flags_string(v.flags)).field("pgoff", v.pgoff);
        j.field("mm", v.mm_id).field("anon_vma", v.anon_vma_id).field("chain_len", v.chain_len);
        vma_lock_json(j, v.lock);
        j.key("anon_vma_chain").begin_array();
        for (const AnonVmaInfo& a : v.chain) {
            j.begin_object().field("id", a.id).field("root", a.root_id);
            j.field("parent", a.parent_id).field("num_children", a.num_children);
            j.field("num_active_vmas", a.num_active_vmas).field("refcount", a.refcount);
            j.end_object();
        }
        j.end_array().end_object();
        out << j.str() << '\n';
        return;
    }
    out << "vma " << hex(v.start) << "-" << hex(v.end) << " of pid " << pid << ": "
        << vm_flags_string(v.flags) << ", pgoff " << hex(v.pgoff) << ", anon_vma "
        << (v.anon_vma_id ? hex(v.anon_vma_id) : "none yet") << '\n';
    out << "vma lock: " << to_string(v.lock) << '\n';
    if (v.chain.empty()) {
        return;
    }
    out << "anon_vma_chain (" << v.chain_len << ", newest first), as a tree from the root:\n";
    AnonVmaTree tree = build_anon_vma_tree({v.chain}, {});
    out << render_anon_vma_tree(tree, v.anon_vma_id);
}

void InspectReporter::tree(pid_t pid, const PageInspection& p, const AnonVmaTree& t,
                           const std::vector<MapperVma>& mapper_vmas) const {
    if (json) {
        JsonWriter j;
        j.begin_object().field("step", "tree").field("pid", std::int64_t{pid});
        j.field("addr", p.page.addr).field("anon_vma", p.page.anon_vma_id);
        j.key("anon_vmas").begin_array();
        for (const auto& [id, node] : t.nodes) {
            j.begin_object().field("id", id).field("parent", node.info.parent_id);
            j.field("num_children", node.info.num_children);
            j.field("num_active_vmas", node.info.num_active_vmas);
            j.key("mappers").begin_array();
            for (const RmapEntry& m : node.mappings) {
                j.begin_object().field("pid", std::int64_t{m.pid}).field("comm", m.comm);
                j.field("vaddr", m.vaddr).field("pte", to_string(m.pte)).end_object();
            }
            j.end_array().end_object();
        }
        j.end_array().field("unplaced", std::uint64_t{t.unplaced.size()});
        j.key("mapper_vmas").begin_array();
        for (const MapperVma& m : mapper_vmas) {
            j.begin_object().field("pid", std::int64_t{m.pid}).field("vaddr", m.vaddr);
            j.field("start", m.vma.start).field("end", m.vma.end);
            vma_lock_json(j, m.vma.lock);
            j.end_object();
        }
        j.end_array().end_object();
        out << j.str() << '\n';
        return;
    }
    out << "processes sharing the page at " << hex(p.page.addr) << " of pid " << pid << " ("
        << rmap_verdict(p.page) << "):\n";
    out << render_anon_vma_tree(t, p.page.anon_vma_id);
    if (mapper_vmas.empty()) {
        return;
    }
    Table vmas({"pid", "vaddr", "vma", "vma lock"});
    for (const MapperVma& m : mapper_vmas) {
        vmas.add_row({std::to_string(m.pid), hex(m.vaddr), hex(m.vma.start) + "-" + hex(m.vma.end),
                      to_string(m.vma.lock)});
    }
    out << "the mappers' VMAs:\n";
    vmas.print(out);
}

}  // namespace devexcl::cli
