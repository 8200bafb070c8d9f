#include "nativesocket.h"

#include <cstring>
#include <limits>

#ifdef Q_OS_WIN
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace Echoscope {

namespace {
#ifdef Q_OS_WIN
using SocketLength = int;
#else
using SocketLength = socklen_t;
#endif

#if defined(MSG_NOSIGNAL)
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;
#endif

constexpr qint64 kMaxChunk = 1 << 30;

void toHostAddress(const sockaddr_storage &storage, QHostAddress *address, quint16 *port)
{
    NativeSocket::fromSockaddr(reinterpret_cast<const sockaddr *>(&storage), address, port);
}
} // namespace

void NativeSocket::fromSockaddr(const sockaddr *address, QHostAddress *host, quint16 *port)
{
    *host = QHostAddress();
    *port = 0;
    if (address->sa_family == AF_INET)
        *port = ntohs(reinterpret_cast<const sockaddr_in *>(address)->sin_port);
    else if (address->sa_family == AF_INET6)
        *port = ntohs(reinterpret_cast<const sockaddr_in6 *>(address)->sin6_port);
    else
        return;
    host->setAddress(address);
    bool isV4 = false;
    const quint32 v4 = host->toIPv4Address(&isV4);
    if (isV4 && host->protocol() == QAbstractSocket::IPv6Protocol)
        host->setAddress(v4);
}

bool NativeSocket::prepare(Descriptor fd)
{
    int one = 1;
#ifdef Q_OS_WIN
    return ::setsockopt(SOCKET(fd), IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char *>(&one),
                        sizeof one) == 0;
#else
#if defined(SO_NOSIGPIPE)
    ::setsockopt(int(fd), SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    return ::setsockopt(int(fd), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
#endif
}

NativeSocket::Result NativeSocket::accept(Descriptor listener, Descriptor *accepted,
                                          QHostAddress *peer, quint16 *peerPort)
{
    *accepted = -1;
    sockaddr_storage storage;
    SocketLength length = sizeof storage;
    std::memset(&storage, 0, sizeof storage);
    auto *address = reinterpret_cast<sockaddr *>(&storage);
#ifdef Q_OS_WIN
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
#else
    int fd;
    do {
#if defined(Q_OS_LINUX)
        fd = ::accept4(int(listener), address, &length, SOCK_CLOEXEC | SOCK_NONBLOCK);
#else
        fd = ::accept(int(listener), address, &length);
        if (fd >= 0) {
            ::fcntl(fd, F_SETFD, FD_CLOEXEC);
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        }
#endif
    } while (fd < 0 && errno == EINTR);
    if (fd >= 0) {
        *accepted = fd;
        if (peer && peerPort)
            toHostAddress(storage, peer, peerPort);
        return Result::Done;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return Result::WouldBlock;
    // Linux reports some network errors of the pending connection here; like a
    // connection reset before it was accepted, they concern that one connection only.
    if (errno == ECONNABORTED || errno == ECONNRESET || errno == EPROTO || errno == ENETDOWN ||
        errno == ENOPROTOOPT || errno == EHOSTDOWN || errno == EHOSTUNREACH ||
        errno == ENETUNREACH || errno == EOPNOTSUPP)
        return Result::Reset;
    return Result::Error;
#endif
}

bool NativeSocket::isDescriptorLimit(int error)
{
#ifdef Q_OS_WIN
    return error == WSAEMFILE;
#else
    return error == EMFILE || error == ENFILE;
#endif
}

NativeSocket::Descriptor NativeSocket::openSpareDescriptor()
{
#ifdef Q_OS_WIN
    return -1; // sockets are handles there, limited by memory rather than a table
#else
    int fd;
    do {
        fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd;
#endif
}

void NativeSocket::closeSpareDescriptor(Descriptor fd)
{
#ifndef Q_OS_WIN
    if (fd >= 0)
        ::close(int(fd));
#else
    Q_UNUSED(fd);
#endif
}

NativeSocket::Result NativeSocket::read(Descriptor fd, char *data, qint64 maxBytes, qint64 *bytes)
{
    *bytes = 0;
#ifdef Q_OS_WIN
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
#else
    ssize_t n;
    do {
        n = ::recv(int(fd), data, size_t(qMin(maxBytes, kMaxChunk)), 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        *bytes = n;
        return Result::Done;
    }
    if (n == 0)
        return Result::EndOfFile;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return Result::WouldBlock;
    if (errno == ECONNRESET || errno == ECONNABORTED)
        return Result::Reset;
    return Result::Error;
#endif
}

NativeSocket::Result NativeSocket::write(Descriptor fd, const char *data, qint64 size,
                                         qint64 *bytes)
{
    *bytes = 0;
#ifdef Q_OS_WIN
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
#else
    ssize_t n;
    do {
        n = ::send(int(fd), data, size_t(qMin(size, kMaxChunk)), kSendFlags);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
        *bytes = n;
        return Result::Done;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return Result::WouldBlock;
    if (errno == ECONNRESET || errno == EPIPE || errno == ECONNABORTED)
        return Result::Reset;
    return Result::Error;
#endif
}

void NativeSocket::shutdownWrite(Descriptor fd)
{
#ifdef Q_OS_WIN
    ::shutdown(SOCKET(fd), SD_SEND);
#else
    ::shutdown(int(fd), SHUT_WR);
#endif
}

bool NativeSocket::socketPair(Descriptor *first, Descriptor *second)
{
#ifdef Q_OS_WIN
    Q_UNUSED(first);
    Q_UNUSED(second);
    return false;
#else
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return false;
    *first = fds[0];
    *second = fds[1];
    return true;
#endif
}

void NativeSocket::close(Descriptor fd)
{
#ifdef Q_OS_WIN
    ::closesocket(SOCKET(fd));
#else
    ::close(int(fd));
#endif
}

void NativeSocket::setResetOnClose(Descriptor fd)
{
    struct linger lingerOption;
    lingerOption.l_onoff = 1;
    lingerOption.l_linger = 0;
#ifdef Q_OS_WIN
    ::setsockopt(SOCKET(fd), SOL_SOCKET, SO_LINGER, reinterpret_cast<const char *>(&lingerOption),
                 sizeof lingerOption);
#else
    ::setsockopt(int(fd), SOL_SOCKET, SO_LINGER, &lingerOption, sizeof lingerOption);
#endif
}

void NativeSocket::abort(Descriptor fd)
{
    setResetOnClose(fd);
    close(fd);
}

bool NativeSocket::peerAddress(Descriptor fd, QHostAddress *address, quint16 *port)
{
    sockaddr_storage storage;
    SocketLength length = sizeof storage;
    std::memset(&storage, 0, sizeof storage);
#ifdef Q_OS_WIN
    if (::getpeername(SOCKET(fd), reinterpret_cast<sockaddr *>(&storage), &length) != 0)
        return false;
#else
    if (::getpeername(int(fd), reinterpret_cast<sockaddr *>(&storage), &length) != 0)
        return false;
#endif
    toHostAddress(storage, address, port);
    return true;
}

int NativeSocket::lastError()
{
#ifdef Q_OS_WIN
    return ::WSAGetLastError();
#else
    return errno;
#endif
}

QString NativeSocket::errorString()
{
#ifdef Q_OS_WIN
    return qt_error_string(::WSAGetLastError());
#else
    return qt_error_string(errno);
#endif
}

qint64 NativeSocket::raiseOpenFileLimit()
{
#ifndef Q_OS_WIN
    rlimit limit;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
#ifdef Q_OS_MACOS
        raised.rlim_cur = qMin<rlim_t>(limit.rlim_max, OPEN_MAX);
#endif
        ::setrlimit(RLIMIT_NOFILE, &raised);
    }
#endif
    return openFileLimit();
}

qint64 NativeSocket::openFileLimit()
{
#ifdef Q_OS_WIN
    return -1;
#else
    rlimit limit;
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return -1;
    return limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<qint64>::max()
                                           : qint64(limit.rlim_cur);
#endif
}

} // namespace Echoscope
