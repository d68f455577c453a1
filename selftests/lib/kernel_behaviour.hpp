// Where kernels differ in what the tests can observe, and the module has
// no bit for it (a /proc quirk, say): one row per behaviour, decided once
// by one observation, with the kernel change behind it. Behaviours the
// module can tell come from its DEVEXCL_KFEAT_* bits (kernel_features.hpp).
#pragma once

namespace devexcl::test {

enum class Behaviour {
    // /proc/kpageflags sets KPF_KSM on every anonymous page.
    KpageflagsKsmOnEveryAnonPage,
};

// True if the running kernel shows `b`.
bool kernel_shows(Behaviour b);

// The row's name and the kernel change behind it, for messages.
const char* behaviour_name(Behaviour b);
const char* behaviour_reason(Behaviour b);

}  // namespace devexcl::test
