#pragma once

#include <QHostAddress>
#include <QString>
#include <QtGlobal>

#include <array>

namespace Echoscope {

// The non-blocking datagram calls UDP echo needs, on a descriptor of our own.
// QUdpSocket is not used for serving because it cannot say which peer an ICMP error
// is about, and it reports such an error as a socket error it then keeps returning;
// here the errors are read from the socket's error queue (Linux IP_RECVERR), each
// with the address the failed datagram was sent to, and the socket keeps working.
//
// The portable backend (ECHOSCOPE_PORTABLE_IO) and Windows keep no error queue: readError()
// has nothing, and a peer whose echoes bounce is forgotten when it goes idle.
//
// Platform calls live in per-platform files that CMake picks (nativeudpsocket_unix.cpp,
// nativeudpsocket_win.cpp); the error queue is in the backend file (unixbackend_linux.cpp).
class NativeUdpSocket
{
public:
    using Descriptor = qintptr;

    // The largest datagram payload the receive buffer takes whole: IPv6's 65,535
    // (IPv4 allows 65,507). Anything larger is reported as truncated, never cut silently.
    static constexpr qint64 kMaxDatagramBytes = 65535;

    // A peer's address as the OS gave it, so that its echo goes back to exactly it.
    struct Endpoint
    {
        std::array<quint64, 16> storage{}; // a sockaddr_storage, 8-byte aligned
        quint32 length = 0;

        QHostAddress address() const; // IPv4 peers of a dual-stack socket as plain IPv4
        quint16 port() const;
    };

    // What identifies a peer: its address (16 bytes, IPv4 as IPv4-mapped), port, scope.
    struct Key
    {
        std::array<quint8, 16> address{};
        quint16 port = 0;
        quint32 scopeId = 0;

        static Key of(const Endpoint &endpoint);
        bool operator==(const Key &other) const
        {
            return address == other.address && port == other.port && scopeId == other.scopeId;
        }
    };

    enum class Result {
        Done,         // a datagram moved
        WouldBlock,   // receive: none pending; send: no buffer space (EAGAIN, ENOBUFS)
        PendingError, // an ICMP error is pending: read readError() and try again
        Error,        // anything else; see errorString()
    };

    // A non-blocking, close-on-exec datagram socket bound to address and port (0: a free
    // one). QHostAddress::Any binds IPv6 and IPv4 (dual stack) where the system can.
    // Returns -1 on failure with the OS's reason in *error.
    static Descriptor bind(const QHostAddress &address, quint16 port, QString *error);
    static bool localAddress(Descriptor fd, QHostAddress *address, quint16 *port);

    // Receives one datagram into data (room for maxBytes). *bytes is its real size, which
    // is larger than maxBytes when *truncated.
    static Result receive(Descriptor fd, char *data, qint64 maxBytes, qint64 *bytes,
                          bool *truncated, Endpoint *from);
    static Result send(Descriptor fd, const char *data, qint64 size, const Endpoint &to);

    // One error from the socket's error queue: an ICMP error about a datagram sent to
    // `to`, or a local one.
    struct QueuedError
    {
        Endpoint to;
        bool portUnreachable = false; // ICMP / ICMPv6 port unreachable
        bool fromIcmp = false;
        QHostAddress reportedBy; // who sent the ICMP error, when known
        QString text;            // "Connection refused", ...
    };
    // Takes the next queued error; false when there is none (or the platform keeps none).
    static bool readError(Descriptor fd, QueuedError *error);
    // True where the backend keeps an error queue (epoll); elsewhere readError() never has
    // one, and a peer whose echoes bounce is forgotten only when it goes idle.
    static bool hasErrorQueue();

    static void close(Descriptor fd);
    static QString errorString();
};

inline size_t qHash(const NativeUdpSocket::Key &key, size_t seed = 0)
{
    seed = qHashBits(key.address.data(), key.address.size(), seed);
    return qHashMulti(seed, key.port, key.scopeId);
}

} // namespace Echoscope
