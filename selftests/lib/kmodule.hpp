// Loading and unloading devexcl.ko from inside the test VM, by syscall, so
// tests see the kernel's own errno rather than a tool's message.
#pragma once

#include <string>
#include <system_error>

namespace devexcl::test {

// Where the initramfs puts the module; DEVEXCL_KO overrides it.
std::string module_path();

bool module_loaded(const std::string& name = "devexcl");

// The module's reference count (/sys/module/NAME/refcnt): what makes
// delete_module() refuse. Throws std::system_error if it is not loaded.
long long module_refcount(const std::string& name = "devexcl");

// finit_module() on `path`; returns the errno on failure.
std::error_code load_module(const std::string& path = module_path());

// delete_module(name, O_NONBLOCK); returns the errno on failure.
std::error_code unload_module(const std::string& name = "devexcl");

// Loads the module unless it already is; throws std::system_error on failure.
void ensure_module_loaded();

}  // namespace devexcl::test
