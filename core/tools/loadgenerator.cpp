#include "loadgenerator.h"

#include "nativesocket.h"
#include "pollset.h"
#include "trafficevent.h"
#include "wsclientframing.h"

#include <QJsonObject>
#include <QRandomGenerator>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

// The connections are POSIX sockets; their event loop is a PollSet, whose backend (epoll on
// Linux, poll() in the portable build and on other POSIX systems) CMake picks in core/net.
#ifdef Q_OS_UNIX
#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace Echoscope {

namespace {

constexpr qint64 kPatternBytes = 1024 * 1024;
constexpr qint64 kMaxChunkBytes = 256 * 1024;        // one write() or read() at most
constexpr qint64 kStreamInFlightBytes = 1024 * 1024; // stream: sent but not yet echoed
constexpr qint64 kHoldProbeBytes = 16;
constexpr int kMaxConnectsInFlight = 256; // so a big hold does not overflow the backlog

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// kPatternBytes of random bytes, followed by a copy of its first kMaxChunkBytes, so any
// slice of up to kMaxChunkBytes at any offset below kPatternBytes is contiguous.
const std::vector<char> &pattern()
{
    static const std::vector<char> bytes = [] {
        std::vector<char> data(size_t(kPatternBytes + kMaxChunkBytes));
        std::mt19937_64 random(0x5eed);
        for (qint64 i = 0; i < kPatternBytes; i += 8) {
            const quint64 value = random();
            std::memcpy(data.data() + i, &value, 8);
        }
        std::copy(data.begin(), data.begin() + kMaxChunkBytes, data.begin() + kPatternBytes);
        return data;
    }();
    return bytes;
}

} // namespace

bool LoadConfig::parseMode(const QString &text, Mode *mode)
{
    for (Mode candidate : {Mode::PingPong, Mode::Stream, Mode::OneShot, Mode::Hold}) {
        if (text.compare(modeName(candidate), Qt::CaseInsensitive) == 0) {
            *mode = candidate;
            return true;
        }
    }
    return false;
}

QString LoadConfig::modeName(Mode mode)
{
    switch (mode) {
    case Mode::PingPong:
        return QStringLiteral("pingpong");
    case Mode::Stream:
        return QStringLiteral("stream");
    case Mode::OneShot:
        return QStringLiteral("oneshot");
    case Mode::Hold:
        return QStringLiteral("hold");
    }
    return QString();
}

bool LoadConfig::parseProtocol(const QString &text, Protocol *protocol)
{
    for (Protocol candidate : {Protocol::Tcp, Protocol::WebSocket}) {
        if (text.compare(protocolName(candidate), Qt::CaseInsensitive) == 0) {
            *protocol = candidate;
            return true;
        }
    }
    return false;
}

QString LoadConfig::protocolName(Protocol protocol)
{
    return protocol == Protocol::WebSocket ? QStringLiteral("ws") : QStringLiteral("tcp");
}

bool LoadConfig::isValidWsPath(const QString &path)
{
    return path.startsWith(QLatin1Char('/')) && std::all_of(path.begin(), path.end(), [](QChar c) {
               return c.unicode() > 0x20 && c.unicode() < 0x7f;
           });
}

QString LoadConfig::validate() const
{
    if (port == 0)
        return QStringLiteral("the port must be given (1 to 65535)");
    if (protocol == Protocol::WebSocket && !isValidWsPath(wsPath))
        return QStringLiteral("the WebSocket path must start with / and hold printable ASCII "
                              "without spaces (got \"%1\")")
            .arg(wsPath);
    if (connections < 1 || connections > 1000000)
        return QStringLiteral("connections must be from 1 to 1,000,000 (got %1)").arg(connections);
    if (messageBytes < 1 || messageBytes > (qint64(1) << 30))
        return QStringLiteral("the size must be from 1 byte to 1 GiB (got %1)").arg(messageBytes);
    if (durationMs < 1)
        return QStringLiteral("the duration must be positive");
    if (warmupMs < 0)
        return QStringLiteral("the warm-up must not be negative");
    if (timeoutMs < 1)
        return QStringLiteral("the timeout must be positive");
    return QString();
}

// LatencyHistogram: 32 buckets per power of two of microseconds.
int LatencyHistogram::bucketFor(qint64 microseconds)
{
    if (microseconds < kSubBuckets)
        return int(std::max<qint64>(0, microseconds));
    int exponent = 0;
    while ((microseconds >> exponent) >= 2 * kSubBuckets)
        ++exponent;
    // microseconds >> exponent is in [kSubBuckets, 2 * kSubBuckets).
    const int bucket = (exponent + 1) * kSubBuckets + int((microseconds >> exponent) - kSubBuckets);
    return std::min(bucket, kBuckets - 1);
}

qint64 LatencyHistogram::bucketHigh(int bucket)
{
    if (bucket < kSubBuckets)
        return bucket;
    const int exponent = bucket / kSubBuckets - 1;
    const qint64 mantissa = kSubBuckets + bucket % kSubBuckets;
    return ((mantissa + 1) << exponent) - 1;
}

void LatencyHistogram::add(qint64 microseconds)
{
    ++m_counts[size_t(bucketFor(microseconds))];
    ++m_count;
    m_max = std::max(m_max, microseconds);
}

void LatencyHistogram::reset()
{
    m_counts.fill(0);
    m_count = 0;
    m_max = 0;
}

qint64 LatencyHistogram::percentile(double fraction) const
{
    if (m_count == 0)
        return 0;
    const qint64 rank = std::max<qint64>(1, qint64(std::ceil(fraction * double(m_count))));
    qint64 seen = 0;
    for (int bucket = 0; bucket < kBuckets; ++bucket) {
        seen += m_counts[size_t(bucket)];
        if (seen >= rank)
            return std::min(bucketHigh(bucket), m_max);
    }
    return m_max;
}

double LoadResult::megabytesPerSecond() const
{
    return seconds > 0 ? double(bytesEchoed) / 1e6 / seconds : 0;
}

double LoadResult::roundTripsPerSecond() const
{
    return seconds > 0 ? double(roundTrips) / seconds : 0;
}

QString LoadResult::summary() const
{
    const bool ws = config.protocol == LoadConfig::Protocol::WebSocket;
    // Over WebSocket the bytes are message payload; the line says so.
    const QString echoed =
        ws ? QStringLiteral("MB/s echoed (payload)") : QStringLiteral("MB/s echoed");
    QString line =
        QStringLiteral("%1%2 %3 B x %4 connections, %5 s: ")
            .arg(ws ? QStringLiteral("ws ") : QString(), LoadConfig::modeName(config.mode))
            .arg(config.messageBytes)
            .arg(config.connections)
            .arg(seconds, 0, 'f', 2);
    switch (config.mode) {
    case LoadConfig::Mode::PingPong:
        line += QStringLiteral("%1 requests/s, %2 %3, latency p50 %4 us, p99 %5 us, "
                               "max %6 us")
                    .arg(roundTripsPerSecond(), 0, 'f', 0)
                    .arg(megabytesPerSecond(), 0, 'f', 2)
                    .arg(echoed)
                    .arg(latency.percentile(0.5))
                    .arg(latency.percentile(0.99))
                    .arg(latency.maxMicroseconds());
        break;
    case LoadConfig::Mode::Stream:
        line += QStringLiteral("%1 %2").arg(megabytesPerSecond(), 0, 'f', 2).arg(echoed);
        if (ws)
            line += QStringLiteral(", %1 messages/s").arg(roundTripsPerSecond(), 0, 'f', 0);
        break;
    case LoadConfig::Mode::OneShot:
        line += QStringLiteral("%1 connections/s, latency p50 %2 us, p99 %3 us")
                    .arg(roundTripsPerSecond(), 0, 'f', 0)
                    .arg(latency.percentile(0.5))
                    .arg(latency.percentile(0.99));
        break;
    case LoadConfig::Mode::Hold:
        line += QStringLiteral("%1 of %2 connections held and still echoing")
                    .arg(held)
                    .arg(config.connections);
        break;
    }
    if (upgrade.count() > 0)
        line += QStringLiteral("; upgrade p50 %1 us, p99 %2 us")
                    .arg(upgrade.percentile(0.5))
                    .arg(upgrade.percentile(0.99));
    line += QStringLiteral("; %1 errors").arg(errors());
    if (errors() > 0) {
        line += QStringLiteral(" (%1 mismatched, %2 short echoes, %3 connect, %4 socket, %5 "
                               "timeouts")
                    .arg(mismatches)
                    .arg(shortEchoes)
                    .arg(connectErrors)
                    .arg(socketErrors)
                    .arg(timeouts);
        if (ws)
            line +=
                QStringLiteral(", %1 upgrade, %2 protocol").arg(upgradeErrors).arg(protocolErrors);
        line += QStringLiteral("; first: %1)").arg(firstError);
    }
    return line;
}

QJsonObject LoadResult::toJson() const
{
    QJsonObject object;
    object.insert(QStringLiteral("protocol"), LoadConfig::protocolName(config.protocol));
    object.insert(QStringLiteral("mode"), LoadConfig::modeName(config.mode));
    if (config.protocol == LoadConfig::Protocol::WebSocket) {
        object.insert(QStringLiteral("ws_path"), config.wsPath);
        object.insert(QStringLiteral("bytes_are"), QStringLiteral("payload"));
    }
    object.insert(QStringLiteral("host"), config.host.toString());
    object.insert(QStringLiteral("port"), config.port);
    object.insert(QStringLiteral("connections"), config.connections);
    object.insert(QStringLiteral("size"), config.messageBytes);
    object.insert(QStringLiteral("seconds"), seconds);
    object.insert(QStringLiteral("bytes_sent"), bytesSent);
    object.insert(QStringLiteral("bytes_echoed"), bytesEchoed);
    object.insert(QStringLiteral("mb_per_s"), megabytesPerSecond());
    object.insert(QStringLiteral("round_trips"), roundTrips);
    object.insert(QStringLiteral("round_trips_per_s"), roundTripsPerSecond());
    object.insert(QStringLiteral("connections_opened"), connectionsOpened);
    if (config.mode == LoadConfig::Mode::Hold)
        object.insert(QStringLiteral("held"), held);
    if (latency.count() > 0) {
        object.insert(QStringLiteral("latency_p50_us"), latency.percentile(0.5));
        object.insert(QStringLiteral("latency_p99_us"), latency.percentile(0.99));
        object.insert(QStringLiteral("latency_max_us"), latency.maxMicroseconds());
    }
    if (upgrade.count() > 0) {
        object.insert(QStringLiteral("upgrade_p50_us"), upgrade.percentile(0.5));
        object.insert(QStringLiteral("upgrade_p99_us"), upgrade.percentile(0.99));
    }
    object.insert(QStringLiteral("errors"), errors());
    object.insert(QStringLiteral("mismatches"), mismatches);
    object.insert(QStringLiteral("short_echoes"), shortEchoes);
    object.insert(QStringLiteral("connect_errors"), connectErrors);
    object.insert(QStringLiteral("socket_errors"), socketErrors);
    object.insert(QStringLiteral("timeouts"), timeouts);
    object.insert(QStringLiteral("upgrade_errors"), upgradeErrors);
    object.insert(QStringLiteral("protocol_errors"), protocolErrors);
    if (!firstError.isEmpty())
        object.insert(QStringLiteral("first_error"), firstError);
    return object;
}

LoadGenerator::LoadGenerator(const LoadConfig &config) : m_config(config) {}

LoadGenerator::~LoadGenerator() = default;

#ifdef Q_OS_UNIX

namespace {
#if defined(MSG_NOSIGNAL)
constexpr int kSendFlags = MSG_NOSIGNAL; // elsewhere NativeSocket::prepare() sets SO_NOSIGPIPE
#else
constexpr int kSendFlags = 0;
#endif
} // namespace

// One run: the connections, the poll set and the counts.
class LoadGenerator::Runner
{
public:
    Runner(const LoadConfig &config, const std::atomic<bool> &stop)
        : m_config(config), m_stop(stop), m_pattern(pattern())
    {
        m_result.config = config;
        m_chunkBytes = std::min(config.messageBytes, kMaxChunkBytes);
        m_readBuffer.resize(size_t(64 * 1024));
        if (config.protocol == LoadConfig::Protocol::WebSocket) {
            m_ws.resize(size_t(config.connections));
            m_writeBuffer.resize(size_t(WsClientFraming::kMaxHeaderBytes + m_chunkBytes));
            m_random.seed(QRandomGenerator::system()->generate());
            m_wsHost = TrafficEvent::endpoint(config.host, config.port).toLatin1();
            m_wsPath = config.wsPath.toLatin1();
        }
    }
    ~Runner()
    {
        for (Connection &connection : m_connections)
            closeConnection(connection);
    }

    LoadResult run(const Progress &progress);

private:
    // Idle -> Connecting -> (WebSocket: Upgrading ->) Active -> Finished (-> Idle: replaced)
    enum class State { Idle, Connecting, Upgrading, Active, Finished };
    struct Connection
    {
        int fd = -1;
        State state = State::Idle;
        qint64 patternStart = 0;   // where in the pattern this connection's stream starts
        qint64 sent = 0;           // stream offset of the next byte to send
        qint64 verified = 0;       // stream offset of the next byte expected back
        qint64 target = 0;         // PingPong/OneShot/Hold: send up to here
        qint64 startedNs = 0;      // connect or message start, for latency
        qint64 lastProgressNs = 0; // for timeouts
        bool halfClosed = false;   // OneShot: our side is shut
        bool writeWanted = false;  // Writable registered
        bool probing = false;      // Hold: the check after holding
    };
    // WebSocket: what a connection needs beside its Connection (m_ws[index], made only for
    // --protocol ws). Each message is one masked binary frame, written as the socket takes
    // it: the masked bytes are made again from the pattern for each write, not kept.
    struct WsConnection
    {
        WsClientFraming::Reader reader;
        QByteArray key;     // Sec-WebSocket-Key of the upgrade
        QByteArray request; // the upgrade request, until sent
        qint64 requestSent = 0;
        std::vector<char> answer; // the upgrade's answer, until its header is complete
        qint64 upgradeStartNs = 0;
        char header[WsClientFraming::kMaxHeaderBytes] = {}; // of the frame being written
        int headerBytes = 0;
        int headerSent = 0;
        quint32 maskKey = 0;
        bool inFrame = false;  // a data frame is partly written
        qint64 frameStart = 0; // stream offsets of its payload
        qint64 frameEnd = 0;
        // Pongs and the close frame, written between data frames.
        char control[2 * WsClientFraming::kMaxControlFrameBytes] = {};
        int controlBytes = 0;
        int controlSent = 0;
        qint64 echoStart = 0; // stream offset where the echo message being read began
        bool closeSent = false;
        bool closeReceived = false;
    };

    void fail(qint64 *counter, const QString &what)
    {
        ++*counter;
        if (m_result.firstError.isEmpty())
            m_result.firstError = what;
    }
    bool open(Connection &connection);
    void closeConnection(Connection &connection);
    void watch(Connection &connection, bool wantWrite);
    void connected(Connection &connection);
    void startMessage(Connection &connection);
    void writeSome(Connection &connection);
    void readSome(Connection &connection);
    void received(Connection &connection, const char *data, qint64 size);
    bool verify(Connection &connection, const char *data, qint64 size);
    void messageEchoed(Connection &connection);
    // WebSocket
    bool webSocket() const { return !m_ws.empty(); }
    WsConnection &ws(const Connection &connection) { return m_ws[size_t(index(connection))]; }
    void writeWebSocket(Connection &connection);
    void receivedWebSocket(Connection &connection, const char *data, qint64 size);
    void upgraded(Connection &connection);
    void readFrames(Connection &connection, const char *data, qint64 size);
    bool queueControl(Connection &connection, WsClientFraming::Opcode opcode, const char *payload,
                      int size);
    qint64 messageBytes(const Connection &connection) const
    {
        return connection.probing ? kHoldProbeBytes : m_config.messageBytes;
    }
    QString echoedSoFar(const Connection &connection) const
    {
        return QStringLiteral("%1 of %2 bytes echoed")
            .arg(connection.verified)
            .arg(connection.sent);
    }
    void finishConnection(Connection &connection); // OneShot EOF, or an error: next one
    void checkTimeouts(qint64 now);
    bool measuring() const { return m_measureStartNs != 0; }
    int index(const Connection &connection) const
    {
        return int(&connection - m_connections.data());
    }

    const LoadConfig m_config;
    const std::atomic<bool> &m_stop;
    const std::vector<char> &m_pattern;
    qint64 m_chunkBytes = 0;
    std::vector<char> m_readBuffer;
    std::vector<Connection> m_connections;
    std::vector<WsConnection> m_ws;  // WebSocket only
    std::vector<char> m_writeBuffer; // WebSocket: a frame's header and masked payload
    std::mt19937 m_random;           // WebSocket: keys and masks
    QByteArray m_wsHost;
    QByteArray m_wsPath;
    PollSet m_poll;
    int m_connectsInFlight = 0;
    qint64 m_nextPatternStart = 0;
    qint64 m_measureStartNs = 0;
    bool m_stopping = false; // no new messages or connections
    LoadResult m_result;
};

bool LoadGenerator::Runner::open(Connection &connection)
{
    const bool v6 = m_config.host.protocol() == QAbstractSocket::IPv6Protocol;
    const int fd = int(NativeSocket::openTcpSocket(m_config.host.protocol()));
    if (fd < 0) {
        fail(&m_result.connectErrors,
             QStringLiteral("socket(): %1").arg(QString::fromLocal8Bit(std::strerror(errno))));
        return false;
    }
    NativeSocket::prepare(fd); // TCP_NODELAY (and SO_NOSIGPIPE where there is one)
    int result;
    if (v6) {
        sockaddr_in6 address{};
        address.sin6_family = AF_INET6;
        address.sin6_port = htons(m_config.port);
        const Q_IPV6ADDR bytes = m_config.host.toIPv6Address();
        std::memcpy(&address.sin6_addr, bytes.c, 16);
        result = ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address);
    } else {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(m_config.port);
        address.sin_addr.s_addr = htonl(m_config.host.toIPv4Address());
        result = ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address);
    }
    if (result < 0 && errno != EINPROGRESS) {
        fail(&m_result.connectErrors, QStringLiteral("connect to %1: %2")
                                          .arg(TrafficEvent::endpoint(m_config.host, m_config.port),
                                               QString::fromLocal8Bit(std::strerror(errno))));
        ::close(fd);
        return false;
    }
    connection = Connection();
    connection.fd = fd;
    connection.state = State::Connecting;
    connection.patternStart = m_nextPatternStart;
    m_nextPatternStart = (m_nextPatternStart + 7919 * 64 + 13) % kPatternBytes;
    connection.startedNs = connection.lastProgressNs = nowNs();
    if (webSocket())
        ws(connection) = WsConnection();
    ++m_connectsInFlight;
    m_poll.add(fd, quint32(index(connection)), PollSet::Writable);
    connection.writeWanted = true;
    return true;
}

void LoadGenerator::Runner::closeConnection(Connection &connection)
{
    if (connection.fd < 0)
        return;
    if (connection.state == State::Connecting || connection.state == State::Upgrading)
        --m_connectsInFlight;
    if (webSocket() && connection.state == State::Active) {
        // Say goodbye if between frames (best effort: the socket closes right after).
        WsConnection &w = ws(connection);
        if (!w.closeSent && !w.inFrame && w.controlSent == w.controlBytes) {
            char frame[WsClientFraming::kMaxControlFrameBytes];
            const int size = WsClientFraming::writeCloseFrame(
                frame, WsClientFraming::kCloseGoingAway, quint32(m_random()));
            [[maybe_unused]] const ssize_t n =
                ::send(connection.fd, frame, size_t(size), kSendFlags);
        }
    }
    m_poll.remove(connection.fd);
    ::close(connection.fd);
    connection.fd = -1;
    connection.state = State::Finished;
}

void LoadGenerator::Runner::watch(Connection &connection, bool wantWrite)
{
    if (connection.writeWanted == wantWrite)
        return;
    m_poll.modify(connection.fd, quint32(index(connection)),
                  PollSet::Readable | (wantWrite ? quint32(PollSet::Writable) : 0u));
    connection.writeWanted = wantWrite;
}

void LoadGenerator::Runner::connected(Connection &connection)
{
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(connection.fd, SOL_SOCKET, SO_ERROR, &error, &length);
    --m_connectsInFlight;
    if (error != 0) {
        fail(&m_result.connectErrors, QStringLiteral("connect to %1: %2")
                                          .arg(TrafficEvent::endpoint(m_config.host, m_config.port),
                                               QString::fromLocal8Bit(std::strerror(error))));
        m_poll.remove(connection.fd);
        ::close(connection.fd);
        connection.fd = -1;
        connection.state = State::Finished;
        return;
    }
    connection.writeWanted = true; // registered with Writable only: switch to the full set
    if (webSocket()) {
        // Still opening (and in flight) until the server's 101 is checked.
        ++m_connectsInFlight;
        connection.state = State::Upgrading;
        WsConnection &w = ws(connection);
        w.key = WsClientFraming::makeKey(quint64(m_random()) << 32 | m_random(),
                                         quint64(m_random()) << 32 | m_random());
        w.request = WsClientFraming::upgradeRequest(m_wsHost, m_wsPath, w.key);
        w.upgradeStartNs = connection.lastProgressNs = nowNs();
        writeWebSocket(connection);
        return;
    }
    connection.state = State::Active;
    ++m_result.connectionsOpened;
    watch(connection, false);
    if (m_config.mode == LoadConfig::Mode::Hold)
        return; // quiet until the probe
    if (m_config.mode == LoadConfig::Mode::Stream)
        connection.target = std::numeric_limits<qint64>::max();
    startMessage(connection);
}

void LoadGenerator::Runner::startMessage(Connection &connection)
{
    if (m_config.mode != LoadConfig::Mode::Stream) {
        const qint64 size = connection.probing ? kHoldProbeBytes : m_config.messageBytes;
        connection.target = connection.sent + size;
        if (m_config.mode == LoadConfig::Mode::PingPong || connection.probing)
            connection.startedNs = nowNs();
    }
    connection.lastProgressNs = nowNs();
    writeSome(connection);
}

void LoadGenerator::Runner::writeSome(Connection &connection)
{
    if (webSocket()) {
        writeWebSocket(connection);
        return;
    }
    while (connection.fd >= 0 && connection.sent < connection.target) {
        qint64 size = std::min(m_chunkBytes, connection.target - connection.sent);
        if (m_config.mode == LoadConfig::Mode::Stream) {
            if (m_stopping)
                break;
            size = std::min(size, connection.verified + kStreamInFlightBytes - connection.sent);
            if (size <= 0)
                break; // wait for echoes before sending more
        }
        const qint64 offset = (connection.patternStart + connection.sent) % kPatternBytes;
        const ssize_t n =
            ::send(connection.fd, m_pattern.data() + offset, size_t(size), kSendFlags);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                watch(connection, true);
                return;
            }
            fail(&m_result.socketErrors,
                 QStringLiteral("send: %1").arg(QString::fromLocal8Bit(std::strerror(errno))));
            finishConnection(connection);
            return;
        }
        connection.sent += n;
        if (measuring())
            m_result.bytesSent += n;
    }
    watch(connection, false);
    if (m_config.mode == LoadConfig::Mode::OneShot && connection.fd >= 0 &&
        connection.sent == connection.target && !connection.halfClosed) {
        ::shutdown(connection.fd, SHUT_WR); // the question's protocol: EOF ends the message
        connection.halfClosed = true;
    }
}

bool LoadGenerator::Runner::verify(Connection &connection, const char *data, qint64 size)
{
    if (connection.verified + size > connection.sent) {
        fail(&m_result.mismatches,
             QStringLiteral("connection %1 received %2 bytes more than it sent")
                 .arg(index(connection))
                 .arg(connection.verified + size - connection.sent));
        finishConnection(connection);
        return false;
    }
    const qint64 offset = (connection.patternStart + connection.verified) % kPatternBytes;
    if (std::memcmp(data, m_pattern.data() + offset, size_t(size)) != 0) {
        qint64 at = 0;
        while (at < size && data[at] == m_pattern[size_t(offset + at)])
            ++at;
        fail(&m_result.mismatches,
             QStringLiteral("connection %1: echoed byte %2 differs from the byte sent")
                 .arg(index(connection))
                 .arg(connection.verified + at));
        finishConnection(connection);
        return false;
    }
    connection.verified += size;
    connection.lastProgressNs = nowNs();
    if (measuring())
        m_result.bytesEchoed += size;
    return true;
}

void LoadGenerator::Runner::received(Connection &connection, const char *data, qint64 size)
{
    if (webSocket()) {
        receivedWebSocket(connection, data, size);
        return;
    }
    if (!verify(connection, data, size))
        return;
    if (m_config.mode == LoadConfig::Mode::Stream) {
        writeSome(connection);
        return;
    }
    if (connection.verified >= connection.target)
        messageEchoed(connection);
}

// A whole message is back (TCP: all the bytes of the message sent; WebSocket: the echo
// message ended).
void LoadGenerator::Runner::messageEchoed(Connection &connection)
{
    if (m_config.mode == LoadConfig::Mode::Stream) { // WebSocket only: TCP has no messages
        if (measuring())
            ++m_result.roundTrips;
        return;
    }
    if (connection.probing) {
        ++m_result.held;
        closeConnection(connection);
        return;
    }
    if (m_config.mode == LoadConfig::Mode::PingPong) {
        if (measuring()) {
            ++m_result.roundTrips;
            m_result.latency.add((nowNs() - connection.startedNs) / 1000);
        }
        if (!m_stopping)
            startMessage(connection);
        return;
    }
    // OneShot: over TCP the round trip ends at the server's EOF. Over WebSocket the client
    // closes first: a close frame, the server's close frame back, then its EOF.
    if (webSocket()) {
        const char code[2] = {char(WsClientFraming::kCloseNormal >> 8),
                              char(WsClientFraming::kCloseNormal & 0xff)};
        queueControl(connection, WsClientFraming::Close, code, 2);
        ws(connection).closeSent = true;
        connection.lastProgressNs = nowNs();
        writeSome(connection);
    }
}

void LoadGenerator::Runner::readSome(Connection &connection)
{
    const qint64 capacity = qint64(m_readBuffer.size());
    for (int round = 0; round < 4 && connection.fd >= 0; ++round) {
        const ssize_t n = ::recv(connection.fd, m_readBuffer.data(), size_t(capacity), 0);
        if (n > 0) {
            received(connection, m_readBuffer.data(), n);
            if (n < capacity)
                return;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n == 0) { // EOF from the server
            const bool closed = webSocket() ? ws(connection).closeReceived : connection.halfClosed;
            if (m_config.mode == LoadConfig::Mode::OneShot && closed &&
                connection.verified == connection.target) {
                if (measuring()) {
                    ++m_result.roundTrips;
                    m_result.latency.add((nowNs() - connection.startedNs) / 1000);
                }
                finishConnection(connection);
                return;
            }
            if (connection.state == State::Upgrading) {
                const WsConnection &w = ws(connection);
                fail(&m_result.upgradeErrors,
                     QStringLiteral("connection %1 was closed by the server during the WebSocket "
                                    "upgrade (%2 bytes of answer%3)")
                         .arg(index(connection))
                         .arg(w.answer.size())
                         .arg(w.answer.empty()
                                  ? QString()
                                  : QStringLiteral(": ") +
                                        WsClientFraming::checkUpgradeResponse(
                                            QByteArray(w.answer.data(), qsizetype(w.answer.size())),
                                            w.key)));
            } else {
                fail(&m_result.shortEchoes,
                     QStringLiteral("connection %1 was closed by the server%2 after %3")
                         .arg(index(connection))
                         .arg(webSocket() ? QStringLiteral(" without a close frame") : QString())
                         .arg(echoedSoFar(connection)));
            }
        } else {
            fail(&m_result.socketErrors, QStringLiteral("connection %1: %2")
                                             .arg(index(connection))
                                             .arg(QString::fromLocal8Bit(std::strerror(errno))));
        }
        finishConnection(connection);
        return;
    }
}

void LoadGenerator::Runner::finishConnection(Connection &connection)
{
    closeConnection(connection);
    // Keep the load up: the next connection takes this one's place.
    const bool replace = !m_stopping && m_config.mode != LoadConfig::Mode::Hold;
    if (replace)
        connection.state = State::Idle;
}

// WebSocket: what goes out, in order: the upgrade request; then the data frame being
// written, if any; then pongs and the close frame; then the next message, one frame each.
void LoadGenerator::Runner::writeWebSocket(Connection &connection)
{
    WsConnection &w = ws(connection);
    const bool stream = m_config.mode == LoadConfig::Mode::Stream;
    while (connection.fd >= 0) {
        enum class What { Request, Frame, Control } what;
        const char *data = nullptr;
        qint64 size = 0;
        if (connection.state == State::Upgrading) {
            if (w.requestSent == w.request.size())
                break;
            what = What::Request;
            data = w.request.constData() + w.requestSent;
            size = w.request.size() - w.requestSent;
        } else if (w.inFrame) {
            what = What::Frame;
            char *out = m_writeBuffer.data();
            const int header = w.headerBytes - w.headerSent;
            std::memcpy(out, w.header + w.headerSent, size_t(header));
            const qint64 payload = std::min(m_chunkBytes, w.frameEnd - connection.sent);
            const qint64 offset = (connection.patternStart + connection.sent) % kPatternBytes;
            std::memcpy(out + header, m_pattern.data() + offset, size_t(payload));
            WsClientFraming::mask(out + header, payload, w.maskKey,
                                  quint64(connection.sent - w.frameStart));
            data = out;
            size = header + payload;
        } else if (w.controlSent < w.controlBytes) {
            what = What::Control;
            data = w.control + w.controlSent;
            size = w.controlBytes - w.controlSent;
        } else if (connection.sent < connection.target && !w.closeSent &&
                   !(stream && (m_stopping ||
                                connection.sent - connection.verified >= kStreamInFlightBytes))) {
            // The next message: one final binary frame (a message bigger than the in-flight
            // allowance still goes whole: the echo of a WebSocket message starts only
            // once all of it has arrived).
            const qint64 bytes =
                stream ? m_config.messageBytes : connection.target - connection.sent;
            w.maskKey = quint32(m_random());
            w.headerBytes = WsClientFraming::writeHeader(w.header, WsClientFraming::Binary, true,
                                                         quint64(bytes), w.maskKey);
            w.headerSent = 0;
            w.frameStart = connection.sent;
            w.frameEnd = connection.sent + bytes;
            w.inFrame = true;
            continue;
        } else {
            break;
        }
        const ssize_t n = ::send(connection.fd, data, size_t(size), kSendFlags);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                watch(connection, true);
                return;
            }
            fail(&m_result.socketErrors,
                 QStringLiteral("send: %1").arg(QString::fromLocal8Bit(std::strerror(errno))));
            finishConnection(connection);
            return;
        }
        switch (what) {
        case What::Request:
            w.requestSent += n;
            break;
        case What::Control:
            w.controlSent += int(n);
            if (w.controlSent == w.controlBytes)
                w.controlSent = w.controlBytes = 0;
            break;
        case What::Frame: {
            const int header = int(std::min<qint64>(n, w.headerBytes - w.headerSent));
            w.headerSent += header;
            const qint64 payload = n - header;
            connection.sent += payload;
            if (measuring())
                m_result.bytesSent += payload;
            if (connection.sent == w.frameEnd)
                w.inFrame = false;
            break;
        }
        }
        if (n < size) { // the socket's buffer is full
            watch(connection, true);
            return;
        }
    }
    watch(connection, false);
}

bool LoadGenerator::Runner::queueControl(Connection &connection, WsClientFraming::Opcode opcode,
                                         const char *payload, int size)
{
    WsConnection &w = ws(connection);
    if (w.controlBytes + WsClientFraming::kMaxControlFrameBytes > int(sizeof w.control)) {
        fail(&m_result.protocolErrors,
             QStringLiteral("connection %1: the server sent control frames faster than they could "
                            "be answered")
                 .arg(index(connection)));
        finishConnection(connection);
        return false;
    }
    w.controlBytes += WsClientFraming::writeControlFrame(w.control + w.controlBytes, opcode,
                                                         payload, size, quint32(m_random()));
    return true;
}

void LoadGenerator::Runner::receivedWebSocket(Connection &connection, const char *data, qint64 size)
{
    if (connection.state != State::Upgrading) {
        readFrames(connection, data, size);
        return;
    }
    // The answer to the upgrade: an HTTP header, maybe with frames right behind it.
    WsConnection &w = ws(connection);
    constexpr qint64 kMaxAnswerBytes = 8192;
    w.answer.insert(w.answer.end(), data, data + size);
    const qint64 have = qint64(w.answer.size());
    const qint64 headerBytes = WsClientFraming::responseHeaderBytes(w.answer.data(), have);
    QString problem;
    if (!WsClientFraming::couldBeHttp(w.answer.data(), have) || headerBytes > 0) {
        problem = WsClientFraming::checkUpgradeResponse(
            QByteArray(w.answer.data(), qsizetype(headerBytes > 0 ? headerBytes : have)), w.key);
    } else if (have > kMaxAnswerBytes) {
        problem = QStringLiteral("the answer to the WebSocket upgrade has no end of header in its "
                                 "first %1 bytes")
                      .arg(kMaxAnswerBytes);
    } else {
        return; // more to come
    }
    if (!problem.isEmpty()) {
        fail(&m_result.upgradeErrors,
             QStringLiteral("connection %1: %2").arg(index(connection)).arg(problem));
        finishConnection(connection);
        return;
    }
    std::vector<char> rest(w.answer.begin() + headerBytes, w.answer.end());
    w.answer = std::vector<char>();
    w.request = QByteArray();
    upgraded(connection);
    if (connection.fd >= 0 && !rest.empty())
        readFrames(connection, rest.data(), qint64(rest.size()));
}

// The server accepted the upgrade: the connection is open, and does what TCP's does at its
// connect.
void LoadGenerator::Runner::upgraded(Connection &connection)
{
    const qint64 now = nowNs();
    m_result.upgrade.add((now - ws(connection).upgradeStartNs) / 1000);
    --m_connectsInFlight;
    connection.state = State::Active;
    connection.lastProgressNs = now;
    ++m_result.connectionsOpened;
    watch(connection, false);
    if (m_config.mode == LoadConfig::Mode::Hold)
        return; // quiet until the probe (pings are still answered)
    if (m_config.mode == LoadConfig::Mode::Stream)
        connection.target = std::numeric_limits<qint64>::max();
    startMessage(connection);
}

// Server frames: each echo must be one binary message the size of the message sent, with
// the bytes sent; pings get their pong; a close is the end.
void LoadGenerator::Runner::readFrames(Connection &connection, const char *data, qint64 size)
{
    using Event = WsClientFraming::Reader::Event;
    WsConnection &w = ws(connection);
    const int id = index(connection);
    qint64 at = 0;
    for (;;) {
        Event event = Event::None;
        const char *payload = nullptr;
        qint64 payloadBytes = 0;
        at += w.reader.read(data + at, size - at, &event, &payload, &payloadBytes);
        switch (event) {
        case Event::None:
            break;
        case Event::Data:
            if (w.reader.messageOpcode() != WsClientFraming::Binary) {
                fail(&m_result.mismatches,
                     QStringLiteral("connection %1: the echo came back as a text message; a "
                                    "binary one was sent")
                         .arg(id));
                finishConnection(connection);
                return;
            }
            if (connection.verified + payloadBytes > w.echoStart + messageBytes(connection)) {
                fail(&m_result.mismatches,
                     QStringLiteral("connection %1: an echoed message is longer than the %2 "
                                    "bytes of the message sent")
                         .arg(id)
                         .arg(messageBytes(connection)));
                finishConnection(connection);
                return;
            }
            if (!verify(connection, payload, payloadBytes))
                return;
            continue;
        case Event::MessageEnd:
            if (connection.verified != w.echoStart + messageBytes(connection)) {
                fail(&m_result.mismatches,
                     QStringLiteral("connection %1: an echoed message has %2 bytes; the message "
                                    "sent had %3")
                         .arg(id)
                         .arg(connection.verified - w.echoStart)
                         .arg(messageBytes(connection)));
                finishConnection(connection);
                return;
            }
            w.echoStart = connection.verified;
            messageEchoed(connection);
            if (connection.fd < 0)
                return;
            continue;
        case Event::Ping:
            if (!queueControl(connection, WsClientFraming::Pong, w.reader.controlPayload(),
                              w.reader.controlPayloadBytes()))
                return;
            continue;
        case Event::Pong:
            continue; // unasked: allowed (RFC 6455 5.5.3), ignored
        case Event::Close: {
            const quint16 code = w.reader.closeCode();
            if (w.closeSent && !w.closeReceived &&
                (code == WsClientFraming::kCloseNormal ||
                 code == WsClientFraming::kCloseNoStatus)) {
                w.closeReceived = true; // now the server's EOF
                connection.lastProgressNs = nowNs();
                continue;
            }
            const QString reason = w.reader.closeReason();
            fail(w.closeSent ? &m_result.protocolErrors : &m_result.shortEchoes,
                 QStringLiteral("connection %1: the server closed the WebSocket (close %2%3) "
                                "after %4")
                     .arg(id)
                     .arg(code)
                     .arg(reason.isEmpty() ? QString() : QStringLiteral(" \"%1\"").arg(reason))
                     .arg(echoedSoFar(connection)));
            finishConnection(connection);
            return;
        }
        case Event::Error:
            fail(&m_result.protocolErrors,
                 QStringLiteral("connection %1: %2").arg(id).arg(w.reader.errorString()));
            finishConnection(connection);
            return;
        }
        break; // None: all read
    }
    if (w.controlBytes > w.controlSent || m_config.mode == LoadConfig::Mode::Stream)
        writeSome(connection);
}

void LoadGenerator::Runner::checkTimeouts(qint64 now)
{
    const qint64 limitNs = qint64(m_config.timeoutMs) * 1000000;
    for (Connection &connection : m_connections) {
        if (connection.fd < 0)
            continue;
        const bool closing = webSocket() ? ws(connection).closeSent : connection.halfClosed;
        const bool waiting = connection.state == State::Connecting ||
                             connection.state == State::Upgrading ||
                             connection.verified < connection.sent ||
                             (m_config.mode == LoadConfig::Mode::OneShot && closing);
        if (!waiting || now - connection.lastProgressNs < limitNs)
            continue;
        if (connection.state == State::Connecting) {
            fail(&m_result.connectErrors,
                 QStringLiteral("connect to %1 timed out")
                     .arg(TrafficEvent::endpoint(m_config.host, m_config.port)));
        } else if (connection.state == State::Upgrading) {
            fail(&m_result.upgradeErrors,
                 QStringLiteral("connection %1: no answer to the WebSocket upgrade within %2 ms "
                                "(%3 bytes of answer)")
                     .arg(index(connection))
                     .arg(m_config.timeoutMs)
                     .arg(ws(connection).answer.size()));
        } else if (webSocket() && ws(connection).closeSent &&
                   connection.verified == connection.sent) {
            fail(&m_result.timeouts,
                 QStringLiteral("connection %1: the server did not %2 within %3 ms of the close "
                                "frame")
                     .arg(index(connection))
                     .arg(ws(connection).closeReceived ? QStringLiteral("close the connection")
                                                       : QStringLiteral("answer the close frame"))
                     .arg(m_config.timeoutMs));
        } else {
            fail(&m_result.timeouts, QStringLiteral("connection %1: no echo for %2 ms (%3 of %4 "
                                                    "bytes back)")
                                         .arg(index(connection))
                                         .arg(m_config.timeoutMs)
                                         .arg(connection.verified)
                                         .arg(connection.sent));
        }
        finishConnection(connection);
    }
}

LoadResult LoadGenerator::Runner::run(const Progress &progress)
{
    if (!m_poll.isValid()) {
        fail(&m_result.socketErrors, m_poll.errorString());
        return m_result;
    }
    m_connections.resize(size_t(m_config.connections));
    const bool hold = m_config.mode == LoadConfig::Mode::Hold;
    const qint64 startNs = nowNs();
    const qint64 warmupEndNs = startNs + qint64(m_config.warmupMs) * 1000000;
    qint64 endNs = warmupEndNs + qint64(m_config.durationMs) * 1000000;
    qint64 nextProgressNs = warmupEndNs + 1000000000;
    qint64 nextTimeoutCheckNs = startNs + 100000000;
    bool allOpened = false;
    qint64 holdStartNs = 0;
    bool probing = false;

    for (;;) {
        qint64 now = nowNs();
        if (!measuring() && now >= warmupEndNs && !hold) {
            m_measureStartNs = now;
            // What the warm-up moved is not measured; its errors still count.
            m_result.bytesSent = m_result.bytesEchoed = m_result.roundTrips = 0;
            m_result.latency.reset();
            m_result.upgrade.reset();
            endNs = now + qint64(m_config.durationMs) * 1000000;
            nextProgressNs = now + 1000000000;
        }
        if (m_stop.load(std::memory_order_relaxed) || (!hold && now >= endNs))
            break;

        // Open connections that are due (all of them at the start; replacements later).
        if (!m_stopping && (!hold || !allOpened)) {
            bool pending = false;
            for (Connection &connection : m_connections) {
                if (connection.state != State::Idle)
                    continue;
                if (m_connectsInFlight >= kMaxConnectsInFlight) {
                    pending = true;
                    break;
                }
                if (!open(connection))
                    connection.state = hold ? State::Finished : State::Idle;
                if (connection.state == State::Idle) {
                    pending = true; // could not even create a socket: retry later
                    break;
                }
            }
            if (hold && !pending && m_connectsInFlight == 0) {
                allOpened = true;
                holdStartNs = now;
                m_measureStartNs = now;
            }
        }
        if (hold && allOpened && !probing &&
            (now - holdStartNs >= qint64(m_config.durationMs) * 1000000 ||
             m_stop.load(std::memory_order_relaxed))) {
            // Held long enough: each connection must still echo.
            probing = true;
            for (Connection &connection : m_connections) {
                if (connection.state == State::Active) {
                    connection.probing = true;
                    startMessage(connection);
                }
            }
        }
        if (hold && probing) {
            const bool done = std::none_of(m_connections.begin(), m_connections.end(),
                                           [](const Connection &c) { return c.fd >= 0; });
            if (done)
                break;
        }

        if (now >= nextTimeoutCheckNs) {
            checkTimeouts(now);
            nextTimeoutCheckNs = now + 100000000;
        }
        if (progress && measuring() && now >= nextProgressNs) {
            m_result.seconds = double(now - m_measureStartNs) / 1e9;
            progress(m_result);
            nextProgressNs += 1000000000;
        }

        const int count = m_poll.wait(50);
        if (count < 0)
            break;
        for (int i = 0; i < count; ++i) {
            const PollSet::Ready &ready = m_poll.ready(i);
            Connection &connection = m_connections[ready.tag];
            if (connection.fd < 0)
                continue;
            const quint32 flags = ready.events;
            if (connection.state == State::Connecting) {
                if (flags & (PollSet::Writable | PollSet::Error | PollSet::HangUp))
                    connected(connection);
                continue;
            }
            if (flags & (PollSet::Readable | PollSet::Error | PollSet::HangUp))
                readSome(connection);
            if (connection.fd >= 0 && (flags & PollSet::Writable))
                writeSome(connection);
        }
    }
    m_stopping = true;
    const qint64 end = nowNs();
    m_result.seconds = measuring() ? double(end - m_measureStartNs) / 1e9 : 0;
    if (hold) {
        // Connections that never got their probe echo back are not held.
        for (Connection &connection : m_connections)
            closeConnection(connection);
    }
    return m_result;
}

LoadResult LoadGenerator::run(const Progress &progress)
{
    Runner runner(m_config, m_stopRequested);
    return runner.run(progress);
}

#else

LoadResult LoadGenerator::run(const Progress &)
{
    LoadResult result;
    result.config = m_config;
    result.socketErrors = 1;
    result.firstError = QStringLiteral("the load generator needs a POSIX system");
    return result;
}

#endif

} // namespace Echoscope
