// SPDX-License-Identifier: GPL-2.0
/*
 * Instantiates devexcl's tracepoints (devexcl_trace.h) once for the
 * module; every other file only calls them.
 */
#define CREATE_TRACE_POINTS
#include "devexcl_trace.h"
