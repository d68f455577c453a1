#include <cctype>
#include <string>
#include <string_view>

#include "devexcl/version.hpp"
#include "help_render.hpp"
#include "help_table.hpp"

namespace devexcl::cli {

namespace {

// Text for roff: a backslash prints as \e, a hyphen as \- (so that options
// stay ASCII hyphens).
std::string escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\') {
            out += "\\e";
        } else if (c == '-') {
            out += "\\-";
        } else {
            out += c;
        }
    }
    return out;
}

// A line of running text, which must not start a request.
std::string line(std::string_view text) {
    const bool request = !text.empty() && (text.front() == '.' || text.front() == '\'');
    return (request ? "\\&" : "") + escape(text) + "\n";
}

bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '/';
}

// A term as man pages set them: what is typed literally in bold,
// placeholders (PID, ADDR, ...: upper case) in italics, punctuation plain.
std::string term(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        if (!word_char(text[i])) {
            out += escape(text.substr(i, 1));
            ++i;
            continue;
        }
        std::size_t end = i;
        bool lower = false;
        while (end < text.size() && word_char(text[end])) {
            lower |= std::islower(static_cast<unsigned char>(text[end])) != 0;
            ++end;
        }
        const std::string_view word = text.substr(i, end - i);
        // A number (an exit status) is literal too.
        const bool placeholder =
            !lower && std::isalpha(static_cast<unsigned char>(word.front())) != 0;
        out.append(placeholder ? "\\fI" : "\\fB").append(escape(word)).append("\\fR");
        i = end;
    }
    return out;
}

void entries(std::string& out, std::string_view section, std::span<const HelpEntry> list) {
    out.append(".SH ").append(section).append("\n");
    for (const HelpEntry& e : list) {
        out.append(".TP\n").append(term(e.term)).append("\n");
        out.append(line(e.text));
    }
}

std::string upper(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

}  // namespace

std::string man_page() {
    const HelpTable& t = help_table();
    std::string out;
    // No date: the page is rebuilt from the table, and the same table
    // gives the same page.
    out.append(".TH ")
        .append(upper(t.name))
        .append(" 1 \"\" \"")
        .append(t.name)
        .append(" ")
        .append(library_version().string())
        .append("\" \"User Commands\"\n");
    // Identifiers (/dev/devexcl, CAP_SYS_ADMIN) are not hyphenated, and
    // lines are not stretched to the margin.
    out.append(".nh\n.ad l\n");
    out.append(".SH NAME\n").append(t.name).append(" \\- ").append(escape(t.summary)).append("\n");
    out.append(".SH SYNOPSIS\n").append(term(t.name)).append(" ").append(term(t.synopsis));
    out.append("\n");
    entries(out, "COMMANDS", t.commands);
    for (std::string_view note : t.notes) {
        out.append(".PP\n").append(line(note));
    }
    entries(out, "OPTIONS", t.options);
    entries(out, "\"EXIT STATUS\"", t.exit_status);
    entries(out, "FILES", t.files);
    return out;
}

}  // namespace devexcl::cli
