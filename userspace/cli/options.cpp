#include "options.hpp"

#include <cerrno>
#include <cstdlib>

namespace devexcl::cli {

Invocation parse_invocation(const std::vector<std::string>& argv) {
    Invocation inv;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        if (arg == "--json") {
            inv.json = true;
        } else if (arg == "-h" || arg == "--help") {
            inv.help = true;
        } else if (arg == "--man") {
            // Hidden: the build makes the devexcl(1) man page with it.
            inv.man = true;
        } else if (arg == "--device") {
            if (i + 1 >= argv.size()) {
                throw UsageError("--device needs a path");
            }
            inv.device = argv[++i];
        } else if (arg.rfind("--device=", 0) == 0) {
            inv.device = arg.substr(9);
        } else if (arg == "--") {
            inv.args.insert(inv.args.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
            break;
        } else if (arg.size() > 1 && arg[0] == '-' && inv.command.empty()) {
            throw UsageError("unknown option " + arg);
        } else if (inv.command.empty()) {
            inv.command = arg;
        } else {
            inv.args.push_back(arg);
        }
    }
    if (inv.command == "help") {
        inv.help = true;
        inv.command.clear();
    }
    if (inv.command.empty() && !inv.help && !inv.man) {
        throw UsageError("no command given");
    }
    return inv;
}

std::uint64_t parse_number(const std::string& text, const std::string& what) {
    if (text.empty() || text[0] == '-' || text[0] == '+') {
        throw UsageError("invalid " + what + ": '" + text + "'");
    }
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(text.c_str(), &end, 0);
    if (errno != 0 || end == text.c_str() || *end != '\0') {
        throw UsageError("invalid " + what + ": '" + text + "'");
    }
    return v;
}

pid_t parse_pid(const std::string& text) {
    std::uint64_t v = parse_number(text, "pid");
    if (v == 0 || v > 0x7fffffff) {
        throw UsageError("invalid pid '" + text + "'");
    }
    return static_cast<pid_t>(v);
}

double parse_seconds(const std::string& text) {
    char* end = nullptr;
    const double secs = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !(secs >= 0)) {
        throw UsageError("invalid seconds '" + text + "'");
    }
    return secs;
}

std::uint64_t parse_size(const std::string& text, const std::string& what) {
    if (text.empty()) {
        throw UsageError("invalid " + what + ": empty");
    }
    std::uint64_t shift = 0;
    std::string digits = text;
    switch (text.back()) {
        case 'k':
        case 'K':
            shift = 10;
            break;
        case 'm':
        case 'M':
            shift = 20;
            break;
        case 'g':
        case 'G':
            shift = 30;
            break;
        default:
            break;
    }
    if (shift != 0) {
        digits.pop_back();
    }
    std::uint64_t v = parse_number(digits, what);
    if (shift != 0 && v > (UINT64_MAX >> shift)) {
        throw UsageError(what + " too large: '" + text + "'");
    }
    return v << shift;
}

}  // namespace devexcl::cli
