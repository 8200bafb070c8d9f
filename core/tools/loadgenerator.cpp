#include "loadgenerator.h"

#include "nativesocket.h"
#include "pollset.h"
#include "trafficevent.h"

#include <QJsonObject>

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

QString LoadConfig::validate() const
{
    if (port == 0)
        return QStringLiteral("the port must be given (1 to 65535)");
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
    QString line = QStringLiteral("%1 %2 B x %3 connections, %4 s: ")
                       .arg(LoadConfig::modeName(config.mode))
                       .arg(config.messageBytes)
                       .arg(config.connections)
                       .arg(seconds, 0, 'f', 2);
    switch (config.mode) {
    case LoadConfig::Mode::PingPong:
        line += QStringLiteral("%1 requests/s, %2 MB/s echoed, latency p50 %3 us, p99 %4 us, "
                               "max %5 us")
                    .arg(roundTripsPerSecond(), 0, 'f', 0)
                    .arg(megabytesPerSecond(), 0, 'f', 2)
                    .arg(latency.percentile(0.5))
                    .arg(latency.percentile(0.99))
                    .arg(latency.maxMicroseconds());
        break;
    case LoadConfig::Mode::Stream:
        line += QStringLiteral("%1 MB/s echoed").arg(megabytesPerSecond(), 0, 'f', 2);
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
    line += QStringLiteral("; %1 errors").arg(errors());
    if (errors() > 0)
        line += QStringLiteral(" (%1 mismatched, %2 short echoes, %3 connect, %4 socket, %5 "
                               "timeouts; first: %6)")
                    .arg(mismatches)
                    .arg(shortEchoes)
                    .arg(connectErrors)
                    .arg(socketErrors)
                    .arg(timeouts)
                    .arg(firstError);
    return line;
}

QJsonObject LoadResult::toJson() const
{
    QJsonObject object;
    object.insert(QStringLiteral("mode"), LoadConfig::modeName(config.mode));
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
    object.insert(QStringLiteral("errors"), errors());
    object.insert(QStringLiteral("mismatches"), mismatches);
    object.insert(QStringLiteral("short_echoes"), shortEchoes);
    object.insert(QStringLiteral("connect_errors"), connectErrors);
    object.insert(QStringLiteral("socket_errors"), socketErrors);
    object.insert(QStringLiteral("timeouts"), timeouts);
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
    }
    ~Runner()
    {
        for (Connection &connection : m_connections)
            closeConnection(connection);
    }

    LoadResult run(const Progress &progress);

private:
    enum class State { Idle, Connecting, Active, Finished };
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
    ++m_connectsInFlight;
    m_poll.add(fd, quint32(index(connection)), PollSet::Writable);
    connection.writeWanted = true;
    return true;
}

void LoadGenerator::Runner::closeConnection(Connection &connection)
{
    if (connection.fd < 0)
        return;
    if (connection.state == State::Connecting)
        --m_connectsInFlight;
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
    connection.state = State::Active;
    ++m_result.connectionsOpened;
    connection.writeWanted = true; // registered with Writable only: switch to the full set
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

void LoadGenerator::Runner::received(Connection &connection, const char *data, qint64 size)
{
    if (connection.verified + size > connection.sent) {
        fail(&m_result.mismatches,
             QStringLiteral("connection %1 received %2 bytes more than it sent")
                 .arg(index(connection))
                 .arg(connection.verified + size - connection.sent));
        finishConnection(connection);
        return;
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
        return;
    }
    connection.verified += size;
    connection.lastProgressNs = nowNs();
    if (measuring())
        m_result.bytesEchoed += size;
    if (m_config.mode == LoadConfig::Mode::Stream) {
        writeSome(connection);
        return;
    }
    if (connection.verified < connection.target)
        return;
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
    }
    // OneShot: the whole echo is here; the round trip ends at the server's EOF.
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
            if (m_config.mode == LoadConfig::Mode::OneShot && connection.halfClosed &&
                connection.verified == connection.target) {
                if (measuring()) {
                    ++m_result.roundTrips;
                    m_result.latency.add((nowNs() - connection.startedNs) / 1000);
                }
                finishConnection(connection);
                return;
            }
            fail(&m_result.shortEchoes,
                 QStringLiteral("connection %1 was closed by the server after %2 of %3 bytes "
                                "echoed")
                     .arg(index(connection))
                     .arg(connection.verified)
                     .arg(connection.sent));
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

void LoadGenerator::Runner::checkTimeouts(qint64 now)
{
    const qint64 limitNs = qint64(m_config.timeoutMs) * 1000000;
    for (Connection &connection : m_connections) {
        if (connection.fd < 0)
            continue;
        const bool waiting = connection.state == State::Connecting ||
                             connection.verified < connection.sent ||
                             (m_config.mode == LoadConfig::Mode::OneShot && connection.halfClosed);
        if (!waiting || now - connection.lastProgressNs < limitNs)
            continue;
        if (connection.state == State::Connecting) {
            fail(&m_result.connectErrors,
                 QStringLiteral("connect to %1 timed out")
                     .arg(TrafficEvent::endpoint(m_config.host, m_config.port)));
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
