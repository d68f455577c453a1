// The two renderings of the CLI's help table (help_table.hpp).
#pragma once

#include <string>

namespace devexcl::cli {

// `devexcl --help`: the table as plain text, 80 columns.
std::string usage();

// `devexcl --man`: the table as the devexcl(1) man page, in man(7) roff.
std::string man_page();

}  // namespace devexcl::cli
