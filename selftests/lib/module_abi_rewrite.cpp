#include "lib/module_abi_rewrite.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdio>

#include "devexcl/error.hpp"
#include "devexcl/uapi.hpp"
#include "devexcl/unique_fd.hpp"

namespace devexcl::test {

namespace {

void poke(pid_t pid, std::uint64_t addr, std::uint64_t value) {
    if (::ptrace(PTRACE_POKEDATA, pid, addr, value) != 0) {
        throw_last_errno("PTRACE_POKEDATA");
    }
}

// Traces the stopped child to its end, rewriting its version answers.
void trace(pid_t pid, AbiVersion abi, RewrittenRun& run) {
    if (::ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) != 0) {
        throw_last_errno("PTRACE_SETOPTIONS");
    }
    // The argument of an ioctl(DEVEXCL_IOC_VERSION) between its entry and exit.
    std::uint64_t version_arg = 0;
    int signal = 0;
    for (;;) {
        if (::ptrace(PTRACE_SYSCALL, pid, 0, signal) != 0) {
            throw_last_errno("PTRACE_SYSCALL");
        }
        signal = 0;
        int status = 0;
        if (::waitpid(pid, &status, 0) != pid) {
            throw_last_errno("waitpid");
        }
        if (WIFEXITED(status)) {
            run.status = WEXITSTATUS(status);
            return;
        }
        if (WIFSIGNALED(status)) {
            return;
        }
        const int stop = WSTOPSIG(status);
        if (stop == SIGTRAP) {
            continue;  // after an execve: not the program's to see
        }
        if (stop != (SIGTRAP | 0x80)) {
            signal = stop;  // a signal for the child: delivered
            continue;
        }
        __ptrace_syscall_info info{};
        if (::ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info) <= 0) {
            throw_last_errno("PTRACE_GET_SYSCALL_INFO");
        }
        if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
            // The kernel reads an ioctl's request as an unsigned int.
            const bool version =
                info.entry.nr == SYS_ioctl && static_cast<unsigned int>(info.entry.args[1]) ==
                                                  static_cast<unsigned int>(DEVEXCL_IOC_VERSION);
            version_arg = version ? info.entry.args[2] : 0;
        } else if (info.op == PTRACE_SYSCALL_INFO_EXIT && version_arg != 0) {
            if (!info.exit.is_error && info.exit.rval == 0) {
                poke(pid, version_arg + offsetof(devexcl_version, abi_major), abi.major);
                poke(pid, version_arg + offsetof(devexcl_version, abi_minor), abi.minor);
                ++run.versions_asked;
            }
            version_arg = 0;
        }
    }
}

}  // namespace

RewrittenRun run_with_module_abi(AbiVersion abi, const std::function<int()>& body) {
    // A file, not a pipe: the parent reads only after the child has exited,
    // and a child writing more than a pipe holds would block there forever.
    UniqueFd out(::memfd_create("abi-rewrite-output", MFD_CLOEXEC));
    if (out.get() < 0) {
        throw_last_errno("memfd_create");
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw_last_errno("fork");
    }
    if (pid == 0) {
        ::dup2(out.get(), STDOUT_FILENO);
        ::dup2(out.get(), STDERR_FILENO);
        if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) {
            ::_exit(126);
        }
        ::raise(SIGSTOP);  // the tracer sets its options before the body runs
        int rc = 125;
        try {
            rc = body();
        } catch (...) {
        }
        std::fflush(nullptr);
        ::_exit(rc);
    }
    RewrittenRun run;
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) {
        throw_last_errno("waitpid for the traced child's SIGSTOP");
    }
    if (!WIFSTOPPED(status)) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        throw_errno(EPROTO, "the traced child did not stop before its body");
    }
    try {
        trace(pid, abi, run);
    } catch (...) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        throw;
    }
    std::array<char, 4096> buf;
    for (ssize_t n; (n = ::pread(out.get(), buf.data(), buf.size(),
                                 static_cast<off_t>(run.output.size()))) > 0;) {
        run.output.append(buf.data(), static_cast<std::size_t>(n));
    }
    return run;
}

}  // namespace devexcl::test
