#include "nativeudpsocket.h"

#include "nativesocket.h"
#include "nativeudpsocket_p.h"

#include <QCoreApplication>

#include <cstring>

namespace Echoscope {

// What every platform shares; receiving, sending and the platform's socket options are in
// nativeudpsocket_unix.cpp or nativeudpsocket_win.cpp, the error queue in the backend file.

namespace {
using NativePlatform::asSockaddr;
using NativePlatform::Handle;
using NativePlatform::SocketLength;

// Room for bursts: the kernel caps it at its own maximum (net.core.rmem_max on Linux).
constexpr int kReceiveBufferBytes = 1024 * 1024;

static_assert(sizeof(NativeUdpSocket::Endpoint::storage) >= sizeof(sockaddr_storage),
              "Endpoint must hold a sockaddr_storage");

void setOption(Handle fd, int level, int option, int value)
{
    ::setsockopt(fd, level, option, reinterpret_cast<const char *>(&value), sizeof value);
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
            in6->sin6_scope_id = numeric ? index : NativePlatform::interfaceIndex(scope);
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
        *error = QCoreApplication::translate("Echoscope::NativeUdpSocket",
                                             "not an IPv4 or IPv6 address");
        return -1;
    }
    const int family = asSockaddr(endpoint)->sa_family;
    Handle fd = NativePlatform::openDatagramSocket(family);
    if (!NativePlatform::isValid(fd) && address == QHostAddress(QHostAddress::Any)) {
        // No IPv6 here: "any" is every IPv4 interface then, as QTcpServer does it.
        bindEndpoint(QHostAddress(QHostAddress::AnyIPv4), port, &endpoint, &v6only);
        fd = NativePlatform::openDatagramSocket(AF_INET);
    }
    if (!NativePlatform::isValid(fd)) {
        *error = errorString();
        return -1;
    }
    if (asSockaddr(endpoint)->sa_family == AF_INET6)
        setOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only ? 1 : 0);
    NativePlatform::enableErrorQueue(fd, asSockaddr(endpoint)->sa_family);
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
    if (::getsockname(Handle(fd), asSockaddr(&endpoint), &length) != 0)
        return false;
    endpoint.length = quint32(length);
    const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(asSockaddr(endpoint));
    if (in6->sin6_family == AF_INET6 && std::memcmp(&in6->sin6_addr, &in6addr_any, 16) == 0) {
        int v6only = 1;
        SocketLength size = sizeof v6only;
        ::getsockopt(Handle(fd), IPPROTO_IPV6, IPV6_V6ONLY, reinterpret_cast<char *>(&v6only),
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

QString NativeUdpSocket::errorString()
{
    return NativeSocket::errorString(); // errno, or WSAGetLastError() on Windows
}

} // namespace Echoscope
