#include "kernel_features.hpp"

#include "devexcl/device.hpp"
#include "kmodule.hpp"

namespace devexcl::test {

bool kernel_has(std::uint64_t feature) {
    // The bits describe the kernel, not the context: read them once.
    static const std::uint64_t features = [] {
        ensure_module_loaded();
        return Device::open().version().features;
    }();
    return (features & feature) == feature;
}

bool kernel_does(std::uint64_t kernel_feature) {
    static const std::uint64_t features = [] {
        ensure_module_loaded();
        return Device::open().version().kernel_features;
    }();
    return (features & kernel_feature) == kernel_feature;
}

}  // namespace devexcl::test
