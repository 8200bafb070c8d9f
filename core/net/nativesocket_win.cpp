#include "nativesocket.h"

#include "nativesocket_p.h"

#include <cstring>

namespace Echoscope {

// NativeSocket on Winsock. What POSIX systems do is in nativesocket_unix.cpp.

namespace {
using NativePlatform::SocketLength;

constexpr qint64 kMaxChunk = 1 << 30;

void toHostAddress(const sockaddr_storage &storage, QHostAddress *address, quint16 *port)
{
    NativeSocket::fromSockaddr(reinterpret_cast<const sockaddr *>(&storage), address, port);
}
} // namespace

const char *NativeSocket::backendName()
{
    return "windows";
}

bool NativeSocket::prepare(Descriptor fd)
{
    int one = 1;
    return ::setsockopt(SOCKET(fd), IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char *>(&one),
                        sizeof one) == 0;
}

NativeSocket::Descriptor NativeSocket::openTcpSocket(QAbstractSocket::NetworkLayerProtocol protocol)
{
    const SOCKET fd = ::socket(protocol == QAbstractSocket::IPv6Protocol ? AF_INET6 : AF_INET,
                               SOCK_STREAM, IPPROTO_TCP);
    if (fd == INVALID_SOCKET)
        return -1;
    u_long nonBlocking = 1;
    ::ioctlsocket(fd, FIONBIO, &nonBlocking);
    return Descriptor(fd);
}

NativeSocket::Result NativeSocket::accept(Descriptor listener, Descriptor *accepted,
                                          QHostAddress *peer, quint16 *peerPort)
{
    *accepted = -1;
    sockaddr_storage storage;
    SocketLength length = sizeof storage;
    std::memset(&storage, 0, sizeof storage);
    auto *address = reinterpret_cast<sockaddr *>(&storage);
    const SOCKET fd = ::accept(SOCKET(listener), address, &length);
    if (fd != INVALID_SOCKET) {
        u_long nonBlocking = 1;
        ::ioctlsocket(fd, FIONBIO, &nonBlocking);
        *accepted = Descriptor(fd);
        if (peer && peerPort)
            toHostAddress(storage, peer, peerPort);
        return Result::Done;
    }
    switch (::WSAGetLastError()) {
    case WSAEWOULDBLOCK:
    case WSAEINTR:
        return Result::WouldBlock;
    case WSAECONNRESET:
    case WSAECONNABORTED:
        return Result::Reset;
    default:
        return Result::Error;
    }
}

bool NativeSocket::isDescriptorLimit(int error)
{
    return error == WSAEMFILE;
}

NativeSocket::Descriptor NativeSocket::openSpareDescriptor()
{
    return -1; // sockets are handles there, limited by memory rather than a table
}

void NativeSocket::closeSpareDescriptor(Descriptor fd)
{
    Q_UNUSED(fd);
}

NativeSocket::Result NativeSocket::read(Descriptor fd, char *data, qint64 maxBytes, qint64 *bytes)
{
    *bytes = 0;
    const int n = ::recv(SOCKET(fd), data, int(qMin(maxBytes, kMaxChunk)), 0);
    if (n > 0) {
        *bytes = n;
        return Result::Done;
    }
    if (n == 0)
        return Result::EndOfFile;
    switch (::WSAGetLastError()) {
    case WSAEWOULDBLOCK:
    case WSAEINTR:
        return Result::WouldBlock;
    case WSAECONNRESET:
    case WSAECONNABORTED:
        return Result::Reset;
    default:
        return Result::Error;
    }
}

NativeSocket::Result NativeSocket::write(Descriptor fd, const char *data, qint64 size,
                                         qint64 *bytes)
{
    *bytes = 0;
    const int n = ::send(SOCKET(fd), data, int(qMin(size, kMaxChunk)), 0);
    if (n >= 0) {
        *bytes = n;
        return Result::Done;
    }
    switch (::WSAGetLastError()) {
    case WSAEWOULDBLOCK:
    case WSAEINTR:
        return Result::WouldBlock;
    case WSAECONNRESET:
    case WSAECONNABORTED:
    case WSAESHUTDOWN:
        return Result::Reset;
    default:
        return Result::Error;
    }
}

void NativeSocket::shutdownWrite(Descriptor fd)
{
    ::shutdown(SOCKET(fd), SD_SEND);
}

bool NativeSocket::socketPair(Descriptor *first, Descriptor *second)
{
    Q_UNUSED(first);
    Q_UNUSED(second);
    return false;
}

void NativeSocket::close(Descriptor fd)
{
    ::closesocket(SOCKET(fd));
}

void NativeSocket::setResetOnClose(Descriptor fd)
{
    struct linger lingerOption;
    lingerOption.l_onoff = 1;
    lingerOption.l_linger = 0;
    ::setsockopt(SOCKET(fd), SOL_SOCKET, SO_LINGER, reinterpret_cast<const char *>(&lingerOption),
                 sizeof lingerOption);
}

bool NativeSocket::peerAddress(Descriptor fd, QHostAddress *address, quint16 *port)
{
    sockaddr_storage storage;
    SocketLength length = sizeof storage;
    std::memset(&storage, 0, sizeof storage);
    if (::getpeername(SOCKET(fd), reinterpret_cast<sockaddr *>(&storage), &length) != 0)
        return false;
    toHostAddress(storage, address, port);
    return true;
}

int NativeSocket::lastError()
{
    return ::WSAGetLastError();
}

QString NativeSocket::errorString()
{
    return qt_error_string(::WSAGetLastError());
}

qint64 NativeSocket::raiseOpenFileLimit()
{
    return openFileLimit();
}

qint64 NativeSocket::openFileLimit()
{
    return -1;
}

} // namespace Echoscope
