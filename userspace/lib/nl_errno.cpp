#include "nl_errno.hpp"

#include <netlink/errno.h>
#include <netlink/netlink.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "devexcl/netlink_error.hpp"

namespace devexcl {

int errno_from_nlerr(int nlerr) noexcept {
    // The inverse of libnl's nl_syserr2nlerr() where it has one, and the
    // nearest errno for what only libnl detects.
    switch (std::abs(nlerr)) {
        case NLE_SUCCESS:
            return 0;
        case NLE_INTR:
        case NLE_DUMP_INTR:
            return EINTR;
        case NLE_BAD_SOCK:
            return EBADF;
        case NLE_AGAIN:
            return EAGAIN;
        case NLE_NOMEM:
            return ENOMEM;
        case NLE_EXIST:
            return EEXIST;
        case NLE_INVAL:
        case NLE_MISSING_ATTR:
            return EINVAL;
        case NLE_RANGE:
        case NLE_ATTRSIZE:
            return ERANGE;
        case NLE_MSGSIZE:
        case NLE_MSG_TRUNC:
            return EMSGSIZE;
        case NLE_OPNOTSUPP:
        case NLE_MSGTYPE_NOSUPPORT:
            return EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
            return EAFNOSUPPORT;
        case NLE_OBJ_NOTFOUND:
            return ENOENT;
        case NLE_NOATTR:
            return ENODATA;
        case NLE_AF_MISMATCH:
        case NLE_SEQ_MISMATCH:
        case NLE_MSG_TOOSHORT:
        case NLE_PARSE_ERR:
            return EPROTO;
        case NLE_MSG_OVERFLOW:
            return EOVERFLOW;
        case NLE_NOADDR:
            return EADDRNOTAVAIL;
        case NLE_BUSY:
            return EBUSY;
        case NLE_PROTO_MISMATCH:
            return EPROTONOSUPPORT;
        case NLE_NOACCESS:
            return EACCES;
        case NLE_PERM:
            return EPERM;
        case NLE_NODEV:
            return ENODEV;
        default:
            return EIO;
    }
}

void throw_nlerr(int nlerr, std::string_view what) {
    throw NetlinkError(errno_from_nlerr(nlerr), std::string(what), nl_geterror(nlerr));
}

}  // namespace devexcl
