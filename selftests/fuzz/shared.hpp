// An object in memory shared with the processes forked after it: the
// run's tally, the churn process's slot table.
#pragma once

#include <sys/mman.h>

#include <memory>

#include "devexcl/mapping.hpp"

namespace devexcl::fuzz {

template <typename T>
class Shared {
public:
    Shared()
        : mapping_(sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS),
          object_(std::construct_at(mapping_.as<T>())) {}
    ~Shared() { std::destroy_at(object_); }
    Shared(const Shared&) = delete;
    Shared& operator=(const Shared&) = delete;

    T& operator*() const { return *object_; }
    T* operator->() const { return object_; }

private:
    Mapping mapping_;
    T* object_;
};

}  // namespace devexcl::fuzz
