// libnl's own error codes become errnos, so libdevexcl's netlink failures
// carry one as its ioctl failures do.
#include "nl_errno.hpp"

#include <netlink/errno.h>

#include <gtest/gtest.h>

#include <cerrno>

#include "devexcl/error.hpp"
#include "devexcl/netlink_error.hpp"

TEST(NlErrno, LibnlCodesMapToTheirErrno) {
    EXPECT_EQ(devexcl::errno_from_nlerr(0), 0);
    EXPECT_EQ(devexcl::errno_from_nlerr(-NLE_NOMEM), ENOMEM);
    EXPECT_EQ(devexcl::errno_from_nlerr(NLE_NOMEM), ENOMEM);  // either sign
    EXPECT_EQ(devexcl::errno_from_nlerr(-NLE_OBJ_NOTFOUND), ENOENT);
    EXPECT_EQ(devexcl::errno_from_nlerr(-NLE_PERM), EPERM);
    EXPECT_EQ(devexcl::errno_from_nlerr(-NLE_NOACCESS), EACCES);
    EXPECT_EQ(devexcl::errno_from_nlerr(-NLE_AGAIN), EAGAIN);
    EXPECT_EQ(devexcl::errno_from_nlerr(-NLE_INTR), EINTR);
    EXPECT_EQ(devexcl::errno_from_nlerr(-NLE_BAD_SOCK), EBADF);
    EXPECT_EQ(devexcl::errno_from_nlerr(-NLE_MSGSIZE), EMSGSIZE);
    EXPECT_EQ(devexcl::errno_from_nlerr(-NLE_SEQ_MISMATCH), EPROTO);
    EXPECT_EQ(devexcl::errno_from_nlerr(-NLE_PROTO_MISMATCH), EPROTONOSUPPORT);
    EXPECT_EQ(devexcl::errno_from_nlerr(-NLE_FAILURE), EIO);
    EXPECT_EQ(devexcl::errno_from_nlerr(-1000), EIO);
}

TEST(NlErrno, EveryLibnlCodeHasAnErrno) {
    for (int code = 1; code <= NLE_MAX; ++code) {
        EXPECT_GT(devexcl::errno_from_nlerr(-code), 0) << nl_geterror(-code);
    }
}

TEST(NlErrno, ThrownErrorCarriesTheErrnoAndLibnlsText) {
    try {
        devexcl::check_nl(-NLE_NOMEM, "nl_send_auto");
        FAIL() << "no exception";
    } catch (const devexcl::NetlinkError& e) {
        EXPECT_EQ(devexcl::errno_of(e), ENOMEM);
        EXPECT_EQ(e.extack(), nl_geterror(-NLE_NOMEM));
        EXPECT_NE(std::string(e.what()).find("nl_send_auto: "), std::string::npos);
    }
    EXPECT_NO_THROW(devexcl::check_nl(0, "fine"));
    EXPECT_NO_THROW(devexcl::check_nl(17, "a count"));
}
