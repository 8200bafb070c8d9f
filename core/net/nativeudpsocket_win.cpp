#include "nativeudpsocket.h"

#include "nativeudpsocket_p.h"

namespace Echoscope {

// NativeUdpSocket on Winsock. POSIX systems: nativeudpsocket_unix.cpp.

namespace {
using NativePlatform::asSockaddr;
using NativePlatform::SocketLength;

// An ICMP error about an earlier datagram that the OS reports on this call instead.
bool isPendingNetworkError(int error)
{
    return error == WSAECONNRESET || error == WSAENETRESET || error == WSAEHOSTUNREACH ||
           error == WSAENETUNREACH;
}

bool isWouldBlock(int error)
{
    return error == WSAEWOULDBLOCK || error == WSAENOBUFS;
}
} // namespace

NativePlatform::Handle NativePlatform::openDatagramSocket(int family)
{
    const SOCKET fd = ::socket(family, SOCK_DGRAM, IPPROTO_UDP);
    if (fd != INVALID_SOCKET) {
        u_long nonBlocking = 1;
        ::ioctlsocket(fd, FIONBIO, &nonBlocking);
    }
    return fd;
}

bool NativePlatform::isValid(Handle fd)
{
    return fd != INVALID_SOCKET;
}

quint32 NativePlatform::interfaceIndex(const QString &name)
{
    Q_UNUSED(name);
    return 0; // only numeric scopes
}

void NativePlatform::enableErrorQueue(Handle fd, int family)
{
    Q_UNUSED(fd);
    Q_UNUSED(family); // no error queue: ICMP errors fail a later call (PendingError)
}

NativeUdpSocket::Result NativeUdpSocket::receive(Descriptor fd, char *data, qint64 maxBytes,
                                                 qint64 *bytes, bool *truncated, Endpoint *from)
{
    *bytes = 0;
    *truncated = false;
    *from = Endpoint();
    SocketLength length = sizeof(from->storage);
    const int n = ::recvfrom(SOCKET(fd), data, int(maxBytes), 0, asSockaddr(from), &length);
    if (n >= 0) {
        from->length = quint32(length);
        *bytes = n;
        return Result::Done;
    }
    const int error = ::WSAGetLastError();
    if (error == WSAEMSGSIZE) { // the rest of it is gone; its size is not known
        from->length = quint32(length);
        *bytes = maxBytes + 1;
        *truncated = true;
        return Result::Done;
    }
    if (isWouldBlock(error))
        return Result::WouldBlock;
    if (isPendingNetworkError(error))
        return Result::PendingError;
    return Result::Error;
}

NativeUdpSocket::Result NativeUdpSocket::send(Descriptor fd, const char *data, qint64 size,
                                              const Endpoint &to)
{
    const int n = ::sendto(SOCKET(fd), data, int(size), 0, asSockaddr(to), int(to.length));
    if (n >= 0)
        return Result::Done;
    const int error = ::WSAGetLastError();
    if (isWouldBlock(error))
        return Result::WouldBlock;
    if (isPendingNetworkError(error))
        return Result::PendingError;
    return Result::Error;
}

bool NativeUdpSocket::hasErrorQueue()
{
    return false;
}

bool NativeUdpSocket::readError(Descriptor fd, QueuedError *error)
{
    *error = QueuedError();
    Q_UNUSED(fd);
    return false;
}

void NativeUdpSocket::close(Descriptor fd)
{
    ::closesocket(SOCKET(fd));
}

} // namespace Echoscope
