#include "nativesocket.h"

#include "nativesocket_p.h"
#include "unixbackend_p.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <unistd.h>

namespace Echoscope {

// NativeSocket on POSIX systems. What the Linux and the portable backends do differently
// (accept4 or accept + fcntl, ...) is in unixbackend_linux.cpp / unixbackend_portable.cpp;
// Winsock is in nativesocket_win.cpp.

namespace {
using NativePlatform::SocketLength;

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

bool NativeSocket::prepare(Descriptor fd)
{
    int one = 1;
#if defined(SO_NOSIGPIPE)
    ::setsockopt(int(fd), SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    return ::setsockopt(int(fd), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
}

NativeSocket::Descriptor NativeSocket::openTcpSocket(QAbstractSocket::NetworkLayerProtocol protocol)
{
    return UnixBackend::socket(protocol == QAbstractSocket::IPv6Protocol ? AF_INET6 : AF_INET,
                               SOCK_STREAM);
}

NativeSocket::Result NativeSocket::accept(Descriptor listener, Descriptor *accepted,
                                          QHostAddress *peer, quint16 *peerPort)
{
    *accepted = -1;
    sockaddr_storage storage;
    SocketLength length = sizeof storage;
    std::memset(&storage, 0, sizeof storage);
    auto *address = reinterpret_cast<sockaddr *>(&storage);
    int fd;
    do {
        fd = UnixBackend::accept(int(listener), address, &length);
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
}

bool NativeSocket::isDescriptorLimit(int error)
{
    return error == EMFILE || error == ENFILE;
}

NativeSocket::Descriptor NativeSocket::openSpareDescriptor()
{
    int fd;
    do {
        fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

void NativeSocket::closeSpareDescriptor(Descriptor fd)
{
    if (fd >= 0)
        ::close(int(fd));
}

NativeSocket::Result NativeSocket::read(Descriptor fd, char *data, qint64 maxBytes, qint64 *bytes)
{
    *bytes = 0;
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
}

NativeSocket::Result NativeSocket::write(Descriptor fd, const char *data, qint64 size,
                                         qint64 *bytes)
{
    *bytes = 0;
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
}

void NativeSocket::shutdownWrite(Descriptor fd)
{
    ::shutdown(int(fd), SHUT_WR);
}

bool NativeSocket::socketPair(Descriptor *first, Descriptor *second)
{
    int fds[2];
    if (UnixBackend::socketPair(fds) != 0)
        return false;
    *first = fds[0];
    *second = fds[1];
    return true;
}

void NativeSocket::close(Descriptor fd)
{
    ::close(int(fd));
}

void NativeSocket::setResetOnClose(Descriptor fd)
{
    struct linger lingerOption;
    lingerOption.l_onoff = 1;
    lingerOption.l_linger = 0;
    ::setsockopt(int(fd), SOL_SOCKET, SO_LINGER, &lingerOption, sizeof lingerOption);
}

bool NativeSocket::peerAddress(Descriptor fd, QHostAddress *address, quint16 *port)
{
    sockaddr_storage storage;
    SocketLength length = sizeof storage;
    std::memset(&storage, 0, sizeof storage);
    if (::getpeername(int(fd), reinterpret_cast<sockaddr *>(&storage), &length) != 0)
        return false;
    toHostAddress(storage, address, port);
    return true;
}

int NativeSocket::lastError()
{
    return errno;
}

QString NativeSocket::errorString()
{
    return qt_error_string(errno);
}

qint64 NativeSocket::raiseOpenFileLimit()
{
    rlimit limit;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
#ifdef Q_OS_MACOS
        raised.rlim_cur = qMin<rlim_t>(limit.rlim_max, OPEN_MAX);
#endif
        ::setrlimit(RLIMIT_NOFILE, &raised);
    }
    return openFileLimit();
}

qint64 NativeSocket::openFileLimit()
{
    rlimit limit;
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return -1;
    return limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<qint64>::max()
                                           : qint64(limit.rlim_cur);
}

} // namespace Echoscope
