// Column-aligned text tables for the CLI's human output.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace devexcl::cli {

class Table {
public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}

    void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    // Prints with two-space indentation; the last column is left unpadded.
    void print(std::ostream& out) const;

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace devexcl::cli
