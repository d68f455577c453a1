#include "kernel_features.hpp"

#include "devexcl/device.hpp"
#include "kmodule.hpp"

namespace devexcl::test {

namespace {

// The bits describe the kernel, not the context: read them once.
const Version& module_version() {
    static const Version version = [] {
        ensure_module_loaded();
        return Device::open().version();
    }();
    return version;
}

}  // namespace

bool kernel_has(std::uint64_t feature) {
    return module_version().has(feature);
}

bool kernel_does(std::uint64_t kernel_feature) {
    return module_version().kernel_has(kernel_feature);
}

}  // namespace devexcl::test
