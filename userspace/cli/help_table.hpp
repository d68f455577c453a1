// The CLI's documentation as data: the one source of `devexcl --help` and
// of the devexcl(1) man page (help_text.cpp renders both).
#pragma once

#include <span>
#include <string_view>

namespace devexcl::cli {

// A term and what it means: a command with its arguments, an option, an
// exit status. Texts are unwrapped sentences; the renderers wrap them.
struct HelpEntry {
    std::string_view term;
    std::string_view text;
};

struct HelpTable {
    std::string_view name;      // "devexcl"
    std::string_view summary;   // one line, for the man page's NAME
    std::string_view synopsis;  // what follows the name on the usage line
    std::span<const HelpEntry> commands;
    std::span<const std::string_view> notes;  // paragraphs after the commands
    std::span<const HelpEntry> options;
    std::span<const HelpEntry> exit_status;
    std::span<const HelpEntry> files;  // the man page only
};

const HelpTable& help_table();

}  // namespace devexcl::cli
