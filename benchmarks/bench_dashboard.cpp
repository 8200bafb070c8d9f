// The dashboard's responsiveness under load: echo throughput with the dashboard open
// against headless, the UI event loop's lag measured by a probe timer, and memory over
// a long run of events. See benchmarks/README.md for the command and how to read it.
//
// One binary, two roles:
//   bench_dashboard [options]          the scenarios: server (and window) in this process
//   bench_dashboard --load PORT CONNECTIONS SIZE SECONDS [stream|pingpong|churn]
//                                      the load generator, run as a child process
//                                      (epoll, non-blocking sockets, no Qt) so client
//                                      and server do not share an event loop

#include "clientinspector.h"
#include "clienttablemodel.h"
#include "dashboardsettings.h"
#include "echoserver.h"
#include "eventlog.h"
#include "eventlogmodel.h"
#include "eventlogpanel.h"
#include "mainwindow.h"
#include "serverconfig.h"
#include "trafficmonitor.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QGuiApplication>
#include <QItemSelectionModel>
#include <QMetaEnum>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSettings>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextStream>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace Echoscope {

namespace {

// ---------------------------------------------------------------------------------------
// The load generator (child process role). Plain POSIX: no Qt, no thread per connection.
// ---------------------------------------------------------------------------------------

enum class LoadMode { Stream, PingPong, Churn };

// Bytes written but not yet echoed back, per stream connection: keeps the pipe full
// without ever deadlocking against the server's own high-water mark.
constexpr uint64_t kMaxInFlightBytes = 256 * 1024;
// Churn mode: the persistent line senders keep this much in flight.
constexpr uint64_t kMaxLinesInFlightBytes = 16 * 1024;
// Churn mode: a churning connection sends this many lines, reads their echo and closes.
constexpr uint64_t kChurnLines = 5;
// Every connection sends the same endless stream: a random pattern repeated, each
// connection starting at its own offset. The pattern is longer than anything a
// connection can have in flight, so the bytes sent but not yet verified are the window
// [verified, sent) of it (a ring of them without copies) and any lost, duplicated or
// reordered byte fails the comparison.
constexpr size_t kPatternBytes = 1024 * 1024 + 4093;

struct LoadConnection
{
    int fd = -1;
    uint32_t generation = 0; // tells a closed socket's stale epoll events apart
    bool connecting = false;
    bool churns = false;     // churn mode: reconnects after kChurnLines lines
    bool wantsWrite = false; // EPOLLOUT registered
    uint64_t start = 0;      // where in the pattern this connection's stream starts
    uint64_t sent = 0;       // bytes of the stream written
    uint64_t verified = 0;   // bytes of the stream echoed and compared
    uint64_t target = 0;     // pingpong and churners: write up to here, then wait
};

class LoadGenerator
{
public:
    LoadGenerator(uint16_t port, int connections, uint64_t size, LoadMode mode)
        : m_port(port), m_size(size), m_mode(mode), m_connections(size_t(connections))
    {
        makePattern();
    }
    ~LoadGenerator()
    {
        for (LoadConnection &c : m_connections)
            closeConnection(c);
        if (m_epoll >= 0)
            ::close(m_epoll);
    }

    int run(double seconds);

private:
    void makePattern();
    bool openConnection(size_t index);
    void closeConnection(LoadConnection &c);
    void fail(LoadConnection &c, const char *what, int error);
    void handle(size_t index, uint32_t events);
    bool finishConnect(size_t index);
    bool readSome(size_t index);
    bool writeSome(LoadConnection &c, bool *blocked);
    uint64_t writeLimit(const LoadConnection &c) const;
    void updateInterest(size_t index, bool wantsWrite);
    void epollSet(size_t index, int op, uint32_t events);

    uint16_t m_port;
    uint64_t m_size;
    LoadMode m_mode;
    std::vector<LoadConnection> m_connections;
    std::vector<char> m_pattern;
    std::vector<size_t> m_reconnect; // connections to open again at the next turn
    uint64_t m_seed = 0x9e3779b97f4a7c15ULL;
    int m_epoll = -1;

    uint64_t m_bytesEchoed = 0;
    uint64_t m_roundTrips = 0;
    uint64_t m_connects = 0;
    uint64_t m_connectRetries = 0;
    uint64_t m_mismatches = 0;
    uint64_t m_errors = 0;
    bool m_reportedError = false;
};

uint64_t nextRandom(uint64_t *state)
{
    // xorshift64*: plenty for test data.
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

void LoadGenerator::makePattern()
{
    if (m_mode == LoadMode::Churn) {
        // Lines of m_size bytes (the last one '\n'), printable, so line framing sees
        // exactly one message per line; the pattern holds whole lines.
        static const char kAlphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const size_t lines = std::max<size_t>(1, kPatternBytes / m_size);
        m_pattern.resize(lines * m_size);
        for (size_t i = 0; i < m_pattern.size(); ++i) {
            m_pattern[i] = (i % m_size == m_size - 1) ? '\n' : kAlphabet[nextRandom(&m_seed) & 63];
        }
        return;
    }
    m_pattern.resize(kPatternBytes);
    for (size_t i = 0; i < m_pattern.size(); i += 8) {
        const uint64_t r = nextRandom(&m_seed);
        std::memcpy(m_pattern.data() + i, &r, std::min<size_t>(8, m_pattern.size() - i));
    }
}

void LoadGenerator::epollSet(size_t index, int op, uint32_t events)
{
    epoll_event event{};
    event.events = events;
    event.data.u64 = (uint64_t(m_connections[index].generation) << 32) | index;
    if (::epoll_ctl(m_epoll, op, m_connections[index].fd, &event) != 0)
        std::fprintf(stderr, "load: epoll_ctl: %s\n", std::strerror(errno));
}

void LoadGenerator::updateInterest(size_t index, bool wantsWrite)
{
    LoadConnection &c = m_connections[index];
    if (c.wantsWrite == wantsWrite)
        return;
    c.wantsWrite = wantsWrite;
    epollSet(index, EPOLL_CTL_MOD, EPOLLIN | (wantsWrite ? uint32_t(EPOLLOUT) : 0u));
}

bool LoadGenerator::openConnection(size_t index)
{
    LoadConnection &c = m_connections[index];
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        fail(c, "socket", errno);
        return false;
    }
    const int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(m_port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ++c.generation;
    c.connecting = true;
    c.wantsWrite = true;
    c.sent = 0;
    c.verified = 0;
    c.target = 0;
    // Each connection (and each reconnection) starts somewhere else in the pattern;
    // line mode starts on a line boundary.
    const uint64_t lines = m_pattern.size() / m_size;
    c.start = m_mode == LoadMode::Churn ? (nextRandom(&m_seed) % lines) * m_size
                                        : nextRandom(&m_seed) % m_pattern.size();
    if (::connect(c.fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0 &&
        errno != EINPROGRESS) {
        const int error = errno;
        ::close(c.fd);
        c.fd = -1;
        if (error == EADDRNOTAVAIL || error == EAGAIN) {
            // Out of ephemeral ports (churn): not the server's fault; try again soon.
            ++m_connectRetries;
            m_reconnect.push_back(index);
            return true;
        }
        fail(c, "connect", error);
        return false;
    }
    epollSet(index, EPOLL_CTL_ADD, EPOLLOUT);
    return true;
}

void LoadGenerator::closeConnection(LoadConnection &c)
{
    if (c.fd >= 0) {
        ::close(c.fd); // also leaves the epoll set
        c.fd = -1;
    }
    c.connecting = false;
}

void LoadGenerator::fail(LoadConnection &c, const char *what, int error)
{
    ++m_errors;
    if (!m_reportedError) { // the first one says what went wrong; the count says the rest
        m_reportedError = true;
        std::fprintf(stderr, "load: %s: %s\n", what, error != 0 ? std::strerror(error) : "");
    }
    closeConnection(c);
}

uint64_t LoadGenerator::writeLimit(const LoadConnection &c) const
{
    if (m_mode == LoadMode::PingPong || c.churns)
        return c.target;
    // Stream (and churn mode's persistent senders): size-byte chunks, each written whole,
    // a new one only while the bytes in flight stay within the bound.
    const uint64_t cap = m_mode == LoadMode::Churn ? kMaxLinesInFlightBytes : kMaxInFlightBytes;
    if (c.sent % m_size != 0)
        return (c.sent / m_size + 1) * m_size;
    if (c.sent + m_size <= c.verified + std::max(cap, m_size))
        return c.sent + m_size;
    return c.sent;
}

bool LoadGenerator::writeSome(LoadConnection &c, bool *blocked)
{
    *blocked = false;
    for (;;) {
        const uint64_t limit = writeLimit(c);
        if (c.sent >= limit)
            return true;
        const size_t position = size_t((c.start + c.sent) % m_pattern.size());
        const size_t length =
            size_t(std::min<uint64_t>(limit - c.sent, m_pattern.size() - position));
        const ssize_t written = ::send(c.fd, m_pattern.data() + position, length, MSG_NOSIGNAL);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                *blocked = true;
                return true;
            }
            fail(c, "send", errno);
            return false;
        }
        c.sent += uint64_t(written);
    }
}

bool LoadGenerator::finishConnect(size_t index)
{
    LoadConnection &c = m_connections[index];
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
        fail(c, "connect", error);
        return false;
    }
    c.connecting = false;
    ++m_connects;
    if (m_mode == LoadMode::PingPong)
        c.target = m_size;
    else if (c.churns)
        c.target = kChurnLines * m_size;
    bool blocked = false;
    if (!writeSome(c, &blocked))
        return false;
    c.wantsWrite = blocked; // it was registered for EPOLLOUT alone while connecting
    epollSet(index, EPOLL_CTL_MOD, EPOLLIN | (blocked ? uint32_t(EPOLLOUT) : 0u));
    return true;
}

bool LoadGenerator::readSome(size_t index)
{
    LoadConnection &c = m_connections[index];
    char buffer[64 * 1024];
    for (;;) {
        const ssize_t received = ::recv(c.fd, buffer, sizeof buffer, 0);
        if (received < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            fail(c, "recv", errno);
            return false;
        }
        if (received == 0) {
            fail(c, "recv: the server closed the connection", 0);
            return false;
        }
        const uint64_t count = uint64_t(received);
        if (c.verified + count > c.sent) {
            ++m_mismatches;
            fail(c, "echo: more bytes came back than were sent", 0);
            return false;
        }
        // Compare against the pattern, which may wrap inside this read.
        uint64_t done = 0;
        while (done < count) {
            const size_t position = size_t((c.start + c.verified + done) % m_pattern.size());
            const size_t length =
                size_t(std::min<uint64_t>(count - done, m_pattern.size() - position));
            if (std::memcmp(buffer + done, m_pattern.data() + position, length) != 0) {
                ++m_mismatches;
                fail(c, "echo: a byte differs from the one sent", 0);
                return false;
            }
            done += length;
        }
        const uint64_t before = c.verified;
        c.verified += count;
        m_bytesEchoed += count;
        if (m_mode == LoadMode::PingPong) {
            if (c.verified == c.target) {
                ++m_roundTrips;
                c.target += m_size;
            }
        } else {
            m_roundTrips += c.verified / m_size - before / m_size; // chunks or lines echoed
        }
        if (c.churns && c.verified == c.target) {
            closeConnection(c);
            return openConnection(index);
        }
    }
    bool blocked = false;
    if (!writeSome(c, &blocked))
        return false;
    updateInterest(index, blocked);
    return true;
}

void LoadGenerator::handle(size_t index, uint32_t events)
{
    LoadConnection &c = m_connections[index];
    if (c.fd < 0)
        return;
    if (c.connecting) {
        finishConnect(index);
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        if (!readSome(index))
            return;
    } else if (events & EPOLLOUT) {
        bool blocked = false;
        if (!writeSome(c, &blocked))
            return;
        updateInterest(index, blocked);
    }
}

int LoadGenerator::run(double seconds)
{
    using Clock = std::chrono::steady_clock;
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    if (m_epoll < 0) {
        std::perror("load: epoll_create1");
        return 2;
    }
    const Clock::time_point begin = Clock::now();
    const Clock::time_point end =
        begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    for (size_t i = 0; i < m_connections.size(); ++i) {
        // Churn mode: half the connections stay and stream lines, half churn.
        m_connections[i].churns = m_mode == LoadMode::Churn && i % 2 == 1;
        openConnection(i);
    }

    std::vector<epoll_event> events(1024);
    for (;;) {
        const Clock::time_point now = Clock::now();
        if (now >= end)
            break;
        if (!m_reconnect.empty()) {
            std::vector<size_t> again;
            again.swap(m_reconnect);
            for (size_t index : again)
                openConnection(index);
        }
        const auto remainingMs =
            std::chrono::duration_cast<std::chrono::milliseconds>(end - now).count();
        const int timeoutMs = m_reconnect.empty() ? int(std::min<long long>(remainingMs, 100)) : 1;
        const int ready = ::epoll_wait(m_epoll, events.data(), int(events.size()), timeoutMs);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            std::perror("load: epoll_wait");
            return 2;
        }
        for (int i = 0; i < ready; ++i) {
            const size_t index = size_t(events[size_t(i)].data.u64 & 0xffffffffu);
            const auto generation = uint32_t(events[size_t(i)].data.u64 >> 32);
            if (index < m_connections.size() && m_connections[index].generation == generation)
                handle(index, events[size_t(i)].events);
        }
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();

    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const double cpuSeconds = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                              double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    std::printf("{\"bytes_echoed\":%" PRIu64 ",\"seconds\":%.3f,\"mb_per_s\":%.2f,"
                "\"round_trips\":%" PRIu64 ",\"connects\":%" PRIu64 ",\"connect_retries\":%" PRIu64
                ",\"mismatches\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"cpu_seconds\":%.2f}\n",
                m_bytesEchoed, elapsed, double(m_bytesEchoed) / elapsed / 1e6, m_roundTrips,
                m_connects, m_connectRetries, m_mismatches, m_errors, cpuSeconds);
    std::fflush(stdout);
    return m_errors == 0 ? 0 : 1;
}

int runLoad(int argc, char **argv)
{
    if (argc < 6) {
        std::fprintf(stderr,
                     "usage: %s --load PORT CONNECTIONS SIZE SECONDS [stream|pingpong|churn]\n",
                     argv[0]);
        return 2;
    }
    const long port = std::strtol(argv[2], nullptr, 10);
    const long connections = std::strtol(argv[3], nullptr, 10);
    const long long size = std::strtoll(argv[4], nullptr, 10);
    const double seconds = std::strtod(argv[5], nullptr);
    const char *modeName = argc > 6 ? argv[6] : "stream";
    LoadMode mode = LoadMode::Stream;
    if (std::strcmp(modeName, "pingpong") == 0) {
        mode = LoadMode::PingPong;
    } else if (std::strcmp(modeName, "churn") == 0) {
        mode = LoadMode::Churn;
    } else if (std::strcmp(modeName, "stream") != 0) {
        std::fprintf(stderr, "load: unknown mode %s\n", modeName);
        return 2;
    }
    if (port < 1 || port > 65535 || connections < 1 || connections > 100000 || size < 2 ||
        size > 64 * 1024 * 1024 || !(seconds > 0)) {
        std::fprintf(stderr, "load: bad arguments\n");
        return 2;
    }
    LoadGenerator generator(uint16_t(port), int(connections), uint64_t(size), mode);
    return generator.run(seconds);
}

// ---------------------------------------------------------------------------------------
// The scenarios (parent role): server, optional dashboard and the probe in this process.
// ---------------------------------------------------------------------------------------

constexpr int kProbeIntervalMs = 10;
constexpr int kChildGraceSeconds = 20; // past the load's own duration, then it is killed
constexpr int kMemorySampleIntervalMs = 5000;

struct Scenario
{
    const char *name;
    const char *label;
    const char *loadMode;
    int connections;
    int messageBytes;
    FramingMode framing;
    bool samplesMemory; // RSS and event counts every kMemorySampleIntervalMs
};

const Scenario kStream = {"stream",  "stream 16 KiB x 50", "stream", 50,
                          16 * 1024, FramingMode::Stream,  false};
const Scenario kPingPong = {"pingpong", "pingpong 1 KiB x 100", "pingpong", 100,
                            1024,       FramingMode::Stream,    false};
const Scenario kChurn = {
    "churn", "churn+messages, line 32 B x 200", "churn", 200, 32, FramingMode::Line, true};

struct Options
{
    int seconds = 10;
    int churnSeconds = 120;
    int threads = 0; // the server's default (ServerConfig::effectiveThreads())
    // Every client's capture in both modes, as --capture-bytes and Preferences set it;
    // -1: each mode's own default (headless nothing, the dashboard's DashboardSettings).
    qint64 captureBytes = -1;
    // Every client's message events per second in both modes, as Preferences' message rows
    // and headless --verbose set it; -1: each mode's own (headless 0, the dashboard's
    // DashboardSettings).
    int messageEvents = -1;
    int repeats = 2;
    QString scenario; // empty: all
    bool json = false;
    bool eventStats = false;
    bool smoke = false; // correctness only: the exit status ignores the performance targets
};

// The worker threads the server runs for these options (0: its own default).
int workerThreads(const Options &options)
{
    ServerConfig config;
    config.threads = options.threads;
    return config.effectiveThreads();
}

struct LagStats
{
    int samples = 0;
    double p50Ms = 0;
    double p99Ms = 0;
    double maxMs = 0;
};

struct LoadResult
{
    bool ok = false;
    QString error;
    qint64 bytesEchoed = 0;
    double seconds = 0;
    double mbPerSecond = 0;
    qint64 roundTrips = 0;
    qint64 connects = 0;
    qint64 connectRetries = 0;
    qint64 mismatches = 0;
    qint64 errors = 0;
    double cpuSeconds = 0;
};

struct MemorySample
{
    double atSeconds = 0;
    qint64 rssKiB = 0;
    qint64 events = 0;
    int logRows = 0;
    int tableRows = 0;
};

double threadCpuSeconds();

// What the UI thread spent delivering one kind of event (outermost deliveries only, so
// nested ones count in their parent's time).
struct EventCost
{
    qint64 count = 0;
    double wallMs = 0;
    double cpuMs = 0; // this thread's CPU time: wall minus cpu is time it was preempted
    double maxWallMs = 0;
    qint64 over20Ms = 0; // deliveries that took 20 ms or more of wall time

    void add(const EventCost &other)
    {
        count += other.count;
        wallMs += other.wallMs;
        cpuMs += other.cpuMs;
        maxWallMs = std::max(maxWallMs, other.maxWallMs);
        over20Ms += other.over20Ms;
    }
};

using EventCosts = std::map<QString, EventCost>; // "ReceiverClass/EventType"

// The application, timing every event its UI thread delivers while asked to
// (--event-stats), by receiver class and event type: where a slow dashboard's time goes.
class TimedApplication : public QApplication
{
public:
    TimedApplication(int &argc, char **argv) : QApplication(argc, argv) {}

    // Call it from outside any event delivery (nesting is counted from then on).
    void setTiming(bool timing) { m_timing = timing; }
    EventCosts takeCosts()
    {
        EventCosts costs;
        costs.swap(m_costs);
        return costs;
    }

    bool notify(QObject *receiver, QEvent *event) override
    {
        // Worker threads deliver events too: they are neither timed nor counted in
        // m_depth, which only the UI thread touches.
        if (!m_timing || QThread::currentThread() != thread())
            return QApplication::notify(receiver, event);
        if (m_depth > 0 && event->type() != QEvent::Paint) {
            ++m_depth;
            const bool result = QApplication::notify(receiver, event);
            --m_depth;
            return result;
        }
        // Paint events are delivered one widget after another inside the window's
        // UpdateRequest: timed too, as "paint <class>", they say which widget costs what.
        const bool nestedPaint = m_depth > 0;
        // Read before delivery: the receiver may be deleted by it.
        const QString key =
            nestedPaint
                ? QLatin1String("  paint ") + QLatin1String(receiver->metaObject()->className()) +
                      (receiver->parent()
                           ? QLatin1String(" in ") +
                                 QLatin1String(receiver->parent()->metaObject()->className())
                           : QString())
                : QLatin1String(receiver->metaObject()->className()) + QLatin1Char('/') +
                      QLatin1String(
                          QMetaEnum::fromType<QEvent::Type>().valueToKey(int(event->type())));
        QElapsedTimer wall;
        wall.start();
        const double cpuBefore = threadCpuSeconds();
        ++m_depth;
        const bool result = QApplication::notify(receiver, event);
        --m_depth;
        const double wallMs = double(wall.nsecsElapsed()) / 1e6;
        EventCost &cost = m_costs[key];
        ++cost.count;
        cost.wallMs += wallMs;
        cost.cpuMs += (threadCpuSeconds() - cpuBefore) * 1000.0;
        cost.maxWallMs = std::max(cost.maxWallMs, wallMs);
        if (wallMs >= 20)
            ++cost.over20Ms;
        return result;
    }

private:
    EventCosts m_costs;
    int m_depth = 0;
    bool m_timing = false;
};

struct RunResult
{
    bool dashboard = false;
    LoadResult load;
    LagStats lag;
    double processCpuSeconds = 0; // server threads + UI thread
    double uiThreadCpuSeconds = 0;
    qint64 rssBeforeKiB = 0;
    qint64 rssAfterKiB = 0;
    bool inspected = false; // a client was selected and shown in the inspector
    EventCosts eventCosts;  // --event-stats
    QString loadAverage;    // the machine's, at the end of the run
    // churn only
    std::vector<MemorySample> memory;
    qint64 events = 0;
    int logCapacity = 0;
    int maxLogRows = 0;
    int maxTableRows = 0;
};

// The 1-minute load average: other work on the machine skews every figure here.
QString loadAverage()
{
    QFile file(QStringLiteral("/proc/loadavg"));
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("?");
    return QString::fromLatin1(file.readAll().split(' ').value(0));
}

qint64 residentKiB()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    const QList<QByteArray> lines = status.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

double processCpuSeconds()
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double threadCpuSeconds()
{
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return double(now.tv_sec) + double(now.tv_nsec) / 1e9;
}

void runEventLoopFor(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

// A timer in the UI thread that should fire every kProbeIntervalMs; how late each
// firing is (actual interval minus the nominal one) is how long the event loop was
// busy with something else.
class LagProbe
{
public:
    LagProbe()
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(kProbeIntervalMs);
        QObject::connect(&m_timer, &QTimer::timeout, &m_timer, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            m_lateMs.push_back(double(now - m_lastNs) / 1e6 - kProbeIntervalMs);
            m_lastNs = now;
        });
    }

    void start()
    {
        m_lateMs.clear();
        m_lateMs.reserve(100000);
        m_clock.start();
        m_lastNs = 0;
        m_timer.start();
    }
    void stop() { m_timer.stop(); }

    LagStats stats() const
    {
        LagStats stats;
        std::vector<double> sorted = m_lateMs;
        if (sorted.empty())
            return stats;
        std::sort(sorted.begin(), sorted.end());
        const auto at = [&sorted](double quantile) {
            return std::max(0.0, sorted[size_t(quantile * double(sorted.size() - 1) + 0.5)]);
        };
        stats.samples = int(sorted.size());
        stats.p50Ms = at(0.50);
        stats.p99Ms = at(0.99);
        stats.maxMs = std::max(0.0, sorted.back());
        return stats;
    }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_lastNs = 0;
    std::vector<double> m_lateMs;
};

LoadResult parseLoadOutput(const QByteArray &output)
{
    LoadResult result;
    const QList<QByteArray> lines = output.trimmed().split('\n');
    const QJsonObject json = QJsonDocument::fromJson(lines.value(lines.size() - 1)).object();
    if (json.isEmpty()) {
        result.error = QStringLiteral("the load generator printed no result");
        return result;
    }
    result.ok = true;
    result.bytesEchoed = json.value(QLatin1String("bytes_echoed")).toInteger();
    result.seconds = json.value(QLatin1String("seconds")).toDouble();
    result.mbPerSecond = json.value(QLatin1String("mb_per_s")).toDouble();
    result.roundTrips = json.value(QLatin1String("round_trips")).toInteger();
    result.connects = json.value(QLatin1String("connects")).toInteger();
    result.connectRetries = json.value(QLatin1String("connect_retries")).toInteger();
    result.mismatches = json.value(QLatin1String("mismatches")).toInteger();
    result.errors = json.value(QLatin1String("errors")).toInteger();
    result.cpuSeconds = json.value(QLatin1String("cpu_seconds")).toDouble();
    return result;
}

// Runs the load generator against the port for `seconds` with the event loop running;
// kills it if it overruns.
LoadResult runLoadChild(const Scenario &scenario, quint16 port, int seconds)
{
    QProcess child;
    child.setProgram(QCoreApplication::applicationFilePath());
    child.setArguments({QStringLiteral("--load"), QString::number(port),
                        QString::number(scenario.connections),
                        QString::number(scenario.messageBytes), QString::number(seconds),
                        QLatin1String(scenario.loadMode)});
    child.setProcessChannelMode(QProcess::ForwardedErrorChannel);

    QEventLoop loop;
    bool timedOut = false;
    QTimer deadline;
    deadline.setSingleShot(true);
    QObject::connect(&deadline, &QTimer::timeout, &deadline, [&] {
        timedOut = true;
        child.kill();
    });
    QObject::connect(&child, &QProcess::finished, &loop, &QEventLoop::quit);
    QObject::connect(&child, &QProcess::errorOccurred, &loop, [&](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart)
            loop.quit();
    });
    child.start();
    if (child.state() != QProcess::NotRunning) {
        deadline.start((seconds + kChildGraceSeconds) * 1000);
        loop.exec();
    }
    if (child.state() != QProcess::NotRunning) {
        child.kill();
        child.waitForFinished(5000);
    }

    LoadResult result = parseLoadOutput(child.readAllStandardOutput());
    if (timedOut) {
        result.ok = false;
        result.error = QStringLiteral("the load generator overran and was killed");
    } else if (child.error() == QProcess::FailedToStart) {
        result.ok = false;
        result.error = child.errorString();
    }
    return result;
}

RunResult runScenario(const Scenario &scenario, bool withDashboard, int seconds,
                      const Options &options)
{
    RunResult result;
    result.dashboard = withDashboard;

    QTemporaryDir settingsDir;
    QSettings settings(settingsDir.filePath(QStringLiteral("bench.ini")), QSettings::IniFormat);
    EchoServer server; // declared before the window, so it outlives it
    std::unique_ptr<MainWindow> window;

    ServerConfig config; // the headless defaults: no message events, no capture
    config.bindAddress = QStringLiteral("127.0.0.1");
    config.port = 0;
    config.threads = options.threads;
    config.framing.mode = scenario.framing;
    if (options.captureBytes >= 0)
        config.captureBytesPerClient = options.captureBytes;
    if (options.messageEvents >= 0)
        config.messageEventsPerSecond = options.messageEvents;

    if (withDashboard) {
        window = std::make_unique<MainWindow>(&server, &settings);
        window->setSavesSettings(false);
        DashboardSettings dashboard = window->dashboardSettings(); // the dashboard defaults
        dashboard.config.bindAddress = config.bindAddress;
        dashboard.config.port = 0;
        dashboard.config.threads = config.threads;
        dashboard.config.framing = config.framing;
        if (options.captureBytes >= 0) // as Preferences sets it; the inspected client keeps its own
            dashboard.captureBytesPerClient = options.captureBytes;
        if (options.messageEvents >= 0)
            dashboard.messageEventsPerSecond = options.messageEvents;
        window->setDashboardSettings(dashboard);
        window->resize(1280, 820);
        window->show();
        runEventLoopFor(300); // shown, laid out and painted once before the load
        if (!window->startServer()) {
            result.load.error = window->errorText();
            return result;
        }
        // Inspect a client as soon as the table has one (again if it leaves the table).
        MainWindow *w = window.get();
        QObject::connect(w->monitor(), &TrafficMonitor::snapshotReady, w, [w] {
            QTableView *table = w->clientTable();
            if (!table->selectionModel()->currentIndex().isValid() &&
                table->model()->rowCount() > 0)
                table->selectRow(0);
        });
    } else if (!server.start(config)) {
        result.load.error = server.errorString();
        return result;
    }

    LagProbe probe;
    QTimer memoryTimer;
    QElapsedTimer clock;
    const auto sampleMemory = [&] {
        MemorySample sample;
        sample.atSeconds = double(clock.elapsed()) / 1000.0;
        sample.rssKiB = residentKiB();
        if (window) {
            sample.events = qint64(window->monitor()->eventLog().nextSequence()) - 1;
            sample.logRows = window->eventLog()->model()->rowCount();
            sample.tableRows = window->clientModel()->rowCount();
            result.maxLogRows = std::max(result.maxLogRows, sample.logRows);
            result.maxTableRows = std::max(result.maxTableRows, sample.tableRows);
            if (window->inspector()->clientId() != 0)
                result.inspected = true;
        }
        result.memory.push_back(sample);
    };
    const bool samplesMemory = scenario.samplesMemory;
    if (samplesMemory) {
        memoryTimer.setInterval(kMemorySampleIntervalMs);
        QObject::connect(&memoryTimer, &QTimer::timeout, &memoryTimer, sampleMemory);
    }

    result.rssBeforeKiB = residentKiB();
    const double cpuBefore = processCpuSeconds();
    const double uiCpuBefore = threadCpuSeconds();
    auto *app = static_cast<TimedApplication *>(QCoreApplication::instance());
    app->setTiming(options.eventStats);
    probe.start();
    clock.start();
    if (samplesMemory)
        memoryTimer.start();

    result.load = runLoadChild(scenario, server.serverPort(), seconds);

    memoryTimer.stop();
    probe.stop();
    app->setTiming(false);
    result.eventCosts = app->takeCosts();
    result.processCpuSeconds = processCpuSeconds() - cpuBefore;
    result.uiThreadCpuSeconds = threadCpuSeconds() - uiCpuBefore;
    result.lag = probe.stats();
    if (window) {
        sampleMemory(); // the end of the run
        if (!samplesMemory)
            result.memory.clear();
        result.events = qint64(window->monitor()->eventLog().nextSequence()) - 1;
        result.logCapacity = window->eventLog()->model()->capacity();
        window->stopServer();
        window->hide();
    } else {
        server.stop();
    }
    result.rssAfterKiB = residentKiB();
    result.loadAverage = loadAverage();
    return result;
}

double median(std::vector<double> values)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

QJsonObject toJson(const RunResult &run)
{
    QJsonObject json{
        {QStringLiteral("mode"),
         run.dashboard ? QStringLiteral("dashboard") : QStringLiteral("headless")},
        {QStringLiteral("ok"), run.load.ok},
        {QStringLiteral("mb_per_s"), run.load.mbPerSecond},
        {QStringLiteral("bytes_echoed"), run.load.bytesEchoed},
        {QStringLiteral("seconds"), run.load.seconds},
        {QStringLiteral("round_trips"), run.load.roundTrips},
        {QStringLiteral("connects"), run.load.connects},
        {QStringLiteral("connect_retries"), run.load.connectRetries},
        {QStringLiteral("errors"), run.load.errors},
        {QStringLiteral("mismatches"), run.load.mismatches},
        {QStringLiteral("lag_p50_ms"), run.lag.p50Ms},
        {QStringLiteral("lag_p99_ms"), run.lag.p99Ms},
        {QStringLiteral("lag_max_ms"), run.lag.maxMs},
        {QStringLiteral("lag_samples"), run.lag.samples},
        {QStringLiteral("process_cpu_s"), run.processCpuSeconds},
        {QStringLiteral("ui_thread_cpu_s"), run.uiThreadCpuSeconds},
        {QStringLiteral("load_cpu_s"), run.load.cpuSeconds},
        {QStringLiteral("rss_before_kib"), run.rssBeforeKiB},
        {QStringLiteral("rss_after_kib"), run.rssAfterKiB},
        {QStringLiteral("load_average"), run.loadAverage},
    };
    if (!run.load.error.isEmpty())
        json.insert(QStringLiteral("error"), run.load.error);
    if (run.dashboard) {
        json.insert(QStringLiteral("inspected"), run.inspected);
        json.insert(QStringLiteral("events"), run.events);
    }
    if (!run.memory.empty()) {
        QJsonArray samples;
        for (const MemorySample &s : run.memory)
            samples.append(QJsonObject{{QStringLiteral("t_s"), s.atSeconds},
                                       {QStringLiteral("rss_kib"), s.rssKiB},
                                       {QStringLiteral("events"), s.events},
                                       {QStringLiteral("log_rows"), s.logRows},
                                       {QStringLiteral("table_rows"), s.tableRows}});
        json.insert(QStringLiteral("memory"), samples);
        json.insert(QStringLiteral("log_capacity"), run.logCapacity);
        json.insert(QStringLiteral("max_log_rows"), run.maxLogRows);
        json.insert(QStringLiteral("max_table_rows"), run.maxTableRows);
    }
    return json;
}

QString lagText(const LagStats &lag)
{
    return QStringLiteral("%1/%2/%3")
        .arg(lag.p50Ms, 0, 'f', 1)
        .arg(lag.p99Ms, 0, 'f', 1)
        .arg(lag.maxMs, 0, 'f', 1);
}

// The first RSS sample taken at or after a moment, if the run went on past it.
const MemorySample *sampleAfter(const std::vector<MemorySample> &samples, double atSeconds)
{
    for (const MemorySample &s : samples) {
        if (s.atSeconds >= atSeconds - 0.5)
            return &s == &samples.back() ? nullptr : &s;
    }
    return nullptr;
}

QString growthText(const std::vector<MemorySample> &samples, double atSeconds)
{
    const MemorySample *from = sampleAfter(samples, atSeconds);
    if (!from)
        return QStringLiteral("n/a (the run ended first)");
    return QStringLiteral("%1 KiB").arg(samples.back().rssKiB - from->rssKiB);
}

class Report
{
public:
    explicit Report(const Options &options) : m_options(options), m_out(stdout) {}

    bool throughput(const Scenario &scenario, const std::vector<RunResult> &runs);
    bool memory(const Scenario &scenario, const RunResult &run);
    // The costliest kinds of UI-thread event (with --event-stats), also as JSON.
    QJsonArray eventCosts(const EventCosts &costs, double seconds);
    void printJson() const
    {
        QJsonObject root{{QStringLiteral("platform"), QGuiApplication::platformName()},
                         {QStringLiteral("threads"), workerThreads(m_options)},
                         // -1: each mode's default (headless 0, the dashboard's DashboardSettings)
                         {QStringLiteral("capture_bytes"), m_options.captureBytes},
                         {QStringLiteral("message_events_per_second"), m_options.messageEvents},
                         {QStringLiteral("seconds"), m_options.seconds},
                         {QStringLiteral("load_average_at_end"), loadAverage()},
                         {QStringLiteral("scenarios"), m_scenarios}};
        std::printf("%s\n", QJsonDocument(root).toJson(QJsonDocument::Compact).constData());
    }

private:
    const Options &m_options;
    QTextStream m_out;
    QJsonArray m_scenarios;
};

QJsonArray Report::eventCosts(const EventCosts &costs, double seconds)
{
    constexpr size_t kShown = 10;
    std::vector<std::pair<QString, EventCost>> sorted(costs.begin(), costs.end());
    std::sort(sorted.begin(), sorted.end(),
              [](const auto &a, const auto &b) { return a.second.wallMs > b.second.wallMs; });
    if (sorted.size() > kShown)
        sorted.resize(kShown);
    QJsonArray json;
    if (!m_options.json) {
        m_out << QStringLiteral(
                     "    UI thread by event over %1 s: receiver/event | count | wall ms "
                     "| cpu ms | max wall ms | >= 20 ms\n")
                     .arg(seconds, 0, 'f', 0);
    }
    for (const auto &[key, cost] : sorted) {
        json.append(QJsonObject{{QStringLiteral("event"), key},
                                {QStringLiteral("count"), cost.count},
                                {QStringLiteral("wall_ms"), cost.wallMs},
                                {QStringLiteral("cpu_ms"), cost.cpuMs},
                                {QStringLiteral("max_wall_ms"), cost.maxWallMs},
                                {QStringLiteral("over_20_ms"), cost.over20Ms}});
        if (!m_options.json) {
            m_out << QStringLiteral("      %1 | %2 | %3 | %4 | %5 | %6\n")
                         .arg(key, -44)
                         .arg(cost.count, 7)
                         .arg(cost.wallMs, 8, 'f', 0)
                         .arg(cost.cpuMs, 8, 'f', 0)
                         .arg(cost.maxWallMs, 6, 'f', 1)
                         .arg(cost.over20Ms, 4);
        }
    }
    m_out.flush();
    return json;
}

bool Report::throughput(const Scenario &scenario, const std::vector<RunResult> &runs)
{
    std::vector<double> headless, dashboard, dashboardP99;
    LagStats uiLag, baseLag;
    qint64 errors = 0;
    bool ok = true;
    bool inspected = true;
    QJsonArray json;
    QStringList headlessRuns, dashboardRuns, loads;
    std::vector<double> uiP50, uiMax, baseP50, baseP99, baseMax;
    double uiCpu = 0, headlessCpu = 0, dashboardCpu = 0;
    for (const RunResult &run : runs) {
        json.append(toJson(run));
        ok = ok && run.load.ok;
        errors += run.load.errors;
        const QString mb = QString::number(run.load.mbPerSecond, 'f', 1);
        loads.append(run.loadAverage);
        if (run.dashboard) {
            dashboard.push_back(run.load.mbPerSecond);
            dashboardRuns.append(mb);
            dashboardP99.push_back(run.lag.p99Ms);
            uiP50.push_back(run.lag.p50Ms);
            uiMax.push_back(run.lag.maxMs);
            uiCpu += run.uiThreadCpuSeconds / double(m_options.repeats);
            dashboardCpu += run.processCpuSeconds / double(m_options.repeats);
            inspected = inspected && run.inspected;
        } else {
            headless.push_back(run.load.mbPerSecond);
            headlessRuns.append(mb);
            baseP50.push_back(run.lag.p50Ms);
            baseP99.push_back(run.lag.p99Ms);
            baseMax.push_back(run.lag.maxMs);
            headlessCpu += run.processCpuSeconds / double(m_options.repeats);
        }
    }
    const double headlessMb = median(headless);
    const double dashboardMb = median(dashboard);
    const double ratio = headlessMb > 0 ? dashboardMb / headlessMb : 0;
    uiLag = {0, median(uiP50), median(dashboardP99), *std::max_element(uiMax.begin(), uiMax.end())};
    baseLag = {0, median(baseP50), median(baseP99),
               *std::max_element(baseMax.begin(), baseMax.end())};
    qint64 mismatches = 0;
    bool echoed = true;
    for (const RunResult &run : runs) {
        mismatches += run.load.mismatches;
        echoed = echoed && run.load.bytesEchoed > 0;
    }
    // --smoke: every byte came back unchanged and nothing failed; the figures are not judged.
    const bool pass = m_options.smoke ? ok && errors == 0 && mismatches == 0 && echoed
                                      : ok && errors == 0 && ratio >= 0.90 && uiLag.p99Ms < 50;

    m_scenarios.append(QJsonObject{{QStringLiteral("scenario"), QLatin1String(scenario.name)},
                                   {QStringLiteral("headless_mb_per_s"), headlessMb},
                                   {QStringLiteral("dashboard_mb_per_s"), dashboardMb},
                                   {QStringLiteral("ratio"), ratio},
                                   {QStringLiteral("ui_lag_p99_ms"), uiLag.p99Ms},
                                   {QStringLiteral("pass"), pass},
                                   {QStringLiteral("runs"), json}});
    if (m_options.json)
        return pass;

    m_out << QStringLiteral("| %1 | %2 (%3) | %4 (%5) | %6% | %7 | %8 | %9 |\n")
                 .arg(QLatin1String(scenario.label))
                 .arg(headlessMb, 0, 'f', 1)
                 .arg(headlessRuns.join(QStringLiteral(", ")))
                 .arg(dashboardMb, 0, 'f', 1)
                 .arg(dashboardRuns.join(QStringLiteral(", ")))
                 .arg(ratio * 100, 0, 'f', 1)
                 .arg(lagText(uiLag), lagText(baseLag))
                 .arg(errors);
    m_out << QStringLiteral("|   cpu s per run: process %1 headless, %2 dashboard (UI thread %3)"
                            "; inspector live: %4; load average after each run %5; %6 |\n")
                 .arg(headlessCpu, 0, 'f', 1)
                 .arg(dashboardCpu, 0, 'f', 1)
                 .arg(uiCpu, 0, 'f', 1)
                 .arg(inspected ? QStringLiteral("yes") : QStringLiteral("NO"),
                      loads.join(QStringLiteral(", ")),
                      pass ? QStringLiteral("PASS") : QStringLiteral("FAIL"));
    for (const RunResult &run : runs) {
        if (!run.load.error.isEmpty())
            m_out << QStringLiteral("|   error: %1\n").arg(run.load.error);
    }
    if (m_options.eventStats) {
        EventCosts merged;
        double seconds = 0;
        for (const RunResult &run : runs) {
            if (!run.dashboard)
                continue;
            seconds += run.load.seconds;
            for (const auto &[key, cost] : run.eventCosts)
                merged[key].add(cost);
        }
        QJsonObject last = m_scenarios.last().toObject();
        last.insert(QStringLiteral("dashboard_event_costs"), eventCosts(merged, seconds));
        m_scenarios.replace(m_scenarios.size() - 1, last);
    }
    m_out.flush();
    return pass;
}

bool Report::memory(const Scenario &scenario, const RunResult &run)
{
    QJsonObject json = toJson(run);
    const qint64 endKiB = run.memory.empty() ? 0 : run.memory.back().rssKiB;
    const MemorySample *at20 = sampleAfter(run.memory, 20);
    const MemorySample *at35 = sampleAfter(run.memory, 35);
    const double hours = double(run.events) / 360000.0;
    const bool logBounded = run.maxLogRows <= run.logCapacity;
    json.insert(QStringLiteral("scenario"), QLatin1String(scenario.name));
    json.insert(QStringLiteral("hours_at_100_events_per_s"), hours);
    if (at20)
        json.insert(QStringLiteral("rss_growth_from_20s_kib"), endKiB - at20->rssKiB);
    if (at35)
        json.insert(QStringLiteral("rss_growth_from_35s_kib"), endKiB - at35->rssKiB);
    json.insert(QStringLiteral("log_bounded"), logBounded);
    m_scenarios.append(json);
    const bool pass = run.load.ok && run.load.errors == 0 && logBounded &&
                      (!m_options.smoke || (run.load.mismatches == 0 && run.load.roundTrips > 0));
    if (m_options.json)
        return pass;

    m_out << QStringLiteral("\nMemory: %1, dashboard, %2 s (%3 connects, %4 lines echoed, "
                            "%5 errors)\n")
                 .arg(QLatin1String(scenario.label))
                 .arg(run.load.seconds, 0, 'f', 1)
                 .arg(run.load.connects)
                 .arg(run.load.roundTrips)
                 .arg(run.load.errors);
    if (!run.load.error.isEmpty())
        m_out << QStringLiteral("  error: %1\n").arg(run.load.error);
    m_out << QStringLiteral("  t (s) | RSS (MiB) | events   | log rows | table rows\n");
    for (const MemorySample &s : run.memory) {
        m_out << QStringLiteral("  %1 | %2 | %3 | %4 | %5\n")
                     .arg(s.atSeconds, 5, 'f', 1)
                     .arg(double(s.rssKiB) / 1024.0, 9, 'f', 1)
                     .arg(s.events, 8)
                     .arg(s.logRows, 8)
                     .arg(s.tableRows, 10);
    }
    m_out << QStringLiteral("  events: %1 = %2 h at 100 events/s (360,000 events/hour)\n")
                 .arg(run.events)
                 .arg(hours, 0, 'f', 2);
    m_out << QStringLiteral("  RSS growth to the end: from the 20 s mark %1; from 35 s (past "
                            "the 30 s retention of disconnected clients) %2\n")
                 .arg(growthText(run.memory, 20), growthText(run.memory, 35));
    m_out << QStringLiteral("  event log model: at most %1 rows, capacity %2 (%3)\n")
                 .arg(run.maxLogRows)
                 .arg(run.logCapacity)
                 .arg(logBounded ? QStringLiteral("bounded") : QStringLiteral("OVER CAPACITY"));
    m_out << QStringLiteral("  UI lag p50/p99/max: %1 ms; cpu s: process %2, UI thread %3, "
                            "load generator %4; load average at the end %5\n")
                 .arg(lagText(run.lag))
                 .arg(run.processCpuSeconds, 0, 'f', 1)
                 .arg(run.uiThreadCpuSeconds, 0, 'f', 1)
                 .arg(run.load.cpuSeconds, 0, 'f', 1)
                 .arg(run.loadAverage);
    if (m_options.eventStats) {
        QJsonObject last = m_scenarios.last().toObject();
        last.insert(QStringLiteral("event_costs"), eventCosts(run.eventCosts, run.load.seconds));
        m_scenarios.replace(m_scenarios.size() - 1, last);
    }
    m_out.flush();
    return pass;
}

int runBenchmarks(const Options &options)
{
    Report report(options);
    QTextStream out(stdout);
    const bool throughputRuns =
        options.scenario.isEmpty() || options.scenario != QLatin1String(kChurn.name);
    if (!options.json) {
        const QString workers =
            workerThreads(options) == 1
                ? QStringLiteral("1 worker thread (headless: the main thread; dashboard: a "
                                 "thread of its own)")
                : QStringLiteral("%1 worker threads").arg(workerThreads(options));
        const QString capture =
            options.captureBytes < 0
                ? QStringLiteral("each mode's own capture (headless none, dashboard %1 KiB "
                                 "per client)")
                      .arg(DashboardSettings::kDefaultCaptureBytesPerClient / 1024)
                : QStringLiteral("a capture of %1 bytes per client in both modes")
                      .arg(options.captureBytes);
        const QString messages =
            options.messageEvents < 0
                ? QStringLiteral("each mode's own message events (headless none, dashboard %1 "
                                 "per second per client)")
                      .arg(DashboardSettings::kDefaultMessageEventsPerSecond)
                : QStringLiteral("%1 message events per second per client in both modes")
                      .arg(options.messageEvents);
        out << QStringLiteral("Echoscope dashboard benchmark: platform %1, %2, %3, %4, "
                              "%5 s per run, %6 runs of each (interleaved), median shown; "
                              "%7 cores, load average %8 at start\n\n")
                   .arg(QGuiApplication::platformName(), workers, capture, messages)
                   .arg(options.seconds)
                   .arg(options.repeats)
                   .arg(QThread::idealThreadCount())
                   .arg(loadAverage());
        out.flush();
    }
    if (!options.json && throughputRuns) {
        out << QStringLiteral("| scenario | headless MB/s (runs) | dashboard MB/s (runs) | ratio "
                              "| UI lag p50/p99/max ms (dashboard) | probe lag p50/p99/max ms "
                              "(headless) | errors |\n");
        out << QStringLiteral("|---|---|---|---|---|---|---|\n");
        out.flush();
    }
    bool pass = true;
    for (const Scenario *scenario : {&kStream, &kPingPong}) {
        if (!options.scenario.isEmpty() && options.scenario != QLatin1String(scenario->name))
            continue;
        std::vector<RunResult> runs;
        for (int i = 0; i < options.repeats; ++i) {
            runs.push_back(runScenario(*scenario, false, options.seconds, options));
            runs.push_back(runScenario(*scenario, true, options.seconds, options));
        }
        pass = report.throughput(*scenario, runs) && pass;
    }
    if (options.scenario.isEmpty() || options.scenario == QLatin1String(kChurn.name)) {
        const RunResult run = runScenario(kChurn, true, options.churnSeconds, options);
        pass = report.memory(kChurn, run) && pass;
    }
    if (options.json)
        report.printJson();
    return pass ? 0 : 1;
}

} // namespace

} // namespace Echoscope

int main(int argc, char **argv)
{
    if (argc >= 2 && std::strcmp(argv[1], "--load") == 0)
        return Echoscope::runLoad(argc, argv);

    // Offscreen unless there is a display or the platform was chosen explicitly.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY") &&
        qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    // As the echoscope binary does: the worker threads use Qt's own dispatcher, the GUI
    // thread GLib's (app/main.cpp, preferPlainEventDispatcher()).
    if (!qEnvironmentVariableIsSet("QT_NO_THREADED_GLIB"))
        qputenv("QT_NO_THREADED_GLIB", "1");
    Echoscope::TimedApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("bench_dashboard"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Measures the dashboard under load: echo throughput with the window open against "
        "headless, UI event-loop lag, and memory over many events."));
    parser.addHelpOption();
    const QCommandLineOption secondsOption(
        QStringLiteral("seconds"), QStringLiteral("Seconds per throughput run (default 10)."),
        QStringLiteral("N"), QStringLiteral("10"));
    const QCommandLineOption churnSecondsOption(
        QStringLiteral("churn-seconds"),
        QStringLiteral("Seconds of the churn+messages memory run (default 120)."),
        QStringLiteral("N"), QStringLiteral("120"));
    const QCommandLineOption scenarioOption(
        QStringLiteral("scenario"),
        QStringLiteral("Run only this scenario: stream, pingpong or churn."),
        QStringLiteral("name"));
    const QCommandLineOption threadsOption(
        QStringLiteral("threads"),
        QStringLiteral("Server worker threads (default 0: the server's own default, one per core "
                       "but one)."),
        QStringLiteral("N"), QStringLiteral("0"));
    const QCommandLineOption captureOption(
        QStringLiteral("capture-bytes"),
        QStringLiteral("Every client's capture in bytes, in both modes, as --capture-bytes and "
                       "Preferences set it (default: each mode's own, headless 0 and the "
                       "dashboard %1; the inspected client keeps %2 MiB).")
            .arg(Echoscope::DashboardSettings::kDefaultCaptureBytesPerClient)
            .arg(Echoscope::DashboardSettings::kDefaultInspectedCaptureBytes / (1024 * 1024)),
        QStringLiteral("BYTES"));
    const QCommandLineOption messageEventsOption(
        QStringLiteral("message-events"),
        QStringLiteral("Every client's message events per second, 0 to 1000, in both modes "
                       "(default: each mode's own, headless 0 and the dashboard %1).")
            .arg(Echoscope::DashboardSettings::kDefaultMessageEventsPerSecond),
        QStringLiteral("N"));
    const QCommandLineOption repeatsOption(
        QStringLiteral("repeats"),
        QStringLiteral("Headless/dashboard pairs per throughput scenario (default 2)."),
        QStringLiteral("N"), QStringLiteral("2"));
    const QCommandLineOption eventStatsOption(
        QStringLiteral("event-stats"),
        QStringLiteral("Time every event the UI thread delivers; print the costliest kinds."));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Print one JSON object instead of tables."));
    const QCommandLineOption smokeOption(
        QStringLiteral("smoke"),
        QStringLiteral("Correctness only (CI's smoke run): exit 0 when every run echoed every "
                       "byte unchanged without an error, whatever the figures."));
    parser.addOptions({secondsOption, churnSecondsOption, scenarioOption, threadsOption,
                       captureOption, messageEventsOption, repeatsOption, eventStatsOption,
                       jsonOption, smokeOption});
    parser.process(app);

    Echoscope::Options options;
    bool ok = true;
    const auto number = [&](const QCommandLineOption &option, int low, int high, int *value) {
        bool valid = false;
        const int parsed = parser.value(option).toInt(&valid);
        if (!valid || parsed < low || parsed > high) {
            std::fprintf(stderr, "bench_dashboard: --%s must be %d to %d\n",
                         qPrintable(option.names().constFirst()), low, high);
            ok = false;
            return;
        }
        *value = parsed;
    };
    number(secondsOption, 1, 3600, &options.seconds);
    number(churnSecondsOption, 1, 24 * 3600, &options.churnSeconds);
    number(threadsOption, 0, 256, &options.threads);
    number(repeatsOption, 1, 100, &options.repeats);
    if (parser.isSet(messageEventsOption))
        number(messageEventsOption, 0, 1000, &options.messageEvents); // as Preferences allows
    if (parser.isSet(captureOption)) {
        bool valid = false;
        options.captureBytes = parser.value(captureOption).toLongLong(&valid);
        if (!valid || options.captureBytes < 0 ||
            options.captureBytes > Echoscope::ServerConfig::kMaxCaptureBytesPerClient) {
            std::fprintf(
                stderr, "bench_dashboard: --capture-bytes must be 0 to %lld\n",
                static_cast<long long>(Echoscope::ServerConfig::kMaxCaptureBytesPerClient));
            ok = false;
        }
    }
    options.scenario = parser.value(scenarioOption);
    options.json = parser.isSet(jsonOption);
    options.eventStats = parser.isSet(eventStatsOption);
    options.smoke = parser.isSet(smokeOption);
    if (!options.scenario.isEmpty() && options.scenario != QLatin1String("stream") &&
        options.scenario != QLatin1String("pingpong") &&
        options.scenario != QLatin1String("churn")) {
        std::fprintf(stderr, "bench_dashboard: unknown scenario %s\n",
                     qPrintable(options.scenario));
        ok = false;
    }
    if (!ok)
        return 2;
    return Echoscope::runBenchmarks(options);
}
