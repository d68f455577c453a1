// Prints GoogleTest results as KTAP (TAP version 13), the format kselftest
// runners and kernel CI read. Installed in place of GoogleTest's own printer.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>

namespace devexcl::test {

class KtapListener : public testing::EmptyTestEventListener {
public:
    explicit KtapListener(std::FILE* out = stdout) : out_(out) {}

    void OnTestProgramStart(const testing::UnitTest& unit) override;
    void OnTestStart(const testing::TestInfo& info) override;
    void OnTestPartResult(const testing::TestPartResult& result) override;
    void OnTestEnd(const testing::TestInfo& info) override;
    void OnTestProgramEnd(const testing::UnitTest& unit) override;

    // Replaces GoogleTest's default printer with a KtapListener.
    static void install();

private:
    std::FILE* out_;
    int number_ = 0;
    int passed_ = 0;
    int failed_ = 0;
    int skipped_ = 0;
};

}  // namespace devexcl::test
