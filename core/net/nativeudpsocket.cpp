#include "nativeudpsocket.h"

#include "nativesocket.h"

#include <cstring>

#ifdef Q_OS_WIN
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif
#if defined(Q_OS_LINUX)
#include <linux/errqueue.h>
#endif

namespace Echoscope {

namespace {
#ifdef Q_OS_WIN
using SocketLength = int;
using NativeHandle = SOCKET;
#else
using SocketLength = socklen_t;
using NativeHandle = int;
#endif

#if defined(MSG_NOSIGNAL)
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;
#endif

// Room for bursts: the kernel caps it at its own maximum (net.core.rmem_max on Linux).
constexpr int kReceiveBufferBytes = 1024 * 1024;

static_assert(sizeof(NativeUdpSocket::Endpoint::storage) >= sizeof(sockaddr_storage),
              "Endpoint must hold a sockaddr_storage");

const sockaddr *asSockaddr(const NativeUdpSocket::Endpoint &endpoint)
{
    return reinterpret_cast<const sockaddr *>(endpoint.storage.data());
}

sockaddr *asSockaddr(NativeUdpSocket::Endpoint *endpoint)
{
    return reinterpret_cast<sockaddr *>(endpoint->storage.data());
}

int lastError()
{
#ifdef Q_OS_WIN
    return ::WSAGetLastError();
#else
    return errno;
#endif
}

void setOption(NativeHandle fd, int level, int option, int value)
{
    ::setsockopt(fd, level, option, reinterpret_cast<const char *>(&value), sizeof value);
}

// An ICMP error about an earlier datagram that the OS reports on this call instead.
bool isPendingNetworkError(int error)
{
#ifdef Q_OS_WIN
    return error == WSAECONNRESET || error == WSAENETRESET || error == WSAEHOSTUNREACH ||
           error == WSAENETUNREACH;
#else
    return error == ECONNREFUSED || error == ECONNRESET || error == EHOSTUNREACH ||
           error == ENETUNREACH || error == EHOSTDOWN || error == EPROTO;
#endif
}

bool isWouldBlock(int error)
{
#ifdef Q_OS_WIN
    return error == WSAEWOULDBLOCK || error == WSAENOBUFS;
#else
    return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS;
#endif
}

// The address to bind as a sockaddr; *v6only is what IPV6_V6ONLY should be.
bool bindEndpoint(const QHostAddress &address, quint16 port, NativeUdpSocket::Endpoint *endpoint,
                  bool *v6only)
{
    *endpoint = NativeUdpSocket::Endpoint();
    *v6only = true;
    const bool any = address == QHostAddress(QHostAddress::Any);
    if (any || address.protocol() == QAbstractSocket::IPv6Protocol) {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(asSockaddr(endpoint));
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        const Q_IPV6ADDR bytes = any ? Q_IPV6ADDR{} : address.toIPv6Address();
        std::memcpy(&in6->sin6_addr, bytes.c, 16);
        const QString scope = address.scopeId();
        if (!scope.isEmpty()) {
            bool numeric = false;
            const uint index = scope.toUInt(&numeric);
#ifdef Q_OS_WIN
            in6->sin6_scope_id = numeric ? index : 0;
#else
            in6->sin6_scope_id = numeric ? index : ::if_nametoindex(scope.toLatin1().constData());
#endif
        }
        *v6only = !any;
        endpoint->length = sizeof(sockaddr_in6);
        return true;
    }
    if (address.protocol() != QAbstractSocket::IPv4Protocol)
        return false;
    auto *in4 = reinterpret_cast<sockaddr_in *>(asSockaddr(endpoint));
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    in4->sin_addr.s_addr = htonl(address.toIPv4Address());
    endpoint->length = sizeof(sockaddr_in);
    return true;
}

NativeHandle openSocket(int family)
{
#if defined(Q_OS_LINUX)
    return ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#elif defined(Q_OS_WIN)
    const SOCKET fd = ::socket(family, SOCK_DGRAM, IPPROTO_UDP);
    if (fd != INVALID_SOCKET) {
        u_long nonBlocking = 1;
        ::ioctlsocket(fd, FIONBIO, &nonBlocking);
    }
    return fd;
#else
    const int fd = ::socket(family, SOCK_DGRAM, 0);
    if (fd >= 0) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    return fd;
#endif
}

bool isValid(NativeHandle fd)
{
#ifdef Q_OS_WIN
    return fd != INVALID_SOCKET;
#else
    return fd >= 0;
#endif
}

} // namespace

QHostAddress NativeUdpSocket::Endpoint::address() const
{
    QHostAddress host;
    quint16 port = 0;
    if (length != 0)
        NativeSocket::fromSockaddr(asSockaddr(*this), &host, &port);
    return host;
}

quint16 NativeUdpSocket::Endpoint::port() const
{
    QHostAddress host;
    quint16 port = 0;
    if (length != 0)
        NativeSocket::fromSockaddr(asSockaddr(*this), &host, &port);
    return port;
}

NativeUdpSocket::Key NativeUdpSocket::Key::of(const Endpoint &endpoint)
{
    Key key;
    const sockaddr *generic = asSockaddr(endpoint);
    if (endpoint.length == 0)
        return key;
    if (generic->sa_family == AF_INET) {
        const auto *in4 = reinterpret_cast<const sockaddr_in *>(generic);
        key.address[10] = 0xff; // ::ffff:a.b.c.d, as a dual-stack socket reports it
        key.address[11] = 0xff;
        std::memcpy(key.address.data() + 12, &in4->sin_addr, 4);
        key.port = ntohs(in4->sin_port);
    } else if (generic->sa_family == AF_INET6) {
        const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(generic);
        std::memcpy(key.address.data(), &in6->sin6_addr, 16);
        key.port = ntohs(in6->sin6_port);
        key.scopeId = in6->sin6_scope_id;
    }
    return key;
}

NativeUdpSocket::Descriptor NativeUdpSocket::bind(const QHostAddress &address, quint16 port,
                                                  QString *error)
{
    Endpoint endpoint;
    bool v6only = true;
    if (!bindEndpoint(address, port, &endpoint, &v6only)) {
        *error = QStringLiteral("not an IPv4 or IPv6 address");
        return -1;
    }
    const int family = asSockaddr(endpoint)->sa_family;
    NativeHandle fd = openSocket(family);
    if (!isValid(fd) && address == QHostAddress(QHostAddress::Any)) {
        // No IPv6 here: "any" is every IPv4 interface then, as QTcpServer does it.
        bindEndpoint(QHostAddress(QHostAddress::AnyIPv4), port, &endpoint, &v6only);
        fd = openSocket(AF_INET);
    }
    if (!isValid(fd)) {
        *error = errorString();
        return -1;
    }
    if (asSockaddr(endpoint)->sa_family == AF_INET6)
        setOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only ? 1 : 0);
#if defined(IP_RECVERR)
    // ICMP errors go to the error queue with the address they are about, rather than
    // only failing the next call; IPv4 ones of a dual-stack socket need IP_RECVERR too.
    setOption(fd, IPPROTO_IP, IP_RECVERR, 1);
#endif
#if defined(IPV6_RECVERR)
    if (asSockaddr(endpoint)->sa_family == AF_INET6)
        setOption(fd, IPPROTO_IPV6, IPV6_RECVERR, 1);
#endif
    setOption(fd, SOL_SOCKET, SO_RCVBUF, kReceiveBufferBytes);
    if (::bind(fd, asSockaddr(endpoint), SocketLength(endpoint.length)) != 0) {
        *error = errorString();
        close(Descriptor(fd));
        return -1;
    }
    return Descriptor(fd);
}

bool NativeUdpSocket::localAddress(Descriptor fd, QHostAddress *address, quint16 *port)
{
    Endpoint endpoint;
    SocketLength length = sizeof(endpoint.storage);
    if (::getsockname(NativeHandle(fd), asSockaddr(&endpoint), &length) != 0)
        return false;
    endpoint.length = quint32(length);
    const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(asSockaddr(endpoint));
    if (in6->sin6_family == AF_INET6 && std::memcmp(&in6->sin6_addr, &in6addr_any, 16) == 0) {
        int v6only = 1;
        SocketLength size = sizeof v6only;
        ::getsockopt(NativeHandle(fd), IPPROTO_IPV6, IPV6_V6ONLY, reinterpret_cast<char *>(&v6only),
                     &size);
        if (!v6only) { // dual stack: what QTcpServer calls Any
            *address = QHostAddress(QHostAddress::Any);
            *port = endpoint.port();
            return true;
        }
    }
    *address = endpoint.address();
    *port = endpoint.port();
    return true;
}

NativeUdpSocket::Result NativeUdpSocket::receive(Descriptor fd, char *data, qint64 maxBytes,
                                                 qint64 *bytes, bool *truncated, Endpoint *from)
{
    *bytes = 0;
    *truncated = false;
    *from = Endpoint();
#ifdef Q_OS_WIN
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
#else
    iovec vector;
    vector.iov_base = data;
    vector.iov_len = size_t(maxBytes);
    msghdr message;
    std::memset(&message, 0, sizeof message);
    message.msg_name = asSockaddr(from);
    message.msg_namelen = sizeof(from->storage);
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
#if defined(Q_OS_LINUX)
    const int flags = MSG_TRUNC; // return the datagram's real size, even when cut
#else
    const int flags = 0;
#endif
    ssize_t n;
    do {
        n = ::recvmsg(int(fd), &message, flags);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
        from->length = quint32(message.msg_namelen);
        *truncated = (message.msg_flags & MSG_TRUNC) != 0;
        *bytes = *truncated ? qMax<qint64>(n, maxBytes + 1) : qint64(n);
        return Result::Done;
    }
    const int error = errno;
#endif
    if (isWouldBlock(error))
        return Result::WouldBlock;
    if (isPendingNetworkError(error))
        return Result::PendingError;
    return Result::Error;
}

NativeUdpSocket::Result NativeUdpSocket::send(Descriptor fd, const char *data, qint64 size,
                                              const Endpoint &to)
{
#ifdef Q_OS_WIN
    const int n = ::sendto(SOCKET(fd), data, int(size), 0, asSockaddr(to), int(to.length));
#else
    ssize_t n;
    do {
        n = ::sendto(int(fd), data, size_t(size), kSendFlags, asSockaddr(to),
                     SocketLength(to.length));
    } while (n < 0 && errno == EINTR);
#endif
    if (n >= 0)
        return Result::Done;
    const int error = lastError();
    if (isWouldBlock(error))
        return Result::WouldBlock;
    if (isPendingNetworkError(error))
        return Result::PendingError;
    return Result::Error;
}

bool NativeUdpSocket::readError(Descriptor fd, QueuedError *error)
{
    *error = QueuedError();
#if defined(Q_OS_LINUX)
    char original[64]; // the start of the datagram that failed; not needed
    iovec vector;
    vector.iov_base = original;
    vector.iov_len = sizeof original;
    alignas(cmsghdr) char control[512];
    msghdr message;
    std::memset(&message, 0, sizeof message);
    message.msg_name = asSockaddr(&error->to);
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
        error->text = QStringLiteral("an error without details");
    return true;
#else
    Q_UNUSED(fd);
    return false;
#endif
}

void NativeUdpSocket::close(Descriptor fd)
{
#ifdef Q_OS_WIN
    ::closesocket(SOCKET(fd));
#else
    ::close(int(fd));
#endif
}

QString NativeUdpSocket::errorString()
{
    return qt_error_string(lastError());
}

} // namespace Echoscope
