// The kernel module's UAPI header, made includable from C++.
#pragma once

#include "uapi/devexcl.h"
