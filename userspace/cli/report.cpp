#include "report.hpp"

#include <cstdio>
#include <cstring>

#include "devexcl/json_writer.hpp"
#include "table.hpp"

namespace devexcl::cli {

std::string hex(std::uint64_t value) {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(value));
    return buf;
}

std::string human_size(std::uint64_t bytes) {
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    while (unit < 4 && bytes >= 1024 && bytes % 1024 == 0) {
        bytes /= 1024;
        ++unit;
    }
    return std::to_string(bytes) + " " + units[unit];
}

std::string errno_name(int err) {
    if (err == 0) {
        return "";
    }
    const char* name = ::strerrorname_np(err);
    return name != nullptr ? name : std::to_string(err);
}

namespace {

std::string range_cells(std::uint64_t start, std::uint64_t page_size, const PageRun& run,
                        std::string* last) {
    *last = hex(start + (run.first + run.count - 1) * page_size);
    return hex(start + run.first * page_size);
}

// Table mode: the events a listener lost before the next one it got.
void print_lost(std::ostream& out, std::uint64_t lost) {
    if (lost != 0) {
        out << "(" << lost << " event(s) lost before this one)\n";
    }
}

}  // namespace

void Reporter::mark(pid_t pid, const MarkResult& result) const {
    if (json) {
        JsonWriter j;
        j.begin_object().field("step", "mark").field("pid", std::int64_t{pid});
        j.field("start", result.start).field("pages", std::uint64_t{result.pages.size()});
        j.field("marked", result.marked).field("failed", result.failed);
        j.key("results").begin_array();
        for (const PageMark& p : result.pages) {
            j.begin_object().field("result", to_string(p.code));
            j.field("errno", errno_name(p.error)).end_object();
        }
        j.end_array().end_object();
        out << j.str() << '\n';
        return;
    }
    out << "mark pid " << pid << ' ' << hex(result.start) << " +"
        << human_size(result.pages.size() * page_size) << ": " << result.pages.size() << " pages, "
        << result.marked << " marked, " << result.failed << " refused\n";
    Table t({"first", "last", "pages", "result", "errno"});
    for (const PageRun& run : group_runs(result.pages, std::equal_to<>{})) {
        const PageMark& p = result.pages[run.first];
        std::string last;
        std::string first = range_cells(result.start, page_size, run, &last);
        t.add_row({first, last, std::to_string(run.count), std::string(to_string(p.code)),
                   errno_name(p.error)});
    }
    t.print(out);
}

void Reporter::status(pid_t pid, std::uint64_t start, const std::vector<PageStatus>& pages) const {
    if (json) {
        JsonWriter j;
        j.begin_object().field("step", "status").field("pid", std::int64_t{pid});
        j.field("start", start).field("pages", std::uint64_t{pages.size()});
        j.key("status").begin_array();
        for (const PageStatus& s : pages) {
            j.begin_object().field("device", to_string(s.device));
            j.field("cause", to_string(s.cause)).field("revoke_seq", s.revoke_seq);
            j.field("pte", to_string(s.pte)).field("pte_flags", pte_flags_string(s.pte_flags));
            j.end_object();
        }
        j.end_array().end_object();
        out << j.str() << '\n';
        return;
    }
    out << "status pid " << pid << ' ' << hex(start) << " +" << human_size(pages.size() * page_size)
        << ":\n";
    Table t({"first", "last", "pages", "device", "cause", "seq", "cpu pte", "flags"});
    for (const PageRun& run : group_runs(pages, std::equal_to<>{})) {
        const PageStatus& s = pages[run.first];
        std::string last;
        std::string first = range_cells(start, page_size, run, &last);
        t.add_row({first, last, std::to_string(run.count), std::string(to_string(s.device)),
                   std::string(to_string(s.cause)),
                   s.revoke_seq ? std::to_string(s.revoke_seq) : "-", std::string(to_string(s.pte)),
                   pte_flags_string(s.pte_flags)});
    }
    t.print(out);
}

void Reporter::release(pid_t pid, std::uint64_t start, std::uint64_t length,
                       const ReleaseResult& result) const {
    if (json) {
        JsonWriter j;
        j.begin_object().field("step", "release").field("pid", std::int64_t{pid});
        j.field("start", start).field("length", length);
        j.field("released", result.released).field("unrestored", result.unrestored);
        j.end_object();
        out << j.str() << '\n';
        return;
    }
    out << "release pid " << pid << ' ' << hex(start) << " +" << human_size(length) << ": "
        << result.released << " pages given back to the CPU";
    if (result.unrestored != 0) {
        out << ", " << result.unrestored << " could not be faulted back in";
    }
    out << '\n';
}

void Reporter::access(pid_t pid, std::uint64_t addr, AccessOp op, std::uint64_t value,
                      std::uint64_t expected, const AccessResult& result) const {
    if (json) {
        JsonWriter j;
        j.begin_object().field("step", "atomic").field("pid", std::int64_t{pid});
        j.field("addr", addr).field("op", to_string(op)).field("value", value);
        if (op == AccessOp::Cmpxchg) {
            j.field("expected", expected).field("swapped", result.old_value == expected);
        }
        j.field("old", result.old_value).field("path", to_string(result.path));
        j.end_object();
        out << j.str() << '\n';
        return;
    }
    out << "atomic pid " << pid << ' ' << to_string(op) << " at " << hex(addr) << ": ";
    switch (op) {
        case AccessOp::Read:
            out << "value " << hex(result.old_value);
            break;
        case AccessOp::Add:
            out << hex(result.old_value) << " -> " << hex(result.old_value + value);
            break;
        case AccessOp::Write:
        case AccessOp::Xchg:
            out << hex(result.old_value) << " -> " << hex(value);
            break;
        case AccessOp::Cmpxchg:
            out << (result.old_value == expected ? "swapped " : "not swapped, ")
                << hex(result.old_value)
                << (result.old_value == expected ? " -> " + hex(value) : "");
            break;
    }
    out << " ("
        << (result.path == AccessPath::Reacquired ? "device fault: page re-acquired" : "page held")
        << ")\n";
}

void Reporter::counters(const Counters& c) const {
    if (json) {
        JsonWriter j;
        j.begin_object().field("step", "counters").field("context_id", c.context_id);
        j.field("target_pid", c.target_pid).field("marked", c.marked).field("refused", c.refused);
        j.field("held", c.held).field("released", c.released).field("device_ops", c.device_ops);
        j.field("reacquires", c.reacquires).field("mark_retries", c.mark_retries);
        j.field("revocations", c.revocations);
        j.key("revoked").begin_object();
        for (int i = 1; i < DEVEXCL_CAUSE_COUNT; ++i) {
            if (c.revoked[i] != 0) {
                j.field(to_string(static_cast<Cause>(i)), c.revoked[i]);
            }
        }
        j.end_object().end_object();
        out << j.str() << '\n';
        return;
    }
    out << "counters of context " << hex(c.context_id) << " (target pid " << c.target_pid << "):\n";
    Table t({"counter", "value"});
    t.add_row({"marked", std::to_string(c.marked)});
    t.add_row({"refused", std::to_string(c.refused)});
    t.add_row({"held", std::to_string(c.held)});
    t.add_row({"released", std::to_string(c.released)});
    t.add_row({"device ops", std::to_string(c.device_ops)});
    t.add_row({"re-acquires", std::to_string(c.reacquires)});
    t.add_row({"mark retries", std::to_string(c.mark_retries)});
    t.add_row({"revocations", std::to_string(c.revocations)});
    for (int i = 1; i < DEVEXCL_CAUSE_COUNT; ++i) {
        if (c.revoked[i] != 0) {
            t.add_row({"revoked: " + std::string(to_string(static_cast<Cause>(i))),
                       std::to_string(c.revoked[i])});
        }
    }
    t.print(out);
}

void Reporter::revocation(const Revocation& r, std::uint64_t lost) const {
    if (json) {
        JsonWriter j;
        j.begin_object().field("step", "revocation").field("seq", r.seq);
        j.field("start", r.start).field("end", r.end).field("pages", r.npages);
        j.field("cause", to_string(r.cause)).field("trigger_pid", r.trigger_pid);
        j.field("trigger_comm", r.trigger_comm);
        if (lost != 0) {
            j.field("dropped", lost);
        }
        j.end_object();
        out << j.str() << '\n';
        return;
    }
    print_lost(out, lost);
    out << "revoked #" << r.seq << ": " << r.npages << " page(s) from " << hex(r.start)
        << ", cause " << to_string(r.cause) << ", by pid " << r.trigger_pid << " ("
        << r.trigger_comm << ")\n";
}

void Reporter::hold(const Counters& c, const std::optional<double>& seconds) const {
    if (json) {
        JsonWriter j;
        j.begin_object().field("step", "hold").field("context_id", c.context_id);
        j.field("held", c.held).end_object();
        out << j.str() << '\n';
    } else if (seconds) {
        out << "holding " << c.held << " page(s) for " << *seconds << " s\n";
    } else {
        out << "holding " << c.held << " page(s); Ctrl-C or end of input releases\n";
    }
    out.flush();
}

void Reporter::revocations(const std::vector<Revocation>& log) const {
    if (!json && log.empty()) {
        out << "no revocations\n";
    }
    for (const Revocation& r : log) {
        revocation(r);
    }
}

void Reporter::event(const Event& e) const {
    if (json) {
        JsonWriter j;
        j.begin_object().field("event", "revocation").field("ctx", e.ctx_id);
        j.field("target_pid", std::int64_t{e.target_pid}).field("seq", e.seq);
        j.field("start", e.start).field("end", e.end).field("pages", e.npages);
        j.field("cause", to_string(e.cause)).field("trigger_pid", std::int64_t{e.trigger_pid});
        j.field("trigger_comm", e.trigger_comm).field("timestamp_ns", e.timestamp_ns);
        j.field("dropped", e.dropped).end_object();
        out << j.str() << '\n';
        return;
    }
    char stamp[32];
    std::snprintf(stamp, sizeof(stamp), "%12.6f", static_cast<double>(e.timestamp_ns) / 1e9);
    print_lost(out, e.dropped);
    out << stamp << " ctx " << hex(e.ctx_id) << " pid " << e.target_pid << " #" << e.seq << ' '
        << to_string(e.cause) << ' ' << hex(e.start) << '-' << hex(e.end) << ' ' << e.npages
        << (e.npages == 1 ? " page" : " pages") << " by ";
    if (e.trigger_pid != 0) {
        out << e.trigger_pid << " (" << e.trigger_comm << ")\n";
    } else {
        out << "unknown\n";
    }
}

void Reporter::stats(const std::map<std::string, std::uint64_t>& stats) const {
    if (json) {
        JsonWriter j;
        j.begin_object().field("step", "stats");
        for (const auto& [name, value] : stats) {
            j.field(name, value);
        }
        j.end_object();
        out << j.str() << '\n';
        return;
    }
    out << "module counters:\n";
    Table t({"counter", "value"});
    for (const auto& [name, value] : stats) {
        t.add_row({name, std::to_string(value)});
    }
    t.print(out);
}

}  // namespace devexcl::cli
