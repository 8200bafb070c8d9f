// Drives the built echoscope binary: arguments, the listening line, echo in every
// framing mode, JSON lines, escaping, signals, exit codes and the log file.

#include "recording.h"
#include "serverconfig.h"
#include "errortext.h"
#include "tsharksupport.h"
#include "workerdispatcher.h"

#include <QByteArrayList>
#include <QDir>
#include <QFile>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QNetworkDatagram>
#include <QProcess>
#include <QWebSocket>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSettings>
#include <QSignalSpy>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QUdpSocket>

#include <algorithm>
#include <memory>
#include <vector>

#ifdef Q_OS_UNIX
#include <csignal>
#include <sys/socket.h>
#include <sys/syscall.h>
#endif

namespace {

constexpr int kTimeoutMs = 10000;

// One echoscope process, its output gathered as it comes. The destructor kills it if
// it is still running.
class ServerProcess
{
public:
    explicit ServerProcess(const QStringList &arguments)
    {
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput, &m_process,
                         [this] { m_output += m_process.readAllStandardOutput(); });
        QObject::connect(&m_process, &QProcess::readyReadStandardError, &m_process,
                         [this] { m_errorOutput += m_process.readAllStandardError(); });
        m_process.start(QStringLiteral(ECHOSCOPE_BINARY), arguments);
    }

    ~ServerProcess()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(kTimeoutMs);
        }
    }

    // Waits for the first line and returns it without its line end (empty on timeout).
    QByteArray waitForFirstLine()
    {
        const bool ended =
            QTest::qWaitFor([this] { return m_output.contains('\n') || !isRunning(); }, kTimeoutMs);
        Q_UNUSED(ended); // no line: the caller sees an empty one
        const qsizetype end = m_output.indexOf('\n');
        return end < 0 ? QByteArray() : m_output.left(end);
    }

    // Waits for "listening on ADDRESS:PORT" and returns PORT (0 if it did not come).
    quint16 waitForListening(const QString &address = QStringLiteral("127.0.0.1"))
    {
        const QByteArray line = waitForFirstLine();
        static const QRegularExpression pattern(QStringLiteral("^listening on (.+):(\\d+)$"));
        const QRegularExpressionMatch match = pattern.match(QString::fromUtf8(line));
        if (!match.hasMatch() || match.captured(1) != address)
            return 0;
        return quint16(match.captured(2).toUInt());
    }

    bool waitForOutput(const QByteArray &text)
    {
        return QTest::qWaitFor([&] { return m_output.contains(text); }, kTimeoutMs);
    }

    bool waitForExit()
    {
        const bool exited = QTest::qWaitFor([this] { return !isRunning(); }, kTimeoutMs);
        m_output += m_process.readAllStandardOutput();
        m_errorOutput += m_process.readAllStandardError();
        return exited;
    }

    bool sendSignal(int signalNumber)
    {
#ifdef Q_OS_UNIX
        return m_process.processId() > 0 && ::kill(pid_t(m_process.processId()), signalNumber) == 0;
#else
        Q_UNUSED(signalNumber);
        return false;
#endif
    }

    qint64 processId() const
    {
        return m_process.processId();
    }
    bool isRunning() const
    {
        return m_process.state() != QProcess::NotRunning;
    }
    QByteArray output() const
    {
        return m_output;
    }
    QByteArray errorOutput() const
    {
        return m_errorOutput;
    }
    QByteArrayList lines() const
    {
        QByteArrayList lines = m_output.split('\n');
        if (!lines.isEmpty() && lines.constLast().isEmpty())
            lines.removeLast();
        return lines;
    }
    int exitCode() const
    {
        return m_process.exitCode();
    }
    QProcess::ExitStatus exitStatus() const
    {
        return m_process.exitStatus();
    }

private:
    QProcess m_process;
    QByteArray m_output;
    QByteArray m_errorOutput;
};

struct Finished
{
    int exitCode = -1;
    QProcess::ExitStatus exitStatus = QProcess::CrashExit;
    QByteArray output;
    QByteArray errorOutput;
};

// Runs echoscope to its end, for invocations that exit by themselves.
Finished runToEnd(const QStringList &arguments,
                  const QProcessEnvironment &environment = QProcessEnvironment::systemEnvironment())
{
    QProcess process;
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral(ECHOSCOPE_BINARY), arguments);
    Finished result;
    if (!process.waitForFinished(kTimeoutMs)) {
        process.kill();
        process.waitForFinished(kTimeoutMs);
        return result;
    }
    result.exitCode = process.exitCode();
    result.exitStatus = process.exitStatus();
    result.output = process.readAllStandardOutput();
    result.errorOutput = process.readAllStandardError();
    return result;
}

QStringList headless(const QStringList &extra = {})
{
    return QStringList{QStringLiteral("--headless"), QStringLiteral("--port"), QStringLiteral("0"),
                       QStringLiteral("--threads"), QStringLiteral("1")} +
           extra;
}

bool connectClient(QTcpSocket &socket, quint16 port)
{
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    return socket.waitForConnected(kTimeoutMs);
}

// Reads until `size` bytes have come (or the time is up); returns what came.
QByteArray readEcho(QTcpSocket &socket, qint64 size)
{
    QByteArray received;
    const bool complete = QTest::qWaitFor(
        [&] {
            received += socket.readAll();
            return received.size() >= size;
        },
        kTimeoutMs);
    Q_UNUSED(complete); // the caller compares what came
    return received;
}

bool waitForDisconnect(QTcpSocket &socket)
{
    return QTest::qWaitFor([&] { return socket.state() == QAbstractSocket::UnconnectedState; },
                           kTimeoutMs);
}

QByteArray bytes(const char *data, int size)
{
    return QByteArray(data, size);
}

} // namespace

class tst_Cli : public QObject
{
    Q_OBJECT

private slots:
    void cleanup();

    void help();
    void version();
    void withoutDisplayTheDashboardExplains();
    void dashboardScreenshot();
    void dashboardScreenshotUnwritable();
    void dashboardOptionsAreRunOnly();
    void warnsAboutOptionsWithoutEffect_data();
    void warnsAboutOptionsWithoutEffect();
    void badArguments_data();
    void badArguments();
    void listeningLineIsExact();
    void echoes_data();
    void echoes();
    void echoesAtEndOfFile();
    void defaultThreadsLeaveACore();
    void mainThreadWaitsInEpoll_data();
    void mainThreadWaitsInEpoll();
    void faultsLoggedAndApplied();
    void messageTooLargeWithSizeSuffix();
    void fractionalIdleTimeout();
    void jsonLines();
    void verboseEscapesPayload();
    void stopsOnSignal_data();
    void stopsOnSignal();
    void portInUse();
    void logFile();
    void logFileCannotBeOpened();
    void warnsWhenNotLoopback();
    void metricsEndpoint();
    void metricsPortInUse();
    void controlApiLine();
    void controlPortInUse();
    void controlTokenFile();
    void dashboardRunsTheControlApi();
    void controlApiWarnsWhenNotLoopback();
    void tlsEchoHeadless();
    void udpEcho();
    void webSocketEcho();
    void replayBadArguments_data();
    void replayBadArguments();
    void replayMissingOrCorruptFile();
    void replayCannotConnect();
    void recordsEachClient();
    void recordCannotWriteDirectory();
    void recordsPcapng();

private:
    ServerProcess *startServer(const QStringList &arguments);

    std::vector<std::unique_ptr<ServerProcess>> m_servers;
};

ServerProcess *tst_Cli::startServer(const QStringList &arguments)
{
    m_servers.push_back(std::make_unique<ServerProcess>(arguments));
    return m_servers.back().get();
}

void tst_Cli::cleanup()
{
    m_servers.clear(); // kills whatever a failed test left running
}

void tst_Cli::help()
{
    const Finished run = runToEnd({QStringLiteral("--help")});
    QCOMPARE(run.exitStatus, QProcess::NormalExit);
    QCOMPARE(run.exitCode, 0);
    QVERIFY(run.output.contains("Usage:"));
    for (const char *option :
         {"--headless", "--bind", "--port", "--framing", "--delimiter", "--length-bytes",
          "--max-message-size", "--max-clients", "--idle-timeout", "--threads", "--log-format",
          "--log-file", "--verbose", "--metrics-port", "--metrics-address", "--version"})
        QVERIFY2(run.output.contains(option), option);
}

void tst_Cli::version()
{
    const Finished run = runToEnd({QStringLiteral("--version")});
    QCOMPARE(run.exitCode, 0);
    static const QRegularExpression pattern(QStringLiteral("^echoscope \\d+\\.\\d+\\.\\d+\\n$"));
    QVERIFY2(pattern.match(QString::fromUtf8(run.output)).hasMatch(), run.output.constData());
}

// The dashboard's environment: no display but the offscreen platform, and settings in a
// throwaway directory so a test never touches the user's.
QProcessEnvironment dashboardEnvironment(const QTemporaryDir &home)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("DISPLAY"));
    environment.remove(QStringLiteral("WAYLAND_DISPLAY"));
    environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    environment.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
    environment.insert(QStringLiteral("HOME"), home.path());
    return environment;
}

void tst_Cli::withoutDisplayTheDashboardExplains()
{
    QTemporaryDir home;
    QVERIFY(home.isValid());
    QProcessEnvironment environment = dashboardEnvironment(home);
    environment.remove(QStringLiteral("QT_QPA_PLATFORM"));
    const Finished run = runToEnd({QStringLiteral("--port"), QStringLiteral("0")}, environment);
    QCOMPARE(run.exitStatus, QProcess::NormalExit);
    QCOMPARE(run.exitCode, 2);
    QVERIFY(run.output.isEmpty());
    QVERIFY2(run.errorOutput.contains("no display"), run.errorOutput.constData());
    QVERIFY2(run.errorOutput.contains("--headless"), run.errorOutput.constData());
    QCOMPARE(run.errorOutput.count('\n'), 1);

    // A bad argument is still reported as such, display or not.
    const Finished bad = runToEnd({QStringLiteral("--port"), QStringLiteral("x")}, environment);
    QCOMPARE(bad.exitCode, 2);
    QVERIFY2(bad.errorOutput.startsWith("echoscope: --port \"x\""), bad.errorOutput.constData());
}

void tst_Cli::dashboardScreenshot()
{
    QTemporaryDir home;
    QVERIFY(home.isValid());
    const QString path = home.filePath(QStringLiteral("dashboard.png"));
    const Finished run = runToEnd({QStringLiteral("--port"), QStringLiteral("0"),
                                   QStringLiteral("--start"), QStringLiteral("--screenshot"), path,
                                   QStringLiteral("--screenshot-delay"), QStringLiteral("200")},
                                  dashboardEnvironment(home));
    QCOMPARE(run.exitStatus, QProcess::NormalExit);
    QVERIFY2(run.exitCode == 0, run.errorOutput.constData());
    QFile png(path);
    QVERIFY(png.open(QIODevice::ReadOnly));
    const QByteArray header = png.read(24);
    QVERIFY(header.startsWith("\x89PNG\r\n\x1a\n"));
    // IHDR: width and height, big-endian, at bytes 16 and 20.
    const auto be32 = [&header](int at) {
        return quint32(quint8(header[at])) << 24 | quint32(quint8(header[at + 1])) << 16 |
               quint32(quint8(header[at + 2])) << 8 | quint32(quint8(header[at + 3]));
    };
    QVERIFY2(be32(16) >= 800 && be32(20) >= 500,
             qPrintable(QStringLiteral("%1x%2").arg(be32(16)).arg(be32(20))));
    // A screenshot run does not write the user's settings.
    QVERIFY(!QFile::exists(home.filePath(QStringLiteral("config/Echoscope/echoscope.conf"))));
}

void tst_Cli::dashboardScreenshotUnwritable()
{
    QTemporaryDir home;
    QVERIFY(home.isValid());
    const QString path = home.filePath(QStringLiteral("no-such-dir/dashboard.png"));
    const Finished run =
        runToEnd({QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--screenshot"),
                  path, QStringLiteral("--screenshot-delay"), QStringLiteral("0")},
                 dashboardEnvironment(home));
    QCOMPARE(run.exitStatus, QProcess::NormalExit);
    QCOMPARE(run.exitCode, 4);
    QVERIFY2(run.errorOutput.contains(path.toUtf8()), run.errorOutput.constData());
}

// Engine options override the dashboard's remembered settings for that run only: after
// a start (which saves the settings) and a quit the file still says what it said.
void tst_Cli::dashboardOptionsAreRunOnly()
{
#ifndef Q_OS_UNIX
    QSKIP("quits the dashboard with SIGTERM");
#else
    QTemporaryDir home;
    QVERIFY(home.isValid());
    const QString path = home.filePath(QStringLiteral("config/Echoscope/echoscope.conf"));
    {
        QSettings remembered(path, QSettings::IniFormat);
        remembered.setValue(QStringLiteral("server/bind"), QStringLiteral("::1"));
        remembered.setValue(QStringLiteral("server/port"), 45678);
        remembered.setValue(QStringLiteral("server/maxClients"), 33);
        remembered.sync();
        QCOMPARE(remembered.status(), QSettings::NoError);
    }
    QProcess process;
    process.setProcessEnvironment(dashboardEnvironment(home));
    process.start(QStringLiteral(ECHOSCOPE_BINARY),
                  {QStringLiteral("--bind"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                   QStringLiteral("0"), QStringLiteral("--max-clients"), QStringLiteral("5"),
                   QStringLiteral("--start")});
    // Start saves the settings (the window's geometry with them): then it is running.
    const auto saved = [&] {
        return QSettings(path, QSettings::IniFormat).contains(QStringLiteral("window/geometry"));
    };
    const bool started = QTest::qWaitFor(saved, kTimeoutMs);
    const bool signalled = ::kill(pid_t(process.processId()), SIGTERM) == 0;
    const bool ended = process.waitForFinished(kTimeoutMs);
    if (!ended)
        process.kill();
    QVERIFY2(started, process.readAllStandardError().constData());
    QVERIFY(signalled);
    QVERIFY(ended);
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 0);

    const QSettings after(path, QSettings::IniFormat);
    QCOMPARE(after.value(QStringLiteral("server/bind")).toString(), QStringLiteral("::1"));
    QCOMPARE(after.value(QStringLiteral("server/port")).toInt(), 45678);
    QCOMPARE(after.value(QStringLiteral("server/maxClients")).toInt(), 33);
#endif
}

void tst_Cli::warnsAboutOptionsWithoutEffect_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("warning"); // empty: none

    const auto row = [](const char *name, const QStringList &arguments, const char *warning) {
        QTest::newRow(name) << arguments << QByteArray(warning);
    };
    row("length bytes with line framing", {"--framing", "line", "--length-bytes", "2"},
        "--length-bytes has no effect with --framing line");
    row("log format in the dashboard", {"--log-format", "json"},
        "--log-format has no effect without --headless");
    row("record in the dashboard", {"--record", "dir"},
        "--record has no effect without --headless");
    row("record limit without record", {"--record-limit", "5K"},
        "--record-limit has no effect without --record");
    row("metrics address without port", {"--metrics-address", "::1"},
        "--metrics-address has no effect without --metrics-port");
    row("control address without port", {"--control-address", "::1"},
        "--control-address has no effect without --control-port");
    row("control token file without port", {"--control-token-file", "token"},
        "--control-token-file has no effect without --control-port");
    row("screenshot delay without screenshot", {"--screenshot-delay", "5"},
        "--screenshot-delay has no effect without --screenshot");
    row("fault seed without a fault", {"--fault-seed", "7"},
        "--fault-seed has no effect without a --fault option");
    // The dashboard may remember UDP echo and TLS files: nothing to warn about there.
    row("udp timeout in the dashboard", {"--udp-idle-timeout", "5"}, "");
    row("tls version in the dashboard", {"--tls-min-version", "1.3"}, "");
    row("udp timeout headless", {"--headless", "--udp-idle-timeout", "5"},
        "--udp-idle-timeout has no effect without --udp-port");
    row("ws origin headless", {"--headless", "--ws-origin", "http://a.example"},
        "--ws-origin has no effect without --ws-port");
    row("start headless", {"--headless", "--start"}, "--start has no effect with --headless");
}

// The warnings come before anything runs; without a display the dashboard then refuses
// to start, and headless mode is ended by a bad --log-file.
void tst_Cli::warnsAboutOptionsWithoutEffect()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, warning);

    QTemporaryDir home;
    QVERIFY(home.isValid());
    QProcessEnvironment environment = dashboardEnvironment(home);
    environment.remove(QStringLiteral("QT_QPA_PLATFORM"));
    if (arguments.contains(QStringLiteral("--headless")))
        arguments << QStringLiteral("--log-file") << home.filePath(QStringLiteral("no/such/dir"));
    const Finished run = runToEnd(arguments, environment);
    QCOMPARE(run.exitStatus, QProcess::NormalExit);
    QCOMPARE(run.exitCode, 2);
    const QByteArrayList lines = run.errorOutput.split('\n');
    QByteArrayList warnings;
    for (const QByteArray &line : lines) {
        if (line.startsWith("echoscope: warning: "))
            warnings.append(line);
    }
    if (warning.isEmpty()) {
        QVERIFY2(warnings.isEmpty(), run.errorOutput.constData());
    } else {
        QCOMPARE(warnings.size(), 1);
        QVERIFY2(warnings.constFirst().contains(warning), run.errorOutput.constData());
    }
}

void tst_Cli::badArguments_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArrayList>("named"); // what stderr must name

    const auto row = [](const char *name, const QStringList &arguments,
                        const QByteArrayList &named) { QTest::newRow(name) << arguments << named; };
    row("port too large", {"--port", "70000"}, {"--port", "70000"});
    row("port not a number", {"--port", "http"}, {"--port", "http"});
    row("port negative", {"--port", "-1"}, {"--port", "-1"});
    row("port missing", {"--port"}, {"port"});
    row("framing unknown", {"--framing", "bogus"}, {"--framing", "bogus"});
    row("framing fixed without size", {"--framing", "fixed:"}, {"--framing", "fixed:"});
    row("fixed larger than the limit", {"--framing", "fixed:100", "--max-message-size", "10"},
        {"--framing", "fixed:100"});
    row("length bytes 3", {"--framing", "length", "--length-bytes", "3"}, {"--length-bytes", "3"});
    row("delimiter bad escape", {"--framing", "line", "--delimiter", "\\q"},
        {"--delimiter", "\\q"});
    row("max message size unit", {"--max-message-size", "5X"}, {"--max-message-size", "5X"});
    row("max message size zero", {"--max-message-size", "0"}, {"--max-message-size", "0"});
    row("max clients zero", {"--max-clients", "0"}, {"--max-clients", "0"});
    row("max clients negative", {"--max-clients", "-5"}, {"--max-clients", "-5"});
    row("idle timeout negative", {"--idle-timeout", "-1"}, {"--idle-timeout", "-1"});
    row("idle timeout not a number", {"--idle-timeout", "soon"}, {"--idle-timeout", "soon"});
    row("idle timeout below a millisecond", {"--idle-timeout", "0.0001"},
        {"--idle-timeout", "0.0001", "0.001"});
    row("idle timeout with an exponent", {"--idle-timeout", "1e3"}, {"--idle-timeout", "1e3"});
    row("threads too many", {"--threads", "300"}, {"--threads", "300"});
    row("bind not an address", {"--bind", "example"}, {"--bind", "example"});
    row("log format", {"--log-format", "xml"}, {"--log-format", "xml"});
    row("metrics port too large", {"--metrics-port", "65536"}, {"--metrics-port", "65536"});
    row("metrics address", {"--metrics-port", "0", "--metrics-address", "nowhere"},
        {"--metrics-address", "nowhere"});
    row("control port too large", {"--control-port", "65536"}, {"--control-port", "65536"});
    row("control address", {"--control-port", "0", "--control-address", "nowhere"},
        {"--control-address", "nowhere"});
    row("capture bytes too large", {"--capture-bytes", "65M"}, {"--capture-bytes", "65M"});
    row("fault jitter over delay", {"--fault-delay", "20:50"}, {"--fault-delay", "20:50"});
    row("fault slice zero", {"--fault-slice", "0:5"}, {"--fault-slice", "0:5"});
    row("fault probability over 1", {"--fault-reset-probability", "2"},
        {"--fault-reset-probability", "2"});
    row("fault bandwidth unit", {"--fault-bandwidth", "1Mbit"}, {"--fault-bandwidth", "1Mbit"});
    row("fault timeout negative", {"--fault-timeout", "-5"}, {"--fault-timeout", "-5"});
    row("fault timeout too long", {"--fault-timeout", "3600001"}, {"--fault-timeout", "3600001"});
    row("fault slow close zero", {"--fault-slow-close", "0"}, {"--fault-slow-close", "0"});
    row("fault toxicity over 1", {"--fault-toxicity", "1.5"}, {"--fault-toxicity", "1.5"});
    row("fault udp loss word", {"--fault-udp-loss", "some"}, {"--fault-udp-loss", "some"});
    row("fault udp duplicate over 100%", {"--fault-udp-duplicate", "101%"},
        {"--fault-udp-duplicate", "101%"});
    row("fault udp reorder negative", {"--fault-udp-reorder", "-0.1"},
        {"--fault-udp-reorder", "-0.1"});
    row("fault udp corrupt exponent", {"--fault-udp-corrupt", "1e-3"},
        {"--fault-udp-corrupt", "1e-3"});
    row("tls cert without key", {"--tls-cert", "cert.pem"},
        {"--tls-cert", "cert.pem", "--tls-key"});
    row("tls key without cert", {"--tls-key", "key.pem"}, {"--tls-key", "key.pem", "--tls-cert"});
    row("tls cert unreadable",
        {"--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"},
        {"--tls-cert", "/nonexistent/cert.pem", EchoTest::osErrorUtf8(ENOENT)});
    row("tls min version", {"--tls-min-version", "1.1"}, {"--tls-min-version", "1.1"});
    row("tls handshake timeout zero", {"--tls-handshake-timeout", "0"},
        {"--tls-handshake-timeout", "0"});
    row("udp port too large", {"--udp-port", "70000"}, {"--udp-port", "70000"});
    row("udp port a word", {"--udp-port", "on"}, {"--udp-port", "on", "off"});
    row("ws port too large", {"--ws-port", "70000"}, {"--ws-port", "70000", "or off"});
    row("ws handshake timeout zero", {"--ws-port", "0", "--ws-handshake-timeout", "0"},
        {"--ws-handshake-timeout", "0"});
    row("ws origin with a newline", {"--ws-port", "0", "--ws-origin", "http://a\nb"},
        {"--ws-origin", "not an origin"});
    row("udp idle timeout zero", {"--udp-port", "0", "--udp-idle-timeout", "0"},
        {"--udp-idle-timeout", "0"});
    row("max udp peers zero", {"--udp-port", "0", "--max-udp-peers", "0"},
        {"--max-udp-peers", "0"});
    row("record without a directory", {"--record", ""}, {"--record", "directory"});
    row("record limit zero", {"--record", "x", "--record-limit", "0"}, {"--record-limit", "\"0\""});
    row("record limit too large", {"--record", "x", "--record-limit", "65M"},
        {"--record-limit", "65M", "64M"});
    row("record total not a size", {"--record", "x", "--record-total", "lots"},
        {"--record-total", "lots"});
    row("record format unknown", {"--record", "x", "--record-format", "pcap"},
        {"--record-format", "pcap", "jsonl or pcapng"});
    row("unknown option", {"--bogus-option"}, {"bogus-option"});
    row("positional argument", {"extra"}, {"extra"});
}

void tst_Cli::badArguments()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArrayList, named);

    const Finished run = runToEnd(QStringList{QStringLiteral("--headless")} + arguments);
    QCOMPARE(run.exitStatus, QProcess::NormalExit);
    QCOMPARE(run.exitCode, 2);
    QVERIFY(run.output.isEmpty());
    QVERIFY2(run.errorOutput.startsWith("echoscope: "), run.errorOutput.constData());
    const QByteArray firstLine = run.errorOutput.left(run.errorOutput.indexOf('\n'));
    for (const QByteArray &text : named)
        QVERIFY2(firstLine.contains(text), firstLine.constData());
    QVERIFY2(run.errorOutput.contains("Usage:"), run.errorOutput.constData());
}

void tst_Cli::listeningLineIsExact()
{
    ServerProcess *server = startServer(headless());
    const QByteArray line = server->waitForFirstLine();
    static const QRegularExpression pattern(QStringLiteral("^listening on 127\\.0\\.0\\.1:\\d+$"));
    QVERIFY2(pattern.match(QString::fromUtf8(line)).hasMatch(), line.constData());
    QVERIFY(server->waitForListening() != 0);
    QVERIFY(server->isRunning());
}

void tst_Cli::echoes_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("sent"); // in one write
    QTest::addColumn<QByteArray>("echoed");

    const QByteArray binary = bytes("hi\0\xff\r\n\x1b!", 8);
    QTest::newRow("stream") << QStringList{} << binary << binary;
    QTest::newRow("line, two lines")
        << QStringList{"--framing", "line"} << QByteArray("one\ntwo\n") << QByteArray("one\ntwo\n");
    QTest::newRow("line, CRLF") << QStringList{"--framing", "line", "--delimiter", "\\r\\n"}
                                << QByteArray("one\r\ntwo\r\n") << QByteArray("one\r\ntwo\r\n");
    QTest::newRow("length, 4-byte header")
        << QStringList{"--framing", "length"} << bytes("\0\0\0\5hello", 9)
        << bytes("\0\0\0\5hello", 9);
    QTest::newRow("length, 2-byte header")
        << QStringList{"--framing", "length", "--length-bytes", "2"} << bytes("\0\3abc\0\0", 7)
        << bytes("\0\3abc\0\0", 7);
    QTest::newRow("fixed:4") << QStringList{"--framing", "fixed:4"} << QByteArray("abcdefghij")
                             << QByteArray("abcdefgh");
}

void tst_Cli::echoes()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, sent);
    QFETCH(QByteArray, echoed);

    ServerProcess *server = startServer(headless(arguments));
    const quint16 port = server->waitForListening();
    QVERIFY2(port != 0, server->output().constData());

    QTcpSocket client;
    QVERIFY(connectClient(client, port));
    QVERIFY(server->waitForOutput(" connected"));
    client.write(sent);
    QCOMPARE(readEcho(client, echoed.size()), echoed);

    client.disconnectFromHost();
    QVERIFY(server->waitForOutput(" disconnected: "));
    QVERIFY2(server->output().contains(" disconnected: closed by peer"),
             server->output().constData());
    const QByteArray counts = QStringLiteral("; in %1 bytes, out %2 bytes, ")
                                  .arg(sent.size())
                                  .arg(echoed.size())
                                  .toUtf8();
    QVERIFY2(server->output().contains(counts), server->output().constData());
    static const QRegularExpression messageLine(QStringLiteral(" message \\d+ bytes?: "));
    QVERIFY(!messageLine.match(QString::fromUtf8(server->output())).hasMatch()); // --verbose only
    QVERIFY(server->errorOutput().isEmpty());
}

// What the process's main thread is blocked in: a system call number, or -1 while it runs
// (or is stopped outside one); -2 if /proc does not tell.
static long mainThreadSyscall(qint64 pid)
{
    QFile file(QStringLiteral("/proc/%1/task/%1/syscall").arg(pid));
    if (!file.open(QIODevice::ReadOnly))
        return -2;
    const QByteArray text = file.readAll().trimmed();
    if (text == "running")
        return -1;
    bool ok = false;
    const long number = text.split(' ').value(0).toLong(&ok);
    return ok ? number : -2;
}

// Headless without --threads: one worker per core but one, at least 1, where 1 is the main
// thread itself (no worker thread). Counted by the workers' thread names in /proc.
void tst_Cli::defaultThreadsLeaveACore()
{
#ifdef Q_OS_LINUX
    ServerProcess *server =
        startServer({QStringLiteral("--headless"), QStringLiteral("--port"), QStringLiteral("0")});
    const quint16 port = server->waitForListening();
    QVERIFY2(port != 0, server->output().constData());
    const QString tasks = QStringLiteral("/proc/%1/task").arg(server->processId());
    int workerThreads = 0;
    const QStringList ids = QDir(tasks).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    QVERIFY2(!ids.isEmpty(), qPrintable(tasks));
    for (const QString &id : ids) {
        QFile comm(tasks + QLatin1Char('/') + id + QStringLiteral("/comm"));
        if (comm.open(QIODevice::ReadOnly) && comm.readAll().startsWith("echoscope-work"))
            ++workerThreads;
    }
    const int cores = qMax(1, QThread::idealThreadCount());
    const int expected = cores - 1 <= 1 ? 0 : cores - 1; // 1: the main thread serves
    QCOMPARE(workerThreads, expected);
    // The rule itself, which the dashboard follows too.
    Echoscope::ServerConfig config;
    QCOMPARE(config.effectiveThreads(), qMax(1, cores - 1));
    config.threads = 3;
    QCOMPARE(config.effectiveThreads(), 3);
#else
    QSKIP("Linux only: counts threads in /proc");
#endif
}

void tst_Cli::mainThreadWaitsInEpoll_data()
{
    QTest::addColumn<QByteArray>("setting");
    QTest::addColumn<bool>("epoll");
    QTest::newRow("default") << QByteArray() << true;
    QTest::newRow("ECHOSCOPE_WORKER_DISPATCHER=qt") << QByteArray("qt") << false;
}

// Headless, the main thread registers the clients and writes their lines, and with
// --threads 1 serves them: it waits in epoll itself as the workers do (WorkerDispatcher),
// not in Qt's ppoll() followed by the poller's epoll_wait(). Read from /proc while the
// server is idle after an echo; ECHOSCOPE_WORKER_DISPATCHER=qt keeps Qt's dispatcher, which
// the same reading tells apart.
void tst_Cli::mainThreadWaitsInEpoll()
{
#if defined(Q_OS_LINUX) && defined(SYS_epoll_pwait) && defined(SYS_ppoll)
    QFETCH(QByteArray, setting);
    QFETCH(bool, epoll);
    if (!Echoscope::WorkerDispatcher::isEnabled())
        QSKIP("the worker dispatcher is not built here (portable I/O) or turned off");
    const QByteArray before = qgetenv("ECHOSCOPE_WORKER_DISPATCHER");
    const auto restore = qScopeGuard([&before] {
        before.isNull() ? qunsetenv("ECHOSCOPE_WORKER_DISPATCHER")
                        : qputenv("ECHOSCOPE_WORKER_DISPATCHER", before);
    });
    if (setting.isNull())
        qunsetenv("ECHOSCOPE_WORKER_DISPATCHER");
    else
        qputenv("ECHOSCOPE_WORKER_DISPATCHER", setting);
    ServerProcess *server = startServer(headless());
    const quint16 port = server->waitForListening();
    QVERIFY2(port != 0, server->output().constData());
    QTcpSocket client;
    QVERIFY(connectClient(client, port));
    client.write("ping");
    QCOMPARE(readEcho(client, 4), QByteArray("ping"));
    QVERIFY(server->waitForOutput(" connected"));

    const qint64 pid = server->processId();
    if (mainThreadSyscall(pid) == -2)
        QSKIP("/proc/PID/task/PID/syscall cannot be read here");
    const QList<long> epollWaits = {
#ifdef SYS_epoll_pwait2
        SYS_epoll_pwait2,
#endif
#ifdef SYS_epoll_wait
        SYS_epoll_wait,
#endif
        SYS_epoll_pwait};
    const QList<long> qtWaits = {
#ifdef SYS_poll
        SYS_poll,
#endif
        SYS_ppoll};
    long waitingIn = -1;
    QVERIFY(QTest::qWaitFor(
        [&] {
            waitingIn = mainThreadSyscall(pid);
            return epollWaits.contains(waitingIn) || qtWaits.contains(waitingIn);
        },
        kTimeoutMs));
    QVERIFY2(epoll ? epollWaits.contains(waitingIn) : qtWaits.contains(waitingIn),
             qPrintable(QStringLiteral("blocked in system call %1").arg(waitingIn)));
#else
    QSKIP("Linux only: the worker dispatcher and /proc");
#endif
}

void tst_Cli::echoesAtEndOfFile()
{
#ifdef Q_OS_UNIX
    ServerProcess *server =
        startServer(headless({QStringLiteral("--framing"), QStringLiteral("eof")}));
    const quint16 port = server->waitForListening();
    QVERIFY(port != 0);

    QTcpSocket client;
    QVERIFY(connectClient(client, port));
    const QByteArray message("one message, ended by the half-close\n\n");
    client.write(message);
    QVERIFY(client.waitForBytesWritten(kTimeoutMs));
    QCOMPARE(::shutdown(int(client.socketDescriptor()), SHUT_WR), 0);

    QByteArray received;
    QObject::connect(&client, &QTcpSocket::readyRead, &client,
                     [&] { received += client.readAll(); });
    QVERIFY(waitForDisconnect(client)); // the server closes once the echo is out
    received += client.readAll();
    QCOMPARE(received, message);
    QVERIFY(server->waitForOutput(" disconnected: closed by peer"));
#else
    QSKIP("needs shutdown(SHUT_WR) on the client's socket");
#endif
}

// --fault-*: the faults are logged after the listening line and applied to each client.
void tst_Cli::faultsLoggedAndApplied()
{
    ServerProcess *server =
        startServer(headless({QStringLiteral("--fault-delay"), QStringLiteral("50"),
                              QStringLiteral("--fault-close-after"), QStringLiteral("4")}));
    const quint16 port = server->waitForListening();
    QVERIFY2(port != 0, server->output().constData());
    QVERIFY(server->waitForOutput("fault: faults for all clients: delay 50 ms \xc2\xb7 close "
                                  "after 4 bytes"));

    QTcpSocket client;
    QVERIFY(connectClient(client, port));
    client.write("abcdefgh");
    QByteArray received;
    QObject::connect(&client, &QTcpSocket::readyRead, &client,
                     [&] { received += client.readAll(); });
    QVERIFY(waitForDisconnect(client));
    received += client.readAll();
    QCOMPARE(received, QByteArray("abcd"));
    QVERIFY(server->waitForOutput(" fault: closed after 4 echoed bytes"));
    QVERIFY(server->waitForOutput(" disconnected: closed by fault: after 4 echoed bytes"));
}

void tst_Cli::messageTooLargeWithSizeSuffix()
{
    ServerProcess *server =
        startServer(headless({QStringLiteral("--framing"), QStringLiteral("length"),
                              QStringLiteral("--max-message-size"), QStringLiteral("1K")}));
    const quint16 port = server->waitForListening();
    QVERIFY(port != 0);

    QTcpSocket client;
    QVERIFY(connectClient(client, port));
    const QByteArray fits = bytes("\0\0\x04\0", 4) + QByteArray(1024, 'a');
    client.write(fits);
    QCOMPARE(readEcho(client, fits.size()), fits);
    client.write(bytes("\0\0\x04\x01", 4)); // 1025 bytes announced
    QVERIFY(waitForDisconnect(client));
    QVERIFY(server->waitForOutput(" disconnected: message too large"));
}

void tst_Cli::fractionalIdleTimeout()
{
    ServerProcess *server =
        startServer(headless({QStringLiteral("--idle-timeout"), QStringLiteral("0.2")}));
    const quint16 port = server->waitForListening();
    QVERIFY(port != 0);

    QTcpSocket client;
    QVERIFY(connectClient(client, port));
    QVERIFY(waitForDisconnect(client));
    QVERIFY(server->waitForOutput(" disconnected: idle timeout"));
}

void tst_Cli::jsonLines()
{
    ServerProcess *server =
        startServer(headless({QStringLiteral("--log-format"), QStringLiteral("json")}));
    QVERIFY(server->waitForOutput("\n"));
    const QJsonObject listening = QJsonDocument::fromJson(server->waitForFirstLine()).object();
    QCOMPARE(listening.value(QStringLiteral("event")).toString(), QStringLiteral("listening"));
    QCOMPARE(listening.value(QStringLiteral("address")).toString(), QStringLiteral("127.0.0.1"));
    const int port = listening.value(QStringLiteral("port")).toInt();
    QVERIFY(port > 0 && port <= 65535);

    QTcpSocket client;
    QVERIFY(connectClient(client, quint16(port)));
    client.write("ping");
    QCOMPARE(readEcho(client, 4), QByteArray("ping"));
    client.disconnectFromHost();
    QVERIFY(server->waitForOutput("\"disconnected\""));
#ifdef Q_OS_UNIX
    QVERIFY(server->sendSignal(SIGTERM));
    QVERIFY(server->waitForExit());
    QCOMPARE(server->exitCode(), 0);
#endif

    QStringList events;
    for (const QByteArray &line : server->lines()) {
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(line, &error);
        QVERIFY2(error.error == QJsonParseError::NoError && document.isObject(), line.constData());
        const QJsonObject object = document.object();
        events.append(object.value(QStringLiteral("event")).toString());
        QVERIFY2(object.contains(QStringLiteral("time")), line.constData());
        if (events.constLast() == QLatin1String("disconnected")) {
            QCOMPARE(object.value(QStringLiteral("reason")).toString(),
                     QStringLiteral("closed by peer"));
            QCOMPARE(object.value(QStringLiteral("bytes_in")).toInt(), 4);
            QCOMPARE(object.value(QStringLiteral("bytes_out")).toInt(), 4);
        }
    }
    QStringList expected{QStringLiteral("listening"), QStringLiteral("connected"),
                         QStringLiteral("disconnected")};
#ifdef Q_OS_UNIX
    expected.append(QStringLiteral("stopped"));
#endif
    QCOMPARE(events, expected);
}

void tst_Cli::verboseEscapesPayload()
{
    ServerProcess *server = startServer(headless({QStringLiteral("--verbose")}));
    const quint16 port = server->waitForListening();
    QVERIFY(port != 0);
    QVERIFY(server->waitForOutput("open-file limit"));

    QTcpSocket client;
    QVERIFY(connectClient(client, port));
    const QByteArray hostile = bytes("\x1b[2Jhi\0", 7);
    client.write(hostile);
    QCOMPARE(readEcho(client, hostile.size()), hostile);
    QVERIFY2(server->waitForOutput(" message 7 bytes: "), server->output().constData());
    QVERIFY2(server->output().contains("\"\\u{1b}[2Jhi\\0\""), server->output().constData());
    QVERIFY(!server->output().contains('\x1b'));
    QVERIFY(!server->output().contains('\0'));
}

void tst_Cli::stopsOnSignal_data()
{
#ifdef Q_OS_UNIX
    QTest::addColumn<int>("signalNumber");
    QTest::addColumn<QString>("threads");
    QTest::newRow("SIGTERM") << int(SIGTERM) << QStringLiteral("1");
    QTest::newRow("SIGINT") << int(SIGINT) << QStringLiteral("1");
    QTest::newRow("SIGTERM, 3 worker threads") << int(SIGTERM) << QStringLiteral("3");
#endif
}

void tst_Cli::stopsOnSignal()
{
#ifdef Q_OS_UNIX
    QFETCH(int, signalNumber);
    QFETCH(QString, threads);

    ServerProcess *server =
        startServer({QStringLiteral("--headless"), QStringLiteral("--port"), QStringLiteral("0"),
                     QStringLiteral("--threads"), threads});
    const quint16 port = server->waitForListening();
    QVERIFY(port != 0);
    QTcpSocket client;
    QVERIFY(connectClient(client, port));
    client.write("abc");
    QCOMPARE(readEcho(client, 3), QByteArray("abc"));
    QVERIFY(server->waitForOutput(" connected"));

    QVERIFY(server->sendSignal(signalNumber));
    QVERIFY(server->waitForExit());
    QCOMPARE(server->exitStatus(), QProcess::NormalExit);
    QCOMPARE(server->exitCode(), 0);
    const QByteArray output = server->output();
    const qsizetype disconnected =
        output.indexOf(" disconnected: server stopped; in 3 bytes, out 3 bytes");
    const qsizetype stopped = output.indexOf(" stopped: served 1 client ");
    QVERIFY2(disconnected > 0, output.constData());
    QVERIFY2(stopped > disconnected, output.constData());
    // The totals in the summary, in the same words as the disconnect line's.
    QVERIFY2(output.indexOf(" s; 3 bytes in, 3 bytes out, ", stopped) > stopped,
             output.constData());
    QVERIFY(output.endsWith('\n'));
    QCOMPARE(output.count(" stopped: "), 1);
    QVERIFY(waitForDisconnect(client));
#else
    QSKIP("POSIX signals");
#endif
}

void tst_Cli::portInUse()
{
    QTcpServer occupant;
    QVERIFY(occupant.listen(QHostAddress(QHostAddress::LocalHost), 0));
    const QString port = QString::number(occupant.serverPort());

    const Finished run = runToEnd({QStringLiteral("--headless"), QStringLiteral("--port"), port,
                                   QStringLiteral("--threads"), QStringLiteral("1")});
    QCOMPARE(run.exitStatus, QProcess::NormalExit);
    QCOMPARE(run.exitCode, 3);
    QVERIFY(!run.output.contains("listening on"));
    QVERIFY2(run.errorOutput.startsWith("echoscope: "), run.errorOutput.constData());
    QVERIFY2(run.errorOutput.contains(port.toUtf8()), run.errorOutput.constData());
    QVERIFY2(run.errorOutput.contains("127.0.0.1"), run.errorOutput.constData());
}

void tst_Cli::logFile()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString path = directory.filePath(QStringLiteral("events.log"));
    {
        QFile earlier(path);
        QVERIFY(earlier.open(QIODevice::WriteOnly));
        earlier.write("an earlier run\n");
    }

    ServerProcess *server =
        startServer(headless({QStringLiteral("--log-file"), path, QStringLiteral("--verbose")}));
    const quint16 port = server->waitForListening();
    QVERIFY(port != 0);

    QTcpSocket client;
    QVERIFY(connectClient(client, port));
    client.write("logged");
    QCOMPARE(readEcho(client, 6), QByteArray("logged"));
    client.disconnectFromHost();

    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QByteArray logged;
    QVERIFY(QTest::qWaitFor(
        [&] {
            logged += file.readAll();
            return logged.contains(" disconnected: closed by peer");
        },
        kTimeoutMs));
#ifdef Q_OS_UNIX
    QVERIFY(server->sendSignal(SIGTERM));
    QVERIFY(server->waitForExit());
    QCOMPARE(server->exitCode(), 0);
    logged += file.readAll();
    QVERIFY2(logged.contains(" stopped: served 1 client "), logged.constData());
#endif

    const QByteArray listening = "listening on 127.0.0.1:" + QByteArray::number(port) + '\n';
    QVERIFY2(logged.startsWith("an earlier run\n" + listening), logged.constData());
    QVERIFY(logged.contains(" connected\n"));
    QVERIFY(logged.contains(" message 6 bytes: \"logged\""));
    QVERIFY(logged.contains("open-file limit"));
    QCOMPARE(server->output(), listening); // only the listening line on standard output
}

void tst_Cli::logFileCannotBeOpened()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString path = directory.filePath(QStringLiteral("no/such/directory/events.log"));

    const Finished run = runToEnd(headless({QStringLiteral("--log-file"), path}));
    QCOMPARE(run.exitStatus, QProcess::NormalExit);
    QCOMPARE(run.exitCode, 2);
    QVERIFY(!run.output.contains("listening on"));
    QVERIFY2(run.errorOutput.contains(path.toUtf8()), run.errorOutput.constData());
    QVERIFY2(run.errorOutput.contains(EchoTest::osErrorUtf8(ENOENT)), run.errorOutput.constData());
}

void tst_Cli::warnsWhenNotLoopback()
{
    // Listens on every IPv4 interface for as long as the test takes, on a random port.
    ServerProcess *server =
        startServer(headless({QStringLiteral("--bind"), QStringLiteral("any4")}));
    const quint16 port = server->waitForListening(QStringLiteral("0.0.0.0"));
    QVERIFY2(port != 0, server->output().constData());
    QVERIFY(server->waitForOutput("other machines can connect"));
    QVERIFY(server->lines().value(1).contains(" warning: "));

    // JSON lines carry it as its own event, after the listening one.
    ServerProcess *json =
        startServer(headless({QStringLiteral("--bind"), QStringLiteral("any4"),
                              QStringLiteral("--log-format"), QStringLiteral("json")}));
    QVERIFY(json->waitForOutput("other machines can connect"));
    // The text may have come before the rest of its line: wait for the line's end.
    QTRY_VERIFY_WITH_TIMEOUT(json->output().count('\n') >= 2, kTimeoutMs);
    const QJsonObject warning = QJsonDocument::fromJson(json->lines().value(1)).object();
    QCOMPARE(warning.value(u"event").toString(), QStringLiteral("warning"));
    QVERIFY(warning.value(u"text").toString().contains(u"not a loopback address"));
}

// Scrapes echoscope's metrics endpoint with QNetworkAccessManager.
QByteArray scrape(const QUrl &url, QByteArray *contentType = nullptr)
{
    QNetworkAccessManager manager;
    std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(url)));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    if (!reply->isFinished() && !finished.wait(kTimeoutMs))
        return QByteArray();
    if (contentType)
        *contentType = reply->rawHeader("Content-Type");
    return reply->error() == QNetworkReply::NoError ? reply->readAll() : QByteArray();
}

void tst_Cli::metricsEndpoint()
{
    ServerProcess *server =
        startServer(headless({QStringLiteral("--metrics-port"), QStringLiteral("0")}));
    const quint16 port = server->waitForListening();
    QVERIFY2(port != 0, server->output().constData());
    QVERIFY(server->waitForOutput("/metrics\n"));
    // The line after the listening line, exactly, for scripts to match.
    static const QRegularExpression pattern(
        QStringLiteral("^metrics at (http://127\\.0\\.0\\.1:(\\d+)/metrics)$"));
    const QRegularExpressionMatch match =
        pattern.match(QString::fromUtf8(server->lines().value(1)));
    QVERIFY2(match.hasMatch(), server->output().constData());
    QVERIFY(match.captured(2).toUInt() != port);

    QTcpSocket client;
    QVERIFY(connectClient(client, port));
    client.write("ping");
    QCOMPARE(readEcho(client, 4), QByteArray("ping"));

    QByteArray contentType;
    const QByteArray body = scrape(QUrl(match.captured(1)), &contentType);
    QCOMPARE(contentType, QByteArray("text/plain; version=0.0.4; charset=utf-8"));
    for (const char *sample :
         {"\nechoscope_bytes_received_total 4\n", "\nechoscope_bytes_echoed_total 4\n",
          "\nechoscope_connections_accepted_total 1\n", "\nechoscope_clients 1\n",
          "\nechoscope_listening 1\n"})
        QVERIFY2(body.contains(sample), body.constData());

    // JSON lines: the endpoint is its own event, after the listening one.
    ServerProcess *json =
        startServer(headless({QStringLiteral("--metrics-port"), QStringLiteral("0"),
                              QStringLiteral("--log-format"), QStringLiteral("json")}));
    QVERIFY(json->waitForOutput("\"event\":\"metrics\""));
    const QJsonObject event = QJsonDocument::fromJson(json->lines().value(1)).object();
    QCOMPARE(event.value(u"event").toString(), QStringLiteral("metrics"));
    QCOMPARE(event.value(u"address").toString(), QStringLiteral("127.0.0.1"));
    const int metricsPort = event.value(u"port").toInt();
    QVERIFY(metricsPort > 0);
    QCOMPARE(event.value(u"url").toString(),
             QStringLiteral("http://127.0.0.1:%1/metrics").arg(metricsPort));
    QVERIFY(scrape(QUrl(event.value(u"url").toString())).contains("echoscope_build_info{"));
}

void tst_Cli::metricsPortInUse()
{
    QTcpServer occupant;
    QVERIFY(occupant.listen(QHostAddress(QHostAddress::LocalHost), 0));
    const QString port = QString::number(occupant.serverPort());

    const Finished run = runToEnd(headless({QStringLiteral("--metrics-port"), port}));
    QCOMPARE(run.exitStatus, QProcess::NormalExit);
    QCOMPARE(run.exitCode, 3);
    QVERIFY2(!run.output.contains("listening on"), run.output.constData());
    QVERIFY2(run.errorOutput.startsWith("echoscope: cannot listen for metrics on 127.0.0.1 port " +
                                        port.toUtf8() + ": "),
             run.errorOutput.constData());
    const QString inUse =
        EchoTest::tcpPortInUseText(QHostAddress::LocalHost, occupant.serverPort());
    QVERIFY(!inUse.isEmpty());
    QVERIFY2(run.errorOutput.trimmed().endsWith(inUse.toUtf8()), run.errorOutput.constData());
}

void tst_Cli::controlApiLine()
{
    // Text: "control API at URL token HEX", the line after the listening line.
    ServerProcess *server =
        startServer(headless({QStringLiteral("--control-port"), QStringLiteral("0")}));
    QVERIFY(server->waitForListening() != 0);
    QVERIFY(server->waitForOutput("/api/v1 token "));
    QTRY_VERIFY_WITH_TIMEOUT(server->output().count('\n') >= 2, kTimeoutMs);
    static const QRegularExpression pattern(QStringLiteral(
        "^control API at (http://127\\.0\\.0\\.1:(\\d+)/api/v1) token ([0-9a-f]{64})$"));
    const QRegularExpressionMatch match =
        pattern.match(QString::fromUtf8(server->lines().value(1)));
    QVERIFY2(match.hasMatch(), server->output().constData());
    QVERIFY(match.captured(2).toInt() > 0);
    QVERIFY(scrape(QUrl(match.captured(1) + QStringLiteral("/server"))).contains("\"listening\""));

    // JSON: its own event, with the token.
    ServerProcess *json =
        startServer(headless({QStringLiteral("--control-port"), QStringLiteral("0"),
                              QStringLiteral("--log-format"), QStringLiteral("json")}));
    QVERIFY(json->waitForOutput("\"event\":\"control\""));
    QTRY_VERIFY_WITH_TIMEOUT(json->output().count('\n') >= 2, kTimeoutMs);
    const QJsonObject event = QJsonDocument::fromJson(json->lines().value(1)).object();
    QCOMPARE(event.value(u"event").toString(), QStringLiteral("control"));
    QCOMPARE(event.value(u"address").toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(event.value(u"token").toString().size(), 64);
    QCOMPARE(event.value(u"url").toString(),
             QStringLiteral("http://127.0.0.1:%1/api/v1").arg(event.value(u"port").toInt()));
}

void tst_Cli::controlPortInUse()
{
    QTcpServer occupant;
    QVERIFY(occupant.listen(QHostAddress(QHostAddress::LocalHost), 0));
    const QString port = QString::number(occupant.serverPort());

    const Finished run = runToEnd(headless({QStringLiteral("--control-port"), port}));
    QCOMPARE(run.exitStatus, QProcess::NormalExit);
    QCOMPARE(run.exitCode, 3);
    QVERIFY2(!run.output.contains("listening on"), run.output.constData());
    QVERIFY2(run.errorOutput.startsWith(
                 "echoscope: cannot listen for the control API on 127.0.0.1 port " + port.toUtf8() +
                 ": "),
             run.errorOutput.constData());
    const QString inUse =
        EchoTest::tcpPortInUseText(QHostAddress::LocalHost, occupant.serverPort());
    QVERIFY(!inUse.isEmpty());
    QVERIFY2(run.errorOutput.trimmed().endsWith(inUse.toUtf8()), run.errorOutput.constData());
}

void tst_Cli::controlTokenFile()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString missing = directory.filePath(QStringLiteral("missing-token"));
    const Finished run = runToEnd(headless({QStringLiteral("--control-port"), QStringLiteral("0"),
                                            QStringLiteral("--control-token-file"), missing}));
    QCOMPARE(run.exitCode, 2);
    QVERIFY(!run.output.contains("listening on"));
    QVERIFY2(run.errorOutput.contains(missing.toUtf8()), run.errorOutput.constData());

    const auto writeToken = [&](const QString &name, const QByteArray &text,
                                QFileDevice::Permissions permissions) {
        const QString path = directory.filePath(name);
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size())
            return QString();
        file.close();
        return file.setPermissions(permissions) ? path : QString();
    };
    const QFileDevice::Permissions ownerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
    // Like ssh with a key: a token file its group or others can read is refused, naming the
    // file and its mode; so is a token shorter than 16 characters. Both for the server and
    // for `echoscope ctl`.
    const QString open = writeToken(QStringLiteral("open-token"), "s3cret-token-0123456789\n",
                                    ownerOnly | QFileDevice::ReadGroup | QFileDevice::ReadOther);
    const QString shortToken = writeToken(QStringLiteral("short-token"), "s3cret\n", ownerOnly);
    QVERIFY(!open.isEmpty() && !shortToken.isEmpty());
    for (const QStringList &command :
         {headless({QStringLiteral("--control-port"), QStringLiteral("0"),
                    QStringLiteral("--control-token-file")}),
          QStringList{QStringLiteral("ctl"), QStringLiteral("--port"), QStringLiteral("1"),
                      QStringLiteral("server"), QStringLiteral("--token-file")}}) {
        const Finished tooOpen = runToEnd(command + QStringList{open});
        QCOMPARE(tooOpen.exitCode, 2);
        QVERIFY(!tooOpen.output.contains("listening on"));
        // The engine's clause after the program's name, as every error on the command line.
        QVERIFY2(tooOpen.errorOutput.startsWith(command.first() == QLatin1String("ctl")
                                                    ? "echoscope ctl: the control token file \""
                                                    : "echoscope: the control token file \"") &&
                     tooOpen.errorOutput.contains(open.toUtf8() + "\" has mode 0644"),
                 tooOpen.errorOutput.constData());
        const Finished tooShort = runToEnd(command + QStringList{shortToken});
        QCOMPARE(tooShort.exitCode, 2);
        QVERIFY2(tooShort.errorOutput.contains(shortToken.toUtf8()) &&
                     tooShort.errorOutput.contains("at least 16"),
                 tooShort.errorOutput.constData());
        QVERIFY2(!tooShort.errorOutput.contains("s3cret"), tooShort.errorOutput.constData());
    }

    const QString path = writeToken(
        QStringLiteral("token"), "  s3cret-token-0123456789  \nsecond line ignored\n", ownerOnly);
    QVERIFY(!path.isEmpty());
    ServerProcess *server =
        startServer(headless({QStringLiteral("--control-port"), QStringLiteral("0"),
                              QStringLiteral("--control-token-file"), path}));
    QVERIFY(server->waitForListening() != 0);
    QVERIFY(server->waitForOutput(" token from "));
    QTRY_VERIFY_WITH_TIMEOUT(server->output().count('\n') >= 2, kTimeoutMs);
    const QByteArray line = server->lines().value(1);
    QVERIFY2(line.endsWith(" token from " + path.toUtf8()), line.constData());
    QVERIFY2(!server->output().contains("s3cret"), server->output().constData());

    // `echoscope ctl --token-file` with the same file authorises a change, and the change's
    // event names its source; without the file it is refused (401, exit 1).
    static const QRegularExpression controlUrl(QStringLiteral("http://127\\.0\\.0\\.1:(\\d+)/"));
    const QString controlPort = controlUrl.match(QString::fromUtf8(line)).captured(1);
    QVERIFY2(!controlPort.isEmpty(), line.constData());
    QProcessEnvironment noToken = QProcessEnvironment::systemEnvironment();
    noToken.remove(QStringLiteral("ECHOSCOPE_CONTROL_TOKEN"));
    const QStringList ctl{QStringLiteral("ctl"), QStringLiteral("--port"), controlPort};
    const Finished refused = runToEnd(
        ctl + QStringList{QStringLiteral("default-faults"), QStringLiteral(R"({"delay_ms": 3})")},
        noToken);
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.errorOutput.contains("401"), refused.errorOutput.constData());
    const Finished done = runToEnd(ctl + QStringList{QStringLiteral("--token-file"), path,
                                                     QStringLiteral("default-faults"),
                                                     QStringLiteral(R"({"delay_ms": 3})")},
                                   noToken);
    QCOMPARE(done.exitCode, 0);
    QVERIFY2(done.output.contains("\"delay_ms\": 3"), done.output.constData());
    QVERIFY(
        server->waitForOutput("fault: faults for all clients: delay 3 ms (by the control API)"));
}

// The dashboard (offscreen) serves the control API beside the window with --control-port.
void tst_Cli::dashboardRunsTheControlApi()
{
    QTemporaryDir home;
    QVERIFY(home.isValid());
    QProcess process;
    process.setProcessEnvironment(dashboardEnvironment(home));
    process.start(QStringLiteral(ECHOSCOPE_BINARY),
                  {QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--start"),
                   QStringLiteral("--control-port"), QStringLiteral("0")});
    QVERIFY(process.waitForStarted(kTimeoutMs));
    QByteArray output;
    static const QRegularExpression pattern(QStringLiteral(
        "control API at (http://127\\.0\\.0\\.1:\\d+/api/v1) token ([0-9a-f]{64})\n"));
    QRegularExpressionMatch match;
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     output += process.readAllStandardOutput();
                     match = pattern.match(QString::fromUtf8(output));
                     return match.hasMatch() || process.state() == QProcess::NotRunning;
                 },
                 kTimeoutMs),
             output.constData());
    QVERIFY2(match.hasMatch(), (output + process.readAllStandardError()).constData());
    const QString api = match.captured(1);
    QTRY_VERIFY_WITH_TIMEOUT(
        scrape(QUrl(api + QStringLiteral("/server"))).contains("\"state\":\"listening\""),
        kTimeoutMs);

    QNetworkAccessManager manager;
    QNetworkRequest request(QUrl(api + QStringLiteral("/faults")));
    request.setRawHeader("Authorization", "Bearer " + match.captured(2).toLatin1());
    std::unique_ptr<QNetworkReply> reply(
        manager.sendCustomRequest(request, "PUT", QByteArray(R"({"delay_ms": 3})")));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QVERIFY(reply->isFinished() || finished.wait(kTimeoutMs));
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QVERIFY(scrape(QUrl(api + QStringLiteral("/faults"))).contains("\"delay_ms\":3"));

    process.terminate(); // SIGTERM closes the window like Quit
    QVERIFY(process.waitForFinished(kTimeoutMs));
    QCOMPARE(process.exitCode(), 0);
}

void tst_Cli::controlApiWarnsWhenNotLoopback()
{
    // Every IPv4 interface, for as long as the test takes, on a random port.
    ServerProcess *server =
        startServer(headless({QStringLiteral("--control-port"), QStringLiteral("0"),
                              QStringLiteral("--control-address"), QStringLiteral("any4")}));
    QVERIFY(server->waitForListening() != 0);
    QVERIFY(server->waitForOutput("other machines can reach it"));
    QTRY_VERIFY_WITH_TIMEOUT(server->output().count('\n') >= 3, kTimeoutMs);
    QVERIFY2(server->lines().value(1).startsWith("control API at http://127.0.0.1:"),
             server->output().constData());
    const QByteArray warning = server->lines().value(2);
    QVERIFY2(warning.contains(" warning: control API 0.0.0.0:"), warning.constData());
    QVERIFY2(warning.contains("is not a loopback address"), warning.constData());
}

void tst_Cli::tlsEchoHeadless()
{
    if (QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty())
        QSKIP("the openssl command is not installed (apt-get install openssl)");
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    QProcess openssl;
    openssl.setWorkingDirectory(directory.path());
    openssl.start(QStringLiteral("openssl"),
                  {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                   "-keyout", "key.pem", "-out", "cert.pem", "-days", "2", "-subj",
                   "/CN=echoscope-test"});
    QVERIFY(openssl.waitForFinished(kTimeoutMs));
    QCOMPARE(openssl.exitCode(), 0);

    ServerProcess *server = startServer(
        headless({QStringLiteral("--tls-cert"), directory.filePath(QStringLiteral("cert.pem")),
                  QStringLiteral("--tls-key"), directory.filePath(QStringLiteral("key.pem")),
                  QStringLiteral("--framing"), QStringLiteral("line")}));
    const quint16 port = server->waitForListening();
    QVERIFY2(port != 0, server->output().constData());
    // The listening line stays exact; the next one says TLS and which certificate.
    QVERIFY(server->waitForOutput("valid until"));
    const QByteArray tlsLine = server->lines().value(1);
    QVERIFY2(tlsLine.contains(" TLS: TLS 1.2 or later, certificate echoscope-test "
                              "(self-signed, valid until "),
             tlsLine.constData());

    QSslSocket client;
    client.setPeerVerifyMode(QSslSocket::VerifyNone); // self-signed, made a moment ago
    client.connectToHostEncrypted(QStringLiteral("127.0.0.1"), port);
    QVERIFY2(client.waitForEncrypted(kTimeoutMs), qPrintable(client.errorString()));
    client.write("secret line\n");
    QByteArray echoed;
    while (echoed.size() < 12 && client.waitForReadyRead(kTimeoutMs))
        echoed += client.readAll();
    QCOMPARE(echoed, QByteArray("secret line\n"));
    QVERIFY(server->waitForOutput(" TLS established: TLSv1.3, "));
    client.disconnectFromHost();
    QVERIFY(server->waitForOutput(" disconnected: closed by peer; in 12 bytes, out 12 bytes"));
}

// --udp-port: the UDP line follows the exact TCP one, a datagram is echoed and logged,
// and SIGTERM forgets the peer before the summary.
void tst_Cli::udpEcho()
{
    ServerProcess *server =
        startServer(headless({QStringLiteral("--udp-port"), QStringLiteral("0")}));
    QVERIFY(server->waitForListening() != 0); // the first line is unchanged
    QVERIFY(server->waitForOutput("listening for UDP on "));
    QVERIFY(QTest::qWaitFor([&] { return server->lines().size() >= 2; }, kTimeoutMs));
    static const QRegularExpression pattern(
        QStringLiteral("^listening for UDP on 127\\.0\\.0\\.1:(\\d+)$"));
    const QRegularExpressionMatch match = pattern.match(QString::fromUtf8(server->lines().at(1)));
    QVERIFY2(match.hasMatch(), server->output().constData());
    const quint16 udpPort = quint16(match.captured(1).toUInt());

    QUdpSocket peer;
    QVERIFY(peer.bind(QHostAddress(QHostAddress::LocalHost), 0));
    QCOMPARE(
        peer.writeDatagram(bytes("udp\0\xff", 5), QHostAddress(QHostAddress::LocalHost), udpPort),
        qint64(5));
    QVERIFY(QTest::qWaitFor([&] { return peer.hasPendingDatagrams(); }, kTimeoutMs));
    QCOMPARE(peer.receiveDatagram().data(), bytes("udp\0\xff", 5));
    const QByteArray who = "client 1 (127.0.0.1:" + QByteArray::number(peer.localPort()) + " UDP)";
    QVERIFY2(server->waitForOutput(who + " seen: its first datagram arrived"),
             server->output().constData());
#ifdef Q_OS_UNIX
    QVERIFY(server->sendSignal(SIGTERM));
    QVERIFY(server->waitForExit());
    QCOMPARE(server->exitCode(), 0);
    QVERIFY2(server->output().contains(who + " forgotten: server stopped; in 5 bytes, out 5 bytes"),
             server->output().constData());
    QVERIFY2(server->output().contains("UDP: 1 datagrams in, 0 oversized"),
             server->output().constData());
#endif
}

// --ws-port: the WebSocket line (with the URL to paste) follows the exact TCP one; a
// message from QWebSocket is echoed and the upgrade and close are logged.
void tst_Cli::webSocketEcho()
{
    ServerProcess *server = startServer(
        headless({QStringLiteral("--ws-port"), QStringLiteral("0"), QStringLiteral("--ws-origin"),
                  QStringLiteral("http://localhost:8080")}));
    QVERIFY(server->waitForListening() != 0); // the first line is unchanged
    QVERIFY(server->waitForOutput("listening for WebSocket on "));
    QVERIFY(QTest::qWaitFor([&] { return server->lines().size() >= 2; }, kTimeoutMs));
    static const QRegularExpression pattern(QStringLiteral(
        "^listening for WebSocket on 127\\.0\\.0\\.1:(\\d+) \\(ws://127\\.0\\.0\\.1:(\\d+)/; "
        "origins allowed: http://localhost:8080\\)$"));
    const QRegularExpressionMatch match = pattern.match(QString::fromUtf8(server->lines().at(1)));
    QVERIFY2(match.hasMatch(), server->output().constData());
    QCOMPARE(match.captured(1), match.captured(2));

    QWebSocket client(QStringLiteral("http://localhost:8080"));
    QStringList received;
    connect(&client, &QWebSocket::textMessageReceived, this,
            [&received](const QString &message) { received.append(message); });
    client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/cli").arg(match.captured(1))));
    QVERIFY(QTest::qWaitFor([&] { return client.state() == QAbstractSocket::ConnectedState; },
                            kTimeoutMs));
    client.sendTextMessage(QStringLiteral("over the wire"));
    QVERIFY(QTest::qWaitFor([&] { return received.size() == 1; }, kTimeoutMs));
    QCOMPARE(received.constFirst(), QStringLiteral("over the wire"));
    QVERIFY2(server->waitForOutput(
                 " WebSocket) WebSocket established: GET /cli, origin http://localhost:8080"),
             server->output().constData());
    client.close(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("bye"));
    QVERIFY2(server->waitForOutput("disconnected: closed by peer: close frame 1001 (going away)"),
             server->output().constData());
}

namespace {

// A recording of one client that sent "ping\n" and got it back.
QByteArray smallRecording()
{
    return R"({"format":"echoscope-recording","version":1,"peer":"127.0.0.1","peer_port":5,)"
           R"("connected_at":"2024-06-11T14:22:33.000Z","closed":true,)"
           R"("in":{"start_offset":0,"end_offset":5,"total_bytes":5},)"
           R"("out":{"start_offset":0,"end_offset":5,"total_bytes":5}})"
           "\n"
           R"({"time":"2024-06-11T14:22:33.001Z","dir":"in","offset":0,"data":"cGluZwo="})"
           "\n"
           R"({"time":"2024-06-11T14:22:33.002Z","dir":"out","offset":0,"data":"cGluZwo="})"
           "\n";
}

QString writeFile(const QTemporaryDir &directory, const QString &name, const QByteArray &bytes)
{
    const QString path = directory.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size())
        return QString();
    return path;
}

} // namespace

void tst_Cli::replayBadArguments_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArrayList>("named"); // what the first line of stderr must name

    const auto row = [](const char *name, const QStringList &arguments,
                        const QByteArrayList &named) { QTest::newRow(name) << arguments << named; };
    row("no file", {"--port", "5"}, {"recording to replay is missing"});
    row("two files", {"a.jsonl", "b.jsonl", "--port", "5"}, {"unexpected argument \"b.jsonl\""});
    row("no port", {"a.jsonl"}, {"--port is required"});
    row("port zero", {"a.jsonl", "--port", "0"}, {"--port \"0\"", "1 to 65535"});
    row("port not a number", {"a.jsonl", "--port", "http"}, {"--port \"http\""});
    row("host not an address", {"a.jsonl", "--port", "5", "--host", "example"},
        {"--host \"example\""});
    row("speed zero", {"a.jsonl", "--port", "5", "--speed", "0"}, {"--speed \"0\""});
    row("speed not a number", {"a.jsonl", "--port", "5", "--speed", "fast"}, {"--speed \"fast\""});
    row("speed and fast", {"a.jsonl", "--port", "5", "--speed", "2", "--as-fast-as-possible"},
        {"--speed and --as-fast-as-possible"});
    row("timeout zero", {"a.jsonl", "--port", "5", "--timeout", "0"}, {"--timeout \"0\""});
    row("unknown option", {"a.jsonl", "--port", "5", "--loop"}, {"loop"});
}

void tst_Cli::replayBadArguments()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArrayList, named);
    const Finished run = runToEnd(QStringList{QStringLiteral("replay")} + arguments);
    QCOMPARE(run.exitStatus, QProcess::NormalExit);
    QCOMPARE(run.exitCode, 2);
    QVERIFY(run.output.isEmpty());
    QVERIFY2(run.errorOutput.startsWith("echoscope replay: "), run.errorOutput.constData());
    const QByteArray firstLine = run.errorOutput.left(run.errorOutput.indexOf('\n'));
    for (const QByteArray &text : named)
        QVERIFY2(firstLine.contains(text), firstLine.constData());
    QVERIFY2(run.errorOutput.contains("Usage:"), run.errorOutput.constData());
}

void tst_Cli::replayMissingOrCorruptFile()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString missing = directory.filePath(QStringLiteral("missing.jsonl"));
    Finished run = runToEnd(
        {QStringLiteral("replay"), missing, QStringLiteral("--port"), QStringLiteral("5")});
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.errorOutput.startsWith(
                 QStringLiteral("echoscope replay: cannot open \"%1\": ").arg(missing).toUtf8()),
             run.errorOutput.constData());

    QByteArray corrupt = smallRecording();
    corrupt.replace("\"data\":\"cGluZwo=\"}\n{\"time\":\"2024-06-11T14:22:33.002Z\"",
                    "\"data\":\"cGlu!wo=\"}\n{\"time\":\"2024-06-11T14:22:33.002Z\"");
    const QString path = writeFile(directory, QStringLiteral("corrupt.jsonl"), corrupt);
    QVERIFY(!path.isEmpty());
    run = runToEnd({QStringLiteral("replay"), path, QStringLiteral("--port"), QStringLiteral("5")});
    QCOMPARE(run.exitCode, 2);
    QCOMPARE(run.errorOutput,
             QStringLiteral("echoscope replay: %1:2: \"data\" is not valid base64\n")
                 .arg(path)
                 .toUtf8());
}

void tst_Cli::replayCannotConnect()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString path = writeFile(directory, QStringLiteral("ping.jsonl"), smallRecording());
    quint16 port = 0;
    {
        QTcpServer probe; // a port nothing listens on once it is gone
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    const Finished run = runToEnd({QStringLiteral("replay"), path, QStringLiteral("--port"),
                                   QString::number(port), QStringLiteral("--json")});
    QCOMPARE(run.exitCode, 3);
    const QJsonObject result = QJsonDocument::fromJson(run.output).object();
    QCOMPARE(result.value("result").toString(), QStringLiteral("connection_error"));
    QVERIFY2(result.value("error").toString().startsWith(
                 QStringLiteral("cannot connect to 127.0.0.1:%1: ").arg(port)),
             run.output.constData());
}

void tst_Cli::recordsEachClient()
{
#ifdef Q_OS_UNIX
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString recordings = directory.filePath(QStringLiteral("recordings"));
    ServerProcess *server =
        startServer(headless({QStringLiteral("--record"), recordings,
                              QStringLiteral("--record-limit"), QStringLiteral("1K")}));
    const quint16 port = server->waitForListening();
    QVERIFY(port != 0);

    // One client within the limit that half-closes; one past it; one still connected
    // when the server stops.
    QTcpSocket small;
    QVERIFY(connectClient(small, port));
    small.write("hello\n");
    QCOMPARE(readEcho(small, 6), QByteArray("hello\n"));
    small.flush();
    ::shutdown(int(small.socketDescriptor()), SHUT_WR);
    QVERIFY(waitForDisconnect(small));
    QVERIFY(server->waitForOutput(" disconnected: closed by peer"));

    QTcpSocket large;
    QVERIFY(connectClient(large, port));
    const QByteArray big(3000, 'x');
    large.write(big);
    QCOMPARE(readEcho(large, big.size()), big);
    large.disconnectFromHost();
    QVERIFY(server->waitForOutput("passed the --record-limit of 1 KiB"));

    QTcpSocket open;
    QVERIFY(connectClient(open, port));
    open.write("abc");
    QCOMPARE(readEcho(open, 3), QByteArray("abc"));
    QVERIFY(server->sendSignal(SIGTERM));
    QVERIFY(server->waitForExit());
    QCOMPARE(server->exitCode(), 0);

    const QStringList files =
        QDir(recordings).entryList({QStringLiteral("*.jsonl")}, QDir::Files, QDir::Name);
    QCOMPARE(files.size(), 3);
    QList<Echoscope::Recording> loaded;
    for (const QString &file : files) {
        Echoscope::Recording recording;
        QString error;
        QVERIFY2(Echoscope::Recording::load(QDir(recordings).filePath(file), &recording, &error),
                 qPrintable(error));
        loaded.append(recording);
    }
    std::sort(loaded.begin(), loaded.end(),
              [](const auto &a, const auto &b) { return a.clientId < b.clientId; });
    QCOMPARE(loaded[0].streamBytes(Echoscope::CaptureChunk::Direction::Received),
             QByteArray("hello\n"));
    QVERIFY(loaded[0].halfClosedAtMs != 0);
    QVERIFY(loaded[0].in.isComplete() && loaded[0].out.isComplete());
    QVERIFY(loaded[1].limitReachedAtMs != 0);
    QCOMPARE(loaded[1].in.totalBytes, 3000);
    QCOMPARE(loaded[1].in.startOffset, 0);
    QCOMPARE(loaded[1].in.heldBytes() + loaded[1].out.heldBytes(), 1024);
    QCOMPARE(loaded[2].streamBytes(Echoscope::CaptureChunk::Direction::Echoed), QByteArray("abc"));
    QVERIFY(std::any_of(loaded[2].events.cbegin(), loaded[2].events.cend(), [](const auto &e) {
        return e.value("reason").toString() == QLatin1String("server stopped");
    }));

    // Each one replays against a new server: the cut one as far as it goes.
    ServerProcess *target = startServer(headless());
    const quint16 targetPort = target->waitForListening();
    QVERIFY(targetPort != 0);
    for (const QString &file : files) {
        const Finished run = runToEnd({QStringLiteral("replay"), QDir(recordings).filePath(file),
                                       QStringLiteral("--port"), QString::number(targetPort),
                                       QStringLiteral("--as-fast-as-possible")});
        QVERIFY2(run.exitCode == 0, (run.output + run.errorOutput).constData());
        QVERIFY2(run.output.startsWith("replay matched: "), run.output.constData());
    }
#else
    QSKIP("POSIX shutdown and signals");
#endif
}

// --record-format pcapng: one pcapng file per client, which tshark follows to the bytes
// the client sent and received (without tshark, the bytes are at least in the file).
void tst_Cli::recordsPcapng()
{
#ifdef Q_OS_UNIX
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString recordings = directory.filePath(QStringLiteral("pcaps"));
    ServerProcess *server =
        startServer(headless({QStringLiteral("--record"), recordings,
                              QStringLiteral("--record-format"), QStringLiteral("pcapng")}));
    const quint16 port = server->waitForListening();
    QVERIFY(port != 0);

    QTcpSocket client;
    QVERIFY(connectClient(client, port));
    const quint16 clientPort = client.localPort();
    QByteArray sent;
    for (const QByteArray &chunk :
         {QByteArray("hello\n"), QByteArray("\0\xff\xc3\x28 binary", 11)}) {
        client.write(chunk);
        sent += chunk;
        QCOMPARE(readEcho(client, chunk.size()), chunk);
    }
    client.flush();
    ::shutdown(int(client.socketDescriptor()), SHUT_WR);
    QVERIFY(waitForDisconnect(client));
    QVERIFY(server->waitForOutput(" disconnected: closed by peer"));
    QVERIFY(server->sendSignal(SIGTERM));
    QVERIFY(server->waitForExit());
    QCOMPARE(server->exitCode(), 0);

    const QStringList files =
        QDir(recordings).entryList({QStringLiteral("*.pcapng")}, QDir::Files, QDir::Name);
    QCOMPARE(files.size(), 1);
    QVERIFY2(files.first().contains(QStringLiteral("-127.0.0.1-%1-").arg(clientPort)),
             qPrintable(files.first()));
    const QString path = QDir(recordings).filePath(files.first());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray bytes = file.readAll();
    QVERIFY(bytes.startsWith(QByteArray::fromHex("0a0d0d0a")));
    QVERIFY(bytes.indexOf(sent.mid(6)) > 0);

    const QString tshark = EchoTest::tsharkPath();
    if (tshark.isEmpty())
        QSKIP("tshark is not installed (Debian: apt-get install tshark): the stream is not "
              "followed");
    bool ok = false;
    const EchoTest::Followed followed = EchoTest::followTcp(tshark, path, &ok, kTimeoutMs);
    QVERIFY(ok);
    QCOMPARE(followed.fromClient, sent);
    QCOMPARE(followed.fromServer, sent);
#else
    QSKIP("POSIX shutdown and signals");
#endif
}

void tst_Cli::recordCannotWriteDirectory()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString file = writeFile(directory, QStringLiteral("plain"), "not a directory");
    const QString path = file + QStringLiteral("/recordings");
    const Finished run = runToEnd(headless({QStringLiteral("--record"), path}));
    QCOMPARE(run.exitCode, 2);
    QVERIFY(!run.output.contains("listening on"));
    QCOMPARE(run.errorOutput,
             QStringLiteral("echoscope: cannot create the recording directory \"%1\"\n")
                 .arg(path)
                 .toUtf8());
}

QTEST_GUILESS_MAIN(tst_Cli)
#include "tst_cli.moc"
