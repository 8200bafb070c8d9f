#include "unixbackend_p.h"

#include "nativesocket.h"
#include "nativeudpsocket.h"

#include <fcntl.h>

namespace Echoscope {

// The portable POSIX backend: calls every POSIX system has. Linux's own are in
// unixbackend_linux.cpp.

namespace {
void setNonBlockingAndCloseOnExec(int fd)
{
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}
} // namespace

const char *NativeSocket::backendName()
{
    return "portable";
}

int UnixBackend::accept(int listener, sockaddr *address, socklen_t *length)
{
    const int fd = ::accept(listener, address, length);
    if (fd >= 0)
        setNonBlockingAndCloseOnExec(fd);
    return fd;
}

int UnixBackend::socket(int family, int type)
{
    const int fd = ::socket(family, type, 0);
    if (fd >= 0)
        setNonBlockingAndCloseOnExec(fd);
    return fd;
}

int UnixBackend::socketPair(int fds[2])
{
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        return -1;
    ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

// No error queue: an ICMP error about a datagram surfaces, if at all, as the failure of a
// later call on the socket (NativeUdpSocket::Result::PendingError), without its address.
// An unconnected socket, as the UDP echo's is, gets none on Linux and the BSDs.
void UnixBackend::enableErrorQueue(int, int) {}

bool NativeUdpSocket::hasErrorQueue()
{
    return false;
}

bool NativeUdpSocket::readError(Descriptor, QueuedError *error)
{
    *error = QueuedError();
    return false;
}

ssize_t UnixBackend::receiveDatagram(int fd, msghdr *message)
{
    return ::recvmsg(fd, message, 0);
}

} // namespace Echoscope
