// main() for GoogleTest binaries that report in KTAP (host tests and the VM suite).
#include <gtest/gtest.h>

#include "ktap_listener.hpp"

int main(int argc, char** argv) {
    testing::InitGoogleTest(&argc, argv);
    devexcl::test::KtapListener::install();
    return RUN_ALL_TESTS();
}
