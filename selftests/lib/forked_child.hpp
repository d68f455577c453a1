// A forked child running one step, with a pipe each way for small
// fixed-size messages, so a test can drive it through phases (hold, touch,
// exit) and kill it at any of them. Destruction kills and reaps it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <type_traits>

#include "devexcl/unique_fd.hpp"

namespace devexcl::test {

// One end of the two pipes: what this side sends, and what it receives.
class ChildChannel {
public:
    ChildChannel() = default;
    ChildChannel(UniqueFd in, UniqueFd out) : in_(std::move(in)), out_(std::move(out)) {}

    // Writes or reads all of `size` bytes; throws std::system_error (EPIPE
    // when the other side is gone).
    void send_bytes(const void* data, std::size_t size);
    void receive_bytes(void* data, std::size_t size);

    template <typename T>
    void send(const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        send_bytes(&value, sizeof(value));
    }
    template <typename T>
    T receive() {
        static_assert(std::is_trivially_copyable_v<T>);
        T value{};
        receive_bytes(&value, sizeof(value));
        return value;
    }

private:
    UniqueFd in_, out_;
};

class ForkedChild {
public:
    // The child's step returns its exit status; one that throws exits with this.
    static constexpr int kThrew = 125;

    // Forks; the child closes every file but stdio and its end of the
    // pipes, runs `step` with them and _exits with what it returns, without
    // running the parent's destructors.
    explicit ForkedChild(const std::function<int(ChildChannel&)>& step);
    ~ForkedChild();
    ForkedChild(const ForkedChild&) = delete;
    ForkedChild& operator=(const ForkedChild&) = delete;

    pid_t pid() const { return pid_; }
    ChildChannel& channel() { return channel_; }

    // Waits for the child to exit; returns its wait status.
    int wait();
    // SIGKILLs the child and reaps it; returns its wait status.
    int kill_and_wait();

private:
    pid_t pid_ = -1;
    ChildChannel channel_;
};

}  // namespace devexcl::test
