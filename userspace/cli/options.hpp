// Command-line parsing for the devexcl CLI, kept free of I/O so host tests can drive it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace devexcl::cli {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Invocation {
    std::string command;  // empty with --help and no command
    std::vector<std::string> args;
    std::string device = "/dev/devexcl";
    bool json = false;
    bool help = false;
    bool man = false;  // print the man page (help_render.hpp)
};

// argv without the program name. Global options may appear anywhere.
Invocation parse_invocation(const std::vector<std::string>& argv);

// Parses "4096", "0x1000", "4k", "2M", "1G"; throws UsageError naming `what`.
std::uint64_t parse_size(const std::string& text, const std::string& what);
// Parses a decimal or 0x-prefixed number; throws UsageError naming `what`.
std::uint64_t parse_number(const std::string& text, const std::string& what);
// Parses a pid: a number in [1, INT_MAX].
pid_t parse_pid(const std::string& text);
// Parses a duration in seconds, fractions allowed ("1.5"); not negative.
double parse_seconds(const std::string& text);

}  // namespace devexcl::cli
