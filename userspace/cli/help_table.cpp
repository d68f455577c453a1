#include "help_table.hpp"

namespace devexcl::cli {

namespace {

constexpr HelpEntry kCommands[] = {
    {"version",
     "libdevexcl's version and the module ABI it needs, the loaded module's ABI, limits, "
     "device node, known kernel bugs"},
    {"mark PID ADDR LEN [--allow-kernel-bugs]",
     "take device-exclusive access, per-page results; the flag (CAP_SYS_ADMIN) walks into "
     "known kernel bugs"},
    {"status PID ADDR LEN", "the device's and the CPU's view of each page"},
    {"release PID ADDR LEN", "give pages back; their CPU mappings return"},
    {"atomic PID ADDR OP [VAL [NEW]]",
     "device access: read, write VAL, add VAL, xchg VAL, cmpxchg EXPECTED NEW; a page not "
     "held is re-acquired unless --no-reacquire"},
    {"hold [SECONDS]",
     "keep what is held, printing revocations, until SECONDS pass, Ctrl-C, or end of input"},
    {"counters", "this context's counters"},
    {"revocations", "this context's recent revocation batches"},
    {"inspect PID ADDR",
     "a page: PTE, page/folio, anon_vma, and every process and address that maps it"},
    {"inspect PID ADDR LEN",
     "every page of a range, mappings counted; past 4096 pages it streams the netlink dump, "
     "with progress on a terminal"},
    {"vma PID ADDR [--no-mmap-lock]",
     "the VMA, its per-VMA lock and its anon_vma_chain as a tree; the flag looks it up under "
     "RCU (lock state only), to see it while a writer holds the mmap_lock"},
    {"tree PID ADDR", "the fork tree of the processes sharing a page, and each mapper's VMA lock"},
    {"watch [--pid P] [--ctx ID] [--count N] [SECONDS]",
     "revocation events as they happen, one line (or JSON object) each, until N events, "
     "SECONDS, or Ctrl-C; all contexts' with CAP_SYS_ADMIN, else only those this process "
     "opened"},
    {"stats", "the module's global counters"},
    {"help", "this usage summary"},
};

constexpr std::string_view kNotes[] = {
    "Steps joined by '+' run in order on one device context (one open /dev/devexcl); closing "
    "it when devexcl exits releases what it holds.",
    "ADDR and numbers: decimal or 0x hex; LEN may end in k, M or G.",
    "Acting on or inspecting another process needs CAP_SYS_PTRACE; mappings in processes you "
    "may not inspect are counted but redacted. PFNs are shown to CAP_SYS_ADMIN only.",
};

constexpr HelpEntry kOptions[] = {
    {"--json", "one JSON object per step"},
    {"--device PATH", "device node (default /dev/devexcl)"},
    {"-h, --help", "the usage summary"},
};

constexpr HelpEntry kExitStatus[] = {
    {"0", "success"},
    {"1",
     "a kernel error (its errno is printed), pages refused by mark, or a module whose ABI this "
     "libdevexcl cannot use"},
    {"2", "a usage error"},
    {"3",
     "mark or atomic asked of a kernel without device-exclusive entries (no "
     "CONFIG_DEVICE_PRIVATE): one line says so, and no step runs"},
};

constexpr HelpEntry kFiles[] = {
    {"/dev/devexcl",
     "the device node of devexcl.ko; each open file is one simulated device context"},
};

constexpr HelpTable kTable = {
    "devexcl",
    "device-exclusive access and rmap inspection through /dev/devexcl",
    "[--json] [--device PATH] COMMAND [ARGS...] [+ COMMAND [ARGS...]]...",
    kCommands,
    kNotes,
    kOptions,
    kExitStatus,
    kFiles,
};

}  // namespace

const HelpTable& help_table() {
    return kTable;
}

}  // namespace devexcl::cli
