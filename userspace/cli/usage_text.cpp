#include <string>
#include <string_view>

#include "help_render.hpp"
#include "help_table.hpp"

namespace devexcl::cli {

namespace {

constexpr std::size_t kWidth = 79;
// Where a term's text starts; a longer term gets a line of its own.
constexpr std::size_t kTextColumn = 35;
constexpr std::size_t kTermIndent = 2;

// Appends `text` word-wrapped at kWidth, every line but the first indented
// to `indent`; the first continues a line already `column` wide.
void wrap(std::string& out, std::string_view text, std::size_t column, std::size_t indent) {
    bool first_word = true;
    while (!text.empty()) {
        const std::size_t end = text.find(' ');
        const std::string_view word = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (word.empty()) {
            continue;
        }
        if (!first_word && column + 1 + word.size() > kWidth) {
            out += '\n';
            out.append(indent, ' ');
            column = indent;
        } else if (!first_word) {
            out += ' ';
            ++column;
        }
        out += word;
        column += word.size();
        first_word = false;
    }
    out += '\n';
}

void entries(std::string& out, std::string_view heading, std::span<const HelpEntry> list) {
    out.append(heading).append(":\n");
    for (const HelpEntry& e : list) {
        out.append(kTermIndent, ' ').append(e.term);
        std::size_t column = kTermIndent + e.term.size();
        if (column + 2 > kTextColumn) {
            out += '\n';
            column = 0;
        }
        out.append(kTextColumn - column, ' ');
        wrap(out, e.text, kTextColumn, kTextColumn);
    }
}

}  // namespace

std::string usage() {
    const HelpTable& t = help_table();
    std::string out;
    out.append("usage: ").append(t.name).append(" ");
    wrap(out, t.synopsis, out.size(), out.size());
    out += '\n';
    entries(out, "commands", t.commands);
    out += '\n';
    for (std::string_view note : t.notes) {
        wrap(out, note, 0, 0);
    }
    out += '\n';
    entries(out, "options", t.options);
    out += '\n';
    std::string status = "exit status:";
    for (const HelpEntry& e : t.exit_status) {
        status.append(" ").append(e.term).append(" ").append(e.text).append(";");
    }
    status.back() = '.';
    wrap(out, status, 0, 0);
    return out;
}

}  // namespace devexcl::cli
