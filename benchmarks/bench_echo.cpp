// Echo throughput and footprint: Echoscope headless (1 and 2 worker threads) side by side
// with a minimal single-threaded epoll echo server (the reference: the practical limit of
// one core), a naive Qt echo (write(readAll())) and, on request, the field's peers.
// With --baseline-echoscope, the same two Echoscope configurations of another binary run
// next to them, and the tables compare each configuration with its baseline, repeat by repeat.
// See benchmarks/README-echo.md for the command and how to read the tables.
//
// One binary, several roles:
//   bench_echo [options]               the driver: starts each server as a child process,
//                                      loads it with `echoscope bench`, samples /proc
//   bench_echo --serve-epoll [PORTFILE] the reference server (plain POSIX, no Qt object)
//   bench_echo --serve-qt              the naive Qt echo server
// Every server prints "listening on 127.0.0.1:PORT" on its first line when it is ready.

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

void raiseOpenFileLimit()
{
    rlimit limit;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

// ---------------------------------------------------------------------------------------
// The reference: a minimal single-threaded epoll echo server. Level-triggered; one 64 KiB
// recv() per readable wake-up, echoed at once; what send() does not take waits in the
// connection's pending buffer, and while it waits the connection is watched for EPOLLOUT
// only (so it is not read: the simplest backpressure). EOF is only ever read with nothing
// pending, so a client's half-close gets its whole echo, then close() sends our FIN.
// ---------------------------------------------------------------------------------------

struct EpollConnection
{
    std::vector<char> pending;
    size_t pendingOffset = 0;
};

int serveEpoll(const char *portFile)
{
    raiseOpenFileLimit();
    std::signal(SIGPIPE, SIG_IGN);
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address) ||
        ::listen(listener, SOMAXCONN) != 0) {
        std::fprintf(stderr, "bench_echo --serve-epoll: cannot listen: %s\n", std::strerror(errno));
        return 3;
    }
    socklen_t length = sizeof address;
    ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length);
    const unsigned port = ntohs(address.sin_port);

    const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = listener;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);

    if (portFile) {
        if (FILE *file = std::fopen(portFile, "w")) {
            std::fprintf(file, "%u\n", port);
            std::fclose(file);
        }
    }
    std::printf("listening on 127.0.0.1:%u\n", port);
    std::fflush(stdout);

    std::vector<std::unique_ptr<EpollConnection>> connections; // indexed by descriptor
    static char buffer[64 * 1024];
    epoll_event events[256];
    const auto watch = [epoll](int fd, uint32_t what) {
        epoll_event change{};
        change.events = what;
        change.data.fd = fd;
        ::epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &change);
    };
    const auto drop = [&connections](int fd) {
        ::close(fd); // also leaves the epoll set
        connections[size_t(fd)].reset();
    };

    for (;;) {
        const int count = ::epoll_wait(epoll, events, 256, -1);
        if (count < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        for (int i = 0; i < count; ++i) {
            const int fd = events[i].data.fd;
            if (fd == listener) {
                for (;;) {
                    const int client =
                        ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (client < 0)
                        break; // EAGAIN (or EMFILE: level-triggered, so retried)
                    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    if (connections.size() <= size_t(client))
                        connections.resize(size_t(client) + 1);
                    connections[size_t(client)] = std::make_unique<EpollConnection>();
                    epoll_event added{};
                    added.events = EPOLLIN;
                    added.data.fd = client;
                    ::epoll_ctl(epoll, EPOLL_CTL_ADD, client, &added);
                }
                continue;
            }
            EpollConnection *connection = connections[size_t(fd)].get();
            if (!connection)
                continue;
            if (connection->pending.empty()) {
                const ssize_t received = ::recv(fd, buffer, sizeof buffer, 0);
                if (received == 0 || (received < 0 && errno != EAGAIN && errno != EINTR)) {
                    drop(fd); // EOF (nothing is pending) or an error
                    continue;
                }
                if (received < 0)
                    continue;
                ssize_t sent = ::send(fd, buffer, size_t(received), MSG_NOSIGNAL);
                if (sent < 0 && errno != EAGAIN) {
                    drop(fd);
                    continue;
                }
                sent = std::max<ssize_t>(sent, 0);
                if (sent < received) {
                    connection->pending.assign(buffer + sent, buffer + received);
                    connection->pendingOffset = 0;
                    watch(fd, EPOLLOUT);
                }
            } else {
                const size_t left = connection->pending.size() - connection->pendingOffset;
                const ssize_t sent = ::send(
                    fd, connection->pending.data() + connection->pendingOffset, left, MSG_NOSIGNAL);
                if (sent < 0 && errno != EAGAIN) {
                    drop(fd);
                    continue;
                }
                connection->pendingOffset += size_t(std::max<ssize_t>(sent, 0));
                if (connection->pendingOffset == connection->pending.size()) {
                    connection->pending.clear();
                    connection->pendingOffset = 0;
                    watch(fd, EPOLLIN);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The naive Qt echo: what most Qt examples would write. QTcpSocket cannot half-close: when
// the client shuts its side down, the socket reports the remote host closed and is
// disconnected, so an echo still in its write buffer may be lost (oneshot may fail).
// The backlog is raised to the others' (the default is 50): a setting, not the engine.
// ---------------------------------------------------------------------------------------

int serveQt(int argc, char **argv)
{
    raiseOpenFileLimit();
    QCoreApplication app(argc, argv);
    QTcpServer server;
    server.setListenBacklogSize(1024);
    QObject::connect(&server, &QTcpServer::newConnection, &server, [&server] {
        while (QTcpSocket *socket = server.nextPendingConnection()) {
            QObject::connect(socket, &QTcpSocket::readyRead, socket,
                             [socket] { socket->write(socket->readAll()); });
            QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        }
    });
    if (!server.listen(QHostAddress::LocalHost, 0)) {
        std::fprintf(stderr, "bench_echo --serve-qt: %s\n", qPrintable(server.errorString()));
        return 3;
    }
    std::printf("listening on 127.0.0.1:%u\n", unsigned(server.serverPort()));
    std::fflush(stdout);
    return app.exec();
}

// ---------------------------------------------------------------------------------------
// The driver.
// ---------------------------------------------------------------------------------------

constexpr int kServerStartTimeoutMs = 15000;
constexpr int kServerStopTimeoutMs = 5000;
constexpr double kWarmupSeconds = 1;
// Hold: the server's figures are sampled once every connection is open on it (counted in
// /proc/PID/fd), at least kHoldFirstSampleMs after the bench started, and once the server
// has settled (no CPU tick for kHoldSettledMs, waiting kHoldSettleMaxMs at most: with
// --threads 2 the workers are still taking the last sockets over when they are all
// accepted); then again kHoldIdleWindowMs later. The bench holds long enough for that.
constexpr int kHoldSeconds = 12;         // how long `echoscope bench` holds them
constexpr int kHoldFirstSampleMs = 2000; // at least this long after the bench starts
constexpr int kHoldSettledMs = 300;
constexpr int kHoldSettleMaxMs = 3000;
constexpr int kHoldIdleWindowMs = 5000;   // CPU and RSS measured over this window
constexpr int kHoldOpenTimeoutMs = 30000; // all connections open by then, or a failure
constexpr double kTargetRatio = 0.8;
// Descriptors a server needs beside the held ones: its own (listener, epoll, event log,
// libraries) and the 100 of a pingpong beside them.
constexpr int kDescriptorReserve = 200;
// Pingpong beside idle connections: the idle ones are opened and the server settled (as for
// hold) before the pingpong starts; they are held this long after the pingpong's warm-up and
// measured time, then each must still echo (the hold's probe).
constexpr int kBesideHoldMarginSeconds = 5;
constexpr double kTargetBesideRatio = 0.93; // issue 13: beside 10,000 idle ≥ 0.93 of alone
constexpr qint64 kTargetHoldRssKiB = 100 * 1024;
constexpr double kTargetHoldIdleCpuSeconds = 0.05;

enum class Mode { PingPong, Stream, OneShot, Hold };

struct Workload
{
    QString key;   // for --only: "pingpong-1k-100"
    QString title; // for the tables: "pingpong 1 KiB × 100"
    Mode mode;
    qint64 sizeBytes;
    int connections;
    // Pingpong beside idle connections: this many are held idle on the server while the
    // load runs, and every run is paired with a run of `aloneKey` (the same load without
    // them) on the same server in the same repeat.
    int idleConnections = 0;
    QString aloneKey{};
    bool companion = false; // the alone half of a pair: run only with its partner
    bool optIn = false;     // not in the default run: only when --only names it
};

QString modeName(Mode mode)
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
    return {};
}

QString sizeTitle(qint64 bytes)
{
    return bytes >= 1024 ? QStringLiteral("%1 KiB").arg(bytes / 1024)
                         : QStringLiteral("%1 B").arg(bytes);
}

std::vector<Workload> workloads(int holdConnections)
{
    std::vector<Workload> list;
    const auto add = [&list](Mode mode, qint64 size, int connections) {
        const QString sizeKey =
            size >= 1024 ? QStringLiteral("%1k").arg(size / 1024) : QString::number(size);
        list.push_back({QStringLiteral("%1-%2-%3").arg(modeName(mode), sizeKey).arg(connections),
                        QStringLiteral("%1 %2 × %3")
                            .arg(modeName(mode), sizeTitle(size),
                                 QLocale(QLocale::English).toString(connections)),
                        mode, size, connections});
    };
    for (qint64 size : {64, 1024, 16 * 1024})
        for (int connections : {1, 10, 100})
            add(Mode::PingPong, size, connections);
    for (int connections : {1, 10})
        add(Mode::Stream, 64 * 1024, connections);
    add(Mode::OneShot, 1024, 10);
    add(Mode::Hold, 16, holdConnections);
    // Opt-in (--only beside): pingpong 1 KiB × 100 beside holdConnections idle connections,
    // each run paired with the same pingpong alone on the same server.
    const QString idleTitle = QLocale(QLocale::English).toString(holdConnections);
    list.push_back({QStringLiteral("pingpong-1k-100-alone"),
                    QStringLiteral("pingpong 1 KiB × 100, alone (paired)"), Mode::PingPong, 1024,
                    100, 0, QString(), true, true});
    list.push_back({QStringLiteral("pingpong-beside-idle"),
                    QStringLiteral("pingpong 1 KiB × 100 beside %1 idle").arg(idleTitle),
                    Mode::PingPong, 1024, 100, holdConnections,
                    QStringLiteral("pingpong-1k-100-alone"), false, true});
    return list;
}

struct ServerSpec
{
    QString key;
    QString title;
    QString program;
    QStringList arguments;
    bool printsListeningLine = true; // else: found through /proc (socat, ncat)
    bool forks = false;              // a process per connection
    bool echoscope = false;          // the targets apply
    QString note;
    QString baseline{};        // --baseline-echoscope: the key this configuration is compared with
    QStringList environment{}; // KEY=VALUE added to the server's environment
};

// One reading of a process from /proc. cpuSeconds includes reaped children (forking peers).
struct ProcSample
{
    bool ok = false;
    double cpuSeconds = 0;
    qint64 rssKiB = 0;
    qint64 peakRssKiB = 0;
};

ProcSample sampleProcess(qint64 pid)
{
    ProcSample sample;
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return sample;
    const QByteArray statText = stat.readAll();
    // Fields after "(comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const QList<QByteArray> fields =
        statText.mid(statText.lastIndexOf(')') + 2).simplified().split(' ');
    if (fields.size() < 15)
        return sample;
    const double ticks = double(::sysconf(_SC_CLK_TCK));
    sample.cpuSeconds = (fields[11].toDouble() + fields[12].toDouble() + fields[13].toDouble() +
                         fields[14].toDouble()) /
                        ticks;
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return sample;
    for (const QByteArray &line : status.readAll().split('\n')) {
        const auto kib = [&line] { return line.mid(6).trimmed().split(' ').value(0).toLongLong(); };
        if (line.startsWith("VmRSS:"))
            sample.rssKiB = kib();
        else if (line.startsWith("VmHWM:"))
            sample.peakRssKiB = kib();
    }
    sample.ok = true;
    return sample;
}

int countDescriptors(qint64 pid)
{
    const QByteArray path = QStringLiteral("/proc/%1/fd").arg(pid).toLocal8Bit();
    DIR *dir = ::opendir(path.constData());
    if (!dir)
        return -1;
    int count = 0;
    while (const dirent *entry = ::readdir(dir))
        if (entry->d_name[0] != '.')
            ++count;
    ::closedir(dir);
    return count;
}

// The port a process listens on, from its socket inodes and /proc/PID/net/tcp.
int listeningPort(qint64 pid)
{
    std::vector<QByteArray> inodes;
    const QByteArray path = QStringLiteral("/proc/%1/fd").arg(pid).toLocal8Bit();
    DIR *dir = ::opendir(path.constData());
    if (!dir)
        return 0;
    while (const dirent *entry = ::readdir(dir)) {
        char target[128] = {};
        const QByteArray link = path + '/' + entry->d_name;
        if (::readlink(link.constData(), target, sizeof target - 1) > 0 &&
            std::strncmp(target, "socket:[", 8) == 0)
            inodes.push_back(QByteArray(target + 8).chopped(1));
    }
    ::closedir(dir);
    QFile tcp(QStringLiteral("/proc/%1/net/tcp").arg(pid));
    if (!tcp.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : tcp.readAll().split('\n')) {
        const QList<QByteArray> fields = line.simplified().split(' ');
        if (fields.size() < 10 || fields[3] != "0A") // 0A: LISTEN
            continue;
        if (std::find(inodes.begin(), inodes.end(), fields[9]) != inodes.end())
            return fields[1].split(':').value(1).toInt(nullptr, 16);
    }
    return 0;
}

// The processes whose parent is pid, and theirs (forking peers: socat, ncat and their cat).
std::vector<qint64> descendants(qint64 pid)
{
    std::vector<std::pair<qint64, qint64>> parents; // (pid, ppid)
    DIR *proc = ::opendir("/proc");
    if (!proc)
        return {};
    while (const dirent *entry = ::readdir(proc)) {
        const qint64 child = QByteArray(entry->d_name).toLongLong();
        if (child <= 0)
            continue;
        QFile stat(QStringLiteral("/proc/%1/stat").arg(child));
        if (!stat.open(QIODevice::ReadOnly))
            continue;
        const QByteArray text = stat.readAll();
        const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
        if (fields.size() > 1)
            parents.emplace_back(child, fields[1].toLongLong());
    }
    ::closedir(proc);
    std::vector<qint64> found{pid};
    for (size_t i = 0; i < found.size(); ++i)
        for (const auto &[child, parent] : parents)
            if (parent == found[i])
                found.push_back(child);
    found.erase(found.begin());
    return found;
}

// A server under test, as a child process.
class ServerProcess
{
public:
    ServerProcess(const ServerSpec &spec, const QString &stderrPath)
        : m_spec(spec), m_stderrPath(stderrPath)
    {
        m_process.setProgram(spec.program);
        m_process.setArguments(spec.arguments);
        m_process.setStandardErrorFile(stderrPath, QIODevice::Append);
        if (!spec.environment.isEmpty()) {
            QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
            for (const QString &entry : spec.environment)
                environment.insert(entry.section(QLatin1Char('='), 0, 0),
                                   entry.section(QLatin1Char('='), 1));
            m_process.setProcessEnvironment(environment);
        }
        if (!spec.printsListeningLine)
            m_process.setStandardOutputFile(QProcess::nullDevice());
    }
    ~ServerProcess() { stop(); }

    bool start(QString *error)
    {
        m_process.start();
        if (!m_process.waitForStarted(kServerStartTimeoutMs)) {
            *error =
                QStringLiteral("cannot start %1: %2").arg(m_spec.program, m_process.errorString());
            return false;
        }
        QElapsedTimer clock;
        clock.start();
        QByteArray output;
        while (clock.elapsed() < kServerStartTimeoutMs) {
            if (m_spec.printsListeningLine) {
                m_process.waitForReadyRead(100);
                output += m_process.readAllStandardOutput();
                const int end = output.indexOf('\n');
                if (end >= 0) {
                    const QByteArray line = output.left(end).trimmed();
                    if (!line.startsWith("listening on ")) {
                        *error = QStringLiteral("unexpected first line \"%1\"")
                                     .arg(QString::fromUtf8(line));
                        return false;
                    }
                    m_port = line.mid(line.lastIndexOf(':') + 1).toInt();
                    return m_port > 0;
                }
            } else {
                m_port = listeningPort(m_process.processId());
                if (m_port > 0)
                    return true;
                m_process.waitForFinished(100);
            }
            if (m_process.state() == QProcess::NotRunning) {
                *error =
                    QStringLiteral("exited before listening (status %1)").arg(m_process.exitCode());
                return false;
            }
        }
        *error = QStringLiteral("not listening after %1 s").arg(kServerStartTimeoutMs / 1000);
        return false;
    }

    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        // A forking server's children outlive it unless they are stopped too.
        const std::vector<qint64> children =
            m_spec.forks ? descendants(m_process.processId()) : std::vector<qint64>();
        for (qint64 child : children)
            ::kill(pid_t(child), SIGKILL);
        m_process.terminate();
        if (!m_process.waitForFinished(kServerStopTimeoutMs)) {
            m_process.kill();
            m_process.waitForFinished(kServerStopTimeoutMs);
        }
    }

    // Reaps the process if it has exited (QProcess only notices when asked, or in an
    // event loop, which the driver does not run).
    bool isRunning()
    {
        if (m_process.state() == QProcess::Running)
            m_process.waitForFinished(0);
        return m_process.state() == QProcess::Running;
    }
    QString exitDescription() const
    {
        QFile log(m_stderrPath);
        QByteArray tail;
        if (log.open(QIODevice::ReadOnly))
            tail = log.readAll().trimmed().right(300);
        return QStringLiteral("the server exited during the run (%1 %2)%3")
            .arg(m_process.exitStatus() == QProcess::CrashExit ? QStringLiteral("crashed, signal")
                                                               : QStringLiteral("status"))
            .arg(m_process.exitCode())
            .arg(tail.isEmpty() ? QString()
                                : QStringLiteral(": ") + QString::fromLocal8Bit(tail).simplified());
    }
    qint64 pid() const { return m_process.processId(); }
    int port() const { return m_port; }

private:
    ServerSpec m_spec;
    QString m_stderrPath;
    QProcess m_process;
    int m_port = 0;
};

// A child process killed when it goes out of scope, if it is still running.
class ChildGuard
{
public:
    explicit ChildGuard(QProcess &process) : m_process(process) {}
    ~ChildGuard()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(kServerStopTimeoutMs);
        }
    }
    ChildGuard(const ChildGuard &) = delete;
    ChildGuard &operator=(const ChildGuard &) = delete;

private:
    QProcess &m_process;
};

// One server under one workload.
struct Run
{
    QString server;
    QString workload;
    int repeat = 0;
    bool completed = false; // the bench ran to its end and printed its JSON
    int benchExitCode = -1;
    QString error; // why the run failed, or the bench's first error
    QJsonObject bench;
    double value = 0; // req/s, MB/s, conn/s or held
    double cpuSeconds = 0;
    qint64 peakRssKiB = 0;
    // Hold only.
    qint64 rssBeforeKiB = 0;
    qint64 rssHeldKiB = 0;     // at the first sample, every connection open
    qint64 rssHeldEndKiB = 0;  // after the idle window
    double idleCpuSeconds = 0; // over the idle window
    int descriptors = 0;
    double openSeconds = 0;    // from the bench's start to every connection open on the server
    double settledSeconds = 0; // from the bench's start to the idle window's start
    // Beside idle connections only (-1: not counted).
    int idleConnections = 0;         // the workload's idle connections
    int idleOpenAtStart = -1;        // open on the server at the measured window's start
    int idleOpenAfter = -1;          // open on the server once the pingpong had ended
    qint64 idleHeld = -1;            // the holder's check at its end: still echoing
    qint64 idleBytesSent = -1;       // everything the holder sent (its probes only, if idle)
    double idleOpenSeconds = 0;      // from the holder's start to all open on the server
    double idleSettleCpuSeconds = 0; // server CPU from all open to the pingpong's start

    bool ok() const { return completed && benchExitCode == 0; }
    QJsonObject toJson() const
    {
        QJsonObject object{{QStringLiteral("server"), server},
                           {QStringLiteral("workload"), workload},
                           {QStringLiteral("repeat"), repeat},
                           {QStringLiteral("completed"), completed},
                           {QStringLiteral("bench_exit_code"), benchExitCode},
                           {QStringLiteral("value"), value},
                           {QStringLiteral("server_cpu_s"), cpuSeconds},
                           {QStringLiteral("server_peak_rss_kib"), peakRssKiB},
                           {QStringLiteral("bench"), bench}};
        if (!error.isEmpty())
            object.insert(QStringLiteral("error"), error);
        if (bench.value(QStringLiteral("mode")).toString() == QLatin1String("hold")) {
            object.insert(QStringLiteral("rss_before_kib"), rssBeforeKiB);
            object.insert(QStringLiteral("rss_held_kib"), rssHeldKiB);
            object.insert(QStringLiteral("rss_held_end_kib"), rssHeldEndKiB);
            object.insert(QStringLiteral("idle_cpu_s"), idleCpuSeconds);
            object.insert(QStringLiteral("descriptors"), descriptors);
            object.insert(QStringLiteral("open_s"), openSeconds);
            object.insert(QStringLiteral("settled_s"), settledSeconds);
        }
        if (idleConnections > 0) {
            object.insert(QStringLiteral("idle_connections"), idleConnections);
            object.insert(QStringLiteral("idle_open_at_start"), idleOpenAtStart);
            object.insert(QStringLiteral("idle_open_after"), idleOpenAfter);
            object.insert(QStringLiteral("idle_held"), idleHeld);
            object.insert(QStringLiteral("idle_bytes_sent"), idleBytesSent);
            object.insert(QStringLiteral("idle_open_s"), idleOpenSeconds);
            object.insert(QStringLiteral("idle_settle_cpu_s"), idleSettleCpuSeconds);
        }
        return object;
    }
};

struct DriverOptions
{
    QString echoscope;
    QString baselineEchoscope;
    double seconds = 3;
    int repeats = 1;
    int holdConnections = 10000;
    QString only;
    QStringList servers;
    QString jsonPath;
    QString workDir;
    bool smoke = false; // correctness only: the exit status ignores the targets
};

class Driver
{
public:
    explicit Driver(const DriverOptions &options) : m_options(options) {}

    // Beside idle connections: how long the holder holds them once all are open. It covers
    // the server's settling, the pingpong's warm-up and measured time, and a margin.
    int besideHoldSeconds() const
    {
        return int(std::ceil(kWarmupSeconds + m_options.seconds)) + kHoldSettleMaxMs / 1000 +
               kBesideHoldMarginSeconds;
    }

    // Opens `idle` connections on the server with `echoscope bench --mode hold` (they send
    // nothing until the hold's end) and waits until every one of them is open on the server
    // (counted in /proc/PID/fd against *baseline, the count before) and the server has
    // settled, as the hold workload does. On failure, says why in run.error.
    bool holdIdle(ServerProcess &server, int idle, QProcess &holder, QElapsedTimer &clock,
                  int *baseline, Run &run)
    {
        const qint64 pid = server.pid();
        *baseline = countDescriptors(pid);
        holder.setProgram(m_options.echoscope);
        holder.setArguments(
            {QStringLiteral("bench"), QStringLiteral("--host"), QStringLiteral("127.0.0.1"),
             QStringLiteral("--port"), QString::number(server.port()), QStringLiteral("--mode"),
             QStringLiteral("hold"), QStringLiteral("--connections"), QString::number(idle),
             QStringLiteral("--size"), QStringLiteral("16"), QStringLiteral("--duration"),
             QString::number(besideHoldSeconds()), QStringLiteral("--timeout"),
             QStringLiteral("30"), QStringLiteral("--json"), QStringLiteral("--quiet")});
        holder.setStandardErrorFile(m_options.workDir + QStringLiteral("/holder.stderr"),
                                    QIODevice::Append);
        holder.start();
        clock.start();
        if (!holder.waitForStarted(kServerStartTimeoutMs)) {
            run.error = QStringLiteral("cannot start the idle holder (echoscope bench --mode "
                                       "hold): %1")
                            .arg(holder.errorString());
            return false;
        }
        const auto holderGone = [&holder, &run] {
            holder.waitForFinished(20); // also the polling interval
            if (holder.state() != QProcess::NotRunning)
                return false;
            run.error = QStringLiteral("the idle holder exited before the pingpong (status %1)")
                            .arg(holder.exitCode());
            return true;
        };
        for (;;) {
            if (holderGone())
                return false;
            if (!server.isRunning()) {
                run.error = server.exitDescription();
                return false;
            }
            const int open = countDescriptors(pid) - *baseline;
            if (open >= idle)
                break;
            if (clock.elapsed() > kHoldOpenTimeoutMs) {
                run.error = QStringLiteral("only %1 of %2 idle connections open on the server "
                                           "after %3 s")
                                .arg(open)
                                .arg(idle)
                                .arg(kHoldOpenTimeoutMs / 1000);
                return false;
            }
        }
        const qint64 allOpenMs = clock.elapsed();
        run.idleOpenSeconds = double(allOpenMs) / 1000;
        const ProcSample allOpen = sampleProcess(pid);
        ProcSample settling = allOpen;
        qint64 settlingMs = allOpenMs;
        for (;;) {
            if (holderGone())
                return false;
            const qint64 elapsed = clock.elapsed();
            if (elapsed - settlingMs < kHoldSettledMs)
                continue;
            const ProcSample now = sampleProcess(pid);
            if (now.cpuSeconds == settling.cpuSeconds || elapsed - allOpenMs >= kHoldSettleMaxMs) {
                run.idleSettleCpuSeconds = now.cpuSeconds - allOpen.cpuSeconds;
                return true;
            }
            settling = now;
            settlingMs = elapsed;
        }
    }

    // After the pingpong beside idle connections: counts the idle ones still open on the
    // server, waits for the holder's end (each connection must still echo its probe, and
    // it must have sent nothing else) and fails the run if any of that is not so.
    void checkIdle(qint64 pid, int idle, int baseline, QProcess &holder,
                   const QElapsedTimer &holderClock, Run &run)
    {
        // The pingpong's own connections leave the server; the idle ones stay.
        QElapsedTimer leaving;
        leaving.start();
        int open = countDescriptors(pid) - baseline;
        while (open > idle && leaving.elapsed() < 2000) {
            QThread::msleep(20);
            open = countDescriptors(pid) - baseline;
        }
        run.idleOpenAfter = open;
        const qint64 limitMs = qint64(besideHoldSeconds() + 60) * 1000;
        while (holder.state() != QProcess::NotRunning && holderClock.elapsed() < limitMs)
            holder.waitForFinished(100);
        QString problem;
        if (holder.state() != QProcess::NotRunning) {
            problem = QStringLiteral("the idle holder overran %1 s: killed").arg(limitMs / 1000);
        } else {
            const QList<QByteArray> lines = holder.readAllStandardOutput().trimmed().split('\n');
            const QJsonObject result = QJsonDocument::fromJson(lines.constLast()).object();
            run.idleHeld = result.value(QStringLiteral("held")).toInteger(-1);
            run.idleBytesSent = result.value(QStringLiteral("bytes_sent")).toInteger(-1);
            const qint64 probes = qint64(idle) * 16;
            if (result.isEmpty())
                problem = QStringLiteral("the idle holder printed no result (exit %1)")
                              .arg(holder.exitCode());
            else if (run.idleOpenAtStart < idle)
                problem = QStringLiteral("only %1 of %2 idle connections open on the server at "
                                         "the measured window's start")
                              .arg(run.idleOpenAtStart)
                              .arg(idle);
            else if (run.idleOpenAfter < idle)
                problem = QStringLiteral("only %1 of %2 idle connections open on the server "
                                         "after the pingpong")
                              .arg(run.idleOpenAfter)
                              .arg(idle);
            else if (run.idleHeld != idle)
                problem = QStringLiteral("%1 of %2 idle connections still echoed at the hold's "
                                         "end%3")
                              .arg(run.idleHeld)
                              .arg(idle)
                              .arg(result.contains(QStringLiteral("first_error"))
                                       ? QStringLiteral(": ") +
                                             result.value(QStringLiteral("first_error")).toString()
                                       : QString());
            else if (run.idleBytesSent != probes)
                problem = QStringLiteral("the idle connections were not idle: their holder sent "
                                         "%1 bytes, its probes are %2")
                              .arg(run.idleBytesSent)
                              .arg(probes);
        }
        if (!problem.isEmpty()) {
            run.completed = false;
            if (run.error.isEmpty())
                run.error = problem;
        }
    }

    Run runOne(const ServerSpec &spec, const Workload &workload, int repeat)
    {
        Run run;
        run.server = spec.key;
        run.workload = workload.key;
        run.repeat = repeat;
        if (workload.mode == Mode::Hold && spec.forks) {
            run.error = QStringLiteral("skipped: a process per connection");
            return run;
        }
        ServerProcess server(
            spec, m_options.workDir +
                      QStringLiteral("/%1-%2-%3.stderr").arg(spec.key, workload.key).arg(repeat));
        if (!server.start(&run.error))
            return run;
        const qint64 pid = server.pid();

        // Beside idle connections: they are all open and the server has settled before the
        // load starts.
        const int idle = workload.idleConnections;
        run.idleConnections = idle;
        QProcess holder;
        const ChildGuard holderGuard(holder);
        QElapsedTimer holderClock;
        int idleBaseline = 0;
        if (idle > 0 && !holdIdle(server, idle, holder, holderClock, &idleBaseline, run))
            return run;

        QStringList arguments{QStringLiteral("bench"),
                              QStringLiteral("--host"),
                              QStringLiteral("127.0.0.1"),
                              QStringLiteral("--port"),
                              QString::number(server.port()),
                              QStringLiteral("--mode"),
                              modeName(workload.mode),
                              QStringLiteral("--connections"),
                              QString::number(workload.connections),
                              QStringLiteral("--size"),
                              QString::number(workload.sizeBytes),
                              QStringLiteral("--json"),
                              QStringLiteral("--quiet")};
        const bool hold = workload.mode == Mode::Hold;
        if (hold) {
            arguments << QStringLiteral("--duration") << QString::number(kHoldSeconds)
                      << QStringLiteral("--timeout") << QStringLiteral("30");
        } else {
            arguments << QStringLiteral("--duration") << QString::number(m_options.seconds)
                      << QStringLiteral("--warmup") << QString::number(kWarmupSeconds)
                      << QStringLiteral("--timeout") << QStringLiteral("10");
        }
        const qint64 limitMs = hold ? (kHoldSeconds + 90) * 1000
                                    : qint64((kWarmupSeconds + m_options.seconds + 40) * 1000);

        const ProcSample before = sampleProcess(pid);
        const int descriptorsBefore = countDescriptors(pid);
        run.rssBeforeKiB = before.rssKiB;
        QProcess bench;
        bench.setProgram(m_options.echoscope);
        bench.setArguments(arguments);
        bench.setStandardErrorFile(m_options.workDir + QStringLiteral("/bench.stderr"),
                                   QIODevice::Append);
        QElapsedTimer clock;
        bench.start();
        clock.start();
        if (!bench.waitForStarted(kServerStartTimeoutMs)) {
            run.error = QStringLiteral("cannot start echoscope bench: %1").arg(bench.errorString());
            return run;
        }

        std::optional<ProcSample> measureStart; // throughput: at the end of the warm-up
        qint64 allOpenMs = 0;                   // hold: every connection open on the server
        std::optional<ProcSample> settling;     // hold: the last sample while settling
        qint64 settlingMs = 0;
        std::optional<ProcSample> heldStart; // hold: the idle window's start
        qint64 heldStartMs = 0;
        std::optional<ProcSample> heldEnd;
        QByteArray output;
        while (!bench.waitForFinished(20)) {
            output += bench.readAllStandardOutput();
            const qint64 elapsed = clock.elapsed();
            if (!hold && !measureStart && elapsed >= qint64(kWarmupSeconds * 1000)) {
                measureStart = sampleProcess(pid);
                if (idle > 0)
                    run.idleOpenAtStart =
                        countDescriptors(pid) - idleBaseline - workload.connections;
            }
            if (hold && !allOpenMs && elapsed >= kHoldFirstSampleMs) {
                const int open = countDescriptors(pid) - descriptorsBefore;
                if (open >= workload.connections) {
                    allOpenMs = elapsed;
                    run.descriptors = open;
                    run.openSeconds = double(elapsed) / 1000;
                    settling = sampleProcess(pid);
                    settlingMs = elapsed;
                } else if (elapsed > kHoldOpenTimeoutMs && run.error.isEmpty()) {
                    run.error = QStringLiteral("only %1 connections open on the server after "
                                               "%2 s")
                                    .arg(open)
                                    .arg(kHoldOpenTimeoutMs / 1000);
                }
            }
            if (allOpenMs && !heldStart && elapsed - settlingMs >= kHoldSettledMs) {
                const ProcSample now = sampleProcess(pid);
                if (now.cpuSeconds == settling->cpuSeconds ||
                    elapsed - allOpenMs >= kHoldSettleMaxMs) {
                    heldStart = now;
                    heldStartMs = elapsed;
                    run.settledSeconds = double(elapsed) / 1000;
                } else {
                    settling = now;
                    settlingMs = elapsed;
                }
            }
            if (heldStart && !heldEnd && elapsed - heldStartMs >= kHoldIdleWindowMs)
                heldEnd = sampleProcess(pid);
            if (elapsed > limitMs) {
                bench.kill();
                bench.waitForFinished(kServerStopTimeoutMs);
                run.error =
                    QStringLiteral("echoscope bench overran %1 s: killed").arg(limitMs / 1000);
                return run;
            }
        }
        output += bench.readAllStandardOutput();
        if (spec.forks)
            QThread::msleep(300); // let the server reap its children, so their CPU counts
        const ProcSample after = sampleProcess(pid);
        const bool serverDied = !server.isRunning();
        if (serverDied)
            run.error = server.exitDescription();

        const QList<QByteArray> lines = output.trimmed().split('\n');
        const QJsonDocument document = QJsonDocument::fromJson(lines.constLast());
        run.completed =
            bench.exitStatus() == QProcess::NormalExit && document.isObject() && !serverDied;
        run.benchExitCode = bench.exitStatus() == QProcess::NormalExit ? bench.exitCode() : -1;
        run.bench = document.object();
        if (!run.completed && run.error.isEmpty())
            run.error = QStringLiteral("echoscope bench printed no result (exit %1)")
                            .arg(run.benchExitCode);
        if (run.error.isEmpty() && run.bench.contains(QStringLiteral("first_error")))
            run.error = run.bench.value(QStringLiteral("first_error")).toString();
        switch (workload.mode) {
        case Mode::PingPong:
        case Mode::OneShot:
            run.value = run.bench.value(QStringLiteral("round_trips_per_s")).toDouble();
            break;
        case Mode::Stream:
            run.value = run.bench.value(QStringLiteral("mb_per_s")).toDouble();
            break;
        case Mode::Hold:
            run.value = run.bench.value(QStringLiteral("held")).toDouble();
            break;
        }
        if (!hold && run.completed && run.value <= 0) {
            // The bench flags an echo late only after --timeout, longer than a short run.
            run.completed = false;
            if (run.error.isEmpty())
                run.error = QStringLiteral("nothing was echoed in the measured time");
        }
        const ProcSample start = hold ? before : measureStart.value_or(before);
        run.cpuSeconds = after.cpuSeconds - start.cpuSeconds;
        run.peakRssKiB = after.peakRssKiB;
        if (hold && heldStart) {
            run.rssHeldKiB = heldStart->rssKiB;
            if (heldEnd) {
                run.rssHeldEndKiB = heldEnd->rssKiB;
                run.idleCpuSeconds = heldEnd->cpuSeconds - heldStart->cpuSeconds;
            } else if (run.error.isEmpty()) {
                run.error = QStringLiteral("the bench ended before the idle window did");
            }
        }
        if (idle > 0 && run.completed)
            checkIdle(pid, idle, idleBaseline, holder, holderClock, run);
        return run;
    }

    void runAll(const std::vector<ServerSpec> &servers, const std::vector<Workload> &list)
    {
        const auto runAndPrint = [this](const ServerSpec &spec, const Workload &workload,
                                        int repeat) {
            std::fprintf(stderr, "%-24s %-14s run %d ... ", qPrintable(workload.key),
                         qPrintable(spec.key), repeat + 1);
            Run run = runOne(spec, workload, repeat);
            std::fprintf(stderr, "%s%s\n", qPrintable(valueText(workload, run)),
                         run.error.isEmpty() ? ""
                                             : qPrintable(QStringLiteral(" [%1]").arg(run.error)));
            m_runs.push_back(run);
        };
        for (const Workload &workload : list) {
            if (workload.companion)
                continue; // run with its partner
            const auto alone =
                std::find_if(list.begin(), list.end(), [&workload](const Workload &other) {
                    return !workload.aloneKey.isEmpty() && other.key == workload.aloneKey;
                });
            for (int repeat = 0; repeat < m_options.repeats; ++repeat) {
                // A configuration and its baseline run one after the other, each first in
                // turn: what a run leaves behind (sockets in TIME_WAIT, warm caches) does not
                // always fall on the same side.
                std::vector<const ServerSpec *> order;
                for (const ServerSpec &spec : servers)
                    order.push_back(&spec);
                for (size_t i = 0; repeat % 2 && i + 1 < order.size(); ++i)
                    if (!order[i]->baseline.isEmpty() && order[i]->baseline == order[i + 1]->key)
                        std::swap(order[i], order[i + 1]);
                for (const ServerSpec *spec : order) { // interleaved: drift hits all alike
                    if (alone == list.end()) {
                        runAndPrint(*spec, workload, repeat);
                        continue;
                    }
                    // A pair on the same server, one right after the other, each first in
                    // turn: beside idle connections and alone.
                    runAndPrint(*spec, repeat % 2 ? workload : *alone, repeat);
                    runAndPrint(*spec, repeat % 2 ? *alone : workload, repeat);
                }
            }
        }
    }

    // The median run by value (the runs that completed first).
    const Run *result(const QString &server, const QString &workload) const
    {
        std::vector<const Run *> matching;
        for (const Run &run : m_runs)
            if (run.server == server && run.workload == workload)
                matching.push_back(&run);
        if (matching.empty())
            return nullptr;
        std::sort(matching.begin(), matching.end(), [](const Run *a, const Run *b) {
            return std::make_pair(a->completed, a->value) < std::make_pair(b->completed, b->value);
        });
        return matching[matching.size() / 2];
    }

    // One figure of one run, or nothing when the run cannot give it.
    using Figure = std::function<std::optional<double>(const Run &)>;

    static std::optional<double> throughputOf(const Run &run)
    {
        return run.completed ? std::optional<double>(run.value) : std::nullopt;
    }

    // Server CPU per unit of work (µs per request or connection, or per MB streamed), for a
    // run without errors. Less sensitive than throughput to what else the machine runs.
    static std::optional<double> cpuPerUnitOf(const Run &run)
    {
        const double seconds = run.bench.value(QStringLiteral("seconds")).toDouble();
        if (!run.ok() || run.value <= 0 || seconds <= 0)
            return std::nullopt;
        return run.cpuSeconds * 1e6 / (run.value * seconds);
    }

    static std::optional<double> peakRssOf(const Run &run)
    {
        return run.completed && run.peakRssKiB > 0 ? std::optional<double>(run.peakRssKiB)
                                                   : std::nullopt;
    }

    // The figure of each of this server's runs of the workload that has it, repeat by repeat.
    std::vector<double> figures(const QString &server, const QString &workload,
                                const Figure &figure) const
    {
        std::vector<double> values;
        for (const Run &run : m_runs)
            if (run.server == server && run.workload == workload)
                if (const std::optional<double> value = figure(run))
                    values.push_back(*value);
        return values;
    }

    // Per repeat, this server's figure divided by the base server's in the same repeat (a
    // pair run seconds apart shares the machine's state); the repeats where both have it.
    std::vector<double> pairedRatios(const QString &server, const QString &base,
                                     const QString &workload, const Figure &figure) const
    {
        std::vector<double> ratios;
        for (const Run &run : m_runs) {
            if (run.server != server || run.workload != workload)
                continue;
            const std::optional<double> value = figure(run);
            for (const Run &other : m_runs) {
                if (!value || other.server != base || other.workload != workload ||
                    other.repeat != run.repeat)
                    continue;
                const std::optional<double> baseValue = figure(other);
                if (baseValue && *baseValue > 0)
                    ratios.push_back(*value / *baseValue);
            }
        }
        return ratios;
    }

    // Per repeat, this server's figure beside idle connections divided by its figure alone in
    // the same repeat (the two runs of a pair follow each other); the repeats where both have it.
    std::vector<double> besideRatios(const QString &server, const Workload &beside,
                                     const Figure &figure) const
    {
        std::vector<double> ratios;
        for (const Run &run : m_runs) {
            if (run.server != server || run.workload != beside.key)
                continue;
            const std::optional<double> value = figure(run);
            for (const Run &other : m_runs) {
                if (!value || other.server != server || other.workload != beside.aloneKey ||
                    other.repeat != run.repeat)
                    continue;
                const std::optional<double> aloneValue = figure(other);
                if (aloneValue && *aloneValue > 0)
                    ratios.push_back(*value / *aloneValue);
            }
        }
        return ratios;
    }

    // The median of the paired throughput ratios to the reference; 0 if none.
    double ratio(const QString &server, const QString &workload) const
    {
        return median(pairedRatios(server, QStringLiteral("epoll"), workload, throughputOf));
    }

    // The median CPU per unit over the runs without errors; 0 if none.
    double cpuPerUnit(const QString &server, const QString &workload) const
    {
        return median(figures(server, workload, cpuPerUnitOf));
    }

    // "1.02× (0.97–1.05)": the median of paired ratios and, over several repeats, their range.
    static QString ratioText(const std::vector<double> &ratios)
    {
        if (ratios.empty())
            return QStringLiteral("–");
        QString text = QStringLiteral("%1×").arg(median(ratios), 0, 'f', 2);
        if (ratios.size() > 1) {
            const auto [low, high] = std::minmax_element(ratios.begin(), ratios.end());
            text += QStringLiteral(" (%1–%2)").arg(*low, 0, 'f', 2).arg(*high, 0, 'f', 2);
        }
        return text;
    }

    static double median(std::vector<double> values)
    {
        if (values.empty())
            return 0;
        std::sort(values.begin(), values.end());
        const size_t middle = values.size() / 2;
        return values.size() % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    static QString valueText(const Workload &workload, const Run &run)
    {
        if (!run.completed)
            return run.error.startsWith(QLatin1String("skipped")) ? QStringLiteral("skipped")
                                                                  : QStringLiteral("failed");
        const QLocale english(QLocale::English);
        QString text;
        switch (workload.mode) {
        case Mode::PingPong:
            text = english.toString(qRound64(run.value)) + QStringLiteral(" req/s");
            break;
        case Mode::Stream:
            text = english.toString(run.value, 'f', 1) + QStringLiteral(" MB/s");
            break;
        case Mode::OneShot:
            text = english.toString(qRound64(run.value)) + QStringLiteral(" conn/s");
            break;
        case Mode::Hold:
            text = english.toString(qRound64(run.value)) + QStringLiteral(" held");
            break;
        }
        if (!run.ok())
            text += QStringLiteral(" ✗ %1 errors")
                        .arg(run.bench.value(QStringLiteral("errors")).toInteger());
        return text;
    }

    // Hold, each configuration against its baseline: medians ("this / baseline"), the paired
    // ratio of RSS per connection, and the idle CPU of every repeat (ticks of 10 ms: a ratio
    // of zeros says nothing).
    QString holdAgainstBaseline(const std::vector<const ServerSpec *> &compared,
                                const Workload &hold) const
    {
        const QLocale english(QLocale::English);
        const int connections = hold.connections;
        const Figure perConnectionOf = [connections](const Run &run) -> std::optional<double> {
            if (!run.completed || run.rssHeldKiB == 0)
                return std::nullopt;
            return double(run.rssHeldKiB - run.rssBeforeKiB) * 1024 / connections;
        };
        const Figure rssBeforeOf = [](const Run &run) -> std::optional<double> {
            if (!run.completed || run.rssHeldKiB == 0)
                return std::nullopt;
            return double(run.rssBeforeKiB) / 1024;
        };
        const Figure idleCpuOf = [](const Run &run) -> std::optional<double> {
            if (!run.completed || run.rssHeldEndKiB == 0)
                return std::nullopt;
            return run.idleCpuSeconds;
        };
        const auto medians = [this, &hold](const ServerSpec *spec, const Figure &figure,
                                           const auto &format) {
            QStringList texts;
            for (const QString &server : {spec->key, spec->baseline}) {
                const std::vector<double> values = figures(server, hold.key, figure);
                texts << (values.empty() ? QStringLiteral("–") : format(median(values)));
            }
            return texts.join(QStringLiteral(" / "));
        };
        const auto byRepeat = [this, &hold, &idleCpuOf](const ServerSpec *spec) {
            QStringList texts;
            for (const QString &server : {spec->key, spec->baseline}) {
                QStringList values;
                for (double value : figures(server, hold.key, idleCpuOf))
                    values << QString::number(value, 'f', 2);
                texts << (values.isEmpty() ? QStringLiteral("–")
                                           : values.join(QStringLiteral(", ")));
            }
            return texts.join(QStringLiteral(" / ")) + QStringLiteral(" s");
        };
        QString out = QStringLiteral("\n#### Hold against the baseline (this / baseline)\n\n"
                                     "| configuration | held | RSS before | per connection | "
                                     "per connection, ratio | CPU over 5 s idle, by repeat |\n"
                                     "| --- | --- | --- | --- | --- | --- |\n");
        for (const ServerSpec *spec : compared) {
            const QStringList cells{
                QStringLiteral("%1 / %2").arg(spec->key, spec->baseline),
                medians(spec, throughputOf,
                        [&english](double value) { return english.toString(qRound64(value)); }),
                medians(spec, rssBeforeOf,
                        [](double mib) { return QStringLiteral("%1 MiB").arg(mib, 0, 'f', 1); }),
                medians(spec, perConnectionOf,
                        [&english](double bytes) {
                            return QStringLiteral("%1 B").arg(english.toString(qRound64(bytes)));
                        }),
                ratioText(pairedRatios(spec->key, spec->baseline, hold.key, perConnectionOf)),
                byRepeat(spec)};
            out +=
                QStringLiteral("| ") + cells.join(QStringLiteral(" | ")) + QStringLiteral(" |\n");
        }
        return out;
    }

    // --smoke: whether every run completed and `echoscope bench` found every echo right.
    bool allRunsClean() const
    {
        return !m_runs.empty() &&
               std::all_of(m_runs.begin(), m_runs.end(), [](const Run &run) { return run.ok(); });
    }

    // Prints the tables; returns whether every Echoscope run met its targets.
    bool report(const std::vector<ServerSpec> &servers, const std::vector<Workload> &list) const
    {
        const QLocale english(QLocale::English);
        const QString reference = QStringLiteral("epoll");
        QString out;
        const auto row = [&out](const QStringList &cells) {
            out +=
                QStringLiteral("| ") + cells.join(QStringLiteral(" | ")) + QStringLiteral(" |\n");
        };
        const auto ruler = [&row](int columns) {
            QStringList cells;
            for (int i = 0; i < columns; ++i)
                cells << QStringLiteral("---");
            row(cells);
        };

        // --baseline-echoscope: each configuration against its baseline, in a column of its own.
        std::vector<const ServerSpec *> compared;
        for (const ServerSpec &spec : servers)
            if (std::any_of(servers.begin(), servers.end(), [&spec](const ServerSpec &other) {
                    return other.key == spec.baseline;
                }))
                compared.push_back(&spec);

        out += QStringLiteral("### Throughput (ratio to the epoll reference)\n\n");
        QStringList header{QStringLiteral("workload")};
        for (const ServerSpec &spec : servers)
            header << spec.title;
        for (const ServerSpec *spec : compared)
            header << QStringLiteral("%1 / %2").arg(spec->key, spec->baseline);
        row(header);
        ruler(int(header.size()));
        for (const Workload &workload : list) {
            if (workload.mode == Mode::Hold)
                continue;
            QStringList cells{workload.title};
            for (const ServerSpec &spec : servers) {
                const Run *run = result(spec.key, workload.key);
                if (!run) {
                    cells << QStringLiteral("–");
                    continue;
                }
                QString cell = valueText(workload, *run);
                const double r = ratio(spec.key, workload.key);
                if (spec.key != reference && r > 0)
                    cell += QStringLiteral(" (%1×)").arg(r, 0, 'f', 2);
                cells << cell;
            }
            for (const ServerSpec *spec : compared)
                cells << ratioText(
                    pairedRatios(spec->key, spec->baseline, workload.key, throughputOf));
            row(cells);
        }

        out += QStringLiteral("\n### Server CPU per unit of work (ratio to the reference)\n\n");
        row(header);
        ruler(int(header.size()));
        for (const Workload &workload : list) {
            if (workload.mode == Mode::Hold)
                continue;
            const QString unit = workload.mode == Mode::PingPong ? QStringLiteral("µs/req")
                                 : workload.mode == Mode::Stream ? QStringLiteral("µs/MB")
                                                                 : QStringLiteral("µs/conn");
            const double base = cpuPerUnit(reference, workload.key);
            QStringList cells{workload.title};
            for (const ServerSpec &spec : servers) {
                const double cost = cpuPerUnit(spec.key, workload.key);
                if (cost <= 0) {
                    cells << QStringLiteral("–");
                    continue;
                }
                QString cell = QStringLiteral("%1 %2").arg(cost, 0, 'f', 1).arg(unit);
                if (spec.key != reference && base > 0)
                    cell += QStringLiteral(" (%1×)").arg(cost / base, 0, 'f', 2);
                cells << cell;
            }
            for (const ServerSpec *spec : compared)
                cells << ratioText(
                    pairedRatios(spec->key, spec->baseline, workload.key, cpuPerUnitOf));
            row(cells);
        }

        out += QStringLiteral("\n### Server CPU seconds (measured part) / peak RSS\n\n");
        row(header);
        ruler(int(header.size()));
        for (const Workload &workload : list) {
            QStringList cells{workload.title};
            for (const ServerSpec &spec : servers) {
                const Run *run = result(spec.key, workload.key);
                if (!run || !run->completed) {
                    cells << QStringLiteral("–");
                    continue;
                }
                cells << QStringLiteral("%1 s / %2 MiB")
                             .arg(run->cpuSeconds, 0, 'f', 2)
                             .arg(double(run->peakRssKiB) / 1024, 0, 'f', 1);
            }
            for (const ServerSpec *spec : compared)
                cells << QStringLiteral("peak RSS %1")
                             .arg(ratioText(
                                 pairedRatios(spec->key, spec->baseline, workload.key, peakRssOf)));
            row(cells);
        }

        const auto holdWorkload = std::find_if(
            list.begin(), list.end(), [](const Workload &w) { return w.mode == Mode::Hold; });
        if (holdWorkload != list.end()) {
            out += QStringLiteral("\n### Hold %1 idle connections\n\n")
                       .arg(english.toString(holdWorkload->connections));
            row({QStringLiteral("server"), QStringLiteral("held (still echoing)"),
                 QStringLiteral("RSS before"), QStringLiteral("RSS held"),
                 QStringLiteral("per connection"), QStringLiteral("CPU over 5 s idle"),
                 QStringLiteral("peak RSS"), QStringLiteral("all open / idle after")});
            ruler(8);
            for (const ServerSpec &spec : servers) {
                const Run *run = result(spec.key, holdWorkload->key);
                if (!run)
                    continue;
                if (!run->completed || run->rssHeldKiB == 0) {
                    row({spec.title, run->error.isEmpty() ? QStringLiteral("failed") : run->error,
                         QString(), QString(), QString(), QString(), QString(), QString()});
                    continue;
                }
                const double perConnection =
                    double(run->rssHeldKiB - run->rssBeforeKiB) * 1024 / holdWorkload->connections;
                row({spec.title, valueText(*holdWorkload, *run),
                     QStringLiteral("%1 MiB").arg(double(run->rssBeforeKiB) / 1024, 0, 'f', 1),
                     QStringLiteral("%1 MiB").arg(double(run->rssHeldKiB) / 1024, 0, 'f', 1),
                     QStringLiteral("%1 B").arg(english.toString(qRound64(perConnection))),
                     QStringLiteral("%1 s").arg(run->idleCpuSeconds, 0, 'f', 2),
                     QStringLiteral("%1 MiB").arg(double(run->peakRssKiB) / 1024, 0, 'f', 1),
                     QStringLiteral("%1 s / %2 s")
                         .arg(run->openSeconds, 0, 'f', 1)
                         .arg(run->settledSeconds, 0, 'f', 1)});
            }
            if (!compared.empty())
                out += holdAgainstBaseline(compared, *holdWorkload);
        }

        // Pingpong beside idle connections, against the same pingpong alone.
        std::vector<const Workload *> besides;
        for (const Workload &workload : list)
            if (workload.idleConnections > 0 &&
                std::any_of(list.begin(), list.end(),
                            [&workload](const Workload &w) { return w.key == workload.aloneKey; }))
                besides.push_back(&workload);
        for (const Workload *beside : besides) {
            const QString idleCount = english.toString(beside->idleConnections);
            out += QStringLiteral("\n### %1: against alone, same server, same repeat\n\n")
                       .arg(beside->title);
            row({QStringLiteral("server"), QStringLiteral("alone"), QStringLiteral("beside idle"),
                 QStringLiteral("beside / alone (paired)"), QStringLiteral("CPU alone"),
                 QStringLiteral("CPU beside"), QStringLiteral("CPU beside / alone (paired)"),
                 QStringLiteral("idle open at start / after / echoing at end (fewest)"),
                 QStringLiteral("idle holder sent (most)"),
                 QStringLiteral("server CPU settling (most)")});
            ruler(10);
            for (const ServerSpec &spec : servers) {
                const auto medianText = [this, &spec, &english](const QString &key,
                                                                const Figure &figure,
                                                                bool perSecond) {
                    const std::vector<double> values = figures(spec.key, key, figure);
                    if (values.empty())
                        return QStringLiteral("–");
                    const double value = median(values);
                    return perSecond ? english.toString(qRound64(value)) + QStringLiteral(" req/s")
                                     : QStringLiteral("%1 µs/req").arg(value, 0, 'f', 1);
                };
                int fewestStart = -1, fewestAfter = -1;
                qint64 fewestHeld = -1, mostSent = -1;
                double settleCpu = 0;
                bool any = false;
                for (const Run &run : m_runs) {
                    if (run.server != spec.key || run.workload != beside->key)
                        continue;
                    fewestStart =
                        any ? std::min(fewestStart, run.idleOpenAtStart) : run.idleOpenAtStart;
                    fewestAfter =
                        any ? std::min(fewestAfter, run.idleOpenAfter) : run.idleOpenAfter;
                    fewestHeld = any ? std::min(fewestHeld, run.idleHeld) : run.idleHeld;
                    mostSent = std::max(mostSent, run.idleBytesSent);
                    settleCpu = std::max(settleCpu, run.idleSettleCpuSeconds);
                    any = true;
                }
                if (!any)
                    continue;
                const auto count = [&english](qint64 value) {
                    return value < 0 ? QStringLiteral("–") : english.toString(value);
                };
                row({spec.title, medianText(beside->aloneKey, throughputOf, true),
                     medianText(beside->key, throughputOf, true),
                     ratioText(besideRatios(spec.key, *beside, throughputOf)),
                     medianText(beside->aloneKey, cpuPerUnitOf, false),
                     medianText(beside->key, cpuPerUnitOf, false),
                     ratioText(besideRatios(spec.key, *beside, cpuPerUnitOf)),
                     QStringLiteral("%1 / %2 / %3 of %4")
                         .arg(count(fewestStart), count(fewestAfter), count(fewestHeld), idleCount),
                     mostSent < 0 ? QStringLiteral("–")
                                  : QStringLiteral("%1 B").arg(english.toString(mostSent)),
                     QStringLiteral("%1 s").arg(settleCpu, 0, 'f', 2)});
            }
        }

        // The targets, for each Echoscope configuration.
        bool allMet = true;
        QString targets;
        for (const ServerSpec &spec : servers) {
            if (!spec.echoscope)
                continue;
            for (const QString &key :
                 {QStringLiteral("pingpong-1k-100"), QStringLiteral("stream-64k-10"),
                  QStringLiteral("oneshot-1k-10")}) {
                const Run *run = result(spec.key, key);
                const Run *base = result(reference, key);
                if (!run || !base)
                    continue;
                const bool comparable = run->ok() && base->ok();
                const double r = comparable ? ratio(spec.key, key) : 0;
                const bool met = comparable && r >= kTargetRatio;
                allMet = allMet && met;
                targets += QStringLiteral("- %1, %2: %3× (target ≥ %4×) %5\n")
                               .arg(spec.title, key)
                               .arg(r, 0, 'f', 2)
                               .arg(kTargetRatio, 0, 'f', 1)
                               .arg(met ? QStringLiteral("met") : QStringLiteral("MISSED"));
            }
            for (const Workload *beside : besides) {
                const std::vector<double> ratios = besideRatios(spec.key, *beside, throughputOf);
                const double r = median(ratios);
                const bool met = !ratios.empty() && r >= kTargetBesideRatio;
                allMet = allMet && met;
                targets += QStringLiteral("- %1, %2: %3× of alone (target ≥ %4×) %5\n")
                               .arg(spec.title, beside->key)
                               .arg(r, 0, 'f', 2)
                               .arg(kTargetBesideRatio, 0, 'f', 2)
                               .arg(met ? QStringLiteral("met") : QStringLiteral("MISSED"));
            }
            if (holdWorkload != list.end()) {
                const Run *run = result(spec.key, holdWorkload->key);
                if (!run)
                    continue;
                const bool held = run->ok() && run->value == holdWorkload->connections;
                const bool rss = run->rssHeldKiB > 0 &&
                                 std::max(run->rssHeldKiB, run->rssHeldEndKiB) <= kTargetHoldRssKiB;
                const bool idle =
                    run->rssHeldEndKiB > 0 && run->idleCpuSeconds < kTargetHoldIdleCpuSeconds;
                allMet = allMet && held && rss && idle;
                targets += QStringLiteral("- %1, hold: %2 of %3 held %4; RSS %5 MiB (≤ 100) %6; "
                                          "idle CPU %7 s (< 0.05) %8\n")
                               .arg(spec.title)
                               .arg(qRound64(run->value))
                               .arg(holdWorkload->connections)
                               .arg(held ? QStringLiteral("met") : QStringLiteral("MISSED"))
                               .arg(double(std::max(run->rssHeldKiB, run->rssHeldEndKiB)) / 1024, 0,
                                    'f', 1)
                               .arg(rss ? QStringLiteral("met") : QStringLiteral("MISSED"))
                               .arg(run->idleCpuSeconds, 0, 'f', 3)
                               .arg(idle ? QStringLiteral("met") : QStringLiteral("MISSED"));
            }
        }
        for (const Workload *beside : besides) { // what the machine itself loses
            const std::vector<double> ratios = besideRatios(reference, *beside, throughputOf);
            if (!ratios.empty())
                targets += QStringLiteral("- epoll reference (no target: the machine's own "
                                          "loss), %1: %2× of alone\n")
                               .arg(beside->key)
                               .arg(median(ratios), 0, 'f', 2);
        }
        if (!targets.isEmpty())
            out += QStringLiteral("\n### Targets\n\n") + targets;

        QString failures;
        for (const Run &run : m_runs)
            if (!run.ok() && !run.error.startsWith(QLatin1String("skipped")))
                failures += QStringLiteral("- %1, %2 (run %3): %4\n")
                                .arg(run.server, run.workload)
                                .arg(run.repeat + 1)
                                .arg(run.error.isEmpty() ? QStringLiteral("errors") : run.error);
        if (!failures.isEmpty())
            out += QStringLiteral("\n### Runs with errors\n\n") + failures;

        std::fputs(out.toUtf8().constData(), stdout);
        std::fflush(stdout);
        return allMet;
    }

    bool writeJson(const QString &path, const std::vector<ServerSpec> &servers) const
    {
        QJsonArray runs;
        for (const Run &run : m_runs)
            runs.append(run.toJson());
        QJsonArray serverList;
        for (const ServerSpec &spec : servers) {
            QJsonObject server{
                {QStringLiteral("key"), spec.key},
                {QStringLiteral("title"), spec.title},
                {QStringLiteral("program"), spec.program},
                {QStringLiteral("arguments"), QJsonArray::fromStringList(spec.arguments)}};
            if (!spec.baseline.isEmpty())
                server.insert(QStringLiteral("baseline"), spec.baseline);
            if (!spec.environment.isEmpty())
                server.insert(QStringLiteral("environment"),
                              QJsonArray::fromStringList(spec.environment));
            serverList.append(server);
        }
        const QJsonObject root{{QStringLiteral("seconds"), m_options.seconds},
                               {QStringLiteral("warmup_seconds"), kWarmupSeconds},
                               {QStringLiteral("repeats"), m_options.repeats},
                               {QStringLiteral("cpus"), QThread::idealThreadCount()},
                               {QStringLiteral("servers"), serverList},
                               {QStringLiteral("runs"), runs}};
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return false;
        return file.write(QJsonDocument(root).toJson()) > 0;
    }

private:
    DriverOptions m_options;
    std::vector<Run> m_runs;
};

// baselineEchoscope (may be empty): a second echoscope binary, run as baseline-t1 and
// baseline-t2 with the same command lines, each listed right after its counterpart.
std::vector<ServerSpec> availableServers(const QString &self, const QString &echoscope,
                                         const QString &baselineEchoscope, int holdConnections)
{
    const QString serversDir = QStringLiteral(ECHO_SERVERS_DIR);
    const QString python = QStandardPaths::findExecutable(QStringLiteral("python3"));
    // Room for the held or idle connections and the pingpong's 100 beside them.
    const int maxClients = std::max(20000, holdConnections + 1000);
    const auto echoscopeArguments = [maxClients](int threads) {
        // Events are still formatted; they go to /dev/null rather than a terminal.
        return QStringList{QStringLiteral("--headless"), QStringLiteral("--port"),
                           QStringLiteral("0"),          QStringLiteral("--threads"),
                           QString::number(threads),     QStringLiteral("--max-clients"),
                           QString::number(maxClients),  QStringLiteral("--log-file"),
                           QProcess::nullDevice()};
    };
    std::vector<ServerSpec> list;
    list.push_back({QStringLiteral("epoll"),
                    QStringLiteral("epoll reference"),
                    self,
                    {QStringLiteral("--serve-epoll")},
                    true,
                    false,
                    false,
                    {}});
    for (int threads : {1, 2}) {
        list.push_back({QStringLiteral("echoscope-t%1").arg(threads),
                        QStringLiteral("Echoscope --threads %1").arg(threads),
                        echoscope,
                        echoscopeArguments(threads),
                        true,
                        false,
                        true,
                        {}});
        const size_t configuration = list.size() - 1;
        if (!baselineEchoscope.isEmpty()) {
            // The same command line with the other binary; the targets apply to Echoscope
            // only.
            ServerSpec baseline = list[configuration];
            baseline.key = QStringLiteral("baseline-t%1").arg(threads);
            baseline.title = QStringLiteral("baseline --threads %1").arg(threads);
            baseline.program = baselineEchoscope;
            baseline.echoscope = false;
            list[configuration].baseline = baseline.key;
            list.push_back(baseline);
        }
        if (threads == 2) {
            // The worker threads on Qt's event dispatcher instead of Echoscope's own (Linux;
            // core/net/workerdispatcher.h): the same binary and command line. Without
            // --baseline-echoscope it is echoscope-t2's baseline (listed right after it,
            // compared with it in a column of its own).
            ServerSpec qtDispatcher = list[configuration];
            qtDispatcher.key = QStringLiteral("echoscope-t2-qtdisp");
            qtDispatcher.title = QStringLiteral("Echoscope --threads 2, Qt's dispatcher");
            qtDispatcher.echoscope = false;
            qtDispatcher.baseline.clear();
            qtDispatcher.environment = {QStringLiteral("ECHOSCOPE_WORKER_DISPATCHER=qt")};
            if (baselineEchoscope.isEmpty())
                list[configuration].baseline = qtDispatcher.key;
            list.push_back(qtDispatcher);
        }
    }
    list.push_back({QStringLiteral("qt-naive"),
                    QStringLiteral("naive Qt"),
                    self,
                    {QStringLiteral("--serve-qt")},
                    true,
                    false,
                    false,
                    {}});
    // Extras: the field's peers (--servers all, or by name).
    list.push_back({QStringLiteral("asyncio"),
                    QStringLiteral("Python asyncio (extra)"),
                    python,
                    {serversDir + QStringLiteral("/asyncio_echo.py")},
                    true,
                    false,
                    false,
                    {}});
    list.push_back({QStringLiteral("socketserver"),
                    QStringLiteral("Python ThreadingTCPServer (extra)"),
                    python,
                    {serversDir + QStringLiteral("/socketserver_echo.py")},
                    true,
                    false,
                    false,
                    {}});
    list.push_back({QStringLiteral("socat"),
                    QStringLiteral("socat fork (extra)"),
                    QStringLiteral("socat"),
                    {QStringLiteral("TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork,backlog=1024,"
                                    "nodelay"),
                     QStringLiteral("PIPE")},
                    false,
                    true,
                    false,
                    {}});
    list.push_back({QStringLiteral("ncat"),
                    QStringLiteral("ncat --exec cat (extra)"),
                    QStringLiteral("ncat"),
                    {QStringLiteral("-l"), QStringLiteral("-k"), QStringLiteral("-m"),
                     QStringLiteral("1000"), QStringLiteral("127.0.0.1"), QStringLiteral("0"),
                     QStringLiteral("-e"), QStringLiteral("/bin/cat")},
                    false,
                    true,
                    false,
                    {}});
    return list;
}

int drive(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Echo throughput and footprint: Echoscope headless against a minimal epoll echo "
        "server, a naive Qt echo and optional peers. Prints markdown tables; exit status 0 "
        "when every Echoscope configuration met the targets, 1 otherwise."));
    parser.addHelpOption();
    const QCommandLineOption seconds(QStringLiteral("seconds"),
                                     QStringLiteral("Measured seconds per run (default 3)."),
                                     QStringLiteral("s"), QStringLiteral("3"));
    const QCommandLineOption repeats(QStringLiteral("repeats"),
                                     QStringLiteral("Runs per server and workload; the median "
                                                    "is reported (default 1)."),
                                     QStringLiteral("n"), QStringLiteral("1"));
    const QCommandLineOption only(QStringLiteral("only"),
                                  QStringLiteral("Only workloads whose key contains this "
                                                 "(keys: pingpong-1k-100, stream-64k-10, "
                                                 "oneshot-1k-10, hold-16-10000, ...; "
                                                 "pingpong-beside-idle, not in the default "
                                                 "run, with --only beside)."),
                                  QStringLiteral("substring"));
    const QCommandLineOption serversOption(
        QStringLiteral("servers"),
        QStringLiteral(
            "Comma-separated: epoll, echoscope-t1, echoscope-t2, echoscope-t2-qtdisp, qt-naive, "
            "asyncio, socketserver, socat, ncat, and with --baseline-echoscope "
            "baseline-t1, baseline-t2; or all (default: the first four, and the "
            "baselines when given)."),
        QStringLiteral("list"), QStringLiteral("epoll,echoscope-t1,echoscope-t2,qt-naive"));
    const QCommandLineOption holdConnections(
        QStringLiteral("hold-connections"),
        QStringLiteral("Connections held by the hold workload, and idle beside the pingpong "
                       "in pingpong-beside-idle (default 10000)."),
        QStringLiteral("n"), QStringLiteral("10000"));
    const QCommandLineOption json(QStringLiteral("json"),
                                  QStringLiteral("Also write every run's raw figures here."),
                                  QStringLiteral("file"));
    const QCommandLineOption echoscopeOption(
        QStringLiteral("echoscope"),
        QStringLiteral("The echoscope binary (default: the one built with this benchmark)."),
        QStringLiteral("path"), QStringLiteral(ECHOSCOPE_BINARY));
    const QCommandLineOption baselineOption(
        QStringLiteral("baseline-echoscope"),
        QStringLiteral("Another echoscope binary, run as baseline-t1 and baseline-t2 (added to "
                       "the default servers) and compared with echoscope-t1 and -t2."),
        QStringLiteral("path"));
    const QCommandLineOption smokeOption(
        QStringLiteral("smoke"),
        QStringLiteral("Correctness only (CI's smoke run): exit 0 when every run completed and "
                       "every echo was right, whatever the figures."));
    parser.addOptions({seconds, repeats, only, serversOption, holdConnections, json,
                       echoscopeOption, baselineOption, smokeOption});
    parser.process(app);

    DriverOptions options;
    bool ok = true;
    options.seconds = parser.value(seconds).toDouble(&ok);
    if (!ok || options.seconds <= 0) {
        std::fprintf(stderr, "bench_echo: --seconds: expected a positive number\n");
        return 2;
    }
    options.repeats = std::max(1, parser.value(repeats).toInt());
    options.holdConnections = std::max(1, parser.value(holdConnections).toInt());
    options.only = parser.value(only);
    options.jsonPath = parser.value(json);
    options.smoke = parser.isSet(smokeOption);
    // Absolute: QStandardPaths::findExecutable (the check below) finds no relative path.
    options.echoscope = QFileInfo(parser.value(echoscopeOption)).absoluteFilePath();
    if (parser.isSet(baselineOption))
        options.baselineEchoscope = QFileInfo(parser.value(baselineOption)).absoluteFilePath();
    QStringList binaries{options.echoscope};
    if (parser.isSet(baselineOption))
        binaries << options.baselineEchoscope;
    for (const QString &binary : binaries) {
        if (!QFileInfo(binary).isExecutable()) {
            std::fprintf(stderr, "bench_echo: %s is not an executable\n", qPrintable(binary));
            return 2;
        }
    }
    QTemporaryDir workDir;
    options.workDir = workDir.path();

    const std::vector<ServerSpec> available =
        availableServers(QCoreApplication::applicationFilePath(), options.echoscope,
                         options.baselineEchoscope, options.holdConnections);
    std::vector<ServerSpec> servers;
    QStringList wanted = parser.value(serversOption).split(QLatin1Char(','));
    if (!options.baselineEchoscope.isEmpty() && !parser.isSet(serversOption))
        wanted << QStringLiteral("baseline-t1") << QStringLiteral("baseline-t2");
    for (const ServerSpec &spec : available)
        if (wanted.contains(QStringLiteral("all")) || wanted.contains(spec.key))
            servers.push_back(spec);
    for (const QString &name : wanted) {
        const bool known =
            name == QLatin1String("all") ||
            std::any_of(available.begin(), available.end(),
                        [&name](const ServerSpec &spec) { return spec.key == name; });
        if (!known) {
            std::fprintf(stderr, "bench_echo: unknown server \"%s\"%s\n", qPrintable(name),
                         name.startsWith(QLatin1String("baseline-"))
                             ? " (it needs --baseline-echoscope)"
                             : "");
            return 2;
        }
    }
    servers.erase(std::remove_if(servers.begin(), servers.end(),
                                 [](const ServerSpec &spec) {
                                     const bool missing =
                                         spec.program.isEmpty() ||
                                         QStandardPaths::findExecutable(spec.program).isEmpty();
                                     if (missing)
                                         std::fprintf(stderr,
                                                      "bench_echo: %s not installed: "
                                                      "skipped\n",
                                                      qPrintable(spec.key));
                                     return missing;
                                 }),
                  servers.end());
    // An opt-in workload runs only when --only names it: a substring of its key that no
    // default workload's key contains (--only beside). A paired workload brings its partner.
    const std::vector<Workload> all = workloads(options.holdConnections);
    const bool onlyNamesDefault =
        std::any_of(all.begin(), all.end(), [&options](const Workload &workload) {
            return !workload.optIn && workload.key.contains(options.only);
        });
    std::vector<Workload> list;
    for (const Workload &workload : all) {
        if (workload.companion)
            continue;
        const bool selected = workload.optIn
                                  ? !options.only.isEmpty() && !onlyNamesDefault &&
                                        workload.key.contains(options.only)
                                  : options.only.isEmpty() || workload.key.contains(options.only);
        if (!selected)
            continue;
        for (const Workload &other : all)
            if (!workload.aloneKey.isEmpty() && other.key == workload.aloneKey)
                list.push_back(other);
        list.push_back(workload);
    }
    if (list.empty() || servers.empty()) {
        std::fprintf(stderr, "bench_echo: nothing to run\n");
        return 2;
    }
    // Every server and the load generator take one descriptor per connection, and raise
    // their open-file limit to the hard one: a hold beyond it can only fail, later.
    rlimit files;
    const bool holds = std::any_of(list.begin(), list.end(), [](const Workload &workload) {
        return workload.mode == Mode::Hold || workload.idleConnections > 0;
    });
    if (holds && ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_max != RLIM_INFINITY &&
        rlim_t(options.holdConnections) + kDescriptorReserve > files.rlim_max) {
        std::fprintf(stderr,
                     "bench_echo: --hold-connections %d: needs %d open files per process, "
                     "the hard limit (ulimit -Hn) is %llu\n",
                     options.holdConnections, options.holdConnections + kDescriptorReserve,
                     static_cast<unsigned long long>(files.rlim_max));
        return 2;
    }

    std::fprintf(stderr,
                 "bench_echo: %d workloads × %d servers, %g s each (+%g s warm-up), "
                 "%d cores\n",
                 int(list.size()), int(servers.size()), options.seconds, kWarmupSeconds,
                 QThread::idealThreadCount());
    Driver driver(options);
    driver.runAll(servers, list);
    const bool met = driver.report(servers, list);
    if (!options.jsonPath.isEmpty() && !driver.writeJson(options.jsonPath, servers))
        std::fprintf(stderr, "bench_echo: cannot write %s\n", qPrintable(options.jsonPath));
    if (options.smoke) {
        const bool clean = driver.allRunsClean();
        std::fprintf(stderr, "bench_echo: smoke run %s\n",
                     clean ? "clean: every echo right" : "FAILED: a run had errors");
        return clean ? 0 : 1;
    }
    return met ? 0 : 1;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc >= 2 && std::strcmp(argv[1], "--serve-epoll") == 0)
        return serveEpoll(argc >= 3 ? argv[2] : nullptr);
    if (argc >= 2 && std::strcmp(argv[1], "--serve-qt") == 0)
        return serveQt(argc, argv);
    return drive(argc, argv);
}
