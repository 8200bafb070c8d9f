#include "nativeudpsocket.h"

#include "nativeudpsocket_p.h"
#include "unixbackend_p.h"

#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <unistd.h>

namespace Echoscope {

// NativeUdpSocket on POSIX systems; the error queue (readError()) is in the backend file,
// unixbackend_linux.cpp or unixbackend_portable.cpp. Winsock: nativeudpsocket_win.cpp.

namespace {
using NativePlatform::asSockaddr;
using NativePlatform::SocketLength;

#if defined(MSG_NOSIGNAL)
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;
#endif

// An ICMP error about an earlier datagram that the OS reports on this call instead.
bool isPendingNetworkError(int error)
{
    return error == ECONNREFUSED || error == ECONNRESET || error == EHOSTUNREACH ||
           error == ENETUNREACH || error == EHOSTDOWN || error == EPROTO;
}

bool isWouldBlock(int error)
{
    return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS;
}
} // namespace

NativePlatform::Handle NativePlatform::openDatagramSocket(int family)
{
    return UnixBackend::socket(family, SOCK_DGRAM);
}

bool NativePlatform::isValid(Handle fd)
{
    return fd >= 0;
}

quint32 NativePlatform::interfaceIndex(const QString &name)
{
    return ::if_nametoindex(name.toLatin1().constData());
}

void NativePlatform::enableErrorQueue(Handle fd, int family)
{
    UnixBackend::enableErrorQueue(fd, family);
}

NativeUdpSocket::Result NativeUdpSocket::receive(Descriptor fd, char *data, qint64 maxBytes,
                                                 qint64 *bytes, bool *truncated, Endpoint *from)
{
    *bytes = 0;
    *truncated = false;
    *from = Endpoint();
    iovec vector;
    vector.iov_base = data;
    vector.iov_len = size_t(maxBytes);
    msghdr message;
    std::memset(&message, 0, sizeof message);
    message.msg_name = asSockaddr(from);
    message.msg_namelen = sizeof(from->storage);
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    ssize_t n;
    do {
        n = UnixBackend::receiveDatagram(int(fd), &message);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
        from->length = quint32(message.msg_namelen);
        *truncated = (message.msg_flags & MSG_TRUNC) != 0;
        *bytes = *truncated ? qMax<qint64>(n, maxBytes + 1) : qint64(n);
        return Result::Done;
    }
    const int error = errno;
    if (isWouldBlock(error))
        return Result::WouldBlock;
    if (isPendingNetworkError(error))
        return Result::PendingError;
    return Result::Error;
}

NativeUdpSocket::Result NativeUdpSocket::send(Descriptor fd, const char *data, qint64 size,
                                              const Endpoint &to)
{
    ssize_t n;
    do {
        n = ::sendto(int(fd), data, size_t(size), kSendFlags, asSockaddr(to),
                     SocketLength(to.length));
    } while (n < 0 && errno == EINTR);
    if (n >= 0)
        return Result::Done;
    const int error = errno;
    if (isWouldBlock(error))
        return Result::WouldBlock;
    if (isPendingNetworkError(error))
        return Result::PendingError;
    return Result::Error;
}

void NativeUdpSocket::close(Descriptor fd)
{
    ::close(int(fd));
}

} // namespace Echoscope
