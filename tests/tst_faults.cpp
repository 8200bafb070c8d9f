// Fault injection: FaultConfig parsing and validation, and each fault against real
// clients on 127.0.0.1 (port 0).

#include "echotestsupport.h"

#include "clientstats.h"
#include "echoserver.h"
#include "faultconfig.h"
#include "faultinjector.h"
#include "trafficevent.h"
#include "translations.h"

#include <QElapsedTimer>
#include <QNetworkDatagram>
#include <QUdpSocket>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

#include <algorithm>
#include <cerrno>

#ifdef Q_OS_UNIX
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef Q_OS_LINUX
#include <linux/sockios.h>
#endif
#endif

using namespace Echoscope;
using namespace EchoTest;

namespace {

// A client on a plain descriptor, to tell an orderly close (recv() returns 0) from a
// reset (ECONNRESET), which QTcpSocket reports alike.
class RawClient
{
public:
    ~RawClient()
    {
#ifdef Q_OS_UNIX
        if (m_fd >= 0)
            ::close(m_fd);
#endif
    }
    bool connectTo(quint16 port)
    {
#ifdef Q_OS_UNIX
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address = {};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return m_fd >= 0 &&
               ::connect(m_fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0;
#else
        Q_UNUSED(port);
        return false;
#endif
    }
    bool send(const QByteArray &data)
    {
#ifdef Q_OS_UNIX
        return ::send(m_fd, data.constData(), size_t(data.size()), 0) == data.size();
#else
        Q_UNUSED(data);
        return false;
#endif
    }
    // Ends the client's side (a FIN); the server may still echo.
    bool shutdownWrite()
    {
#ifdef Q_OS_UNIX
        return ::shutdown(m_fd, SHUT_WR) == 0;
#else
        return false;
#endif
    }
    // Reads what is there without blocking; true once the connection ended.
    bool poll()
    {
#ifdef Q_OS_UNIX
        while (!ended) {
            char buffer[4096];
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, MSG_DONTWAIT);
            if (n > 0) {
                received.append(buffer, qsizetype(n));
            } else if (n == 0) {
                ended = true;
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            } else {
                error = errno;
                ended = true;
            }
        }
#endif
        return ended;
    }

    QByteArray received;
    bool ended = false;
    int error = 0; // errno of the read that ended it; 0: an orderly close
private:
    int m_fd = -1;
};

// A UDP peer of the server's UDP echo, bound to a port of its own on 127.0.0.1.
class UdpPeer
{
public:
    UdpPeer() { m_bound = socket.bind(QHostAddress(QHostAddress::LocalHost), 0); }
    bool isBound() const { return m_bound; }
    bool send(const QByteArray &data, quint16 port)
    {
        return socket.writeDatagram(data, QHostAddress(QHostAddress::LocalHost), port) ==
               data.size();
    }
    // Every datagram that has arrived, appended to `received`.
    void collect()
    {
        while (socket.hasPendingDatagrams())
            received.append(socket.receiveDatagram().data());
    }

    QUdpSocket socket;
    QList<QByteArray> received;

private:
    bool m_bound = false;
};

ServerConfig udpConfig()
{
    ServerConfig config = testConfig(1);
    config.udpEcho = true;
    config.udpPort = 0;
    return config;
}

QList<TrafficEvent> faultEvents(const QSignalSpy &spy)
{
    QList<TrafficEvent> events;
    for (const QList<QVariant> &arguments : spy) {
        const auto event = arguments.at(0).value<TrafficEvent>();
        if (event.kind == TrafficEvent::Kind::FaultInjected)
            events.append(event);
    }
    return events;
}

DisconnectInfo waitForDisconnect(QSignalSpy &spy)
{
    if (spy.isEmpty() && !spy.wait(kTimeoutMs))
        return DisconnectInfo();
    return spy.constFirst().at(1).value<DisconnectInfo>();
}

// The one client of a server once it is connected there (0 if it never is).
quint64 onlyClient(EchoServer *server)
{
    // qWaitFor runs the event loop: the server accepts meanwhile.
    const bool one =
        QTest::qWaitFor([server] { return server->clientIds().size() == 1; }, kTimeoutMs);
    return one ? server->clientIds().constFirst() : 0;
}

// A server for one fault test on 127.0.0.1 (port 0), with its connections, disconnections
// and events recorded from the start, before any fault is set.
struct FaultServer
{
    std::unique_ptr<EchoServer> server = std::make_unique<EchoServer>();
    QSignalSpy connected{server.get(), &EchoServer::clientConnected};
    QSignalSpy disconnected{server.get(), &EchoServer::clientDisconnected};
    QSignalSpy events{server.get(), &EchoServer::eventOccurred};
    quint16 port = 0;

    // Started, then `faults` set for all clients (unless there are none): false if either
    // failed.
    bool start(const ServerConfig &config, const FaultConfig &faults = FaultConfig())
    {
        if (!server->start(config)) {
            qWarning() << "start failed:" << server->errorString();
            return false;
        }
        port = server->serverPort();
        return faults == FaultConfig() || server->setDefaultFaults(faults);
    }
    // `client` connected, once the server has it as its only client: that client's
    // stats (null if either failed).
    std::shared_ptr<const ClientStats> connect(RawClient &client)
    {
        return client.connectTo(port) ? onlyStats() : nullptr;
    }
    std::shared_ptr<const ClientStats> connect(TestClient &client)
    {
        return client.connectTo(QHostAddress::LocalHost, port) ? onlyStats() : nullptr;
    }
    // Sends `datagrams` from `peer` to the UDP echo one at a time, each once the server
    // has read the one before: the peer's stats (null if a datagram was not read).
    std::shared_ptr<const ClientStats> sendEach(UdpPeer &peer, const QList<QByteArray> &datagrams)
    {
        std::shared_ptr<const ClientStats> stats;
        for (qsizetype i = 0; i < datagrams.size(); ++i) {
            if (!peer.send(datagrams.at(i), server->udpPort()))
                return nullptr;
            if (!stats) {
                if (!QTest::qWaitFor([this] { return connected.size() == 1; }, kTimeoutMs))
                    return nullptr;
                stats = server->clientStats(connected.at(0).at(0).value<quint64>());
                if (!stats)
                    return nullptr;
            }
            if (!QTest::qWaitFor([&] { return stats->messagesIn() == i + 1; }, kTimeoutMs))
                return nullptr;
        }
        return stats;
    }

private:
    std::shared_ptr<const ClientStats> onlyStats() const
    {
        const quint64 id = onlyClient(server.get());
        return id != 0 ? server->clientStats(id) : nullptr;
    }
};

} // namespace

// How late a held echo may be beyond its delay: a timer on a loaded 2-core machine fires tens
// of milliseconds late, an instrumented build runs several times slower.
constexpr int kDelaySlackMs = kAddressSanitizer ? 1500 : 500;

class tst_Faults : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void parse_data();
    void parse();
    void validate_data();
    void validate();
    void describe();

    void delay_data();
    void delay();
    void jitter();
    void jitterDrawsAreBoundedAndRepeatable();
    void delayThenHalfClose();
    void bandwidth();
    void slices();
    void closeAfter();
    void closeAtOnce();
    void resetAfter();
    void resetProbability_data();
    void resetProbability();
    void stopReading_data();
    void stopReading();
    void faultStallIsNotIdle();
    void perClientOnly_data();
    void perClientOnly();
    void defaultFaultsForNewClients();
    void invalidFaultsRefused();

    void blackhole();
    void timeout_data();
    void timeout();
    void timeoutZeroHolds();
    void slowClose();
    void slowCloseKicked();
    void toxicity();
    void toxicityDrawsRepeat();

    void udpFaults_data();
    void udpFaults();
    void udpHeldDatagramDroppedIsLogged();
    void udpCorrupt();
    void faultsForTransport();
    void udpSeedRepeatsDraws();
    void udpPeerFaultsOwnAndCleared();
};

void tst_Faults::initTestCase()
{
    qRegisterMetaType<TrafficEvent>();
    qRegisterMetaType<DisconnectInfo>();
    // The engine's texts in English (with their plural forms) in every locale: some are
    // compared below.
    Translations::install(QCoreApplication::instance(), QLocale(QLocale::English));
}

void tst_Faults::parse_data()
{
    QTest::addColumn<QString>("option");
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("described");

    QTest::newRow("delay") << "delay"
                           << "200" << true << "delay 200 ms";
    QTest::newRow("delay+jitter") << "delay"
                                  << "200:50" << true << "delay 200\u00b150 ms";
    QTest::newRow("jitter over delay") << "delay"
                                       << "20:50" << false << "";
    QTest::newRow("delay too long") << "delay"
                                    << "60001" << false << "";
    QTest::newRow("delay sign") << "delay"
                                << "-5" << false << "";
    QTest::newRow("delay empty jitter") << "delay"
                                        << "200:" << false << "";
    QTest::newRow("bandwidth") << "bandwidth"
                               << "10K" << true << "10 KiB/s";
    QTest::newRow("bandwidth bytes") << "bandwidth"
                                     << "1500" << true << "1.5 KiB/s";
    QTest::newRow("bandwidth 0") << "bandwidth"
                                 << "0" << false << "";
    QTest::newRow("bandwidth unit") << "bandwidth"
                                    << "10kbit" << false << "";
    QTest::newRow("slice") << "slice"
                           << "16:5" << true << "slices 16 bytes/5 ms";
    QTest::newRow("slice no gap") << "slice"
                                  << "1K" << true << "slices 1 KiB";
    QTest::newRow("slice 0") << "slice"
                             << "0:5" << false << "";
    QTest::newRow("slice gap too long") << "slice"
                                        << "16:10001" << false << "";
    QTest::newRow("close after") << "close"
                                 << "1024" << true << "close after 1 KiB";
    QTest::newRow("close at once") << "close"
                                   << "0" << true << "close after 0 bytes";
    QTest::newRow("close after junk") << "close"
                                      << "ten" << false << "";
    QTest::newRow("reset after") << "reset"
                                 << "100" << true << "reset after 100 bytes";
    QTest::newRow("probability") << "probability"
                                 << "0.25" << true << "reset 25% per message";
    QTest::newRow("probability percent") << "probability"
                                         << "5%" << true << "reset 5% per message";
    QTest::newRow("probability over 1") << "probability"
                                        << "1.5" << false << "";
    QTest::newRow("probability exponent") << "probability"
                                          << "1e-3" << false << "";
    QTest::newRow("seed") << "seed"
                          << "42" << true << "none";
    QTest::newRow("seed 0") << "seed"
                            << "0" << false << "";
    QTest::newRow("timeout") << "timeout"
                             << "1500" << true << "timeout 1,500 ms";
    QTest::newRow("timeout 0 holds") << "timeout"
                                     << "0" << true << "timeout: hold, never close";
    QTest::newRow("timeout too long") << "timeout"
                                      << "3600001" << false << "";
    QTest::newRow("timeout sign") << "timeout"
                                  << "-1" << false << "";
    QTest::newRow("slow close") << "slow-close"
                                << "200" << true << "slow close 200 ms";
    QTest::newRow("slow close 0") << "slow-close"
                                  << "0" << false << "";
    QTest::newRow("slow close too long") << "slow-close"
                                         << "60001" << false << "";
    QTest::newRow("toxicity alone") << "toxicity"
                                    << "0.5" << true << "none";
    QTest::newRow("toxicity over 1") << "toxicity"
                                     << "2" << false << "";
    QTest::newRow("udp loss") << "udp-loss"
                              << "10%" << true << "UDP loss 10%";
    QTest::newRow("udp duplicate") << "udp-duplicate"
                                   << "0.05" << true << "UDP duplicate 5%";
    QTest::newRow("udp reorder") << "udp-reorder"
                                 << "1" << true << "UDP reorder 100%";
    QTest::newRow("udp corrupt") << "udp-corrupt"
                                 << "0.001" << true << "UDP corrupt 0.1%";
    QTest::newRow("udp loss junk") << "udp-loss"
                                   << "half" << false << "";
}

void tst_Faults::parse()
{
    QFETCH(QString, option);
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(QString, described);

    FaultConfig config;
    QString error;
    bool parsed = false;
    if (option == QLatin1String("delay"))
        parsed = config.parseDelay(text, &error);
    else if (option == QLatin1String("bandwidth"))
        parsed = config.parseBandwidth(text, &error);
    else if (option == QLatin1String("slice"))
        parsed = config.parseSlice(text, &error);
    else if (option == QLatin1String("close"))
        parsed = config.parseCloseAfter(text, &error);
    else if (option == QLatin1String("reset"))
        parsed = config.parseResetAfter(text, &error);
    else if (option == QLatin1String("probability"))
        parsed = config.parseProbability(text, &error);
    else if (option == QLatin1String("seed"))
        parsed = config.parseSeed(text, &error);
    else if (option == QLatin1String("timeout"))
        parsed = config.parseTimeout(text, &error);
    else if (option == QLatin1String("slow-close"))
        parsed = config.parseSlowClose(text, &error);
    else if (option == QLatin1String("toxicity"))
        parsed = config.parseToxicity(text, &error);
    else if (option == QLatin1String("udp-loss"))
        parsed = config.parseUdpLoss(text, &error);
    else if (option == QLatin1String("udp-duplicate"))
        parsed = config.parseUdpDuplicate(text, &error);
    else if (option == QLatin1String("udp-reorder"))
        parsed = config.parseUdpReorder(text, &error);
    else if (option == QLatin1String("udp-corrupt"))
        parsed = config.parseUdpCorrupt(text, &error);
    else
        QFAIL("unknown option in the data");
    QCOMPARE(parsed, ok);
    if (!ok) {
        QVERIFY2(error.startsWith(QLatin1String("expected")), qPrintable(error));
        QCOMPARE(config, FaultConfig()); // left as it was
        return;
    }
    QVERIFY(error.isEmpty());
    QCOMPARE(config.validate(), QString());
    QCOMPARE(config.describe(), described);
}

void tst_Faults::validate_data()
{
    QTest::addColumn<FaultConfig>("config");
    QTest::addColumn<QString>("names");

    FaultConfig config;
    config.delayMs = -1;
    QTest::newRow("negative delay") << config << "fault delay -1 ms";
    config = FaultConfig();
    config.delayMs = 10;
    config.jitterMs = 11;
    QTest::newRow("jitter over delay") << config << "fault jitter 11 ms";
    config = FaultConfig();
    config.bandwidthBytesPerSecond = FaultConfig::kMaxBandwidthBytesPerSecond + 1;
    QTest::newRow("bandwidth") << config << "fault bandwidth";
    config = FaultConfig();
    config.sliceBytes = FaultConfig::kMaxSliceBytes + 1;
    QTest::newRow("slice") << config << "fault slice size";
    config = FaultConfig();
    config.sliceGapMs = 5;
    QTest::newRow("gap without slice") << config << "fault slice gap 5 ms needs a slice size";
    config = FaultConfig();
    config.closeAfterBytes = -2;
    QTest::newRow("close after") << config << "fault close-after -2 bytes";
    config = FaultConfig();
    config.resetProbability = 2;
    QTest::newRow("probability") << config << "fault reset probability 2";
    config = FaultConfig();
    config.resetProbability = std::numeric_limits<double>::quiet_NaN();
    QTest::newRow("probability NaN") << config << "fault reset probability";
    config = FaultConfig();
    config.timeoutMs = -2;
    QTest::newRow("timeout") << config << "fault timeout -2 ms";
    config = FaultConfig();
    config.slowCloseMs = FaultConfig::kMaxSlowCloseMs + 1;
    QTest::newRow("slow close") << config << "fault slow close 60001 ms";
    config = FaultConfig();
    config.toxicity = -0.5;
    QTest::newRow("toxicity") << config << "fault toxicity -0.5";
    config = FaultConfig();
    config.udpLoss = 1.5;
    QTest::newRow("udp loss") << config << "fault UDP loss 1.5";
    config = FaultConfig();
    config.udpDuplicate = 2;
    QTest::newRow("udp duplicate") << config << "fault UDP duplicate 2";
    config = FaultConfig();
    config.udpReorder = std::numeric_limits<double>::quiet_NaN();
    QTest::newRow("udp reorder NaN") << config << "fault UDP reorder";
    config = FaultConfig();
    config.udpCorrupt = -1;
    QTest::newRow("udp corrupt") << config << "fault UDP corrupt -1";
}

void tst_Faults::validate()
{
    QFETCH(FaultConfig, config);
    QFETCH(QString, names);
    const QString error = config.validate();
    QVERIFY2(error.startsWith(names), qPrintable(error));
    EchoServer server;
    QString refused;
    QVERIFY(!server.setDefaultFaults(config, &refused));
    QCOMPARE(refused, error);
    QCOMPARE(server.defaultFaults(), FaultConfig());
}

void tst_Faults::describe()
{
    FaultConfig config;
    QCOMPARE(config.describe(), QStringLiteral("none"));
    QVERIFY(config.isEmpty());
    config.seed = 7; // a seed alone injects nothing
    QVERIFY(config.isEmpty());
    config.delayMs = 200;
    config.jitterMs = 50;
    config.bandwidthBytesPerSecond = 10 * 1024;
    config.sliceBytes = 16;
    config.sliceGapMs = 5;
    config.stopReading = true;
    QCOMPARE(
        config.describe(),
        QStringLiteral("delay 200\u00b150 ms \u00b7 10 KiB/s \u00b7 slices 16 bytes/5 ms \u00b7 "
                       "not reading \u00b7 seed 7"));
    config.bandwidthBytesPerSecond = 1536 * 1024;
    QVERIFY(config.describe().contains(QStringLiteral("1.5 MiB/s")));

    // The new faults, in the order the table and the log show them.
    FaultConfig all;
    all.blackhole = true;
    all.timeoutMs = 500;
    all.delayMs = 100;
    all.toxicity = 0.25;
    all.slowCloseMs = 200;
    all.udpLoss = 0.1;
    all.seed = 3;
    QVERIFY(!all.isEmpty());
    QCOMPARE(all.describe(),
             QStringLiteral("blackhole \u00b7 timeout 500 ms \u00b7 delay 100 ms \u00b7 toxicity "
                            "25% \u00b7 slow close 200 ms \u00b7 UDP loss 10% \u00b7 seed 3"));
    FaultConfig toxicOnly;
    toxicOnly.toxicity = 0.5; // a probability of nothing is no fault
    QVERIFY(toxicOnly.isEmpty());
    QCOMPARE(toxicOnly.describe(), QStringLiteral("none"));
}

void tst_Faults::delay_data()
{
    addThreadRows();
}

// The echo arrives no earlier than the delay; the delayed messages are summarised.
void tst_Faults::delay()
{
    QFETCH(int, threads);
    FaultConfig faults;
    faults.delayMs = 300;
    FaultServer running;
    QVERIFY(running.start(testConfig(threads), faults));

    TestClient client;
    const auto stats = running.connect(client);
    QVERIFY(stats);
    const quint64 id = stats->id();
    QElapsedTimer clock;
    clock.start();
    const QByteArray data = payload(1000, 1);
    client.socket.write(data);
    QTRY_COMPARE_WITH_TIMEOUT(client.received.size(), data.size(), kTimeoutMs);
    const qint64 elapsed = clock.elapsed();
    // Not before its time (coarse timers may fire up to 5 % early: 2 ms here), and not long
    // after: the hold is one timer, and a timer on a loaded 2-core machine fires tens of
    // milliseconds late, not kDelaySlackMs. A hold counted twice, or a wake-up missed until
    // some other event, fails it.
    QVERIFY2(elapsed >= faults.delayMs - 2,
             qPrintable(QStringLiteral("echoed after %1 ms").arg(elapsed)));
    QVERIFY2(elapsed < faults.delayMs + kDelaySlackMs,
             qPrintable(QStringLiteral("echoed after %1 ms").arg(elapsed)));
    QCOMPARE(client.received, data);

    const ClientSnapshot snapshot = running.server->clientStats(id)->snapshot();
    QCOMPARE(snapshot.faults, faults);
    QVERIFY(!snapshot.faultsPerClient);

    // "faults for all clients" first, then (within a second) the summary of the delay.
    QTRY_VERIFY_WITH_TIMEOUT(faultEvents(running.events).size() >= 2, kTimeoutMs);
    const QList<TrafficEvent> logged = faultEvents(running.events);
    QCOMPARE(logged.at(0).clientId, quint64(0));
    QCOMPARE(logged.at(0).text, QStringLiteral("faults for all clients: delay 300 ms"));
    QCOMPARE(logged.at(1).clientId, id);
    QVERIFY2(logged.at(1).count >= 1, qPrintable(logged.at(1).text));
    // The hold the server itself applied, measured on its clock: exactly the delay.
    QVERIFY2(logged.at(1).text.contains(QLatin1String("delayed (300 ms on average)")),
             qPrintable(logged.at(1).text));
}

// Each echo waits the delay plus or minus the jitter: never less than delay - jitter,
// and not all the same.
void tst_Faults::jitter()
{
    FaultServer running;
    QVERIFY(running.start(testConfig(1)));
    FaultConfig faults;
    faults.delayMs = 100;
    faults.jitterMs = 60;
    faults.seed = 12345; // repeatable draws
    QVERIFY(running.server->setDefaultFaults(faults));

    TestClient client;
    QVERIFY(client.connectTo(QHostAddress::LocalHost, running.port));
    QList<qint64> times;
    for (int i = 0; i < 10; ++i) {
        QElapsedTimer clock;
        clock.start();
        const qsizetype before = client.received.size();
        client.socket.write("x");
        QTRY_COMPARE_WITH_TIMEOUT(client.received.size(), before + 1, kTimeoutMs);
        times.append(clock.elapsed());
    }
    const auto [shortest, longest] = std::minmax_element(times.cbegin(), times.cend());
    QVERIFY2(*shortest >= 40 - 2, qPrintable(QStringLiteral("shortest %1 ms").arg(*shortest)));
    QVERIFY2(*longest < 160 + kDelaySlackMs,
             qPrintable(QStringLiteral("longest %1 ms").arg(*longest)));
    QVERIFY2(*longest - *shortest >= 20,
             qPrintable(QStringLiteral("from %1 to %2 ms").arg(*shortest).arg(*longest)));
}

// The draws themselves, without a clock: every hold within delay ± jitter, spread over that
// range, and the same sequence again for the same seed (and client), another for another.
void tst_Faults::jitterDrawsAreBoundedAndRepeatable()
{
    constexpr int kDraws = 500;
    FaultConfig faults;
    faults.delayMs = 100;
    faults.jitterMs = 60;
    const auto draws = [&faults](quint32 seed, quint64 clientId) {
        auto stats = std::make_shared<ClientStats>(clientId, QHostAddress::LocalHost, 40000, 0);
        FaultInjector injector(stats);
        FaultConfig config = faults;
        config.seed = seed;
        injector.setConfig(config, FaultScope::AllClients, 0);
        QList<qint64> holds;
        for (int i = 0; i < kDraws; ++i) {
            injector.messageQueued(i + 1, 1);
            holds.append(injector.lastDrawnDelayMs());
        }
        injector.stop();
        return holds;
    };
    const QList<qint64> first = draws(12345, 1);
    QCOMPARE(first.size(), kDraws);
    const auto [low, high] = std::minmax_element(first.cbegin(), first.cend());
    QVERIFY2(*low >= faults.delayMs - faults.jitterMs && *high <= faults.delayMs + faults.jitterMs,
             qPrintable(QStringLiteral("holds from %1 to %2 ms").arg(*low).arg(*high)));
    // Spread: 500 uniform draws over 121 values reach within 10 ms of both ends.
    QVERIFY2(*low <= faults.delayMs - faults.jitterMs + 10 &&
                 *high >= faults.delayMs + faults.jitterMs - 10,
             qPrintable(QStringLiteral("holds from %1 to %2 ms").arg(*low).arg(*high)));
    QCOMPARE(draws(12345, 1), first);  // a seed repeats its draws
    QVERIFY(draws(12346, 1) != first); // another seed draws others
    QVERIFY(draws(12345, 2) != first); // and each client has its own sequence
}

// A client that half-closes with its echo still held gets the echo, then the close.
void tst_Faults::delayThenHalfClose()
{
    FaultConfig faults;
    faults.delayMs = 200;
    FaultServer running;
    QVERIFY(running.start(testConfig(1), faults));

    TestClient client;
    QVERIFY(client.connectTo(QHostAddress::LocalHost, running.port));
    const QByteArray data = payload(5000, 2);
    client.socket.write(data);
    client.halfClose();
    QTRY_VERIFY_WITH_TIMEOUT(client.closed, kTimeoutMs);
    QCOMPARE(client.received, data);
    QCOMPARE(waitForDisconnect(running.disconnected).reason, DisconnectReason::ClosedByPeer);
}

// N bytes take at least (N - burst) / rate, and the server's unsent echo stays bounded
// by its high-water mark while it throttles.
void tst_Faults::bandwidth()
{
    ServerConfig config = testConfig(1);
    config.highWaterBytes = 16 * 1024;
    config.lowWaterBytes = 4 * 1024;
    FaultConfig faults;
    faults.bandwidthBytesPerSecond = 64 * 1024;
    FaultServer running;
    QVERIFY(running.start(config, faults));

    TestClient client;
    const auto stats = running.connect(client);
    QVERIFY(stats);
    const quint64 id = stats->id();
    const QByteArray data = payload(96 * 1024, 3);
    QElapsedTimer clock;
    clock.start();
    client.socket.write(data);
    QTRY_COMPARE_WITH_TIMEOUT(client.received.size(), data.size(), kTimeoutMs);
    const qint64 elapsed = clock.elapsed();
    const qint64 burst = faults.bandwidthBytesPerSecond / 10;
    const qint64 lowerBoundMs = (data.size() - burst) * 1000 / faults.bandwidthBytesPerSecond;
    QVERIFY2(
        elapsed >= lowerBoundMs - 5,
        qPrintable(QStringLiteral("%1 ms, expected at least %2").arg(elapsed).arg(lowerBoundMs)));
    QCOMPARE(client.received, data);
    const ClientSnapshot snapshot = running.server->clientStats(id)->snapshot();
    // One read (64 KiB at most) can land above the mark before reading pauses.
    QVERIFY2(snapshot.peakUnsentBytes <= config.highWaterBytes + 64 * 1024,
             qPrintable(QString::number(snapshot.peakUnsentBytes)));
}

// With gaps the echo arrives in several reads, none larger than a slice.
void tst_Faults::slices()
{
    FaultConfig faults;
    faults.sliceBytes = 8;
    faults.sliceGapMs = 40;
    FaultServer running;
    QVERIFY(running.start(testConfig(1), faults));

    TestClient client;
    QList<qsizetype> reads;
    connect(&client.socket, &QTcpSocket::readyRead, &client,
            [&] { reads.append(client.received.size()); });
    QVERIFY(client.connectTo(QHostAddress::LocalHost, running.port));
    const QByteArray data = payload(40, 4);
    QElapsedTimer clock;
    clock.start();
    client.socket.write(data);
    QTRY_COMPARE_WITH_TIMEOUT(client.received.size(), data.size(), kTimeoutMs);
    QVERIFY2(clock.elapsed() >= 4 * faults.sliceGapMs - 5,
             qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(client.received, data);
    // reads holds the running total after each read (TestClient appended first).
    QVERIFY2(reads.size() >= 3, qPrintable(QString::number(reads.size())));
    qsizetype previous = 0;
    for (const qsizetype total : std::as_const(reads)) {
        QVERIFY2(total - previous <= faults.sliceBytes,
                 qPrintable(QStringLiteral("a read of %1 bytes").arg(total - previous)));
        previous = total;
    }
}

// Exactly N bytes, then an orderly close; the reason names the fault.
void tst_Faults::closeAfter()
{
    FaultConfig faults;
    faults.closeAfterBytes = 1000;
    FaultServer running;
    QVERIFY(running.start(testConfig(1), faults));

    RawClient client;
    QVERIFY(client.connectTo(running.port));
    const QByteArray data = payload(4096, 5);
    QVERIFY(client.send(data));
    QTRY_VERIFY_WITH_TIMEOUT(client.poll(), kTimeoutMs);
    QCOMPARE(client.error, 0); // recv() returned 0: a FIN, not a reset
    QCOMPARE(client.received, data.left(1000));

    const DisconnectInfo info = waitForDisconnect(running.disconnected);
    QCOMPARE(info.reason, DisconnectReason::FaultClose);
    QCOMPARE(info.detail, QStringLiteral("after 1,000 echoed bytes"));
    QCOMPARE(info.bytesOut, 1000);
    QTRY_VERIFY_WITH_TIMEOUT(!faultEvents(running.events).isEmpty() &&
                                 faultEvents(running.events).constLast().text ==
                                     QLatin1String("closed after 1,000 echoed bytes"),
                             kTimeoutMs);
}

// Close after 0 bytes: closed as soon as it connects.
void tst_Faults::closeAtOnce()
{
    FaultConfig faults;
    faults.closeAfterBytes = 0;
    FaultServer running;
    QVERIFY(running.start(testConfig(2), faults));

    RawClient client;
    QVERIFY(client.connectTo(running.port));
    QTRY_VERIFY_WITH_TIMEOUT(client.poll(), kTimeoutMs);
    QCOMPARE(client.error, 0);
    QVERIFY(client.received.isEmpty());
    QCOMPARE(waitForDisconnect(running.disconnected).reason, DisconnectReason::FaultClose);
}

// N bytes, then a reset: recv() fails with ECONNRESET (QTcpSocket would report a reset
// and a close alike, as RemoteHostClosedError).
void tst_Faults::resetAfter()
{
#ifndef Q_OS_UNIX
    QSKIP("reads a plain descriptor");
#endif
    FaultConfig faults;
    faults.resetAfterBytes = 1024;
    FaultServer running;
    QVERIFY(running.start(testConfig(1), faults));

    RawClient client;
    QVERIFY(client.connectTo(running.port));
    const QByteArray data = payload(4096, 6);
    QVERIFY(client.send(data));
    QTRY_VERIFY_WITH_TIMEOUT(client.poll(), kTimeoutMs);
    QCOMPARE(client.error, ECONNRESET);
    // A reset drops what the kernel had not sent yet; on loopback it had sent it all.
    QCOMPARE(client.received, data.left(1024));

    const DisconnectInfo info = waitForDisconnect(running.disconnected);
    QCOMPARE(info.reason, DisconnectReason::FaultReset);
    QCOMPARE(info.detail, QStringLiteral("after 1,024 echoed bytes"));
    QCOMPARE(info.unechoedBytes(), data.size() - 1024);
}

void tst_Faults::resetProbability_data()
{
    QTest::addColumn<double>("probability");
    QTest::newRow("always") << 1.0;
    QTest::newRow("never") << 0.0;
}

void tst_Faults::resetProbability()
{
#ifndef Q_OS_UNIX
    QSKIP("reads a plain descriptor");
#endif
    QFETCH(double, probability);
    ServerConfig config = testConfig(1);
    config.framing.mode = FramingMode::Line;
    FaultConfig faults;
    faults.resetProbability = probability;
    FaultServer running;
    QVERIFY(running.start(config, faults));

    RawClient client;
    QVERIFY(client.connectTo(running.port));
    QByteArray lines;
    for (int i = 0; i < 20; ++i)
        lines += "line " + QByteArray::number(i) + '\n';
    QVERIFY(client.send(lines));
    if (probability == 0.0) {
        QTRY_COMPARE_WITH_TIMEOUT((client.poll(), client.received), lines, kTimeoutMs);
        QVERIFY(!client.ended);
        QVERIFY(running.disconnected.isEmpty());
        return;
    }
    QTRY_VERIFY_WITH_TIMEOUT(client.poll(), kTimeoutMs);
    QCOMPARE(client.error, ECONNRESET);
    QVERIFY(client.received.isEmpty()); // the first message drew the reset
    const DisconnectInfo info = waitForDisconnect(running.disconnected);
    QCOMPARE(info.reason, DisconnectReason::FaultReset);
    QCOMPARE(info.detail, QStringLiteral("at message 1 (probability 1)"));
}

void tst_Faults::stopReading_data()
{
    addThreadRows();
}

// Not reading: the client's writes back up in its own buffer and the server reads
// nothing. Clearing the fault echoes everything, byte-exact.
void tst_Faults::stopReading()
{
    QFETCH(int, threads);
    FaultServer running;
    QVERIFY(running.start(testConfig(threads)));

    TestClient client;
    const auto stats = running.connect(client);
    QVERIFY(stats);
    const quint64 id = stats->id();
    FaultConfig faults;
    faults.stopReading = true;
    QVERIFY(running.server->setClientFaults(id, faults));
    QTRY_VERIFY_WITH_TIMEOUT(stats->faults().stopReading, kTimeoutMs);

    // More than the loopback socket buffers on both sides can hold.
    const QByteArray data = payload(32 * 1024 * 1024, 7);
    client.socket.write(data);
#ifdef Q_OS_LINUX
    // Event-driven, no observation window: wait until the client's kernel holds bytes the
    // server's side has not acknowledged (SIOCOUTQ). On loopback that happens only once
    // the server's receive buffer is full, which a server that reads never lets happen
    // (and it would count bytesIn).
    const auto unacknowledged = [&client] {
        int bytes = 0;
        return ::ioctl(int(client.socket.socketDescriptor()), SIOCOUTQ, &bytes) == 0 ? bytes : -1;
    };
    QTRY_VERIFY_WITH_TIMEOUT(unacknowledged() > 0 && client.socket.bytesToWrite() > 0, kTimeoutMs);
#else
    QTest::qWait(600); // an observation window: nothing is expected to happen
    QVERIFY2(client.socket.bytesToWrite() > 0, "the kernel took everything");
#endif
    QCOMPARE(stats->bytesIn(), 0);
    QVERIFY(running.disconnected.isEmpty());

    QVERIFY(running.server->setClientFaults(id, FaultConfig()));
    QTRY_COMPARE_WITH_TIMEOUT(client.received.size(), data.size(), kTimeoutMs);
    QVERIFY(client.received == data);
    bool perClient = false;
    QVERIFY(stats->faults(&perClient).isEmpty());
    QVERIFY(perClient); // cleared for this client, whatever the faults for all clients
}

// The idle timeout does not count a stall the server makes on purpose against the
// client: while it does not read, or holds the echo back, the client is not idle.
void tst_Faults::faultStallIsNotIdle()
{
    ServerConfig config = testConfig(1);
    config.idleTimeoutMs = 150;
    FaultConfig faults;
    faults.stopReading = true;
    FaultServer running;
    QVERIFY(running.start(config, faults));
    TestClient stuck;
    QVERIFY(stuck.connectTo(QHostAddress::LocalHost, running.port));
    faults = FaultConfig();
    faults.delayMs = 600;
    TestClient delayed;
    QVERIFY(delayed.connectTo(QHostAddress::LocalHost, running.port));
    QTRY_COMPARE_WITH_TIMEOUT(running.server->clientIds().size(), 2, kTimeoutMs);
    QVERIFY(running.server->setClientFaults(running.server->clientIds().constLast(), faults));
    delayed.socket.write("held");
    QTRY_COMPARE_WITH_TIMEOUT(delayed.received, QByteArray("held"), kTimeoutMs);
    QCOMPARE(running.disconnected.size(), 0); // four idle timeouts passed meanwhile
    QVERIFY(!stuck.closed);
    // Once the fault lets go, idle is idle again.
    QVERIFY(running.server->setDefaultFaults(FaultConfig()));
    QVERIFY(
        running.server->setClientFaults(running.server->clientIds().constLast(), FaultConfig()));
    QTRY_COMPARE_WITH_TIMEOUT(running.disconnected.size(), 2, kTimeoutMs);
    for (const QList<QVariant> &arguments : std::as_const(running.disconnected))
        QCOMPARE(arguments.at(1).value<DisconnectInfo>().reason, DisconnectReason::IdleTimeout);
}

void tst_Faults::perClientOnly_data()
{
    addThreadRows();
}

// A client's own faults touch only it: the other is echoed at once.
void tst_Faults::perClientOnly()
{
    QFETCH(int, threads);
    FaultServer running;
    QVERIFY(running.start(testConfig(threads)));
    TestClient slow;
    TestClient fast;
    QVERIFY(slow.connectTo(QHostAddress::LocalHost, running.port));
    const quint64 slowId = onlyClient(running.server.get());
    QVERIFY(slowId != 0);
    QVERIFY(fast.connectTo(QHostAddress::LocalHost, running.port));
    QTRY_COMPARE_WITH_TIMEOUT(running.server->clientIds().size(), 2, kTimeoutMs);
    const quint64 fastId = running.server->clientIds().constLast();

    // The longest delay there is, three times any wait below: whatever the machine's load,
    // an echo that comes within a wait did not wait for it.
    FaultConfig faults;
    faults.delayMs = FaultConfig::kMaxDelayMs;
    static_assert(FaultConfig::kMaxDelayMs >= 3 * kTimeoutMs);
    QVERIFY(running.server->setClientFaults(slowId, faults));
    QTRY_COMPARE_WITH_TIMEOUT(running.server->clientStats(slowId)->faults(), faults, kTimeoutMs);

    slow.socket.write("slow");
    fast.socket.write("fast");
    QTRY_COMPARE_WITH_TIMEOUT(fast.received, QByteArray("fast"), kTimeoutMs);
    // The server read "slow" and holds it (the fast client's echo went out meanwhile).
    QTRY_COMPARE_WITH_TIMEOUT(running.server->clientStats(slowId)->bytesIn(), qint64(4),
                              kTimeoutMs);
    QVERIFY(slow.received.isEmpty());

    bool perClient = false;
    QCOMPARE(running.server->clientStats(slowId)->faults(&perClient), faults);
    QVERIFY(perClient);
    QVERIFY(running.server->clientStats(fastId)->faults().isEmpty());
    const QList<TrafficEvent> logged = faultEvents(running.events);
    QVERIFY(!logged.isEmpty());
    QCOMPARE(logged.constFirst().clientId, slowId);
    QCOMPARE(logged.constFirst().text, QStringLiteral("faults set: delay 60,000 ms"));

    // Back to the faults for all clients (none): what was held goes out, and new echo at
    // once, both well before the delay could have run out.
    QVERIFY(running.server->followDefaultFaults(slowId));
    QTRY_VERIFY_WITH_TIMEOUT(running.server->clientStats(slowId)->faults().isEmpty(), kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(slow.received, QByteArray("slow"), kTimeoutMs);
    slow.socket.write("again");
    QTRY_COMPARE_WITH_TIMEOUT(slow.received, QByteArray("slowagain"), kTimeoutMs);
}

// Faults for all clients set before start() reach the clients that connect later, and
// a client's own faults win over them.
void tst_Faults::defaultFaultsForNewClients()
{
    EchoServer server;
    FaultConfig faults;
    faults.sliceBytes = 100;
    QVERIFY(server.setDefaultFaults(faults));
    QVERIFY(server.start(testConfig(2)));
    TestClient client;
    QVERIFY(client.connectTo(QHostAddress::LocalHost, server.serverPort()));
    const quint64 id = onlyClient(&server);
    QVERIFY(id != 0);
    QTRY_COMPARE_WITH_TIMEOUT(server.clientStats(id)->faults(), faults, kTimeoutMs);

    FaultConfig own;
    own.bandwidthBytesPerSecond = 1000;
    QVERIFY(server.setClientFaults(id, own));
    QTRY_COMPARE_WITH_TIMEOUT(server.clientStats(id)->faults(), own, kTimeoutMs);
    FaultConfig other;
    other.delayMs = 10;
    QVERIFY(server.setDefaultFaults(other)); // does not replace the client's own
    TestClient second;
    QVERIFY(second.connectTo(QHostAddress::LocalHost, server.serverPort()));
    QTRY_COMPARE_WITH_TIMEOUT(server.clientIds().size(), 2, kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(server.clientStats(server.clientIds().constLast())->faults(), other,
                              kTimeoutMs);
    QCOMPARE(server.clientStats(id)->faults(), own);
    server.stop();
    QCOMPARE(server.defaultFaults(), other); // kept for the next start
}

void tst_Faults::invalidFaultsRefused()
{
    FaultServer running;
    QVERIFY(running.start(testConfig(1)));
    QString error;
    QVERIFY(!running.server->setClientFaults(99, FaultConfig(), &error));
    QCOMPARE(error, QStringLiteral("client 99 is not connected"));
    QVERIFY(!running.server->followDefaultFaults(99));
    FaultConfig bad;
    bad.sliceGapMs = 3;
    QVERIFY(!running.server->setDefaultFaults(bad, &error));
    QVERIFY2(error.contains(QLatin1String("slice gap")), qPrintable(error));
}

QTEST_GUILESS_MAIN(tst_Faults)
#include "tst_faults.moc"

// The blackhole reads and counts everything, echoes nothing and keeps the connection:
// once it is cleared the next message is echoed, and nothing of what it swallowed.
void tst_Faults::blackhole()
{
    FaultServer running;
    QVERIFY(running.start(testConfig(1)));

    RawClient client;
    const auto stats = running.connect(client);
    QVERIFY(stats);
    const quint64 id = stats->id();
    QVERIFY(client.send("before"));
    QTRY_COMPARE_WITH_TIMEOUT((client.poll(), client.received), QByteArray("before"), kTimeoutMs);

    FaultConfig faults;
    faults.blackhole = true;
    QVERIFY(running.server->setClientFaults(id, faults));
    QTRY_VERIFY_WITH_TIMEOUT(stats->faults().blackhole, kTimeoutMs);
    const QByteArray swallowed = payload(64 * 1024, 11);
    QVERIFY(client.send(swallowed));
    // Every byte read and counted in; none out.
    QTRY_COMPARE_WITH_TIMEOUT(stats->bytesIn(), 6 + swallowed.size(), kTimeoutMs);
    QCOMPARE(stats->bytesOut(), 6);
    QVERIFY(!client.poll()); // still connected
    QCOMPARE(client.received, QByteArray("before"));
    QVERIFY(running.disconnected.isEmpty());

    QVERIFY(running.server->setClientFaults(id, FaultConfig()));
    QVERIFY(client.send("after"));
    QTRY_COMPARE_WITH_TIMEOUT((client.poll(), client.received), QByteArray("beforeafter"),
                              kTimeoutMs);
    QCOMPARE(stats->bytesOut(), 11);
    QVERIFY(running.disconnected.isEmpty());
    // The summary, sent when the fault was cleared, says how much it discarded.
    const auto summarised = [&running] {
        for (const TrafficEvent &event : faultEvents(running.events)) {
            if (event.text.contains(QLatin1String("discarded by the blackhole (64 KiB)")))
                return true;
        }
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(summarised(), kTimeoutMs);
}

void tst_Faults::timeout_data()
{
    addThreadRows();
}

// The timeout: what was echoed before it is all the client gets; after it nothing is
// read or echoed, and the connection closes (FIN) once the time is up.
void tst_Faults::timeout()
{
    QFETCH(int, threads);
    FaultServer running;
    QVERIFY(running.start(testConfig(threads)));

    RawClient client;
    const auto stats = running.connect(client);
    QVERIFY(stats);
    const quint64 id = stats->id();
    QVERIFY(client.send("hello"));
    QTRY_COMPARE_WITH_TIMEOUT((client.poll(), client.received), QByteArray("hello"), kTimeoutMs);
    QVERIFY(running.disconnected.isEmpty());

    FaultConfig faults;
    faults.timeoutMs = 50;
    QVERIFY(running.server->setClientFaults(id, faults));
    QVERIFY(client.send("world")); // read by no one, echoed never
    QTRY_VERIFY_WITH_TIMEOUT(client.poll(), kTimeoutMs);
    QCOMPARE(client.error, 0); // an orderly close
    QCOMPARE(client.received, QByteArray("hello"));

    const DisconnectInfo info = waitForDisconnect(running.disconnected);
    QCOMPARE(info.reason, DisconnectReason::FaultClose);
    QCOMPARE(info.detail, QStringLiteral("after the timeout fault's 50 ms"));
    QCOMPARE(info.bytesOut, 5);
    // In the log: the fault set, then the close it made, in this order.
    QTRY_VERIFY_WITH_TIMEOUT(faultEvents(running.events).size() >= 2, kTimeoutMs);
    const QList<TrafficEvent> logged = faultEvents(running.events);
    QCOMPARE(logged.at(0).text, QStringLiteral("faults set: timeout 50 ms"));
    QCOMPARE(logged.constLast().text, QStringLiteral("closed after the timeout fault's 50 ms"));
}

// Timeout 0 holds the connection open without reading or echoing; cleared, what was
// held is read and echoed, byte-exact.
void tst_Faults::timeoutZeroHolds()
{
    FaultServer running;
    QVERIFY(running.start(testConfig(1)));
    RawClient client;
    const auto stats = running.connect(client);
    QVERIFY(stats);
    const quint64 id = stats->id();
    FaultConfig faults;
    faults.timeoutMs = 0;
    QVERIFY(running.server->setClientFaults(id, faults));
    QTRY_COMPARE_WITH_TIMEOUT(stats->state(), ClientState::Stopped, kTimeoutMs);
    QCOMPARE(stats->faults().describe(), QStringLiteral("timeout: hold, never close"));
    QVERIFY(client.send("held"));
    QVERIFY(!client.poll());
    QCOMPARE(stats->bytesIn(), 0);

    QVERIFY(running.server->setClientFaults(id, FaultConfig()));
    QTRY_COMPARE_WITH_TIMEOUT((client.poll(), client.received), QByteArray("held"), kTimeoutMs);
    QVERIFY(!client.ended);
    QVERIFY(running.disconnected.isEmpty());
}

// Slow close: after the client's end the last echo goes out at once, the close only
// after the wait (a lower bound, which load cannot break).
void tst_Faults::slowClose()
{
    FaultConfig faults;
    faults.slowCloseMs = 150;
    FaultServer running;
    QVERIFY(running.start(testConfig(1), faults));

    RawClient client;
    QVERIFY(client.connectTo(running.port));
    QVERIFY(client.send("last words"));
    QElapsedTimer sinceEnd;
    sinceEnd.start();
    QVERIFY(client.shutdownWrite());
    QTRY_VERIFY_WITH_TIMEOUT(client.poll(), kTimeoutMs);
    QVERIFY2(sinceEnd.elapsed() >= 140, qPrintable(QString::number(sinceEnd.elapsed())));
    QCOMPARE(client.error, 0);
    QCOMPARE(client.received, QByteArray("last words"));
    const DisconnectInfo info = waitForDisconnect(running.disconnected);
    QCOMPARE(info.reason, DisconnectReason::ClosedByPeer);
    QCOMPARE(info.bytesOut, 10);
    QVERIFY(!faultEvents(running.events).isEmpty());
    QCOMPARE(faultEvents(running.events).constLast().text,
             QStringLiteral("slow close: closing in 150 ms, after the client's end and the last "
                            "echo"));
}

// During a slow close the client is Draining with its echo all sent, and a kick ends
// the wait at once.
void tst_Faults::slowCloseKicked()
{
    FaultConfig faults;
    faults.slowCloseMs = FaultConfig::kMaxSlowCloseMs;
    FaultServer running;
    QVERIFY(running.start(testConfig(1), faults));

    RawClient client;
    const auto stats = running.connect(client);
    QVERIFY(stats);
    const quint64 id = stats->id();
    QVERIFY(client.send("bye"));
    QVERIFY(client.shutdownWrite());
    QTRY_COMPARE_WITH_TIMEOUT((client.poll(), client.received), QByteArray("bye"), kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(stats->state(), ClientState::Draining, kTimeoutMs);
    QCOMPARE(stats->snapshot().unsentBytes, 0);
    QVERIFY(!client.ended);
    QVERIFY(running.server->disconnectClient(id));
    QTRY_VERIFY_WITH_TIMEOUT(client.poll(), kTimeoutMs);
    QCOMPARE(waitForDisconnect(running.disconnected).reason, DisconnectReason::Kicked);
    QCOMPARE(client.received, QByteArray("bye"));
}

// Toxicity 0: the delay applies to no message, so a delay of a minute delays nothing;
// toxicity 1 (the default) delays every one. Counted in messages the draw spared.
void tst_Faults::toxicity()
{
    FaultServer running;
    QVERIFY(running.start(testConfig(1)));
    RawClient client;
    const auto stats = running.connect(client);
    QVERIFY(stats);
    const quint64 id = stats->id();
    FaultConfig faults;
    faults.delayMs = FaultConfig::kMaxDelayMs;
    faults.bandwidthBytesPerSecond = 1; // a byte a second, were it applied
    faults.toxicity = 0.0;
    QVERIFY(running.server->setClientFaults(id, faults));
    QTRY_VERIFY_WITH_TIMEOUT(stats->faults() == faults, kTimeoutMs);
    QCOMPARE(faults.describe(),
             QStringLiteral("delay 60,000 ms \u00b7 1 byte/s \u00b7 toxicity 0%"));
    const QByteArray data = payload(8 * 1024, 12);
    QVERIFY(client.send(data));
    QTRY_COMPARE_WITH_TIMEOUT((client.poll(), client.received.size()), data.size(), kTimeoutMs);
    QVERIFY(client.received == data);

    // The same faults with toxicity 1 hold the next message back (a minute's delay):
    // nothing of it is echoed while the fault stands.
    faults.toxicity = 1.0;
    QVERIFY(running.server->setClientFaults(id, faults));
    QTRY_VERIFY_WITH_TIMEOUT(stats->faults().toxicity == 1.0, kTimeoutMs);
    QVERIFY(client.send("held"));
    QTRY_COMPARE_WITH_TIMEOUT(stats->bytesIn(), data.size() + 4, kTimeoutMs);
    QCOMPARE(stats->snapshot().unsentBytes, 4);
    QCOMPARE(stats->bytesOut(), data.size());
    // Cleared, the held echo goes at once.
    QVERIFY(running.server->setClientFaults(id, FaultConfig()));
    QTRY_COMPARE_WITH_TIMEOUT((client.poll(), client.received.size()), data.size() + 4, kTimeoutMs);
    QVERIFY(client.received.endsWith("held"));
}

// Toxicity's draws come from the seeded generator: with the same seed, the same
// messages are delayed (lastDrawnDelayMs moves only for those), and about the share asked.
void tst_Faults::toxicityDrawsRepeat()
{
    auto stats = std::make_shared<ClientStats>(7, QHostAddress(QHostAddress::LocalHost), 1, 0, 1024,
                                               IpProtocol::Tcp);
    const auto draws = [&stats](quint32 seed) {
        FaultInjector injector(stats);
        FaultConfig config;
        config.delayMs = 100;
        config.toxicity = 0.3;
        config.seed = seed;
        injector.setConfig(config, FaultScope::ThisClient, 0);
        QList<bool> delayed;
        qint64 spared = 0;
        for (int i = 0; i < 200; ++i) {
            injector.messageQueued(qint64(i + 1) * 10, 10);
            delayed.append(injector.sparedMessages() == spared);
            spared = injector.sparedMessages();
        }
        return delayed;
    };
    const QList<bool> first = draws(42);
    QCOMPARE(draws(42), first);
    QVERIFY(draws(43) != first);
    const auto delayedCount = first.count(true);
    QVERIFY2(delayedCount > 30 && delayedCount < 90, qPrintable(QString::number(delayedCount)));
}

void tst_Faults::udpFaults_data()
{
    QTest::addColumn<QString>("fault");
    QTest::addColumn<QList<QByteArray>>("sent");
    QTest::addColumn<QList<QByteArray>>("expected");
    const QList<QByteArray> four = {"1", "2", "3", "4"};
    QTest::newRow("blackhole") << "blackhole" << four << QList<QByteArray>();
    QTest::newRow("loss 1") << "loss" << four << QList<QByteArray>();
    QTest::newRow("duplicate 1") << "duplicate" << four
                                 << QList<QByteArray>{"1", "1", "2", "2", "3", "3", "4", "4"};
    // Each held one goes after the next; that next one is not held in its turn.
    QTest::newRow("reorder 1") << "reorder" << four << QList<QByteArray>{"2", "1", "4", "3"};
}

// Each UDP fault at rate 1, counted in the datagrams the peer sent and received: it
// waits for the server to have read each one (messagesIn) and sent its echoes
// (messagesOut), then for as many datagrams; a final unfaulted probe shows nothing
// else was sent.
void tst_Faults::udpFaults()
{
    QFETCH(QString, fault);
    QFETCH(QList<QByteArray>, sent);
    QFETCH(QList<QByteArray>, expected);
    FaultConfig faults;
    faults.blackhole = fault == QLatin1String("blackhole");
    faults.udpLoss = fault == QLatin1String("loss") ? 1.0 : 0.0;
    faults.udpDuplicate = fault == QLatin1String("duplicate") ? 1.0 : 0.0;
    faults.udpReorder = fault == QLatin1String("reorder") ? 1.0 : 0.0;
    FaultServer running;
    QVERIFY(running.start(udpConfig(), faults));
    EchoServer *server = running.server.get();

    UdpPeer peer;
    QVERIFY(peer.isBound());
    const auto stats = running.sendEach(peer, sent);
    QVERIFY(stats);
    QCOMPARE(stats->messagesOut(), expected.size());
    QTRY_COMPARE_WITH_TIMEOUT((peer.collect(), peer.received.size()), expected.size(), kTimeoutMs);
    QCOMPARE(peer.received, expected);
    QCOMPARE(stats->bytesIn(), 4);

    QVERIFY(server->setDefaultFaults(FaultConfig()));
    QTRY_VERIFY_WITH_TIMEOUT(stats->faults().isEmpty(), kTimeoutMs);
    QVERIFY(peer.send("probe", server->udpPort()));
    QTRY_COMPARE_WITH_TIMEOUT((peer.collect(), peer.received.size()), expected.size() + 1,
                              kTimeoutMs);
    QCOMPARE(peer.received.constLast(), QByteArray("probe"));
}

// A datagram held back by the reorder fault when its peer is forgotten (kicked, or the
// server stops) is never echoed: the log says it was dropped, before the disconnect.
void tst_Faults::udpHeldDatagramDroppedIsLogged()
{
    Running running = startServer(udpConfig());
    QVERIFY(running.port != 0);
    EchoServer *server = running.server.get();
    FaultConfig faults;
    faults.udpReorder = 1.0;
    QVERIFY(server->setDefaultFaults(faults));
    QSignalSpy connected(server, &EchoServer::clientConnected);
    QSignalSpy events(server, &EchoServer::eventOccurred);
    UdpPeer kicked, kept;
    QVERIFY(kicked.isBound() && kept.isBound());
    QVERIFY(kicked.send("held", server->udpPort()));
    QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 1, kTimeoutMs);
    QVERIFY(kept.send("held too", server->udpPort()));
    QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 2, kTimeoutMs);
    const quint64 kickedId = connected.at(0).at(0).value<quint64>();
    const quint64 keptId = connected.at(1).at(0).value<quint64>();
    QTRY_VERIFY_WITH_TIMEOUT(server->clientStats(kickedId)->messagesIn() == 1 &&
                                 server->clientStats(keptId)->messagesIn() == 1,
                             kTimeoutMs);
    const auto kickedStats = server->clientStats(kickedId);
    const auto keptStats = server->clientStats(keptId);
    QCOMPARE(kickedStats->messagesOut(), 0); // held

    // The texts of `id`'s events, in order.
    const auto textsOf = [&events](quint64 id) {
        QStringList texts;
        for (const QList<QVariant> &args : events) {
            const auto event = args.at(0).value<TrafficEvent>();
            if (event.clientId == id && (event.kind == TrafficEvent::Kind::FaultInjected ||
                                         event.kind == TrafficEvent::Kind::Disconnected))
                texts.append(event.kind == TrafficEvent::Kind::Disconnected
                                 ? QStringLiteral("disconnected")
                                 : event.text);
        }
        return texts;
    };
    QVERIFY(server->disconnectClient(kickedId));
    QTRY_VERIFY_WITH_TIMEOUT(textsOf(kickedId).contains(QStringLiteral("disconnected")),
                             kTimeoutMs);
    QStringList texts = textsOf(kickedId);
    texts.removeAll(QStringLiteral("UDP echoes: 1 reordered in the last second"));
    QCOMPARE(texts, (QStringList{QStringLiteral("1 held datagram dropped: the peer was "
                                                "forgotten (kicked)"),
                                 QStringLiteral("disconnected")}));

    server->stop();
    texts = textsOf(keptId);
    texts.removeAll(QStringLiteral("UDP echoes: 1 reordered in the last second"));
    QCOMPARE(texts,
             (QStringList{QStringLiteral("1 held datagram dropped: the peer was "
                                         "forgotten (%1)")
                              .arg(DisconnectInfo::reasonText(DisconnectReason::ServerStopped)),
                          QStringLiteral("disconnected")}));
    // Dropped, not sent late.
    QCOMPARE(kickedStats->messagesOut(), 0);
    QCOMPARE(keptStats->messagesOut(), 0);
}

// Each transport takes the faults that act on it (the ones UdpEchoService::echoWithFaults
// and ClientSession apply), the others off.
void tst_Faults::faultsForTransport()
{
    FaultConfig every;
    every.delayMs = 10;
    every.jitterMs = 5;
    every.bandwidthBytesPerSecond = 1000;
    every.sliceBytes = 16;
    every.sliceGapMs = 2;
    every.closeAfterBytes = 100;
    every.resetAfterBytes = 200;
    every.closeCode = 4000;
    every.resetProbability = 0.5;
    every.stopReading = true;
    every.blackhole = true;
    every.timeoutMs = 0;
    every.slowCloseMs = 30;
    every.toxicity = 0.5;
    every.udpLoss = 0.1;
    every.udpDuplicate = 0.2;
    every.udpReorder = 0.3;
    every.udpCorrupt = 0.4;
    every.seed = 7;

    FaultConfig udp;
    udp.blackhole = true;
    udp.udpLoss = 0.1;
    udp.udpDuplicate = 0.2;
    udp.udpReorder = 0.3;
    udp.udpCorrupt = 0.4;
    udp.seed = 7;
    QCOMPARE(every.forTransport(IpProtocol::Udp), udp);

    FaultConfig webSocket = every;
    webSocket.udpLoss = webSocket.udpDuplicate = webSocket.udpReorder = webSocket.udpCorrupt = 0.0;
    QCOMPARE(every.forTransport(IpProtocol::WebSocket), webSocket);
    FaultConfig tcp = webSocket;
    tcp.closeCode = FaultConfig::kDefaultCloseCode;
    QCOMPARE(every.forTransport(IpProtocol::Tcp), tcp);
    QVERIFY(!tcp.describe().contains(QStringLiteral("UDP")));
    QCOMPARE(FaultConfig().forTransport(IpProtocol::Udp), FaultConfig());
}

// Corruption flips exactly one bit of the echo; its size stays.
void tst_Faults::udpCorrupt()
{
    FaultConfig faults;
    faults.udpCorrupt = 1.0;
    FaultServer running;
    QVERIFY(running.start(udpConfig(), faults));
    UdpPeer peer;
    QVERIFY(peer.isBound());
    for (int round = 0; round < 8; ++round) {
        const QByteArray data = payload(64, quint32(20 + round));
        QVERIFY(peer.send(data, running.server->udpPort()));
        QTRY_COMPARE_WITH_TIMEOUT((peer.collect(), peer.received.size()), round + 1, kTimeoutMs);
        const QByteArray echo = peer.received.constLast();
        QCOMPARE(echo.size(), data.size());
        int flipped = 0;
        for (qsizetype i = 0; i < data.size(); ++i)
            flipped += __builtin_popcount(quint8(data.at(i) ^ echo.at(i)));
        QCOMPARE(flipped, 1);
    }
}

// Same seed, same draws: which datagrams are lost and which duplicated repeats from
// run to run (a fresh server each time, so the peer has the same id); another seed
// gives another sequence.
void tst_Faults::udpSeedRepeatsDraws()
{
    const auto run = [](quint32 seed) {
        QList<QByteArray> received;
        FaultConfig faults;
        faults.udpLoss = 0.4;
        faults.udpDuplicate = 0.3;
        faults.seed = seed;
        FaultServer running;
        if (!running.start(udpConfig(), faults))
            return received;
        UdpPeer peer;
        QList<QByteArray> sent;
        for (int i = 0; i < 40; ++i)
            sent.append(QByteArray::number(i));
        const auto stats = running.sendEach(peer, sent);
        if (!stats)
            return received;
        const qint64 out = stats->messagesOut();
        const bool all = QTest::qWaitFor(
            [&] {
                peer.collect();
                return peer.received.size() == out;
            },
            kTimeoutMs);
        return all ? peer.received : QList<QByteArray>();
    };
    const QList<QByteArray> first = run(7);
    QVERIFY(!first.isEmpty());
    QCOMPARE(run(7), first);
    QVERIFY(run(8) != first);
    // Some lost, some duplicated: the rates did something.
    QSet<QByteArray> distinct(first.cbegin(), first.cend());
    QVERIFY2(distinct.size() < 40, "none lost");
    QVERIFY2(distinct.size() < first.size(), "none duplicated");
}

// A peer's own faults, logged for it, and cleared: back to a plain echo.
void tst_Faults::udpPeerFaultsOwnAndCleared()
{
    FaultServer running;
    QVERIFY(running.start(udpConfig()));
    EchoServer *server = running.server.get();
    QSignalSpy &connected = running.connected;
    QSignalSpy &events = running.events;
    UdpPeer peer;
    QVERIFY(peer.send("one", server->udpPort()));
    QTRY_COMPARE_WITH_TIMEOUT((peer.collect(), peer.received.size()), 1, kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 1, kTimeoutMs);
    const quint64 id = connected.at(0).at(0).value<quint64>();
    FaultConfig faults;
    faults.udpLoss = 1.0;
    QVERIFY(server->setClientFaults(id, faults));
    const auto stats = server->clientStats(id);
    bool own = false;
    QTRY_VERIFY_WITH_TIMEOUT(stats->faults(&own).udpLoss == 1.0 && own, kTimeoutMs);
    QVERIFY(peer.send("two", server->udpPort()));
    QTRY_COMPARE_WITH_TIMEOUT(stats->messagesIn(), 2, kTimeoutMs);
    QCOMPARE(stats->messagesOut(), 1);
    QVERIFY(server->setClientFaults(id, FaultConfig()));
    QTRY_VERIFY_WITH_TIMEOUT(stats->faults().isEmpty(), kTimeoutMs);
    QVERIFY(peer.send("three", server->udpPort()));
    QTRY_COMPARE_WITH_TIMEOUT((peer.collect(), peer.received.size()), 2, kTimeoutMs);
    QCOMPARE(peer.received, (QList<QByteArray>{"one", "three"}));
    // Logged: set, what it did, cleared.
    const auto logged = [&events] {
        QStringList texts;
        for (const TrafficEvent &event : faultEvents(events))
            texts << event.text;
        return texts;
    };
    QTRY_VERIFY_WITH_TIMEOUT(logged().contains(QStringLiteral("faults cleared for this client")),
                             kTimeoutMs);
    const QStringList texts = logged();
    QVERIFY2(texts.contains(QStringLiteral("faults set: UDP loss 100%")),
             qPrintable(texts.join('|')));
    QVERIFY2(texts.contains(QStringLiteral("UDP echoes: 1 lost in the last second")),
             qPrintable(texts.join('|')));
}
