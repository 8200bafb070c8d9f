#include "unixbackend_p.h"

#include "nativesocket.h"
#include "nativeudpsocket.h"

#include <cerrno>
#include <QCoreApplication>

#include <cstring>
#include <linux/errqueue.h>
#include <netinet/in.h>

namespace Echoscope {

// The Linux backend: what Linux does in one call (accept4, SOCK_NONBLOCK | SOCK_CLOEXEC)
// and what only it has (the UDP error queue). unixbackend_portable.cpp is the same for any
// POSIX system.

const char *NativeSocket::backendName()
{
    return "epoll";
}

int UnixBackend::accept(int listener, sockaddr *address, socklen_t *length)
{
    return ::accept4(listener, address, length, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

int UnixBackend::socket(int family, int type)
{
    return ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

int UnixBackend::socketPair(int fds[2])
{
    return ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
}

void UnixBackend::enableErrorQueue(int fd, int family)
{
    const int one = 1;
    // ICMP errors go to the error queue with the address they are about, rather than
    // only failing the next call; IPv4 ones of a dual-stack socket need IP_RECVERR too.
    ::setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
    if (family == AF_INET6)
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
}

ssize_t UnixBackend::receiveDatagram(int fd, msghdr *message)
{
    return ::recvmsg(fd, message, MSG_TRUNC); // return the datagram's real size, even when cut
}

bool NativeUdpSocket::hasErrorQueue()
{
    return true;
}

bool NativeUdpSocket::readError(Descriptor fd, QueuedError *error)
{
    *error = QueuedError();
    char original[64]; // the start of the datagram that failed; not needed
    iovec vector;
    vector.iov_base = original;
    vector.iov_len = sizeof original;
    alignas(cmsghdr) char control[512];
    msghdr message;
    std::memset(&message, 0, sizeof message);
    message.msg_name = error->to.storage.data();
    message.msg_namelen = sizeof(error->to.storage);
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(int(fd), &message, MSG_ERRQUEUE);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return false;
    error->to.length = quint32(message.msg_namelen);
    for (cmsghdr *header = CMSG_FIRSTHDR(&message); header;
         header = CMSG_NXTHDR(&message, header)) {
        const bool ipv4 = header->cmsg_level == IPPROTO_IP && header->cmsg_type == IP_RECVERR;
        const bool ipv6 = header->cmsg_level == IPPROTO_IPV6 && header->cmsg_type == IPV6_RECVERR;
        if (!ipv4 && !ipv6)
            continue;
        sock_extended_err extended;
        std::memcpy(&extended, CMSG_DATA(header), sizeof extended);
        error->text = qt_error_string(int(extended.ee_errno));
        error->fromIcmp =
            extended.ee_origin == SO_EE_ORIGIN_ICMP || extended.ee_origin == SO_EE_ORIGIN_ICMP6;
        error->portUnreachable = (extended.ee_origin == SO_EE_ORIGIN_ICMP &&
                                  extended.ee_type == 3 && extended.ee_code == 3) ||
                                 (extended.ee_origin == SO_EE_ORIGIN_ICMP6 &&
                                  extended.ee_type == 1 && extended.ee_code == 4);
        // The sender of the ICMP error follows the structure (SO_EE_OFFENDER).
        const auto *offender = reinterpret_cast<const sockaddr *>(
            reinterpret_cast<const char *>(CMSG_DATA(header)) + sizeof extended);
        const size_t room = header->cmsg_len - CMSG_LEN(sizeof extended);
        if (room >= sizeof(sockaddr_in) && offender->sa_family != AF_UNSPEC) {
            sockaddr_storage copy;
            std::memset(&copy, 0, sizeof copy);
            std::memcpy(&copy, offender, qMin(room, sizeof copy));
            error->reportedBy.setAddress(reinterpret_cast<const sockaddr *>(&copy));
        }
    }
    if (error->text.isEmpty())
        error->text =
            QCoreApplication::translate("Echoscope::NativeUdpSocket", "an error without details");
    return true;
}

} // namespace Echoscope
