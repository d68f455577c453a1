// The kernel module's UAPI header (module/uapi/devexcl.h), made includable
// from C++. It is installed as <devexcl/uapi/devexcl.h>; the build tree
// keeps a copy at that path, so both include it the same way.
#pragma once

#include <devexcl/uapi/devexcl.h>
