#pragma once

#include <QCoreApplication>
#include <QHostAddress>
#include <QJsonObject>
#include <QString>
#include <QtGlobal>

#include <array>
#include <atomic>
#include <functional>

namespace Echoscope {

// What `echoscope bench` runs against an echo server.
struct LoadConfig
{
    enum class Mode {
        PingPong, // N connections; each sends a message and waits for its whole echo
        Stream,   // N connections write continuously while reading the echo
        OneShot,  // connect, send, half-close, read the echo to EOF, close; N workers
        Hold,     // open N idle connections, hold them, then check each still echoes
    };

    enum class Protocol {
        Tcp,       // the bytes as they are
        WebSocket, // RFC 6455 over TCP: an upgrade per connection, then each message sent
                   // is one binary WebSocket message and must come back as one
    };

    QHostAddress host = QHostAddress(QHostAddress::LocalHost);
    quint16 port = 0;
    Protocol protocol = Protocol::Tcp;
    QString wsPath = QStringLiteral("/"); // WebSocket: the request's path (and query)
    Mode mode = Mode::PingPong;
    int connections = 1;
    qint64 messageBytes = 64; // PingPong and OneShot: per message; Stream: per write
    int durationMs = 5000;    // measured time (Hold: how long the connections are held)
    int warmupMs = 0;         // run before measuring; its counts are discarded
    int timeoutMs = 10000;    // an echo, a connect, or an EOF that takes longer is an error

    static bool parseMode(const QString &text, Mode *mode);
    static QString modeName(Mode mode);
    static bool parseProtocol(const QString &text, Protocol *protocol);
    static QString protocolName(Protocol protocol); // "tcp", "ws"
    // Starts with / and holds printable ASCII without spaces (what a request line can carry).
    static bool isValidWsPath(const QString &path);
    QString validate() const; // empty when valid, else a sentence naming the setting
};

// Latencies in microseconds, in buckets of about 3% width: bounded memory, percentiles
// good to a few percent.
class LatencyHistogram
{
public:
    void add(qint64 microseconds);
    void reset();
    qint64 count() const { return m_count; }
    qint64 maxMicroseconds() const { return m_max; }
    // The value below which `fraction` (0..1) of the samples lie; 0 when empty.
    qint64 percentile(double fraction) const;

private:
    static constexpr int kSubBuckets = 32; // per power of two
    static constexpr int kBuckets = 40 * kSubBuckets;
    static int bucketFor(qint64 microseconds);
    static qint64 bucketHigh(int bucket);
    std::array<qint64, kBuckets> m_counts{};
    qint64 m_count = 0;
    qint64 m_max = 0;
};

// What a run measured. Every byte echoed was compared with what was sent. Over WebSocket
// the bytes are message payload (frame headers and the upgrade are not counted).
struct LoadResult
{
    LoadConfig config;
    double seconds = 0; // measured time
    qint64 bytesSent = 0;
    qint64 bytesEchoed = 0; // received and verified
    // PingPong: messages echoed whole; OneShot: connections completed; Stream over
    // WebSocket: messages echoed whole (over TCP a stream has no messages: 0).
    qint64 roundTrips = 0;
    qint64 connectionsOpened = 0;
    qint64 held = 0;          // Hold: connections that were held and still echoed
    LatencyHistogram latency; // PingPong and OneShot
    LatencyHistogram upgrade; // WebSocket: from TCP connected to the server's 101 checked
    // Errors: any of them makes the run fail.
    qint64 mismatches = 0;    // an echoed byte differed from the byte sent
    qint64 shortEchoes = 0;   // the connection ended before the whole echo came back
    qint64 connectErrors = 0; // connect() failed or timed out
    qint64 socketErrors = 0;  // reset or another socket error mid-run
    qint64 timeouts = 0;      // an echo did not come back within timeoutMs
    // WebSocket: the upgrade was refused, answered wrongly or not within timeoutMs.
    qint64 upgradeErrors = 0;
    qint64 protocolErrors = 0; // WebSocket: a server frame broke a rule of RFC 6455
    QString firstError;        // a sentence describing the first error seen

    qint64 errors() const
    {
        return mismatches + shortEchoes + connectErrors + socketErrors + timeouts + upgradeErrors +
               protocolErrors;
    }
    double megabytesPerSecond() const; // echoed, 10^6 bytes per second
    double roundTripsPerSecond() const;
    QString summary() const; // one line
    QJsonObject toJson() const;
};

// A client load for any TCP or WebSocket echo server: non-blocking sockets on one event loop (epoll
// on Linux, poll() in the portable build; no thread per connection), random payloads from a fixed 1
// MiB pattern at a different offset per connection, and every echoed byte verified against what was
// sent (over WebSocket, also each echo's message boundaries and type; pings are answered). run()
// blocks the calling thread until the run ends or stop() is called.
class LoadGenerator
{
    Q_DECLARE_TR_FUNCTIONS(Echoscope::LoadGenerator) // the context lupdate gives it

public:
    using Progress = std::function<void(const LoadResult &soFar)>;

    explicit LoadGenerator(const LoadConfig &config);
    ~LoadGenerator();
    LoadGenerator(const LoadGenerator &) = delete;
    LoadGenerator &operator=(const LoadGenerator &) = delete;

    // Calls progress about once a second with the counts so far (measured time only).
    LoadResult run(const Progress &progress = {});
    // Thread-safe and async-signal-safe: ends run() early (its result covers the time
    // measured so far).
    void stop() { m_stopRequested.store(true, std::memory_order_relaxed); }

private:
    class Runner;
    LoadConfig m_config;
    std::atomic<bool> m_stopRequested{false};
};

} // namespace Echoscope
