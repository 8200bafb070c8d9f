#pragma once

#include "framingconfig.h"

#include <QHostAddress>
#include <QList>
#include <QMetaType>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QtGlobal>

namespace Echoscope {

// Everything EchoServer::start() needs. Plain value; defaults are the safe ones
// documented in docs/handbook/command-line.md.
struct ServerConfig
{
    static constexpr quint16 kDefaultPort = 50000;
    static constexpr qint64 kDefaultMaxMessageBytes = 1024 * 1024;
    static constexpr int kDefaultMaxClients = 1000;
    static constexpr qint64 kDefaultHighWaterBytes = 256 * 1024;
    static constexpr qint64 kDefaultLowWaterBytes = 64 * 1024;
    static constexpr qint64 kMaxCaptureBytesPerClient = 64 * 1024 * 1024;
    static constexpr quint16 kDefaultUdpPort = 50000;
    static constexpr int kDefaultUdpIdleTimeoutMs = 30000;
    static constexpr int kMaxUdpIdleTimeoutMs = 24 * 3600 * 1000;
    static constexpr int kDefaultMaxUdpPeers = 1000;

    QString bindAddress = QStringLiteral("127.0.0.1"); // see resolveBindAddress()
    quint16 port = kDefaultPort;                       // 0: pick a free port
    FramingConfig framing;
    qint64 maxMessageBytes = kDefaultMaxMessageBytes; // framed modes
    int maxClients = kDefaultMaxClients;
    int idleTimeoutMs = 0;                          // 0: off
    int threads = 0;                                // 0: effectiveThreads() picks
    qint64 highWaterBytes = kDefaultHighWaterBytes; // stop reading above this unsent echo
    qint64 lowWaterBytes = kDefaultLowWaterBytes;   // resume reading below it
    int messageEventsPerSecond = 0; // per client; 0: no per-message events; past it, summaries
    // The newest bytes in and out kept per client for an inspector (ClientStats::capture());
    // 0: none. A dashboard sets it; headless mode has no use for it.
    qint64 captureBytesPerClient = 0;
    // Recording (--record): each capture keeps the first captureBytesPerClient bytes
    // (CaptureBuffer::Policy::KeepFirst) instead of the newest, so it can be replayed.
    bool captureKeepsFirst = false;
    // Client networks (address, prefix length), checked at accept: a peer in a deny
    // network, or in none of the allow networks when there are some, is closed at once
    // and reported as refused. Both empty (the default): every client is let in. See
    // NetworkFilter.
    QList<QPair<QHostAddress, int>> allowNetworks;
    QList<QPair<QHostAddress, int>> denyNetworks;
    // UDP echo (RFC 862 datagram echo) beside the TCP one, on the same bind address; see
    // UdpEchoService. Each datagram is echoed to its sender; each sending address and
    // port is a client until it has sent nothing for udpIdleTimeoutMs. Datagrams from
    // new peers beyond maxUdpPeers are dropped and reported as refused.
    bool udpEcho = false;
    quint16 udpPort = kDefaultUdpPort; // 0: pick a free port
    int udpIdleTimeoutMs = kDefaultUdpIdleTimeoutMs;
    int maxUdpPeers = kDefaultMaxUdpPeers;
    // WebSocket echo (RFC 6455) beside the TCP one, on the same bind address: ws://, or
    // wss:// when the TLS files below are set (the same certificate as the TCP listener).
    // Each WebSocket message is one message: text echoed as text, binary as binary, up to
    // maxMessageBytes (then closed with 1009). The path is accepted as given. With
    // webSocketOrigins set, an upgrade whose Origin is not among them is refused (403).
    bool webSocketEcho = false;
    quint16 webSocketPort = 0; // 0: pick a free port
    QStringList webSocketOrigins;
    // An upgrade (and for wss:// the TLS handshake before it) not complete by then is cut off.
    static constexpr int kDefaultWebSocketHandshakeTimeoutMs = 10000;
    int webSocketHandshakeTimeoutMs = kDefaultWebSocketHandshakeTimeoutMs;

    // TLS echo: with both files set the TCP listener speaks TLS (as `ncat --ssl`). PEM or
    // DER, the key unencrypted; start() reads and checks them (see TlsCredentials).
    enum class TlsVersion { Tls12, Tls13 };
    static constexpr int kDefaultTlsHandshakeTimeoutMs = 10000;
    QString tlsCertificateFile;
    QString tlsKeyFile;
    TlsVersion tlsMinimumVersion = TlsVersion::Tls12;
    // A client that has not finished its handshake by then is cut off.
    int tlsHandshakeTimeoutMs = kDefaultTlsHandshakeTimeoutMs;
    bool isTls() const { return !tlsCertificateFile.isEmpty() || !tlsKeyFile.isEmpty(); }
    static QString tlsVersionString(TlsVersion version); // "1.2", "1.3"
    static bool parseTlsVersion(const QString &text, TlsVersion *version);

    // Empty when valid, else a sentence naming the bad setting and its value.
    QString validate() const;
    // The number of workers start() will run: `threads`, or for 0 one per core but one, at
    // least 1. The client under test usually shares the machine (a developer's, a CI
    // runner), and the main thread has work of its own: headless registers the clients and
    // writes their lines, the dashboard paints. On 2 cores one worker measured cheaper and
    // faster than two in every bench_echo workload (headless, where the main thread is the
    // worker), and with the dashboard open (bench_dashboard pingpong 1 KiB x 100: 233 MB/s
    // with one worker in its own thread, 185 MB/s with two). Where the one worker runs is
    // EchoServer::setKeepsThisThreadFree()'s to say.
    int effectiveThreads() const;

    // "127.0.0.1" / "localhost" -> IPv4 loopback; "::1" / "localhost6" -> IPv6
    // loopback; "any" / "*" -> every interface, IPv4 and IPv6; "any4", "any6";
    // otherwise a literal IPv4 or IPv6 address.
    static bool resolveBindAddress(const QString &text, QHostAddress *address, QString *error);
    static bool isLoopback(const QHostAddress &address);
    // An address as a failed listen names it: "any address (IPv4 and IPv6)" for the
    // dual-stack any-address, else the address itself.
    static QString describeAddress(const QHostAddress &address);
};

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::ServerConfig)
