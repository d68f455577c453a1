// Corrupted arguments for every ioctl of /dev/devexcl, on a context bound
// to the fuzzer itself (marking its arena), on spare contexts (binding),
// and with ioctl numbers nobody handles. Each answer is checked against
// the errno rules; a successful call is checked against the arena's model;
// a refused one, sampled, for having changed nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "arena.hpp"
#include "devexcl/device.hpp"
#include "errno_set.hpp"
#include "facts.hpp"
#include "processes.hpp"
#include "report.hpp"
#include "rng.hpp"
#include "user_buffers.hpp"

namespace devexcl::fuzz {

class IoctlFuzzer {
public:
    IoctlFuzzer(Rng& rng, Report& report, const KernelFacts& kernel, const Processes& processes,
                Arena& arena, UserBuffers& buffers);

    // One random operation.
    void step();
    // Releases the whole arena and checks that the device then holds nothing.
    void release_all();
    // Marks, accesses and releases a page: the module still works.
    bool still_works();

private:
    // The counters a refused call must leave alone.
    struct Snapshot {
        std::uint64_t marked, refused, released, device_ops, reacquires;
        bool operator==(const Snapshot&) const = default;
    };

    int call(int fd, unsigned long cmd, std::uint64_t arg);
    std::optional<devexcl_counters> read_counters();
    std::optional<Snapshot> snapshot();
    // After a refusal: the context's counters are as before.
    void check_unchanged(const std::optional<Snapshot>& before, const std::string& what);
    // The device says it lost a page the model holds: accepted only for a
    // cause the fuzzer never brings about itself (migration).
    bool revoked_in_background(std::uint64_t addr);

    std::uint64_t address();
    std::uint64_t length(std::uint64_t start);
    // A range, mostly around the arena; start and length each corrupted in p%.
    void range(__u64& start, __u64& length, unsigned p);
    std::uint64_t bad_address();
    std::uint64_t bad_length();
    std::uint64_t mark_flags();
    Expect reacquire_expect(std::uint64_t addr) const;
    unsigned bad_percent() const { return fuzzing_ ? 40 : 0; }
    // What an INSPECT call names: a pid (mostly this process) and an
    // address, in the arena for this process, else where nothing is mapped.
    struct InspectTarget {
        PidChoice pid;
        std::uint64_t addr = 0;
        PageKind kind = PageKind::Unmapped;
        Tri mapped() const { return kind == PageKind::Unmapped ? Tri::No : Tri::Yes; }
    };
    InspectTarget inspect_target(unsigned p);
    // A max_entries/max_chain value and a buffer for that many entries.
    std::pair<std::uint64_t, std::uint64_t> rmap_array(std::uint64_t entry, unsigned p);
    // Non-zero flags and reserved fields, each in p/2 % of the calls.
    template <typename Req>
    void corrupt_flags_and_reserved(Req& req, unsigned p) {
        if (rng_.percent(p / 2)) {
            req.flags = rng_.interesting() | 1;
        }
        if (rng_.percent(p / 2)) {
            req.reserved = rng_.interesting() | 1;
        }
    }

    void mark();
    void release();
    void status();
    void access();
    void counters();
    void revocations();
    void inspect_page();
    void inspect_range();
    void inspect_vma();
    void version();
    void bind();
    void unknown_ioctl();

    void check_mark_results(const devexcl_range_op& op, const std::uint32_t* results);
    void check_status(const devexcl_status_req& req, const devexcl_page_status* entries);

    Rng& rng_;
    Report& report_;
    KernelFacts kernel_;
    const Processes& processes_;
    Arena& arena_;
    UserBuffers& buffers_;
    Device main_;
    std::optional<Device> spare_;
    bool fuzzing_ = false;  // this step corrupts its argument
    std::uint64_t marks_since_release_ = 0;
};

}  // namespace devexcl::fuzz
