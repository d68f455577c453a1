#include "in_flight.hpp"

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/mapping.hpp"
#include "genl_socket.hpp"
#include "lib/forked_child.hpp"
#include "lib/memory_kinds.hpp"
#include "lib/target_process.hpp"

namespace devexcl::test {

namespace {

// Bounds a wait for the kernel; never a measurement.
constexpr int kKernelWaitMs = 30000;

class OpenFile : public InFlight {
public:
    // Device::open() has already asked the module its version: the file works.
    OpenFile() : dev_(Device::open()) {}
    bool pins_module() const override { return true; }
    void end() override { dev_.reset(); }

private:
    std::optional<Device> dev_;
};

// A context holding every page of a private anonymous range, of this
// process or of a target process; its close restores them.
class HeldMarks : public InFlight {
public:
    explicit HeldMarks(bool other_process) {
        std::uint64_t addr, length;
        // The target first: a child keeps the files open at its fork.
        if (other_process) {
            target_ = std::make_unique<TargetProcess>(MemoryKind::PrivateAnon);
        }
        dev_.emplace(Device::open());
        if (other_process) {
            dev_->bind(target_->pid());
            addr = target_->addr();
            length = target_->length();
        } else {
            own_ = TestMemory::create(MemoryKind::PrivateAnon);
            addr = own_->addr();
            length = own_->length();
        }
        EXPECT_TRUE(dev_->mark(addr, length).all_held());
        dev_->access(addr, AccessOp::Read);
    }
    bool pins_module() const override { return true; }
    void end() override {
        dev_.reset();
        if (target_) {
            const int status = target_->finish();
            EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
                << "the target's memory changed under the marks";
        } else {
            EXPECT_EQ(*own_->word(0), own_->initial_word(0));
        }
    }

private:
    std::optional<Device> dev_;
    std::unique_ptr<TestMemory> own_;
    std::unique_ptr<TargetProcess> target_;
};

// A process of its own holding marks, killed by SIGKILL. Busy, it is in
// device atomics and CPU writes that revoke and re-acquire when killed.
class KilledHolder : public InFlight {
public:
    explicit KilledHolder(bool busy)
        : child_([busy](ChildChannel& channel) {
              auto mem = TestMemory::create(MemoryKind::PrivateAnon);
              Device dev = Device::open();
              channel.send(dev.mark(mem->addr(), mem->length()).all_held());
              for (std::uint64_t n = 0; busy; ++n) {
                  dev.access(mem->addr(), AccessOp::Add, 1, 0, /*reacquire=*/true);
                  volatile std::uint64_t* word = mem->word(n % mem->pages());
                  *word = *word + 1;
              }
              return static_cast<int>(channel.receive<char>());  // never comes
          }) {
        EXPECT_TRUE(child_.channel().receive<bool>()) << "the holder could not mark its memory";
    }
    bool pins_module() const override { return true; }
    void end() override {
        const int status = child_.kill_and_wait();
        EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
            << "wait status 0x" << std::hex << status;
    }

private:
    ForkedChild child_;
};

// A socket subscribed to the events about this process, which received
// the event of a revocation. Kept, it is still subscribed when the module goes.
class Subscription : public InFlight {
public:
    explicit Subscription(bool keep) : keep_(keep) {
        // As EventListener does: drops are counted in-band, a full socket is no error.
        int on = 1;
        ::setsockopt(sock_.fd(), SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof(on));
        EXPECT_EQ(request(DEVEXCL_CMD_SUBSCRIBE), 0);
        {
            auto mem = TestMemory::create(MemoryKind::PrivateAnon);
            Device dev = Device::open();
            EXPECT_TRUE(dev.mark(mem->addr(), mem->length()).all_held());
            EXPECT_EQ(*mem->word(0), mem->initial_word(0));  // a CPU fault revokes a page
        }
        wait_readable("no event reached the subscriber");
        EXPECT_TRUE(sock_.receive(MSG_DONTWAIT, expect_event, "receive an event"));
    }
    bool pins_module() const override { return false; }
    bool subscribed_after_end() const override { return keep_; }
    void end() override {
        if (!keep_) {
            EXPECT_EQ(request(DEVEXCL_CMD_UNSUBSCRIBE), 0);
        }
    }
    // What it was sent before the unload is events; a request to the
    // family that is gone is ENOENT, and nothing else arrives.
    void check_after_unload() override {
        while (sock_.receive(MSG_DONTWAIT, expect_event, "receive")) {
        }
        EXPECT_EQ(request(DEVEXCL_CMD_GET_STATS), ENOENT)
            << "a request to the unloaded family, on its old id";
        EXPECT_FALSE(sock_.receive(
            MSG_DONTWAIT, [](const nlmsghdr*) {}, "receive"))
            << "a message arrived after the unload";
    }

private:
    static void expect_event(const nlmsghdr* nlh) {
        const auto* gnlh = static_cast<const genlmsghdr*>(NLMSG_DATA(nlh));
        EXPECT_TRUE(nlh->nlmsg_type >= NLMSG_MIN_TYPE && gnlh->cmd == DEVEXCL_CMD_EVENT)
            << "message type " << nlh->nlmsg_type << " where events were expected";
    }

    // Sends `cmd` and reads up to its ack; the messages queued before it
    // must be events. Returns the ack's errno (0: done). Not transact():
    // libnl would take a queued event for a reply out of sequence. The
    // socket is drained first: the kernel drops an ack that does not fit.
    int request(int cmd) {
        while (sock_.receive(MSG_DONTWAIT, expect_event, "drain")) {
        }
        auto msg = sock_.message(cmd);
        if (cmd == DEVEXCL_CMD_SUBSCRIBE) {
            // Only our own process's events: other processes' floods could
            // fill the socket between the drain and an ack.
            nla_put_u32(msg.get(), DEVEXCL_A_FILTER_PID, static_cast<std::uint32_t>(::getpid()));
        }
        if (int err = nl_send_auto(sock_.get(), msg.get()); err < 0) {
            throw NetlinkError(EIO, "send a request", nl_geterror(err));
        }
        std::optional<int> ack;
        while (!ack) {
            wait_readable("no ack to a request");
            sock_.receive(
                0,
                [&](const nlmsghdr* nlh) {
                    if (nlh->nlmsg_type == NLMSG_ERROR) {
                        ack = -static_cast<const nlmsgerr*>(NLMSG_DATA(nlh))->error;
                    } else {
                        expect_event(nlh);
                    }
                },
                "receive the ack");
        }
        return *ack;
    }

    // A bounded wait for the kernel: throws ETIMEDOUT with `what`.
    void wait_readable(const char* what) {
        pollfd pfd{sock_.fd(), POLLIN, 0};
        if (::poll(&pfd, 1, kKernelWaitMs) != 1) {
            throw_errno(ETIMEDOUT, what);
        }
    }

    GenlSocket sock_;
    bool keep_;
};

// An INSPECT dump of an untouched GiB (32 messages of runs), of which one
// message was read: netlink holds the module until the dump ends.
class HalfReadDump : public InFlight {
public:
    explicit HalfReadDump(bool read_to_end)
        : read_to_end_(read_to_end),
          reserve_(1UL << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE),
          sock_(std::in_place) {
        auto msg = sock_->message(DEVEXCL_CMD_INSPECT, /*dump=*/true);
        nla_put_u32(msg.get(), DEVEXCL_A_PID, static_cast<std::uint32_t>(::getpid()));
        nla_put_u64(msg.get(), DEVEXCL_A_START, reserve_.address());
        nla_put_u64(msg.get(), DEVEXCL_A_END, reserve_.address() + reserve_.size());
        nla_put_u32(msg.get(), DEVEXCL_A_FLAGS, DEVEXCL_INSPECT_EMPTY_RUNS);
        if (int err = nl_send_auto(sock_->get(), msg.get()); err < 0) {
            throw NetlinkError(EIO, "send the dump request", nl_geterror(err));
        }
        int data = 0, ends = 0;
        sock_->receive(
            0, [&](const nlmsghdr* nlh) { count(nlh, data, ends); }, "dump");
        EXPECT_GT(data, 0) << "the dump's first read brought no records";
        EXPECT_EQ(ends, 0) << "the dump ended (or failed) at once";
    }
    bool pins_module() const override { return true; }
    void end() override {
        if (!read_to_end_) {
            sock_.reset();  // netlink_release() ends the dump
            return;
        }
        int data = 0, ends = 0;
        while (ends == 0) {
            sock_->receive(
                0, [&](const nlmsghdr* nlh) { count(nlh, data, ends); }, "dump");
        }
        EXPECT_GT(data, 0);
    }

private:
    static void count(const nlmsghdr* nlh, int& data, int& ends) {
        if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) {
            ++ends;
            int err = 0;
            std::memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
            EXPECT_EQ(err, 0) << "the dump failed";
        } else {
            ++data;
        }
    }

    bool read_to_end_;
    Mapping reserve_;
    std::optional<GenlSocket> sock_;
};

}  // namespace

std::string_view kind_name(InFlightKind kind) {
    switch (kind) {
        case InFlightKind::OpenFile:
            return "open_file";
        case InFlightKind::HeldMarks:
            return "held_marks";
        case InFlightKind::KilledHolder:
            return "killed_holder";
        case InFlightKind::Subscription:
            return "subscription";
        case InFlightKind::HalfReadDump:
            return "half_read_dump";
    }
    return "unknown";
}

std::unique_ptr<InFlight> start_in_flight(InFlightKind kind, int variant) {
    switch (kind) {
        case InFlightKind::OpenFile:
            return std::make_unique<OpenFile>();
        case InFlightKind::HeldMarks:
            return std::make_unique<HeldMarks>(variant != 0);
        case InFlightKind::KilledHolder:
            return std::make_unique<KilledHolder>(variant != 0);
        case InFlightKind::Subscription:
            return std::make_unique<Subscription>(variant == 0);
        case InFlightKind::HalfReadDump:
            return std::make_unique<HalfReadDump>(variant != 0);
    }
    return nullptr;
}

}  // namespace devexcl::test
