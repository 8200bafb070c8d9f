#pragma once

// LoadGenerator's run, private to core/tools: the Runner class, shared by
// loadgeneratorrunner.cpp (the loop, connections, TCP) and loadgeneratorrunner_ws.cpp
// (WebSocket). POSIX only: the connections are POSIX sockets; their event loop is a
// PollSet, whose backend (epoll on Linux, poll() in the portable build and on other POSIX
// systems) CMake picks in core/net.

#include "loadgenerator.h"

#include "pollset.h"
#include "wsclientframing.h"

#include <QByteArray>

#include <chrono>
#include <random>
#include <vector>

#include <sys/socket.h>

namespace Echoscope {

namespace LoadGeneratorDetail {

inline constexpr qint64 kPatternBytes = 1024 * 1024;
inline constexpr qint64 kMaxChunkBytes = 256 * 1024;        // one write() or read() at most
inline constexpr qint64 kStreamInFlightBytes = 1024 * 1024; // stream: sent but not yet echoed
inline constexpr qint64 kHoldProbeBytes = 16;
inline constexpr int kMaxConnectsInFlight = 256; // so a big hold does not overflow the backlog
#if defined(MSG_NOSIGNAL)
// Elsewhere NativeSocket::prepare() sets SO_NOSIGPIPE.
inline constexpr int kSendFlags = MSG_NOSIGNAL;
#else
inline constexpr int kSendFlags = 0;
#endif

inline qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// kPatternBytes of random bytes, followed by a copy of its first kMaxChunkBytes, so any
// slice of up to kMaxChunkBytes at any offset below kPatternBytes is contiguous.
const std::vector<char> &pattern();

} // namespace LoadGeneratorDetail

// One run: the connections, the poll set and the counts.
class LoadGenerator::Runner
{
public:
    Runner(const LoadConfig &config, const std::atomic<bool> &stop);
    ~Runner();

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
    void verifyArrived(Connection &connection);
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
        return connection.probing ? LoadGeneratorDetail::kHoldProbeBytes : m_config.messageBytes;
    }
    QString echoedSoFar(const Connection &connection) const
    {
        return LoadGenerator::tr("%1 of %2 bytes echoed")
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

} // namespace Echoscope
