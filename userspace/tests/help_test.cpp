// `devexcl --help` and devexcl(1) come from one table: both show every
// command and option of it, each in its own format.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

#include "devexcl/version.hpp"
#include "help_render.hpp"
#include "help_table.hpp"
#include "options.hpp"

using namespace devexcl::cli;

namespace {

std::string squeeze(const std::string& text) {
    std::string out;
    for (char c : text) {
        const char d = c == '\n' ? ' ' : c;
        if (d != ' ' || out.empty() || out.back() != ' ') {
            out += d;
        }
    }
    return out;
}

}  // namespace

TEST(Help, UsageShowsTheWholeTableWithin80Columns) {
    const std::string text = usage();
    const HelpTable& t = help_table();
    EXPECT_EQ(text.rfind("usage: devexcl [--json] [--device PATH] COMMAND", 0), 0u) << text;
    const std::string flat = squeeze(text);
    for (const auto& list : {t.commands, t.options}) {
        for (const HelpEntry& e : list) {
            EXPECT_NE(text.find("  " + std::string(e.term)), std::string::npos) << e.term;
            EXPECT_NE(flat.find(std::string(e.text)), std::string::npos) << e.text;
        }
    }
    for (std::string_view note : t.notes) {
        EXPECT_NE(flat.find(std::string(note)), std::string::npos) << note;
    }
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        EXPECT_LE(line.size(), 79u) << line;
        EXPECT_EQ(line.find('\t'), std::string::npos) << line;
    }
    EXPECT_EQ(text.find("--man"), std::string::npos) << "--man is the build's, not the user's";
}

TEST(Help, ManPageShowsTheSameTableInRoff) {
    const std::string page = man_page();
    EXPECT_EQ(page.rfind(".TH DEVEXCL 1 \"\" \"devexcl " + devexcl::library_version().string() +
                             "\" \"User Commands\"\n",
                         0),
              0u)
        << page;
    for (const char* section :
         {".SH NAME\ndevexcl \\- device", ".SH SYNOPSIS\n\\fBdevexcl\\fR [\\fB\\-\\-json\\fR]",
          ".SH COMMANDS\n", ".SH OPTIONS\n", ".SH \"EXIT STATUS\"\n", ".SH FILES\n"}) {
        EXPECT_NE(page.find(section), std::string::npos) << section;
    }
    // Literal words bold, placeholders italic, hyphens as \-.
    EXPECT_NE(page.find(".TP\n\\fBmark\\fR \\fIPID\\fR \\fIADDR\\fR \\fILEN\\fR "
                        "[\\fB\\-\\-allow\\-kernel\\-bugs\\fR]\n"),
              std::string::npos)
        << page;
    EXPECT_NE(page.find(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\n"), std::string::npos);
    const HelpTable& t = help_table();
    std::size_t tagged = 0;
    std::istringstream lines(page);
    std::set<std::string> requests;
    for (std::string line; std::getline(lines, line);) {
        tagged += line == ".TP";
        if (!line.empty() && line[0] == '.') {
            requests.insert(line.substr(0, line.find(' ')));
        }
    }
    EXPECT_EQ(tagged, t.commands.size() + t.options.size() + t.exit_status.size() + t.files.size());
    EXPECT_EQ(requests, (std::set<std::string>{".TH", ".nh", ".ad", ".SH", ".TP", ".PP"}));
}

TEST(Help, ManIsAnOptionOfItsOwn) {
    const Invocation inv = parse_invocation({"--man"});
    EXPECT_TRUE(inv.man);
    EXPECT_FALSE(inv.help);
    EXPECT_TRUE(inv.command.empty());
}
