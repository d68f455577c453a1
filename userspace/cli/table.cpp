#include "table.hpp"

#include <algorithm>

namespace devexcl::cli {

void Table::print(std::ostream& out) const {
    std::vector<std::size_t> width(header_.size(), 0);
    auto widen = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
            width[i] = std::max(width[i], row[i].size());
        }
    };
    widen(header_);
    for (const auto& row : rows_) {
        widen(row);
    }
    auto line = [&](const std::vector<std::string>& row) {
        std::string text = " ";
        for (std::size_t i = 0; i < row.size(); ++i) {
            text += ' ';
            text += row[i];
            if (i + 1 < row.size()) {
                text.append(width[i] - row[i].size() + 1, ' ');
            }
        }
        while (!text.empty() && text.back() == ' ') {
            text.pop_back();
        }
        out << text << '\n';
    };
    line(header_);
    for (const auto& row : rows_) {
        line(row);
    }
}

}  // namespace devexcl::cli
