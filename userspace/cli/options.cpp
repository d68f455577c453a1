#include "options.hpp"

#include <cerrno>
#include <cstdlib>

namespace devexcl::cli {

Invocation parse_invocation(const std::vector<std::string>& argv) {
    Invocation inv;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        if (arg == "--json") {
            inv.json = true;
        } else if (arg == "-h" || arg == "--help") {
            inv.help = true;
        } else if (arg == "--device") {
            if (i + 1 >= argv.size()) {
                throw UsageError("--device needs a path");
            }
            inv.device = argv[++i];
        } else if (arg.rfind("--device=", 0) == 0) {
            inv.device = arg.substr(9);
        } else if (arg == "--") {
            inv.args.insert(inv.args.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
            break;
        } else if (arg.size() > 1 && arg[0] == '-' && inv.command.empty()) {
            throw UsageError("unknown option " + arg);
        } else if (inv.command.empty()) {
            inv.command = arg;
        } else {
            inv.args.push_back(arg);
        }
    }
    if (inv.command == "help") {
        inv.help = true;
        inv.command.clear();
    }
    if (inv.command.empty() && !inv.help) {
        throw UsageError("no command given");
    }
    return inv;
}

std::uint64_t parse_number(const std::string& text, const std::string& what) {
    if (text.empty() || text[0] == '-' || text[0] == '+') {
        throw UsageError("invalid " + what + ": '" + text + "'");
    }
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(text.c_str(), &end, 0);
    if (errno != 0 || end == text.c_str() || *end != '\0') {
        throw UsageError("invalid " + what + ": '" + text + "'");
    }
    return v;
}

pid_t parse_pid(const std::string& text) {
    std::uint64_t v = parse_number(text, "pid");
    if (v == 0 || v > 0x7fffffff) {
        throw UsageError("invalid pid '" + text + "'");
    }
    return static_cast<pid_t>(v);
}

double parse_seconds(const std::string& text) {
    char* end = nullptr;
    const double secs = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !(secs >= 0)) {
        throw UsageError("invalid seconds '" + text + "'");
    }
    return secs;
}

std::uint64_t parse_size(const std::string& text, const std::string& what) {
    if (text.empty()) {
        throw UsageError("invalid " + what + ": empty");
    }
    std::uint64_t shift = 0;
    std::string digits = text;
    switch (text.back()) {
        case 'k':
        case 'K':
            shift = 10;
            break;
        case 'm':
        case 'M':
            shift = 20;
            break;
        case 'g':
        case 'G':
            shift = 30;
            break;
        default:
            break;
    }
    if (shift != 0) {
        digits.pop_back();
    }
    std::uint64_t v = parse_number(digits, what);
    if (shift != 0 && v > (UINT64_MAX >> shift)) {
        throw UsageError(what + " too large: '" + text + "'");
    }
    return v << shift;
}

std::string usage() {
    return "usage: devexcl [--json] [--device PATH] COMMAND [ARGS...] [+ COMMAND [ARGS...]]...\n"
           "\n"
           "commands:\n"
           "  version                          module ABI, limits, device node, known kernel bugs\n"
           "  mark PID ADDR LEN [--allow-kernel-bugs]\n"
           "                                   take device-exclusive access, per-page results;\n"
           "                                   the flag (CAP_SYS_ADMIN) walks into known kernel "
           "bugs\n"
           "  status PID ADDR LEN              the device's and the CPU's view of each page\n"
           "  release PID ADDR LEN             give pages back; their CPU mappings return\n"
           "  atomic PID ADDR OP [VAL [NEW]]   device access: read, write VAL, add VAL,\n"
           "                                   xchg VAL, cmpxchg EXPECTED NEW; a page not\n"
           "                                   held is re-acquired unless --no-reacquire\n"
           "  hold [SECONDS]                   keep what is held, printing revocations, until\n"
           "                                   SECONDS pass, Ctrl-C, or end of input\n"
           "  counters                         this context's counters\n"
           "  revocations                      this context's recent revocation batches\n"
           "  inspect PID ADDR                 a page: PTE, page/folio, anon_vma, and every\n"
           "                                   process and address that maps it\n"
           "  inspect PID ADDR LEN             every page of a range, mappings counted;\n"
           "                                   past 4096 pages it streams the netlink dump,\n"
           "                                   with progress on a terminal\n"
           "  vma PID ADDR [--no-mmap-lock]    the VMA, its per-VMA lock and its anon_vma_chain\n"
           "                                   as a tree; the flag looks it up under RCU\n"
           "                                   (lock state only), to see it while a writer\n"
           "                                   holds the mmap_lock\n"
           "  tree PID ADDR                    the fork tree of the processes sharing a page,\n"
           "                                   and each mapper's VMA lock\n"
           "  watch [--pid P] [--ctx ID] [--count N] [SECONDS]\n"
           "                                   revocation events as they happen, one line\n"
           "                                   (or JSON object) each, until N events, SECONDS,\n"
           "                                   or Ctrl-C; all contexts' with CAP_SYS_ADMIN,\n"
           "                                   else only those this process opened\n"
           "  stats                            the module's global counters\n"
           "  help                             this text\n"
           "\n"
           "Steps joined by '+' run in order on one device context (one open\n"
           "/dev/devexcl); closing it when devexcl exits releases what it holds.\n"
           "ADDR and numbers: decimal or 0x hex; LEN may end in k, M or G.\n"
           "Acting on or inspecting another process needs CAP_SYS_PTRACE; mappings\n"
           "in processes you may not inspect are counted but redacted. PFNs are shown\n"
           "to CAP_SYS_ADMIN only.\n"
           "\n"
           "options:\n"
           "  --json                           one JSON object per step\n"
           "  --device PATH                    device node (default /dev/devexcl)\n"
           "  -h, --help                       this text\n"
           "\n"
           "exit status: 0 ok, 1 kernel error (errno printed) or pages refused by mark,\n"
           "2 usage error, 3 mark or atomic on a kernel without device-exclusive entries\n";
}

}  // namespace devexcl::cli
