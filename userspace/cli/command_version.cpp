#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdio>

#include "commands.hpp"
#include "devexcl/device.hpp"
#include "devexcl/error.hpp"
#include "devexcl/json_writer.hpp"
#include "devexcl/version.hpp"

namespace devexcl::cli {

namespace {

struct KernelFeatureName {
    std::uint64_t bit;
    const char* name;
};

// What the running kernel does, by the module's DEVEXCL_KFEAT_* bits.
constexpr KernelFeatureName kKernelFeatureNames[] = {
    {DEVEXCL_KFEAT_DEVICE_EXCLUSIVE, "device-exclusive"},
    {DEVEXCL_KFEAT_EXCLUSIVE_PER_PAGE, "exclusive-per-page"},
    {DEVEXCL_KFEAT_EXCLUSIVE_KEEPS_MAPCOUNT, "exclusive-keeps-mapcount"},
    {DEVEXCL_KFEAT_EXCLUSIVE_ONE_KIND, "exclusive-one-kind"},
    {DEVEXCL_KFEAT_PER_VMA_LOCK, "per-vma-lock"},
    {DEVEXCL_KFEAT_VMA_REFCNT, "vma-refcnt"},
    {DEVEXCL_KFEAT_UFFDIO_MOVE, "uffdio-move"},
    {DEVEXCL_KFEAT_ANON_VMA_CLONE_REWORK, "anon-vma-clone-rework"},
    {DEVEXCL_KFEAT_VMA_ANON_PGOFF, "vma-anon-pgoff"},
};

}  // namespace

int command_version(const Invocation& inv, std::ostream& out) {
    if (!inv.args.empty()) {
        throw UsageError("version takes no arguments");
    }
    struct stat st {};
    if (::stat(inv.device.c_str(), &st) != 0) {
        throw_last_errno("stat", inv.device);
    }
    // Unchecked: a module this library cannot use is what this command
    // is there to report.
    Device dev = Device::open(inv.device, AbiCheck::Skip);
    const Version v = dev.version();
    const LibraryVersion lib = library_version();
    const std::string mismatch = abi_mismatch_message(v.abi(), lib.abi);
    unsigned mode = st.st_mode & 07777;

    if (inv.json) {
        JsonWriter j;
        j.begin_object();
        j.field("library_version", lib.string());
        j.key("library_abi").begin_object();
        j.field("major", lib.abi.major).field("minor", lib.abi.minor).end_object();
        j.key("module_abi").begin_object();
        j.field("major", v.abi_major).field("minor", v.abi_minor).end_object();
        j.field("compatible", mismatch.empty());
        if (!mismatch.empty()) {
            j.field("incompatible", mismatch);
        }
        j.field("features", v.features);
        j.field("kernel_bug_thp_exclusive", v.has(DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE));
        j.field("kernel_version", v.kernel_version_string());
        j.field("kernel_features", v.kernel_features);
        j.key("kernel").begin_object();
        for (const auto& [bit, name] : kKernelFeatureNames) {
            j.field(name, v.kernel_has(bit));
        }
        j.end_object();
        j.field("page_size", v.page_size);
        j.field("max_range_bytes", v.max_range_bytes);
        j.key("device").begin_object();
        j.field("path", inv.device);
        j.field("major", std::uint64_t{major(st.st_rdev)});
        j.field("minor", std::uint64_t{minor(st.st_rdev)});
        j.field("mode", std::uint64_t{mode});
        j.end_object();
        j.end_object();
        out << j.str() << '\n';
    } else {
        char modebuf[8];
        std::snprintf(modebuf, sizeof(modebuf), "%04o", mode);
        out << "library         libdevexcl " << lib.string() << ", for module ABI "
            << lib.abi.string() << " or a later " << lib.abi.major << ".x\n"
            << "module ABI      " << v.abi().string()
            << (mismatch.empty() ? "" : "  (INCOMPATIBLE: " + mismatch + ")") << '\n'
            << "features        0x" << std::hex << v.features << std::dec << '\n'
            << "page size       " << v.page_size << '\n'
            << "max range       " << v.max_range_bytes << " bytes\n"
            << "known bugs      "
            << (v.has(DEVEXCL_FEAT_KBUG_THP_EXCLUSIVE)
                    ? "thp-exclusive: THP pages are refused (mark --allow-kernel-bugs reproduces)"
                    : "none known")
            << '\n'
            << "kernel          " << v.kernel_version_string() << ':';
        for (const auto& [bit, name] : kKernelFeatureNames) {
            out << ' ' << (v.kernel_has(bit) ? "+" : "-") << name;
        }
        out << '\n'
            << "device          " << inv.device << " (char " << major(st.st_rdev) << ':'
            << minor(st.st_rdev) << ", mode " << modebuf << ")\n";
    }
    return mismatch.empty() ? 0 : 1;
}

}  // namespace devexcl::cli
