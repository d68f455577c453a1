#include "ioctl_fuzzer.hpp"

#include <sys/ioctl.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <tuple>
#include <vector>

#include "describe.hpp"
#include "errno_rules.hpp"

namespace devexcl::fuzz {

namespace {

// Several marks of distinct ranges each keep a notifier region; releasing
// everything now and then keeps the context far below its 1024 regions.
constexpr std::uint64_t kMarksPerRelease = 256;

bool is_held(std::uint32_t raw) {
    const auto code = DEVEXCL_MARK_RESULT_CODE(raw);
    return code == DEVEXCL_MARK_MARKED || code == DEVEXCL_MARK_ALREADY_HELD;
}

}  // namespace

IoctlFuzzer::IoctlFuzzer(Rng& rng, Report& report, const KernelFacts& kernel,
                         const Processes& processes, Arena& arena, UserBuffers& buffers)
    : rng_(rng),
      report_(report),
      kernel_(kernel),
      processes_(processes),
      arena_(arena),
      buffers_(buffers),
      main_(Device::open()) {}

int IoctlFuzzer::call(int fd, unsigned long cmd, std::uint64_t arg) {
    report_.count_call();
    return ::ioctl(fd, cmd, arg) == 0 ? 0 : errno;
}

std::optional<devexcl_counters> IoctlFuzzer::read_counters() {
    devexcl_counters c{};
    if (int err = call(main_.fd(), DEVEXCL_IOC_COUNTERS, reinterpret_cast<std::uint64_t>(&c))) {
        report_.fail("COUNTERS with a valid argument -> " + errno_name(err));
        return std::nullopt;
    }
    return c;
}

std::optional<IoctlFuzzer::Snapshot> IoctlFuzzer::snapshot() {
    auto c = read_counters();
    if (!c) {
        return std::nullopt;
    }
    return Snapshot{c->marked, c->refused, c->released, c->device_ops, c->reacquires};
}

void IoctlFuzzer::check_unchanged(const std::optional<Snapshot>& before, const std::string& what) {
    if (!before) {
        return;
    }
    auto after = snapshot();
    if (after && !(*after == *before)) {
        report_.fail("refused " + what + " changed the context's counters: marked " +
                     std::to_string(before->marked) + "->" + std::to_string(after->marked) +
                     " refused " + std::to_string(before->refused) + "->" +
                     std::to_string(after->refused) + " released " +
                     std::to_string(before->released) + "->" + std::to_string(after->released) +
                     " device_ops " + std::to_string(before->device_ops) + "->" +
                     std::to_string(after->device_ops) + " reacquires " +
                     std::to_string(before->reacquires) + "->" + std::to_string(after->reacquires));
    }
}

bool IoctlFuzzer::revoked_in_background(std::uint64_t addr) {
    devexcl_page_status st{};
    devexcl_status_req req{};
    req.start = addr & ~(kernel_.page_size - 1);
    req.length = kernel_.page_size;
    req.entries = reinterpret_cast<std::uint64_t>(&st);
    if (call(main_.fd(), DEVEXCL_IOC_STATUS, reinterpret_cast<std::uint64_t>(&req)) != 0) {
        return false;
    }
    if (st.device == DEVEXCL_DEV_REVOKED && st.cause == DEVEXCL_CAUSE_MIGRATE) {
        report_.note("page " + hex(req.start) + " migrated by the kernel meanwhile");
        arena_.set_hold(req.start, Hold::Revoked);
        return true;
    }
    return false;
}

std::uint64_t IoctlFuzzer::address() {
    return arena_.address(rng_);
}

std::uint64_t IoctlFuzzer::length(std::uint64_t start) {
    return arena_.length(rng_, start) * kernel_.page_size;
}

void IoctlFuzzer::range(__u64& start, __u64& length, unsigned p) {
    start = address();
    length = this->length(start);
    if (rng_.percent(p)) {
        start = bad_address();
    }
    if (rng_.percent(p)) {
        length = bad_length();
    }
}

std::uint64_t IoctlFuzzer::bad_address() {
    switch (rng_.below(5)) {
        case 0:
            return address() + rng_.between(1, kernel_.page_size - 1);  // unaligned
        case 1:
            return buffers_.never_mapped(rng_);
        case 2:  // wraps with most lengths
            return (~0ULL & ~(kernel_.page_size - 1)) - rng_.below(4) * kernel_.page_size;
        case 3:
            return kernel_.task_size_max - rng_.below(4) * kernel_.page_size;
        default: {
            // A random value, moved where nothing is mapped if it fell in the
            // part of the address space whose contents the fuzzer does not know.
            std::uint64_t v = rng_.interesting();
            if (v >= 0x10000 && v < (1ULL << 47) && !arena_.contains(v)) {
                v |= 1ULL << 47;
            }
            return v;
        }
    }
}

std::uint64_t IoctlFuzzer::bad_length() {
    const std::uint64_t page = kernel_.page_size;
    return rng_.pick<std::uint64_t>({0, rng_.between(1, page - 1), page + rng_.between(1, page - 1),
                                     kernel_.max_range, kernel_.max_range + page,
                                     2 * kernel_.max_range, ~0ULL & ~(page - 1), ~0ULL,
                                     rng_.interesting()});
}

std::uint64_t IoctlFuzzer::mark_flags() {
    std::uint64_t flags = rng_.percent(50) ? 1ULL << rng_.below(64) : rng_.interesting();
    if (kernel_.root) {
        // Never as root: it restores the marking that crashes 6.1 (the
        // "thp-exclusive-migrate" bug). As uid 65534 it must be EPERM.
        flags &= ~static_cast<std::uint64_t>(DEVEXCL_MARK_ALLOW_KERNEL_BUGS);
    }
    return flags;
}

Expect IoctlFuzzer::reacquire_expect(std::uint64_t addr) const {
    Expect e;
    switch (arena_.kind(addr)) {
        case PageKind::Anon:
            break;
        case PageKind::Shared:
            e.defect(EOPNOTSUPP);
            break;
        default:  // unmapped (EFAULT before marking), or GUP fails (EFAULT)
            e.defect(EFAULT);
            break;
    }
    return e;
}

void IoctlFuzzer::step() {
    // Most calls carry corrupted arguments, refused before any work: they
    // are the fuzzing, and cheap. The others do real work the model checks.
    fuzzing_ = rng_.percent(80);
    switch (rng_.below(100)) {
        case 0 ... 15:
            mark();
            break;
        case 16 ... 23:
            release();
            break;
        case 24 ... 33:
            status();
            break;
        case 34 ... 49:
            access();
            break;
        case 50 ... 53:
            counters();
            break;
        case 54 ... 58:
            revocations();
            break;
        case 59 ... 66:
            inspect_page();
            break;
        case 67 ... 74:
            inspect_range();
            break;
        case 75 ... 80:
            inspect_vma();
            break;
        case 81 ... 82:
            version();
            break;
        case 83 ... 89:
            bind();
            break;
        case 90 ... 95:
            unknown_ioctl();
            break;
        default:
            arena_.cpu_touch(rng_, arena_.address(rng_) + 8 * rng_.below(kernel_.page_size / 8));
            break;
    }
    if (marks_since_release_ >= kMarksPerRelease) {
        release_all();
    }
}

void IoctlFuzzer::mark() {
    devexcl_range_op op{};
    const unsigned p = bad_percent();
    range(op.start, op.length, p);
    if (rng_.percent(p / 2)) {
        op.flags = mark_flags();
    }
    if (rng_.percent(p / 2)) {
        op.reserved = rng_.interesting() | 1;
    }
    if (rng_.percent(p)) {  // outputs: what they hold on entry must not matter
        op.done = rng_.next();
        op.ok = rng_.next();
        op.failed = rng_.next();
    }
    const bool sane = range_valid(op.start, op.length, kernel_);
    const std::uint64_t pages = sane ? op.length / kernel_.page_size : 0;
    if (rng_.percent(70)) {
        op.results = buffers_.output(rng_, pages * sizeof(std::uint32_t), p);
    }
    const std::uint64_t arg = buffers_.place(rng_, &op, sizeof(op), p / 2);
    const Tri mapped = sane ? arena_.mapped(op.start, op.start + op.length) : Tri::Yes;
    const Expect expect = mark_rule(op, arg, buffers_, mapped, Tri::Yes, kernel_);
    const auto before = !expect.may_succeed && rng_.one_in(4) ? snapshot() : std::nullopt;
    const int err = call(main_.fd(), DEVEXCL_IOC_MARK, arg);
    report_.check(err, expect, [&] { return describe_call("MARK", op, arg); });
    if (err != 0) {
        check_unchanged(before, "MARK");
        return;
    }
    ++marks_since_release_;
    devexcl_range_op out = op;
    buffers_.fetch(arg, &out, sizeof(out));
    if (out.done != pages) {
        report_.fail("MARK " + describe(op) + " done " + std::to_string(out.done) + " of " +
                     std::to_string(pages) + " pages");
    }
    const bool have_results = op.results != 0 && buffers_.readable(op.results, pages * 4);
    std::vector<std::uint32_t> results(pages, 0);
    if (have_results) {
        std::memcpy(results.data(), buffers_.at(op.results), pages * 4);
        check_mark_results(out, results.data());
    }
    for (std::uint64_t i = 0; i < pages; ++i) {
        const std::uint64_t page = op.start + i * kernel_.page_size;
        if (arena_.kind(page) == PageKind::Anon && (!have_results || is_held(results[i]))) {
            arena_.set_hold(page, Hold::Held);
        }
    }
}

void IoctlFuzzer::check_mark_results(const devexcl_range_op& op, const std::uint32_t* results) {
    std::uint64_t marked = 0, refused = 0;
    for (std::uint64_t i = 0; i < op.done; ++i) {
        const std::uint64_t page = op.start + i * kernel_.page_size;
        const std::uint32_t raw = results[i];
        const auto code = DEVEXCL_MARK_RESULT_CODE(raw);
        const int err = static_cast<int>(DEVEXCL_MARK_RESULT_ERRNO(raw));
        bool ok = mark_result_consistent(raw);
        switch (arena_.kind(page)) {
            case PageKind::Anon:
                ok = ok && is_held(raw);
                break;
            case PageKind::Shared:
                ok = ok && code == DEVEXCL_MARK_NOT_ANON;
                break;
            case PageKind::NoAccess:
            case PageKind::ReadOnly:
                ok = ok && code == DEVEXCL_MARK_GUP_FAILED && err == EFAULT;
                break;
            case PageKind::Unmapped:
                ok = false;
                break;
        }
        if (!ok) {
            report_.fail("MARK " + describe(op) + ": page " + hex(page) + " result code " +
                         std::to_string(code) + " errno " + errno_name(err));
        }
        marked += code == DEVEXCL_MARK_MARKED;
        refused += !is_held(raw);
    }
    if (op.ok != marked || op.failed != refused) {
        report_.fail("MARK " + describe(op) + ": ok " + std::to_string(op.ok) + " failed " +
                     std::to_string(op.failed) + ", results say " + std::to_string(marked) +
                     " and " + std::to_string(refused));
    }
}

void IoctlFuzzer::release() {
    devexcl_range_op op{};
    const unsigned p = bad_percent();
    range(op.start, op.length, p);
    corrupt_flags_and_reserved(op, p);
    if (rng_.percent(p / 2)) {
        op.results = buffers_.output(rng_, 64, 0);
    }
    const std::uint64_t arg = buffers_.place(rng_, &op, sizeof(op), p / 2);
    const Expect expect = release_rule(op, arg, buffers_, kernel_);
    const auto before = !expect.may_succeed && rng_.one_in(4) ? snapshot() : std::nullopt;
    const int err = call(main_.fd(), DEVEXCL_IOC_RELEASE, arg);
    report_.check(err, expect, [&] { return describe_call("RELEASE", op, arg); });
    if (err != 0) {
        check_unchanged(before, "RELEASE");
        return;
    }
    std::uint64_t held = 0;
    const std::uint64_t end = op.start + op.length;
    for (std::uint64_t a = std::max<std::uint64_t>(op.start, arena_.base());
         a < std::min<std::uint64_t>(end, arena_.end()); a += kernel_.page_size) {
        if (arena_.hold(a) == Hold::Held) {
            ++held;
            arena_.set_hold(a, Hold::Revoked);
        }
    }
    devexcl_range_op out = op;
    buffers_.fetch(arg, &out, sizeof(out));
    if (buffers_.writable(arg, sizeof(out)) &&
        (out.done != op.length / kernel_.page_size || out.ok != held || out.failed != 0)) {
        report_.fail("RELEASE " + describe(op) + ": done " + std::to_string(out.done) + " ok " +
                     std::to_string(out.ok) + " failed " + std::to_string(out.failed) +
                     ", the model held " + std::to_string(held));
    }
}

void IoctlFuzzer::release_all() {
    marks_since_release_ = 0;
    devexcl_range_op op{};
    op.start = arena_.base();
    op.length = arena_.end() - arena_.base();
    if (int err = call(main_.fd(), DEVEXCL_IOC_RELEASE, reinterpret_cast<std::uint64_t>(&op))) {
        report_.fail("RELEASE of the whole arena -> " + errno_name(err));
        return;
    }
    const std::uint64_t held = arena_.held_pages();
    for (std::uint64_t a = arena_.base(); a < arena_.end(); a += kernel_.page_size) {
        if (arena_.hold(a) == Hold::Held) {
            arena_.set_hold(a, Hold::Revoked);
        }
    }
    if (op.ok != held) {
        report_.fail("RELEASE of the whole arena released " + std::to_string(op.ok) +
                     " pages, the model held " + std::to_string(held));
    }
    auto c = read_counters();
    if (c && c->held != 0) {
        report_.fail("after releasing everything the context still holds " +
                     std::to_string(c->held) + " pages");
    }
}

void IoctlFuzzer::status() {
    devexcl_status_req req{};
    req.start = address();
    req.length = length(req.start);
    const unsigned p = bad_percent();
    if (rng_.percent(p)) {
        req.start = bad_address();
    }
    if (rng_.percent(p)) {
        // A valid GiB is a walk of 262144 pages: seldom, it costs as much
        // as a thousand refused calls.
        req.length = rng_.one_in(256) ? kernel_.max_range : bad_length();
        if (req.length <= kernel_.max_range && req.length > 64 * kernel_.page_size &&
            !rng_.one_in(256)) {
            req.length = 0;
        }
    }
    corrupt_flags_and_reserved(req, p);
    const bool sane = range_valid(req.start, req.length, kernel_);
    const std::uint64_t pages = sane ? req.length / kernel_.page_size : 0;
    req.entries = buffers_.output(rng_, pages * sizeof(devexcl_page_status), p);
    const std::uint64_t arg = buffers_.place(rng_, &req, sizeof(req), p / 2);
    const Expect expect = status_rule(req, arg, buffers_, kernel_);
    const int err = call(main_.fd(), DEVEXCL_IOC_STATUS, arg);
    report_.check(err, expect, [&] { return describe_call("STATUS", req, arg); });
    if (err == 0 && buffers_.readable(req.entries, pages * sizeof(devexcl_page_status))) {
        std::vector<devexcl_page_status> entries(pages);
        std::memcpy(entries.data(), buffers_.at(req.entries), entries.size() * sizeof(entries[0]));
        check_status(req, entries.data());
    }
}

void IoctlFuzzer::check_status(const devexcl_status_req& req, const devexcl_page_status* entries) {
    const std::uint64_t pages = req.length / kernel_.page_size;
    for (std::uint64_t i = 0; i < pages; ++i) {
        const std::uint64_t page = req.start + i * kernel_.page_size;
        const devexcl_page_status& st = entries[i];
        const Hold hold = arena_.hold(page);
        const PageKind kind = arena_.kind(page);
        bool ok = st.reserved == 0;
        switch (hold) {
            case Hold::Held:
                ok = ok && st.device == DEVEXCL_DEV_HELD &&
                     (st.pte == DEVEXCL_PTE_DEVICE_EXCLUSIVE_WRITE ||
                      st.pte == DEVEXCL_PTE_DEVICE_EXCLUSIVE_READ);
                if (!ok && st.device == DEVEXCL_DEV_REVOKED && st.cause == DEVEXCL_CAUSE_MIGRATE) {
                    arena_.set_hold(page, Hold::Revoked);
                    ok = true;
                }
                break;
            case Hold::Revoked:
                ok = ok && st.device == DEVEXCL_DEV_REVOKED && st.cause != DEVEXCL_CAUSE_NONE &&
                     st.cause < DEVEXCL_CAUSE_COUNT && st.revoke_seq != 0;
                break;
            case Hold::Never:
                ok = ok && st.device == DEVEXCL_DEV_NEVER_HELD && st.revoke_seq == 0;
                break;
        }
        if (kind == PageKind::Unmapped) {
            ok = ok && st.pte == DEVEXCL_PTE_NO_VMA;
        } else if (hold != Hold::Held) {
            ok = ok && st.pte != DEVEXCL_PTE_DEVICE_EXCLUSIVE_WRITE &&
                 st.pte != DEVEXCL_PTE_DEVICE_EXCLUSIVE_READ && st.pte != DEVEXCL_PTE_NO_VMA;
        }
        if (!ok) {
            report_.fail("STATUS " + describe(req) + ": page " + hex(page) + " device " +
                         std::to_string(st.device) + " cause " + std::to_string(st.cause) +
                         " pte " + std::to_string(st.pte) + ", the model says hold " +
                         std::to_string(static_cast<int>(hold)) + " kind " +
                         std::to_string(static_cast<int>(kind)));
            return;
        }
    }
}

void IoctlFuzzer::access() {
    devexcl_access req{};
    req.addr = address() + 8 * rng_.below(kernel_.page_size / 8);
    req.op = rng_.between(DEVEXCL_OP_READ, DEVEXCL_OP_CMPXCHG);
    req.flags = rng_.percent(50) ? DEVEXCL_ACCESS_REACQUIRE : 0;
    req.value = rng_.interesting();
    const unsigned p = bad_percent();
    if (rng_.percent(p)) {
        req.addr = bad_address();
    }
    if (rng_.percent(p / 2)) {
        req.op = rng_.pick<std::uint64_t>({0, 6, 7, ~0ULL, 1ULL << 32 | 1, rng_.interesting()});
    }
    if (rng_.percent(p / 2)) {
        req.flags = rng_.interesting();
    }
    if (rng_.percent(p / 2)) {
        req.reserved = rng_.interesting() | 1;
    }
    if (rng_.percent(p)) {
        req.result = rng_.next();
        req.path = rng_.next();
    }
    const std::uint64_t old =
        arena_.contains(req.addr) && req.addr % 8 == 0 ? arena_.word(req.addr) : 0;
    req.expected = rng_.percent(50) ? old : rng_.interesting();
    const Hold hold = arena_.hold(req.addr);
    HoldFacts facts;
    facts.may_be_held = hold == Hold::Held;
    facts.may_be_revoked = hold == Hold::Revoked;
    facts.may_be_never_held = hold == Hold::Never;
    const std::uint64_t arg = buffers_.place(rng_, &req, sizeof(req), p / 2);
    const Expect expect =
        access_rule(req, arg, buffers_, facts, reacquire_expect(req.addr), Tri::Yes, kernel_);
    // Bad arguments, an argument in read-only memory among them, must
    // change nothing. (A valid access to a page that cannot be taken
    // again counts that refusal: it is its answer.)
    const bool args_ok = req.op >= DEVEXCL_OP_READ && req.op <= DEVEXCL_OP_CMPXCHG &&
                         (req.flags & ~DEVEXCL_ACCESS_REACQUIRE) == 0 && req.reserved == 0 &&
                         req.addr % 8 == 0 && req.addr < kernel_.task_size_max;
    const auto before = (!args_ok || !buffers_.writable(arg, sizeof(req))) && rng_.one_in(4)
                            ? snapshot()
                            : std::nullopt;
    const int err = call(main_.fd(), DEVEXCL_IOC_ACCESS, arg);
    if (err == ESTALE && hold == Hold::Held && revoked_in_background(req.addr)) {
        return;
    }
    report_.check(err, expect, [&] { return describe_call("ACCESS", req, arg); });
    if (err != 0) {
        check_unchanged(before, "ACCESS");
        return;
    }
    std::uint64_t& word = arena_.word(req.addr);
    devexcl_access out = req;
    buffers_.fetch(arg, &out, sizeof(out));
    const std::uint64_t want_path =
        hold == Hold::Held ? DEVEXCL_PATH_HELD : DEVEXCL_PATH_REACQUIRED;
    if (out.result != word || out.path != want_path) {
        report_.fail("ACCESS " + describe(req) + ": result " + hex(out.result) + " path " +
                     std::to_string(out.path) + ", the model says " + hex(word) + " path " +
                     std::to_string(want_path));
    }
    switch (req.op) {
        case DEVEXCL_OP_WRITE:
        case DEVEXCL_OP_XCHG:
            word = req.value;
            break;
        case DEVEXCL_OP_ADD:
            word += req.value;
            break;
        case DEVEXCL_OP_CMPXCHG:
            if (word == req.expected) {
                word = req.value;
            }
            break;
        default:
            break;
    }
    arena_.set_hold(req.addr, Hold::Held);
}

void IoctlFuzzer::counters() {
    const std::uint64_t arg = buffers_.output(rng_, sizeof(devexcl_counters), bad_percent());
    const Expect expect = counters_rule(arg, buffers_);
    const int err = call(main_.fd(), DEVEXCL_IOC_COUNTERS, arg);
    report_.check(err, expect, [&] { return "COUNTERS at " + hex(arg); });
    if (err != 0 || !buffers_.readable(arg, sizeof(devexcl_counters))) {
        return;
    }
    devexcl_counters c;
    std::memcpy(&c, buffers_.at(arg), sizeof(c));
    if (c.held != arena_.held_pages() ||
        c.target_pid != static_cast<std::uint64_t>(processes_.self()) || c.context_id == 0 ||
        c.context_id >> 63 != 0) {
        report_.fail("COUNTERS: held " + std::to_string(c.held) + " (model " +
                     std::to_string(arena_.held_pages()) + "), target_pid " +
                     std::to_string(c.target_pid) + ", context_id " + hex(c.context_id));
    }
}

void IoctlFuzzer::revocations() {
    auto c = read_counters();
    if (!c) {
        return;
    }
    const std::uint64_t log_min = std::min<std::uint64_t>(c->revocations, DEVEXCL_REVOCATION_LOG);
    devexcl_revocations req{};
    req.count = rng_.percent(80) ? rng_.below(DEVEXCL_REVOCATION_LOG + 8) : rng_.interesting();
    const unsigned p = bad_percent();
    req.records = buffers_.output(
        rng_,
        std::min<std::uint64_t>(req.count, DEVEXCL_REVOCATION_LOG) * sizeof(devexcl_revocation), p);
    if (rng_.percent(p / 2)) {
        req.reserved = rng_.interesting() | 1;
    }
    if (rng_.percent(p)) {
        req.latest_seq = rng_.next();
    }
    const std::uint64_t arg = buffers_.place(rng_, &req, sizeof(req), p / 2);
    const Expect expect = revocations_rule(req, arg, buffers_, log_min, DEVEXCL_REVOCATION_LOG);
    const int err = call(main_.fd(), DEVEXCL_IOC_REVOCATIONS, arg);
    report_.check(err, expect, [&] { return describe_call("REVOCATIONS", req, arg); });
    if (err != 0 || !buffers_.writable(arg, sizeof(req))) {
        return;
    }
    devexcl_revocations out;
    buffers_.fetch(arg, &out, sizeof(out));
    const std::uint64_t want = std::min<std::uint64_t>(req.count, log_min);
    if (out.count < want || out.count > req.count || out.latest_seq < c->revocations) {
        report_.fail("REVOCATIONS " + describe(req) + ": count " + std::to_string(out.count) +
                     " latest " + std::to_string(out.latest_seq) + ", counters said " +
                     std::to_string(c->revocations) + " batches");
        return;
    }
    if (out.count == 0 || !buffers_.readable(req.records, out.count * sizeof(devexcl_revocation))) {
        return;
    }
    std::vector<devexcl_revocation> recs(out.count);
    std::memcpy(recs.data(), buffers_.at(req.records), recs.size() * sizeof(recs[0]));
    for (std::uint64_t i = 0; i < out.count; ++i) {
        const auto& r = recs[i];
        if (r.seq != out.latest_seq - out.count + 1 + i || r.cause == 0 ||
            r.cause >= DEVEXCL_CAUSE_COUNT || r.npages == 0 || r.end <= r.start ||
            r.trigger_comm[sizeof(r.trigger_comm) - 1] != '\0') {
            report_.fail("REVOCATIONS: record " + std::to_string(i) + " seq " +
                         std::to_string(r.seq) + " cause " + std::to_string(r.cause) + " pages " +
                         std::to_string(r.npages) + " [" + hex(r.start) + ", " + hex(r.end) + ")");
            return;
        }
    }
}

IoctlFuzzer::InspectTarget IoctlFuzzer::inspect_target(unsigned p) {
    InspectTarget t{processes_.pick_mostly_self(rng_, 70)};
    const bool self = t.pid.value == static_cast<std::uint64_t>(processes_.self());
    // Elsewhere than in this process, only where nothing is ever mapped.
    t.addr = self ? address() + rng_.below(kernel_.page_size) : buffers_.never_mapped(rng_);
    if (rng_.percent(p)) {
        t.addr = bad_address();
    }
    t.kind = self ? arena_.kind(t.addr) : PageKind::Unmapped;
    return t;
}

std::pair<std::uint64_t, std::uint64_t> IoctlFuzzer::rmap_array(std::uint64_t entry, unsigned p) {
    const std::uint64_t room =
        rng_.percent(80) ? rng_.below(8) : rng_.pick<std::uint64_t>({4096, 4097, ~0ULL});
    const std::uint64_t at = room <= DEVEXCL_MAX_RMAP_ENTRIES
                                 ? buffers_.output(rng_, room * entry, p)
                                 : buffers_.output(rng_, 64, 0);
    return {room, at};
}

void IoctlFuzzer::inspect_page() {
    devexcl_inspect_page_req req{};
    const unsigned p = bad_percent();
    const InspectTarget target = inspect_target(p);
    const PidChoice& pid = target.pid;
    req.pid = pid.value;
    req.addr = target.addr;
    std::tie(req.max_entries, req.entries) = rmap_array(sizeof(devexcl_rmap_entry), p);
    corrupt_flags_and_reserved(req, p);
    if (rng_.percent(p)) {
        std::memset(&req.info, 0xa5, sizeof(req.info));
    }
    const PageKind kind = target.kind;
    const Tri mapped = target.mapped();
    const std::uint64_t mappings = kind == PageKind::Unmapped || kind == PageKind::NoAccess ? 0 : 1;
    const std::uint64_t arg = buffers_.place(rng_, &req, sizeof(req), p / 2);
    const Expect expect =
        inspect_page_rule(req, arg, buffers_, pid.facts, mapped, mappings, kernel_);
    const int err = call(main_.fd(), DEVEXCL_IOC_INSPECT_PAGE, arg);
    report_.check(err, expect,
                  [&] { return describe_call("INSPECT_PAGE", req, arg) + " pid " + pid.name; });
    if (err != 0 || !buffers_.writable(arg, sizeof(req))) {
        return;
    }
    devexcl_inspect_page_req out;
    buffers_.fetch(arg, &out, sizeof(out));
    const auto& info = out.info;
    if (info.addr != (req.addr & ~(kernel_.page_size - 1)) || info.nr_returned > req.max_entries ||
        (!kernel_.root && info.pfn != 0) || info.pte_kind == DEVEXCL_PTE_NO_VMA ||
        (mappings > 0 && info.nr_mappings == 0)) {
        report_.fail("INSPECT_PAGE " + describe(req) + ": addr " + hex(info.addr) + " returned " +
                     std::to_string(info.nr_returned) + " mappings " +
                     std::to_string(info.nr_mappings) + " pte " + std::to_string(info.pte_kind) +
                     " pfn " + hex(info.pfn));
    }
}

void IoctlFuzzer::inspect_range() {
    devexcl_inspect_range_req req{};
    const PidChoice pid = processes_.pick_mostly_self(rng_, 70);
    req.pid = pid.value;
    req.start = address();
    req.length = length(req.start);
    req.max_records =
        rng_.percent(85) ? rng_.between(1, 300) : rng_.pick<std::uint64_t>({0, 4096, 4097, ~0ULL});
    req.flags = rng_.percent(30) ? DEVEXCL_INSPECT_WALK_RMAP : 0;
    const unsigned p = bad_percent();
    if (rng_.percent(p)) {
        req.start = bad_address();
    }
    if (rng_.percent(p)) {
        req.length = bad_length();
    }
    if (rng_.percent(p / 2)) {
        req.flags = rng_.percent(50) ? DEVEXCL_INSPECT_EMPTY_RUNS : rng_.interesting();
    }
    if (rng_.percent(p / 2)) {
        req.reserved = rng_.interesting() | 1;
    }
    if (rng_.percent(30)) {  // resume from a cursor: inside the range, or anywhere
        req.cursor = rng_.percent(70) ? req.start + rng_.below(req.length / kernel_.page_size + 1) *
                                                        kernel_.page_size
                                      : bad_address();
    }
    const std::uint64_t room = std::min<std::uint64_t>(req.max_records, DEVEXCL_MAX_RANGE_RECORDS) *
                               sizeof(devexcl_page_info);
    req.records = buffers_.output(rng_, room, p);
    const std::uint64_t arg = buffers_.place(rng_, &req, sizeof(req), p / 2);
    const Expect expect = inspect_range_rule(req, arg, buffers_, pid.facts, kernel_);
    const int err = call(main_.fd(), DEVEXCL_IOC_INSPECT_RANGE, arg);
    report_.check(err, expect,
                  [&] { return describe_call("INSPECT_RANGE", req, arg) + " pid " + pid.name; });
    if (err != 0 || !buffers_.writable(arg, sizeof(req))) {
        return;
    }
    devexcl_inspect_range_req out;
    buffers_.fetch(arg, &out, sizeof(out));
    const std::uint64_t cursor = req.cursor != 0 ? req.cursor : req.start;
    const std::uint64_t n = std::min<std::uint64_t>(
        (req.start + req.length - cursor) / kernel_.page_size, req.max_records);
    if (out.count != n || out.cursor != cursor + n * kernel_.page_size) {
        report_.fail("INSPECT_RANGE " + describe(req) + ": count " + std::to_string(out.count) +
                     " cursor " + hex(out.cursor) + ", expected " + std::to_string(n));
        return;
    }
    const auto* records = static_cast<const devexcl_page_info*>(buffers_.at(req.records));
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t page = cursor + i * kernel_.page_size;
        const bool self = pid.value == static_cast<std::uint64_t>(processes_.self());
        const bool no_vma = records[i].pte_kind == DEVEXCL_PTE_NO_VMA;
        if (records[i].addr != page || (!kernel_.root && records[i].pfn != 0) ||
            (self && no_vma != (arena_.kind(page) == PageKind::Unmapped))) {
            report_.fail("INSPECT_RANGE " + describe(req) + ": record " + std::to_string(i) +
                         " addr " + hex(records[i].addr) + " pte " +
                         std::to_string(records[i].pte_kind) + " pfn " + hex(records[i].pfn));
            return;
        }
    }
}

void IoctlFuzzer::inspect_vma() {
    devexcl_inspect_vma_req req{};
    const unsigned p = bad_percent();
    const InspectTarget target = inspect_target(p);
    const PidChoice& pid = target.pid;
    req.pid = pid.value;
    req.addr = target.addr;
    std::tie(req.max_chain, req.chain) = rmap_array(sizeof(devexcl_anon_vma_info), p);
    if (rng_.percent(p / 2)) {
        req.flags = rng_.interesting() | 1;
    } else if (rng_.percent(10)) {
        // The lock-free lookup, valid only without a chain.
        req.flags = DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK;
        if (!rng_.percent(p)) {
            req.max_chain = 0;
            req.chain = 0;
        }
    }
    if (rng_.percent(p / 2)) {
        req.vma_lock = rng_.interesting();  // out only: ignored
    }
    const PageKind kind = target.kind;
    const Tri mapped = target.mapped();
    const std::uint64_t chain = kind == PageKind::Anon || kind == PageKind::ReadOnly ? 1 : 0;
    const std::uint64_t arg = buffers_.place(rng_, &req, sizeof(req), p / 2);
    const Expect expect = inspect_vma_rule(req, arg, buffers_, pid.facts, mapped, chain, kernel_);
    const int err = call(main_.fd(), DEVEXCL_IOC_INSPECT_VMA, arg);
    report_.check(err, expect,
                  [&] { return describe_call("INSPECT_VMA", req, arg) + " pid " + pid.name; });
    if (err != 0 || !buffers_.writable(arg, sizeof(req))) {
        return;
    }
    devexcl_inspect_vma_req out;
    buffers_.fetch(arg, &out, sizeof(out));
    // Without the mmap_lock the chain is not read at all.
    const bool unlocked = req.flags & DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK;
    const std::uint64_t chain_min = unlocked ? 0 : chain;
    if (out.vm_start > req.addr || out.vm_end <= req.addr ||
        out.returned > std::min<std::uint64_t>(out.chain_len, req.max_chain) ||
        out.chain_len < chain_min || (unlocked && out.chain_len != 0) ||
        ((out.vma_lock & DEVEXCL_VMA_LOCK_PRESENT) != 0) != kernel_.per_vma_lock) {
        report_.fail("INSPECT_VMA " + describe(req) + ": vma [" + hex(out.vm_start) + ", " +
                     hex(out.vm_end) + ") chain " + std::to_string(out.chain_len) + " returned " +
                     std::to_string(out.returned));
    }
}

void IoctlFuzzer::version() {
    const std::uint64_t arg = buffers_.output(rng_, sizeof(devexcl_version), bad_percent());
    Expect expect;
    if (!buffers_.writable(arg, sizeof(devexcl_version))) {
        expect.defect(EFAULT);
    }
    const int err = call(main_.fd(), DEVEXCL_IOC_VERSION, arg);
    report_.check(err, expect, [&] { return "VERSION at " + hex(arg); });
    if (err != 0) {
        return;
    }
    devexcl_version v;
    std::memcpy(&v, buffers_.at(arg), sizeof(v));
    if (v.abi_major != DEVEXCL_ABI_MAJOR || v.abi_minor < 1 || v.page_size != kernel_.page_size ||
        v.max_range_bytes != kernel_.max_range || v.kernel_version == 0 || v.reserved != 0) {
        report_.fail("VERSION: " + std::to_string(v.abi_major) + "." + std::to_string(v.abi_minor) +
                     " page " + std::to_string(v.page_size) + " max " + hex(v.max_range_bytes));
    }
}

void IoctlFuzzer::bind() {
    // The main context may only ever be bound to this process: it is
    // offered binds that either fail or name this process again.
    const bool on_main = rng_.one_in(6);
    if (!on_main && (!spare_ || rng_.one_in(4))) {
        spare_.reset();
        spare_.emplace(Device::open());
        report_.count_call();  // the open
    }
    devexcl_bind req{};
    PidChoice pid = processes_.pick(rng_);
    FdChoice fd = processes_.pick_fd(rng_);
    if (rng_.percent(40)) {
        req.flags = DEVEXCL_BIND_PIDFD;
        req.pidfd = fd.value;
    } else {
        req.pid = pid.value;
    }
    const unsigned p = bad_percent();
    if (rng_.percent(p / 2)) {
        req.flags |= rng_.percent(50) ? 1ULL << rng_.between(1, 63) : rng_.interesting();
    }
    if (rng_.percent(p / 2)) {
        req.reserved = rng_.interesting() | 1;
    }
    if (rng_.percent(p / 2)) {  // both, or neither
        req.pid = rng_.percent(50) ? pid.value : 0;
        req.pidfd = rng_.percent(50) ? fd.value : 0;
    }
    if (req.pidfd != fd.value) {
        // 0, and a corrupted flag may have made it a pidfd field.
        fd.facts.kind = FdKind::NotPidfd;  // fd 0: stdin, /dev/null in the VM
        fd.name = "stdin";
    }
    Tri holds = Tri::No;
    if (on_main) {
        auto c = read_counters();
        holds = c && c->held > 0 ? Tri::Yes : Tri::No;
    }
    const std::uint64_t arg = buffers_.place(rng_, &req, sizeof(req), p / 2);
    const Expect expect = bind_rule(req, arg, buffers_, pid.facts, fd.facts, holds, kernel_);
    const bool names_self = (req.flags & DEVEXCL_BIND_PIDFD)
                                ? fd.name == "pidfd-self"
                                : req.pid == static_cast<std::uint64_t>(processes_.self());
    if (on_main && expect.may_succeed && !names_self) {
        return;  // would rebind the main context elsewhere
    }
    const int fd_used = on_main ? main_.fd() : spare_->fd();
    const int err = call(fd_used, DEVEXCL_IOC_BIND, arg);
    report_.check(err, expect, [&] {
        return describe_call("BIND", req, arg) + " pid " + pid.name + " pidfd " + fd.name +
               (on_main ? " (main context)" : "");
    });
    if (err == 0 && on_main) {
        // A rebind starts the context afresh (ABI 1.2), even to the same process.
        arena_.forget_holds();
        marks_since_release_ = 0;
    }
}

void IoctlFuzzer::unknown_ioctl() {
    unsigned int cmd;
    do {
        switch (rng_.below(4)) {
            case 0:  // our magic, an unused number
                cmd = _IOC(rng_.below(4), DEVEXCL_IOC_MAGIC, rng_.between(0x13, 0xff),
                           rng_.below(1 << 14));
                break;
            case 1:  // a used number with the wrong size or direction
                cmd = _IOC(rng_.below(4), DEVEXCL_IOC_MAGIC,
                           rng_.pick<unsigned>({0, 1, 2, 3, 4, 5, 6, 7, 0x10, 0x11, 0x12}),
                           rng_.below(1 << 14));
                break;
            case 2:
                cmd = static_cast<unsigned int>(rng_.next());
                break;
            default:
                cmd = static_cast<unsigned int>(rng_.interesting());
                break;
        }
    } while (known_ioctl(cmd));
    // The upper half of the request is not part of the command.
    const unsigned long request = rng_.percent(50) ? cmd : (rng_.next() << 32) | cmd;
    const std::uint64_t arg =
        rng_.percent(50) ? buffers_.output(rng_, 256, 0) : buffers_.never_mapped(rng_);
    const int err = call(main_.fd(), request, arg);
    report_.check(err, unknown_ioctl_rule(),
                  [&] { return "ioctl " + hex(request) + " at " + hex(arg); });
}

bool IoctlFuzzer::still_works() {
    const std::uint64_t page = arena_.base() + 16 * kernel_.page_size;  // first private page
    try {
        Device dev = Device::open();
        auto marked = dev.mark(page, kernel_.page_size);
        if (!marked.all_held()) {
            report_.fail("after fuzzing: MARK of a private page did not take it");
            return false;
        }
        auto r = dev.access(page, AccessOp::Add, 1);
        if (r.path != AccessPath::Held) {
            report_.fail("after fuzzing: ACCESS to a held page took the wrong path");
            return false;
        }
        auto released = dev.release(page, kernel_.page_size);
        if (released.released != 1 || dev.counters().held != 0) {
            report_.fail("after fuzzing: RELEASE did not give the page back");
            return false;
        }
        arena_.word(page) += 1;
        return true;
    } catch (const std::system_error& e) {
        report_.fail(std::string("after fuzzing: ") + e.what());
        return false;
    }
}

}  // namespace devexcl::fuzz
