#include "memory_kinds.hpp"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "devexcl/error.hpp"
#include "kernel_features.hpp"
#include "pagemap.hpp"
#include "sysfs.hpp"

namespace devexcl::test {

namespace {

constexpr std::size_t kBasePages = 8;
constexpr std::size_t kHugeSize = 2UL << 20;
constexpr std::uint64_t kPattern = 0xD0E0000000000000ULL;
constexpr std::uint64_t kKsmPattern = 0x5A5A5A5A00000000ULL;

}  // namespace

std::string_view kind_name(MemoryKind kind) {
    switch (kind) {
        case MemoryKind::PrivateAnon:
            return "PrivateAnon";
        case MemoryKind::AnonThp:
            return "AnonThp";
        case MemoryKind::SharedAnon:
            return "SharedAnon";
        case MemoryKind::PrivateFile:
            return "PrivateFile";
        case MemoryKind::Memfd:
            return "Memfd";
        case MemoryKind::Hugetlb:
            return "Hugetlb";
        case MemoryKind::KsmMerged:
            return "KsmMerged";
        case MemoryKind::Mlocked:
            return "Mlocked";
        case MemoryKind::UffdWp:
            return "UffdWp";
        case MemoryKind::SoftDirtyCleared:
            return "SoftDirtyCleared";
        case MemoryKind::ZeroPage:
            return "ZeroPage";
        case MemoryKind::ReadOnly:
            return "ReadOnly";
    }
    return "Unknown";
}

const std::vector<MemoryKind>& all_memory_kinds() {
    static const std::vector<MemoryKind> kinds = {
        MemoryKind::PrivateAnon,      MemoryKind::AnonThp,  MemoryKind::SharedAnon,
        MemoryKind::PrivateFile,      MemoryKind::Memfd,    MemoryKind::Hugetlb,
        MemoryKind::KsmMerged,        MemoryKind::Mlocked,  MemoryKind::UffdWp,
        MemoryKind::SoftDirtyCleared, MemoryKind::ZeroPage, MemoryKind::ReadOnly,
    };
    return kinds;
}

std::size_t TestMemory::page_size() {
    static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return size;
}

void reserve_huge_pages(unsigned pages) {
    if (read_number("/proc/sys/vm/nr_hugepages") < pages) {
        write_file("/proc/sys/vm/nr_hugepages", std::to_string(pages));
    }
}

std::uint64_t TestMemory::initial_word(std::size_t page) const {
    switch (kind_) {
        case MemoryKind::ZeroPage:
            return 0;
        case MemoryKind::KsmMerged:
            return kKsmPattern;
        default:
            return kPattern + page;
    }
}

ExpectedMark expected_mark_for(MemoryKind kind) {
    switch (kind) {
        case MemoryKind::AnonThp:
            // Before 6.15, marking a THP head converts the whole folio and
            // leaves the kernel's rmap walkers to crash on it: devexcl
            // refuses every page of a THP there, before calling the kernel.
            if (kernel_has(DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE)) {
                return {MarkCode::ThpKernelBug, EOPNOTSUPP};
            }
            return {MarkCode::Marked, 0};
        case MemoryKind::SharedAnon:
        case MemoryKind::Memfd:
            return {MarkCode::NotAnon, EOPNOTSUPP};
        case MemoryKind::Hugetlb:
            return {MarkCode::Hugetlb, EOPNOTSUPP};
        case MemoryKind::ReadOnly:
            // GUP with FOLL_WRITE on a VMA without VM_WRITE.
            return {MarkCode::GupFailed, EFAULT};
        default:
            return {MarkCode::Marked, 0};
    }
}

bool TestMemory::shared() const {
    return kind_ == MemoryKind::SharedAnon || kind_ == MemoryKind::Memfd;
}

std::uint64_t TestMemory::word_after_dontneed(std::size_t page) const {
    switch (kind_) {
        case MemoryKind::SharedAnon:
        case MemoryKind::Memfd:
            return initial_word(page);  // shmem keeps the page in its cache
        case MemoryKind::PrivateFile:
            return initial_word(page);  // read back from the file
        default:
            return 0;
    }
}

void TestMemory::adopt_moved(std::uint64_t new_addr) {
    mapping_.release();
    mapping_ = Mapping::adopt(reinterpret_cast<void*>(new_addr), length_);
    base_ = new_addr;
}

void TestMemory::create_mapping() {
    const std::size_t page = page_size();
    const int rw = PROT_READ | PROT_WRITE;
    switch (kind_) {
        case MemoryKind::AnonThp: {
            // Over-allocate to find a 2 MiB aligned window for the THP.
            mapping_ = Mapping(2 * kHugeSize, rw, MAP_PRIVATE | MAP_ANONYMOUS);
            std::uint64_t aligned = (mapping_.address() + kHugeSize - 1) & ~(kHugeSize - 1);
            // Keep only the aligned window mapped.
            std::uint64_t head = aligned - mapping_.address();
            void* start = mapping_.release();
            if (head != 0) {
                ::munmap(start, head);
            }
            ::munmap(reinterpret_cast<void*>(aligned + kHugeSize), kHugeSize - head);
            mapping_ = Mapping::adopt(reinterpret_cast<void*>(aligned), kHugeSize);
            if (::madvise(mapping_.data(), kHugeSize, MADV_HUGEPAGE) != 0) {
                throw_last_errno("madvise(MADV_HUGEPAGE)");
            }
            length_ = kHugeSize;
            mark_pages_ = kBasePages;
            break;
        }
        case MemoryKind::Hugetlb: {
            reserve_huge_pages(16);
            void* p =
                ::mmap(nullptr, kHugeSize, rw, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
            if (p == MAP_FAILED) {
                skip_reason_ = std::string("no 2 MiB huge page: ") + std::strerror(errno);
                return;
            }
            mapping_ = Mapping::adopt(p, kHugeSize);
            length_ = kHugeSize;
            mark_pages_ = kBasePages;
            break;
        }
        case MemoryKind::SharedAnon:
            length_ = kBasePages * page;
            mapping_ = Mapping(length_, rw, MAP_SHARED | MAP_ANONYMOUS);
            break;
        case MemoryKind::PrivateFile: {
            length_ = kBasePages * page;
            char path[] = "/tmp/devexcl-private-file-XXXXXX";
            UniqueFd fd(::mkostemp(path, O_CLOEXEC));
            if (!fd) {
                throw_last_errno("mkostemp");
            }
            ::unlink(path);
            std::vector<std::uint8_t> contents(length_, 0);
            for (std::size_t i = 0; i < kBasePages; ++i) {
                std::uint64_t w = initial_word(i);
                std::memcpy(&contents[i * page], &w, sizeof(w));
            }
            if (::pwrite(fd.get(), contents.data(), length_, 0) != static_cast<ssize_t>(length_)) {
                throw_last_errno("pwrite");
            }
            mapping_ = Mapping(length_, rw, MAP_PRIVATE, fd.get());
            fd_ = std::move(fd);
            break;
        }
        case MemoryKind::Memfd: {
            length_ = kBasePages * page;
            UniqueFd fd(static_cast<int>(::syscall(SYS_memfd_create, "devexcl-memfd", 0)));
            if (!fd) {
                throw_last_errno("memfd_create");
            }
            if (::ftruncate(fd.get(), static_cast<off_t>(length_)) != 0) {
                throw_last_errno("ftruncate");
            }
            mapping_ = Mapping(length_, rw, MAP_SHARED, fd.get());
            fd_ = std::move(fd);
            break;
        }
        default: {
            // PROT_NONE guard pages on both sides keep the VMA from merging
            // with a neighbour, so tests see exactly the VMA they built.
            length_ = kBasePages * page;
            Mapping whole(length_ + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
            if (::mprotect(whole.as<char>() + page, length_, rw) != 0) {
                throw_last_errno("mprotect");
            }
            std::uint64_t start = whole.address();
            whole.release();
            guard_low_ = Mapping::adopt(reinterpret_cast<void*>(start), page);
            mapping_ = Mapping::adopt(reinterpret_cast<void*>(start + page), length_);
            guard_high_ = Mapping::adopt(reinterpret_cast<void*>(start + page + length_), page);
            break;
        }
    }
    base_ = mapping_.address();
    if (mark_pages_ == 0) {
        mark_pages_ = length_ / page;
    }
}

void TestMemory::fill_pattern() {
    const std::size_t page = page_size();
    switch (kind_) {
        case MemoryKind::PrivateFile:
            // Read-fault only: the pages stay page-cache pages mapped
            // read-only, so marking has to COW them.
            for (std::size_t i = 0; i < pages(); ++i) {
                (void)*word(i);
            }
            return;
        case MemoryKind::ZeroPage:
            for (std::size_t i = 0; i < pages(); ++i) {
                (void)*word(i);
            }
            return;
        default:
            break;
    }
    for (std::size_t i = 0; i < length_ / page; ++i) {
        *word(i) = initial_word(i);
    }
}

std::unique_ptr<TestMemory> TestMemory::create(MemoryKind kind) {
    std::unique_ptr<TestMemory> mem(new TestMemory(kind));
    mem->create_mapping();
    if (!mem->skip_reason_.empty()) {
        return mem;
    }
    mem->fill_pattern();

    switch (kind) {
        case MemoryKind::AnonThp: {
            auto pm = read_pagemap_one(mem->addr());
            if (!pm.present() || !has_flag(kpageflags(pm.pfn()), kKpfThp)) {
                mem->skip_reason_ = "the kernel did not back the region with a THP";
            }
            break;
        }
        case MemoryKind::KsmMerged: {
            write_file("/sys/kernel/mm/ksm/pages_to_scan", "4096");
            write_file("/sys/kernel/mm/ksm/sleep_millisecs", "10");
            write_file("/sys/kernel/mm/ksm/run", "1");
            if (::madvise(mem->mapping_.data(), mem->length_, MADV_MERGEABLE) != 0) {
                throw_last_errno("madvise(MADV_MERGEABLE)");
            }
            // ksmd runs asynchronously: wait for it (a wait, not an assertion on time).
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
            for (;;) {
                auto pm = read_pagemap(mem->addr(), mem->pages());
                bool merged = true;
                for (const auto& e : pm) {
                    merged = merged && e.present() && e.pfn() == pm[0].pfn() &&
                             has_flag(kpageflags(e.pfn()), kKpfKsm);
                }
                if (merged) {
                    // Stop ksmd: every test write leaves the pages equal to each other
                    // again, and a re-merge would write-protect them under the test.
                    write_file("/sys/kernel/mm/ksm/run", "0");
                    break;
                }
                if (std::chrono::steady_clock::now() > deadline) {
                    throw std::runtime_error("ksmd did not merge identical pages within 60 s");
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            break;
        }
        case MemoryKind::Mlocked:
            if (::mlock(mem->mapping_.data(), mem->length_) != 0) {
                throw_last_errno("mlock");
            }
            break;
        case MemoryKind::UffdWp: {
            UniqueFd uffd(static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK)));
            if (!uffd) {
                mem->skip_reason_ = std::string("userfaultfd: ") + std::strerror(errno);
                break;
            }
            uffdio_api api{};
            api.api = UFFD_API;
            if (::ioctl(uffd.get(), UFFDIO_API, &api) != 0) {
                throw_last_errno("UFFDIO_API");
            }
            uffdio_register reg{};
            reg.range.start = mem->addr();
            reg.range.len = mem->length_;
            reg.mode = UFFDIO_REGISTER_MODE_WP;
            if (::ioctl(uffd.get(), UFFDIO_REGISTER, &reg) != 0) {
                mem->skip_reason_ = std::string("UFFDIO_REGISTER_MODE_WP: ") + std::strerror(errno);
                break;
            }
            mem->uffd_ = std::move(uffd);
            break;
        }
        case MemoryKind::SoftDirtyCleared:
            write_file("/proc/self/clear_refs", "4");
            break;
        case MemoryKind::ReadOnly:
            if (::mprotect(mem->mapping_.data(), mem->length_, PROT_READ) != 0) {
                throw_last_errno("mprotect(PROT_READ)");
            }
            break;
        default:
            break;
    }
    return mem;
}

}  // namespace devexcl::test
