#pragma once

#include <QHostAddress>
#include <QString>
#include <QtGlobal>

struct sockaddr; // <sys/socket.h>, <winsock2.h>

namespace Echoscope {

// The few non-blocking socket calls the echo path needs, on a descriptor that
// QTcpServer accepted. QTcpSocket is not used for sessions because it cannot do
// what an echo server must: it closes the whole socket when the peer half-closes
// (so nothing can be echoed after a client's shutdown(SHUT_WR)), and it reports
// an orderly close and a reset as the same error.
//
// Platform calls live in per-platform files that CMake picks (nativesocket_unix.cpp,
// nativesocket_win.cpp), and what Linux does its own way in the backend file
// (unixbackend_linux.cpp or, with ECHOSCOPE_PORTABLE_IO, unixbackend_portable.cpp).
class NativeSocket
{
public:
    using Descriptor = qintptr;

    // Which I/O backend this build has: "epoll" (Linux: accept4, the UDP error queue, an
    // epoll set per worker), "portable" (POSIX calls only, a QSocketNotifier per session)
    // or "windows".
    static const char *backendName();

    enum class Result {
        Done,       // some bytes moved (count in *bytes)
        WouldBlock, // nothing to do now; wait for the notifier
        EndOfFile,  // read: the peer half-closed (or closed) its sending side
        Reset,      // the peer reset the connection (ECONNRESET, EPIPE)
        Error,      // anything else; see errorString()
    };

    static bool prepare(Descriptor fd); // TCP_NODELAY, no SIGPIPE (accept() made it non-blocking)
    // A TCP socket of the protocol (IPv4 or IPv6), not connected yet: non-blocking and
    // close-on-exec, as accept() makes them. -1 on failure: see lastError().
    static Descriptor openTcpSocket(QAbstractSocket::NetworkLayerProtocol protocol);
    // Accepts one pending connection on a non-blocking listening socket. Done: *accepted
    // is the new descriptor, non-blocking and close-on-exec, and *peer / *peerPort (when
    // given) its peer as peerAddress() words it; with the epoll backend all in the one
    // accept4() call.
    // WouldBlock: none pending. Reset: one was pending but the peer reset it first (try
    // the next). Error: see lastError(), e.g. out of descriptors (isDescriptorLimit()).
    static Result accept(Descriptor listener, Descriptor *accepted, QHostAddress *peer = nullptr,
                         quint16 *peerPort = nullptr);
    // True for the errors that mean "no descriptor free" (EMFILE, ENFILE).
    static bool isDescriptorLimit(int error);
    // A descriptor held in reserve (/dev/null), so that when the process runs out of
    // descriptors it can close this one, accept a pending connection and close that at
    // once instead of leaving it queued. -1 if none can be opened or the platform has
    // no use for one (Windows).
    static Descriptor openSpareDescriptor();
    static void closeSpareDescriptor(Descriptor fd);
    // An IPv4 or IPv6 socket address as QHostAddress and port (0 and null for another
    // family); an IPv4-mapped IPv6 address (a dual-stack socket's IPv4 peer) as plain IPv4.
    static void fromSockaddr(const sockaddr *address, QHostAddress *host, quint16 *port);
    static Result read(Descriptor fd, char *data, qint64 maxBytes, qint64 *bytes);
    static Result write(Descriptor fd, const char *data, qint64 size, qint64 *bytes);
    static void shutdownWrite(Descriptor fd);
    static void close(Descriptor fd);
    // SO_LINGER 0: the descriptor's close() will send a reset (RST), not a FIN.
    static void setResetOnClose(Descriptor fd);
    // Closes with SO_LINGER 0, so the peer sees a reset rather than an orderly close.
    static void abort(Descriptor fd);
    // A connected pair of local stream sockets (close-on-exec), for checks that need a
    // live connection without the network. False where the platform has none (Windows).
    static bool socketPair(Descriptor *first, Descriptor *second);
    static bool peerAddress(Descriptor fd, QHostAddress *address, quint16 *port);
    // The OS's text for the last failed call on this thread.
    static QString errorString();
    static int lastError();

    // Raises the soft limit on open descriptors to the hard limit (Unix).
    // Returns the new soft limit, or -1 where there is no such limit.
    static qint64 raiseOpenFileLimit();
    static qint64 openFileLimit();
};

} // namespace Echoscope
