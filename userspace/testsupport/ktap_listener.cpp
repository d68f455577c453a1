#include "ktap_listener.hpp"

#include <memory>
#include <sstream>
#include <string>

namespace devexcl::test {

namespace {

// KTAP diagnostics are lines starting with "# ".
void print_diagnostic(std::FILE* out, const std::string& text) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::fprintf(out, "# %s\n", line.c_str());
    }
}

std::string skip_reason(const testing::TestResult& result) {
    for (int i = 0; i < result.total_part_count(); ++i) {
        const testing::TestPartResult& part = result.GetTestPartResult(i);
        if (part.skipped() && part.message() != nullptr && *part.message() != '\0') {
            std::string reason = part.message();
            // Keep the directive on one line.
            for (char& c : reason) {
                if (c == '\n') {
                    c = ' ';
                }
            }
            return reason;
        }
    }
    return "skipped";
}

}  // namespace

void KtapListener::OnTestProgramStart(const testing::UnitTest& unit) {
    std::fprintf(out_, "TAP version 13\n1..%d\n", unit.test_to_run_count());
    std::fflush(out_);
}

void KtapListener::OnTestStart(const testing::TestInfo& info) {
    std::fprintf(out_, "# RUN %s.%s\n", info.test_suite_name(), info.name());
    std::fflush(out_);
}

void KtapListener::OnTestPartResult(const testing::TestPartResult& result) {
    if (result.skipped()) {
        return;
    }
    if (result.failed()) {
        std::ostringstream where;
        where << (result.file_name() ? result.file_name() : "?") << ':' << result.line_number()
              << ": failure";
        print_diagnostic(out_, where.str());
        print_diagnostic(out_, result.message());
        std::fflush(out_);
    }
}

void KtapListener::OnTestEnd(const testing::TestInfo& info) {
    const testing::TestResult& result = *info.result();
    ++number_;
    std::string name = std::string(info.test_suite_name()) + "." + info.name();
    if (result.Skipped()) {
        ++skipped_;
        std::fprintf(out_, "ok %d %s # SKIP %s\n", number_, name.c_str(),
                     skip_reason(result).c_str());
    } else if (result.Passed()) {
        ++passed_;
        std::fprintf(out_, "ok %d %s\n", number_, name.c_str());
    } else {
        ++failed_;
        std::fprintf(out_, "not ok %d %s\n", number_, name.c_str());
    }
    std::fflush(out_);
}

void KtapListener::OnTestProgramEnd(const testing::UnitTest&) {
    std::fprintf(out_, "# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n", passed_,
                 failed_, skipped_);
    std::fflush(out_);
}

void KtapListener::install() {
    testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
    // GoogleTest hands over and takes ownership through raw pointers.
    std::unique_ptr<testing::TestEventListener> gtest_printer(
        listeners.Release(listeners.default_result_printer()));
    listeners.Append(std::make_unique<KtapListener>().release());
}

}  // namespace devexcl::test
