#include "loadgeneratorrunner_p.h"

#include "nativesocket.h"
#include "trafficevent.h"

#include <QRandomGenerator>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

namespace Echoscope {

using namespace LoadGeneratorDetail;

// kPatternBytes of random bytes, followed by a copy of its first kMaxChunkBytes, so any
// slice of up to kMaxChunkBytes at any offset below kPatternBytes is contiguous.
const std::vector<char> &LoadGeneratorDetail::pattern()
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

LoadGenerator::Runner::Runner(const LoadConfig &config, const std::atomic<bool> &stop)
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

LoadGenerator::Runner::~Runner()
{
    for (Connection &connection : m_connections)
        closeConnection(connection);
}

bool LoadGenerator::Runner::open(Connection &connection)
{
    const bool v6 = m_config.host.protocol() == QAbstractSocket::IPv6Protocol;
    const int fd = int(NativeSocket::openTcpSocket(m_config.host.protocol()));
    if (fd < 0) {
        fail(&m_result.connectErrors,
             LoadGenerator::tr("socket(): %1").arg(QString::fromLocal8Bit(std::strerror(errno))));
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
        fail(&m_result.connectErrors, LoadGenerator::tr("connect to %1: %2")
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
        fail(&m_result.connectErrors, LoadGenerator::tr("connect to %1: %2")
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
            const int error = errno;
            verifyArrived(connection); // a wrong echo is the first error, not the reset after it
            if (connection.fd < 0)
                return;
            fail(&m_result.socketErrors,
                 LoadGenerator::tr("send: %1").arg(QString::fromLocal8Bit(std::strerror(error))));
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

// A send that fails because the server reset the connection can leave the server's last
// echo unread in the socket (Linux keeps the receive queue after a reset): verify those
// bytes first, so that a server that corrupts an echo and then closes is reported for the
// wrong byte rather than for the reset that followed it, whichever of the two the poll saw
// first. Only verifies; the reply to the echo (the next message) is not sent.
void LoadGenerator::Runner::verifyArrived(Connection &connection)
{
    if (webSocket())
        return; // frames need readSome's parser; the reset is the error there
    const qint64 capacity = qint64(m_readBuffer.size());
    while (connection.fd >= 0) {
        const ssize_t n =
            ::recv(connection.fd, m_readBuffer.data(), size_t(capacity), MSG_DONTWAIT);
        if (n <= 0 || !verify(connection, m_readBuffer.data(), n))
            return;
    }
}

bool LoadGenerator::Runner::verify(Connection &connection, const char *data, qint64 size)
{
    if (connection.verified + size > connection.sent) {
        fail(&m_result.mismatches,
             LoadGenerator::tr("connection %1 received %2 bytes more than it sent")
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
             LoadGenerator::tr("connection %1: echoed byte %2 differs from the byte sent")
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
        queueControl(connection, WsFrameHeader::Close, code, 2);
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
                fail(
                    &m_result.upgradeErrors,
                    LoadGenerator::tr("connection %1 was closed by the server during the WebSocket "
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
                     LoadGenerator::tr("connection %1 was closed by the server%2 after %3")
                         .arg(index(connection))
                         .arg(webSocket() ? LoadGenerator::tr(" without a close frame") : QString())
                         .arg(echoedSoFar(connection)));
            }
        } else {
            fail(&m_result.socketErrors, LoadGenerator::tr("connection %1: %2")
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
        const bool closing = webSocket() ? ws(connection).closeSent : connection.halfClosed;
        const bool waiting = connection.state == State::Connecting ||
                             connection.state == State::Upgrading ||
                             connection.verified < connection.sent ||
                             (m_config.mode == LoadConfig::Mode::OneShot && closing);
        if (!waiting || now - connection.lastProgressNs < limitNs)
            continue;
        if (connection.state == State::Connecting) {
            fail(&m_result.connectErrors,
                 LoadGenerator::tr("connect to %1 timed out")
                     .arg(TrafficEvent::endpoint(m_config.host, m_config.port)));
        } else if (connection.state == State::Upgrading) {
            fail(&m_result.upgradeErrors,
                 LoadGenerator::tr("connection %1: no answer to the WebSocket upgrade within %2 ms "
                                   "(%3 bytes of answer)")
                     .arg(index(connection))
                     .arg(m_config.timeoutMs)
                     .arg(ws(connection).answer.size()));
        } else if (webSocket() && ws(connection).closeSent &&
                   connection.verified == connection.sent) {
            fail(&m_result.timeouts,
                 LoadGenerator::tr("connection %1: the server did not %2 within %3 ms of the close "
                                   "frame")
                     .arg(index(connection))
                     .arg(ws(connection).closeReceived
                              ? LoadGenerator::tr("close the connection")
                              : LoadGenerator::tr("answer the close frame"))
                     .arg(m_config.timeoutMs));
        } else {
            fail(&m_result.timeouts, LoadGenerator::tr("connection %1: no echo for %2 ms (%3 of %4 "
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

} // namespace Echoscope
