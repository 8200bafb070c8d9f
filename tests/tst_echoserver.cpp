// Engine integration tests: a real EchoServer on loopback, port 0, driven by real
// QTcpSocket clients. With threads == 1 the server shares this thread, so clients
// never block: every wait is QTRY_* or QSignalSpy::wait(), bounded.

#include "echoserver.h"
#include "echotestsupport.h"
#include "serverconfig.h"
#include "errortext.h"

#include <QAbstractEventDispatcher>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QMap>
#include <QRandomGenerator>
#include <QSet>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <vector>

#ifdef Q_OS_UNIX
#include <sys/resource.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

using namespace Echoscope;
using namespace EchoTest;

namespace {

qint64 processCpuMicroseconds()
{
#ifdef Q_OS_UNIX
    rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return qint64(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000 +
           usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
#else
    return 0;
#endif
}

} // namespace

class tst_EchoServer : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void startsOnPortZeroAndReportsIt();
    void workersAreRunningWhenStartReturns();
    void invalidConfigIsRefused_data();
    void invalidConfigIsRefused();
    void portInUseFails();
    void bindsIpv6AndAny();

    void echoesPayload_data();
    void echoesPayload();
    void signalsForOneClient();
    void transferSignalsConnectedLater();
    void clientIdsUniqueAcrossRestarts();

    void halfCloseInEveryMode_data();
    void halfCloseInEveryMode();
    void resetMidMessage_data();
    void resetMidMessage();
    void messageTooLarge_data();
    void messageTooLarge();

    void manyConcurrentClients_data();
    void manyConcurrentClients();
    void maxClientsRefusesAtOnce();
    void maxClientsHoldsAcrossWorkers();
    void workersAcceptWhileThisThreadIsBusy();
    void idleTimeoutDisconnects();
    void kickDisconnectsOneClient();
    void captureKeepsNewestBytesBothWays_data();
    void captureKeepsNewestBytesBothWays();
    void nonReaderIsBoundedAndOthersServed_data();
    void nonReaderIsBoundedAndOthersServed();
    void stopClosesEveryClient_data();
    void stopClosesEveryClient();
    void messageEventsAreSampledAndSummarised();
    void idleServerDoesNotWakeUp_data();
    void idleServerDoesNotWakeUp();

private:
};

void tst_EchoServer::initTestCase()
{
    qRegisterMetaType<QHostAddress>();
}

void tst_EchoServer::startsOnPortZeroAndReportsIt()
{
    EchoServer server;
    QSignalSpy started(&server, &EchoServer::started);
    QSignalSpy events(&server, &EchoServer::eventOccurred);
    QVERIFY(server.start(testConfig(1)));
    QVERIFY(server.isListening());
    QVERIFY(server.serverPort() != 0);
    QCOMPARE(server.serverAddress(), QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(started.count(), 1);
    QCOMPARE(started.at(0).at(0).value<QHostAddress>(), QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(started.at(0).at(1).value<quint16>(), server.serverPort());
    QCOMPARE(events.count(), 1);
    const auto event = events.at(0).at(0).value<TrafficEvent>();
    QCOMPARE(event.kind, TrafficEvent::Kind::Listening);
    QCOMPARE(event.toText(), QStringLiteral("listening on 127.0.0.1:%1").arg(server.serverPort()));

    // A second start while listening is an error value, not a crash.
    QVERIFY(!server.start(testConfig(1)));
    QVERIFY(server.errorString().contains(QStringLiteral("already listening")));
    QVERIFY(server.isListening());

    QSignalSpy stopped(&server, &EchoServer::stopped);
    server.stop();
    QCOMPARE(stopped.count(), 1);
    QVERIFY(!server.isListening());
    server.stop(); // idempotent
    QCOMPARE(stopped.count(), 1);
}

void tst_EchoServer::workersAreRunningWhenStartReturns()
{
    // "listening" means every worker thread is up, with its event dispatcher (and its
    // wake-up descriptor) made: descriptor counts taken after start() do not move later
    // (tst_adversarial's flood compares against one), and the first client is not
    // handed to a thread that is still starting.
    EchoServer server;
    QVERIFY(server.start(testConfig(2)));
    const QList<QThread *> threads = server.findChildren<QThread *>();
    QCOMPARE(threads.size(), 2);
    for (QThread *thread : threads) {
        QVERIFY(thread->isRunning());
        QVERIFY2(thread->eventDispatcher() != nullptr, qPrintable(thread->objectName()));
        QVERIFY2(thread->loopLevel() == 1, qPrintable(thread->objectName()));
    }
    server.stop();
    for (QThread *thread : server.findChildren<QThread *>())
        QVERIFY(!thread->isRunning());
}

void tst_EchoServer::invalidConfigIsRefused_data()
{
    QTest::addColumn<ServerConfig>("config");
    QTest::addColumn<QString>("mentions");

    ServerConfig config = testConfig(1);
    config.bindAddress = QStringLiteral("not-an-address");
    QTest::newRow("bind address") << config << QStringLiteral("not-an-address");
    config = testConfig(1);
    config.maxClients = 0;
    QTest::newRow("max clients") << config << QStringLiteral("max clients");
    config = testConfig(1);
    config.maxMessageBytes = 0;
    QTest::newRow("max message") << config << QStringLiteral("max message size");
    config = testConfig(1);
    config.framing.mode = FramingMode::Length;
    config.framing.lengthBytes = 3;
    QTest::newRow("length bytes") << config << QStringLiteral("3");
    config = testConfig(1);
    config.framing.mode = FramingMode::Fixed;
    config.framing.fixedBytes = 2 * config.maxMessageBytes;
    QTest::newRow("fixed over limit") << config << QString::number(2 * config.maxMessageBytes);
    config = testConfig(1);
    config.lowWaterBytes = config.highWaterBytes;
    QTest::newRow("water marks") << config << QStringLiteral("low-water");
}

void tst_EchoServer::invalidConfigIsRefused()
{
    QFETCH(ServerConfig, config);
    QFETCH(QString, mentions);
    EchoServer server;
    QSignalSpy failed(&server, &EchoServer::failed);
    QVERIFY(!server.start(config));
    QCOMPARE(server.error(), EchoServer::Error::InvalidConfig);
    QVERIFY2(server.errorString().contains(mentions), qPrintable(server.errorString()));
    QCOMPARE(failed.count(), 1);
    QVERIFY(!server.isListening());
}

void tst_EchoServer::portInUseFails()
{
    QTcpServer occupier;
    QVERIFY(occupier.listen(QHostAddress::LocalHost, 0));
    ServerConfig config = testConfig(1);
    config.port = occupier.serverPort();

    EchoServer server;
    QSignalSpy failed(&server, &EchoServer::failed);
    QSignalSpy started(&server, &EchoServer::started);
    QVERIFY(!server.start(config));
    QCOMPARE(server.error(), EchoServer::Error::ListenFailed);
    const QString message = server.errorString();
    QVERIFY2(message.contains(QStringLiteral("127.0.0.1")), qPrintable(message));
    QVERIFY2(message.contains(QString::number(config.port)), qPrintable(message));
    // The reason, as Qt gives it for a taken port in this process (any language).
    const QString inUse = tcpPortInUseText(QHostAddress::LocalHost, config.port);
    QVERIFY(!inUse.isEmpty());
    QVERIFY2(message.endsWith(QStringLiteral(": ") + inUse), qPrintable(message));
    QCOMPARE(failed.count(), 1);
    QCOMPARE(failed.at(0).at(1).toString(), message);
    QCOMPARE(started.count(), 0);
    QVERIFY(!server.isListening());

    // The same object starts fine afterwards.
    config.port = 0;
    QVERIFY(server.start(config));
}

void tst_EchoServer::bindsIpv6AndAny()
{
    {
        ServerConfig config = testConfig(1);
        config.bindAddress = QStringLiteral("::1");
        EchoServer server;
        if (!server.start(config))
            QSKIP(qPrintable(QStringLiteral("no IPv6 loopback here: ") + server.errorString()));
        TestClient client;
        QVERIFY(client.connectTo(QHostAddress::LocalHostIPv6, server.serverPort()));
        client.socket.write("six\n");
        QTRY_COMPARE_WITH_TIMEOUT(client.received, QByteArray("six\n"), kTimeoutMs);
    }
    ServerConfig config = testConfig(1);
    config.bindAddress = QStringLiteral("any");
    EchoServer server;
    QVERIFY2(server.start(config), qPrintable(server.errorString()));
    TestClient v4;
    QVERIFY(v4.connectTo(QHostAddress::LocalHost, server.serverPort()));
    v4.socket.write("four");
    QTRY_COMPARE_WITH_TIMEOUT(v4.received, QByteArray("four"), kTimeoutMs);
    TestClient v6;
    if (v6.connectTo(QHostAddress::LocalHostIPv6, server.serverPort())) {
        v6.socket.write("six");
        QTRY_COMPARE_WITH_TIMEOUT(v6.received, QByteArray("six"), kTimeoutMs);
    }
}

void tst_EchoServer::echoesPayload_data()
{
    QTest::addColumn<int>("threads");
    QTest::addColumn<FramingConfig>("framing");
    QTest::addColumn<QByteArray>("wire"); // what the client sends (and expects back)
    QTest::addColumn<int>("messages");
    QTest::addColumn<bool>("halfClose");

    const QList<qsizetype> sizes = {1, 100, 65536 + 7, 1024 * 1024};
    for (int threads : {1, 2}) {
        for (qsizetype size : sizes) {
            const QByteArray data = payload(size, quint32(size));
            const QString suffix = QStringLiteral(" %1B t%2").arg(size).arg(threads);
            FramingConfig framing;

            framing.mode = FramingMode::Stream;
            QTest::newRow(qPrintable(QStringLiteral("stream") + suffix))
                << threads << framing << data << -1 << false;

            framing.mode = FramingMode::Eof;
            QTest::newRow(qPrintable(QStringLiteral("eof") + suffix))
                << threads << framing << data << 1 << true;

            framing.mode = FramingMode::Line;
            framing.delimiter = "\r\n";
            QByteArray lines = payload(size, quint32(size) + 1, '\n', true);
            lines += "\r\n";
            lines += payload(size / 2, quint32(size) + 2, '\n', true) + "\r\n";
            QTest::newRow(qPrintable(QStringLiteral("line crlf") + suffix))
                << threads << framing << lines << 2 << false;
            framing.delimiter = "\n";

            framing.mode = FramingMode::Length;
            framing.lengthBytes = 4;
            QByteArray framed = lengthHeader(quint64(data.size()), 4) + data;
            framed += lengthHeader(0, 4); // an empty message too
            QTest::newRow(qPrintable(QStringLiteral("length4") + suffix))
                << threads << framing << framed << 2 << false;
            if (size <= 0xffff) {
                framing.lengthBytes = 2;
                QTest::newRow(qPrintable(QStringLiteral("length2") + suffix))
                    << threads << framing << (lengthHeader(quint64(data.size()), 2) + data) << 1
                    << false;
                framing.lengthBytes = 4;
            }

            framing.mode = FramingMode::Fixed;
            framing.fixedBytes = size;
            QTest::newRow(qPrintable(QStringLiteral("fixed") + suffix))
                << threads << framing << (data + data) << 2 << false;
        }
    }
}

void tst_EchoServer::echoesPayload()
{
    QFETCH(int, threads);
    QFETCH(FramingConfig, framing);
    QFETCH(QByteArray, wire);
    QFETCH(int, messages);
    QFETCH(bool, halfClose);

    ServerConfig config = testConfig(threads);
    config.framing = framing;
    auto running = startServer(config);
    QVERIFY(running.port != 0);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);

    TestClient client;
    QVERIFY(client.connectTo(QHostAddress::LocalHost, running.port));
    client.socket.write(wire);
    if (halfClose)
        client.halfClose();
    QTRY_VERIFY_WITH_TIMEOUT(client.received.size() >= wire.size(), kTimeoutMs);
    QCOMPARE(client.received.size(), wire.size());
    QVERIFY(client.received == wire); // byte for byte

    const QList<quint64> ids = running.server->clientIds();
    if (!halfClose) {
        QCOMPARE(ids.size(), 1);
        const ClientSnapshot s = running.server->clientStats(ids.first())->snapshot();
        QTRY_COMPARE_WITH_TIMEOUT(running.server->clientStats(ids.first())->bytesOut(),
                                  qint64(wire.size()), kTimeoutMs);
        QCOMPARE(s.bytesIn, qint64(wire.size()));
        if (messages >= 0)
            QCOMPARE(running.server->clientStats(ids.first())->messagesIn(), qint64(messages));
        client.socket.disconnectFromHost();
    }
    QVERIFY(disconnected.count() == 1 || disconnected.wait(kTimeoutMs));
    const auto info = disconnected.at(0).at(1).value<DisconnectInfo>();
    QCOMPARE(info.reason, DisconnectReason::ClosedByPeer);
    QCOMPARE(info.bytesIn, qint64(wire.size()));
    QCOMPARE(info.bytesOut, qint64(wire.size()));
    QCOMPARE(info.unechoedBytes(), qint64(0));
    if (messages >= 0) {
        QCOMPARE(info.messagesIn, qint64(messages));
        QCOMPARE(info.messagesOut, qint64(messages));
    }
}

// The workers emit the per-transfer signals only once something connected to them: a
// receiver connected while a client is already being served gets every byte from then on.
// (One thread: QSignalSpy is not safe to read while another thread appends.)
void tst_EchoServer::transferSignalsConnectedLater()
{
    ServerConfig config = testConfig(1);
    config.framing.mode = FramingMode::Line;
    auto running = startServer(config);
    EchoServer *server = running.server.get();
    TestClient client;
    QVERIFY(client.connectTo(QHostAddress::LocalHost, running.port));
    client.socket.write("before\n");
    QTRY_COMPARE_WITH_TIMEOUT(client.received, QByteArray("before\n"), kTimeoutMs);

    QSignalSpy received(server, &EchoServer::bytesReceived);
    QSignalSpy echoed(server, &EchoServer::bytesEchoed);
    QSignalSpy messages(server, &EchoServer::messageEchoed);
    const QByteArray wire = "after\nand again\n";
    client.socket.write(wire);
    QTRY_COMPARE_WITH_TIMEOUT(client.received, "before\n" + wire, kTimeoutMs);
    const auto sum = [](const QSignalSpy &spy) {
        qint64 total = 0;
        for (const auto &args : spy)
            total += args.at(1).value<qint64>();
        return total;
    };
    QTRY_COMPARE_WITH_TIMEOUT(sum(echoed), qint64(wire.size()), kTimeoutMs);
    QCOMPARE(sum(received), qint64(wire.size()));
    QCOMPARE(messages.count(), 2);
    QCOMPARE(sum(messages), qint64(5 + 9));
}

void tst_EchoServer::signalsForOneClient()
{
    ServerConfig config = testConfig(1);
    config.framing.mode = FramingMode::Line;
    auto running = startServer(config);
    EchoServer *server = running.server.get();
    QSignalSpy connected(server, &EchoServer::clientConnected);
    QSignalSpy received(server, &EchoServer::bytesReceived);
    QSignalSpy echoed(server, &EchoServer::bytesEchoed);
    QSignalSpy messages(server, &EchoServer::messageEchoed);
    QSignalSpy disconnected(server, &EchoServer::clientDisconnected);
    QSignalSpy events(server, &EchoServer::eventOccurred);

    TestClient client;
    QVERIFY(client.connectTo(QHostAddress::LocalHost, running.port));
    QVERIFY(connected.wait(kTimeoutMs));
    const quint64 id = connected.at(0).at(0).value<quint64>();
    QVERIFY(id > 0);
    QCOMPARE(connected.at(0).at(1).value<QHostAddress>(), QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(connected.at(0).at(2).value<quint16>(), client.socket.localPort());
    QVERIFY(server->clientStats(id));

    const QByteArray wire = "hello\nworld!!\n\n";
    client.socket.write(wire);
    QTRY_COMPARE_WITH_TIMEOUT(client.received, wire, kTimeoutMs);

    auto sum = [id](const QSignalSpy &spy) {
        qint64 total = 0;
        for (const auto &args : spy) {
            if (args.at(0).value<quint64>() == id)
                total += args.at(1).value<qint64>();
        }
        return total;
    };
    QCOMPARE(sum(received), qint64(wire.size()));
    QCOMPARE(sum(echoed), qint64(wire.size()));
    QCOMPARE(messages.count(), 3);
    QCOMPARE(messages.at(0).at(1).value<qint64>(), qint64(5)); // payload sizes, no delimiter
    QCOMPARE(messages.at(1).at(1).value<qint64>(), qint64(7));
    QCOMPARE(messages.at(2).at(1).value<qint64>(), qint64(0));
    const ClientSnapshot s = server->clientStats(id)->snapshot();
    QCOMPARE(s.histogram.counts[0], qint64(1));                         // the empty line
    QCOMPARE(SizeHistogram::bucketFor(5), SizeHistogram::bucketFor(7)); // both in 4-7
    QCOMPARE(s.histogram.counts[size_t(SizeHistogram::bucketFor(5))], qint64(2));
    QCOMPARE(s.histogram.total(), qint64(3));
    QCOMPARE(s.minMessageBytes, qint64(0));
    QCOMPARE(s.maxMessageBytes, qint64(7));

    client.socket.disconnectFromHost();
    QVERIFY(disconnected.wait(kTimeoutMs));
    QCOMPARE(disconnected.at(0).at(0).value<quint64>(), id);
    QCOMPARE(disconnected.at(0).at(1).value<DisconnectInfo>().reason,
             DisconnectReason::ClosedByPeer);
    QVERIFY(!server->clientStats(id)); // gone once its disconnect was reported

    QList<TrafficEvent::Kind> kinds;
    for (const auto &args : events)
        kinds << args.at(0).value<TrafficEvent>().kind;
    QCOMPARE(kinds, (QList<TrafficEvent::Kind>{TrafficEvent::Kind::Connected,
                                               TrafficEvent::Kind::Disconnected}));

    const ServerTotals totals = server->totals();
    QCOMPARE(totals.clientsTotal, qint64(1));
    QCOMPARE(totals.clientsNow, 0);
    QCOMPARE(totals.bytesIn, qint64(wire.size()));
    QCOMPARE(totals.messagesOut, qint64(3));
    QCOMPARE(totals.histogram.total(), qint64(3));
}

void tst_EchoServer::clientIdsUniqueAcrossRestarts()
{
    EchoServer server;
    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QSet<quint64> ids;
    for (int round = 0; round < 3; ++round) {
        QVERIFY(server.start(testConfig(round % 2 + 1)));
        for (int i = 0; i < 3; ++i) {
            TestClient client;
            const int before = connected.count();
            QVERIFY(client.connectTo(QHostAddress::LocalHost, server.serverPort()));
            QTRY_COMPARE_WITH_TIMEOUT(connected.count(), before + 1, kTimeoutMs);
            ids.insert(connected.last().at(0).value<quint64>());
        }
        server.stop();
    }
    QCOMPARE(ids.size(), 9);
}

void tst_EchoServer::halfCloseInEveryMode_data()
{
    QTest::addColumn<FramingConfig>("framing");
    QTest::addColumn<QByteArray>("sent");
    QTest::addColumn<QByteArray>("expected");
    QTest::addColumn<qint64>("incomplete");

    FramingConfig framing;
    QTest::newRow("stream") << framing << QByteArray("abc\0def", 7) << QByteArray("abc\0def", 7)
                            << qint64(0);
    framing.mode = FramingMode::Eof;
    QTest::newRow("eof") << framing << QByteArray("whole message") << QByteArray("whole message")
                         << qint64(0);
    QTest::newRow("eof empty") << framing << QByteArray() << QByteArray() << qint64(0);
    framing.mode = FramingMode::Line;
    QTest::newRow("line, partial tail")
        << framing << QByteArray("one\ntwo\nthr") << QByteArray("one\ntwo\n") << qint64(3);
    framing.mode = FramingMode::Length;
    QTest::newRow("length, mid-header")
        << framing << (lengthHeader(2, 4) + "hi" + QByteArray(2, '\0'))
        << (lengthHeader(2, 4) + "hi") << qint64(2);
    QTest::newRow("length, mid-payload")
        << framing << (lengthHeader(10, 4) + "12345") << QByteArray() << qint64(9);
    framing.mode = FramingMode::Fixed;
    framing.fixedBytes = 4;
    QTest::newRow("fixed") << framing << QByteArray("abcdefghij") << QByteArray("abcdefgh")
                           << qint64(2);
}

void tst_EchoServer::halfCloseInEveryMode()
{
#ifndef Q_OS_UNIX
    QSKIP("half-close from the test client uses POSIX shutdown()");
#endif
    QFETCH(FramingConfig, framing);
    QFETCH(QByteArray, sent);
    QFETCH(QByteArray, expected);
    QFETCH(qint64, incomplete);

    ServerConfig config = testConfig(1);
    config.framing = framing;
    auto running = startServer(config);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    TestClient client;
    QVERIFY(client.connectTo(QHostAddress::LocalHost, running.port));
    client.socket.write(sent);
    client.halfClose();
    // The server echoes what it can, then closes its side: the client sees EOF.
    QTRY_VERIFY_WITH_TIMEOUT(client.closed, kTimeoutMs);
    QCOMPARE(client.received, expected);
    QVERIFY(disconnected.count() == 1 || disconnected.wait(kTimeoutMs));
    const auto info = disconnected.at(0).at(1).value<DisconnectInfo>();
    QCOMPARE(info.reason, DisconnectReason::ClosedByPeer);
    // Every byte the client itself sent is either one it got back or one the server
    // reports as incomplete: counted from the client's side, not from the server's.
    QCOMPARE(info.bytesIn, qint64(sent.size()));
    QCOMPARE(info.bytesOut, qint64(client.received.size()));
    QCOMPARE(info.incompleteBytes, incomplete);
    QCOMPARE(qint64(sent.size()) - qint64(client.received.size()), info.incompleteBytes);
    if (incomplete > 0)
        QVERIFY(info.detail.contains(QString::number(incomplete)));
}

void tst_EchoServer::resetMidMessage_data()
{
    addThreadRows();
}

void tst_EchoServer::resetMidMessage()
{
#ifndef Q_OS_UNIX
    QSKIP("SO_LINGER 0 reset from the test client uses POSIX setsockopt()");
#endif
    QFETCH(int, threads);
    ServerConfig config = testConfig(threads);
    config.framing.mode = FramingMode::Length;
    auto running = startServer(config);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);

    TestClient client;
    QVERIFY(client.connectTo(QHostAddress::LocalHost, running.port));
    client.socket.write(lengthHeader(1000, 4) + QByteArray(500, 'x')); // half a message
    client.socket.flush();
    QTRY_COMPARE_WITH_TIMEOUT(running.server->clientIds().size(), 1, kTimeoutMs);
    const QList<quint64> ids = running.server->clientIds();
    QTRY_COMPARE_WITH_TIMEOUT(running.server->clientStats(ids.first())->bytesIn(), qint64(504),
                              kTimeoutMs);
    client.reset();
    QVERIFY(disconnected.wait(kTimeoutMs));
    const auto info = disconnected.at(0).at(1).value<DisconnectInfo>();
    QCOMPARE(info.reason, DisconnectReason::ResetByPeer);
    QCOMPARE(info.incompleteBytes, qint64(504));

    // The server carries on.
    TestClient next;
    QVERIFY(next.connectTo(QHostAddress::LocalHost, running.port));
    next.socket.write(lengthHeader(2, 4) + "ok");
    QTRY_COMPARE_WITH_TIMEOUT(next.received, lengthHeader(2, 4) + "ok", kTimeoutMs);
}

void tst_EchoServer::messageTooLarge_data()
{
    QTest::addColumn<FramingConfig>("framing");
    QTest::addColumn<QByteArray>("sent");
    QTest::addColumn<QByteArray>("echoedFirst");
    QTest::addColumn<qint64>("oversize");

    // Limit 16 bytes in every row.
    FramingConfig framing;
    framing.mode = FramingMode::Line;
    QTest::newRow("line") << framing << (QByteArray(16, 'a') + "\n" + QByteArray(17, 'b'))
                          << (QByteArray(16, 'a') + "\n") << qint64(17);
    framing.mode = FramingMode::Length;
    QTest::newRow("length 0xFFFFFFFF")
        << framing << lengthHeader(0xffffffffULL, 4) << QByteArray() << qint64(0xffffffffLL);
    QTest::newRow("length 17") << framing
                               << (lengthHeader(16, 4) + QByteArray(16, 'c') + lengthHeader(17, 4))
                               << (lengthHeader(16, 4) + QByteArray(16, 'c')) << qint64(17);
    framing.lengthBytes = 2;
    QTest::newRow("length2 0xFFFF")
        << framing << lengthHeader(0xffff, 2) << QByteArray() << qint64(0xffff);
    framing.mode = FramingMode::Eof;
    QTest::newRow("eof") << framing << QByteArray(17, 'e') << QByteArray() << qint64(17);
}

void tst_EchoServer::messageTooLarge()
{
    QFETCH(FramingConfig, framing);
    QFETCH(QByteArray, sent);
    QFETCH(QByteArray, echoedFirst);
    QFETCH(qint64, oversize);

    ServerConfig config = testConfig(1);
    config.framing = framing;
    config.maxMessageBytes = 16;
    auto running = startServer(config);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    TestClient client;
    QVERIFY(client.connectTo(QHostAddress::LocalHost, running.port));
    client.socket.write(sent);
    QVERIFY(disconnected.wait(kTimeoutMs));
    const auto info = disconnected.at(0).at(1).value<DisconnectInfo>();
    QCOMPARE(info.reason, DisconnectReason::MessageTooLarge);
    QCOMPARE(info.oversizeBytes, oversize);
    QVERIFY2(info.detail.contains(QString::number(oversize)), qPrintable(info.detail));
    QVERIFY2(info.detail.contains(QStringLiteral("16")), qPrintable(info.detail));
    QTRY_VERIFY_WITH_TIMEOUT(client.closed, kTimeoutMs);
    QCOMPARE(client.received, echoedFirst); // messages before the big one were echoed
}

void tst_EchoServer::manyConcurrentClients_data()
{
    addThreadRows();
}

void tst_EchoServer::manyConcurrentClients()
{
    QFETCH(int, threads);
    constexpr int kClients = 200;
    ServerConfig config = testConfig(threads);
    config.framing.mode = FramingMode::Line;
    auto running = startServer(config);
    QSignalSpy connected(running.server.get(), &EchoServer::clientConnected);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);

    std::vector<std::unique_ptr<TestClient>> clients;
    std::vector<QByteArray> sent;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(std::make_unique<TestClient>());
        QVERIFY(clients.back()->connectTo(QHostAddress::LocalHost, running.port));
    }
    for (int i = 0; i < kClients; ++i) {
        QByteArray data = payload(1000 + i * 37, quint32(i), '\n', true) + "\n";
        data += payload(i, quint32(i) + 1000, '\n', true) + "\n";
        clients[size_t(i)]->socket.write(data);
        sent.push_back(data);
    }
    for (int i = 0; i < kClients; ++i)
        QTRY_VERIFY_WITH_TIMEOUT(clients[size_t(i)]->received.size() >= sent[size_t(i)].size(),
                                 kTimeoutMs);
    for (int i = 0; i < kClients; ++i)
        QVERIFY2(clients[size_t(i)]->received == sent[size_t(i)], qPrintable(QString::number(i)));
    QCOMPARE(connected.count(), kClients);
    QCOMPARE(running.server->clientCount(), kClients);
    const ServerTotals totals = running.server->totals();
    QCOMPARE(totals.clientsPeak, kClients);
    QCOMPARE(totals.messagesIn, qint64(2 * kClients));

    clients.clear(); // closes them all
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.count(), kClients, kTimeoutMs);
    QCOMPARE(running.server->clientCount(), 0);
}

void tst_EchoServer::maxClientsRefusesAtOnce()
{
    ServerConfig config = testConfig(1);
    config.maxClients = 2;
    auto running = startServer(config);
    QSignalSpy connected(running.server.get(), &EchoServer::clientConnected);
    QSignalSpy refused(running.server.get(), &EchoServer::clientRefused);

    TestClient first, second, third;
    QVERIFY(first.connectTo(QHostAddress::LocalHost, running.port));
    QVERIFY(second.connectTo(QHostAddress::LocalHost, running.port));
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 2, kTimeoutMs);
    QVERIFY(third.connectTo(QHostAddress::LocalHost, running.port));
    const quint16 thirdPort = third.socket.localPort();
    QTRY_VERIFY_WITH_TIMEOUT(third.closed, kTimeoutMs); // closed at once, not left waiting
    QCOMPARE(refused.count(), 1);
    QCOMPARE(refused.at(0).at(1).value<quint16>(), thirdPort);
    QVERIFY(refused.at(0).at(2).toString().contains(QStringLiteral("max clients")));
    QCOMPARE(running.server->totals().clientsRefused, qint64(1));

    // The two admitted clients are still served; once one leaves, a new one gets in.
    first.socket.write("still here");
    QTRY_COMPARE_WITH_TIMEOUT(first.received, QByteArray("still here"), kTimeoutMs);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    second.socket.disconnectFromHost();
    QVERIFY(disconnected.wait(kTimeoutMs));
    TestClient fourth;
    QVERIFY(fourth.connectTo(QHostAddress::LocalHost, running.port));
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 3, kTimeoutMs);
    fourth.socket.write("in");
    QTRY_COMPARE_WITH_TIMEOUT(fourth.received, QByteArray("in"), kTimeoutMs);
}

// Every worker accepts on the listening socket; the limit is one count they share, so
// clients arriving at once on two workers cannot pass it.
void tst_EchoServer::maxClientsHoldsAcrossWorkers()
{
    constexpr int kMax = 10;
    constexpr int kClients = 40;
    ServerConfig config = testConfig(2);
    config.maxClients = kMax;
    auto running = startServer(config);
    QSignalSpy connected(running.server.get(), &EchoServer::clientConnected);
    QSignalSpy refused(running.server.get(), &EchoServer::clientRefused);

    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(std::make_unique<TestClient>());
        QVERIFY(clients.back()->connectTo(QHostAddress::LocalHost, running.port));
    }
    QTRY_COMPARE_WITH_TIMEOUT(connected.count() + refused.count(), kClients, kTimeoutMs);
    QCOMPARE(connected.count(), kMax);
    QCOMPARE(refused.count(), kClients - kMax);
    QCOMPARE(running.server->clientCount(), kMax);
    QCOMPARE(running.server->totals().clientsRefused, qint64(kClients - kMax));
    // The refused ones were closed; the admitted ones are served.
    int closed = 0;
    QTRY_VERIFY_WITH_TIMEOUT(
        (closed = int(std::count_if(clients.begin(), clients.end(),
                                    [](const auto &client) { return client->closed; })),
         closed == kClients - kMax),
        kTimeoutMs);
    for (const auto &client : clients) {
        if (!client->closed)
            client->socket.write("served");
    }
    for (const auto &client : clients) {
        if (!client->closed)
            QTRY_COMPARE_WITH_TIMEOUT(client->received, QByteArray("served"), kTimeoutMs);
    }
}

// The workers accept where they serve: a client is accepted and echoed while the thread
// that owns the server (the dashboard's) is busy and runs no event loop. Its Connected
// event reaches this thread when it runs again.
void tst_EchoServer::workersAcceptWhileThisThreadIsBusy()
{
#ifndef Q_OS_UNIX
    QSKIP("a blocking POSIX client thread");
#else
    auto running = startServer(testConfig(2));
    QSignalSpy connected(running.server.get(), &EchoServer::clientConnected);
    const quint16 port = running.port;
    // A blocking client in a thread of its own: connect, send, read the echo back.
    auto echoed = std::async(std::launch::async, [port]() -> QByteArray {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return QByteArray("socket() failed");
        timeval timeout{kTimeoutMs / 1000, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        QByteArray result;
        if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0 &&
            ::send(fd, "busy", 4, MSG_NOSIGNAL) == 4) {
            char buffer[4];
            qsizetype got = 0;
            while (got < 4) {
                const ssize_t n = ::recv(fd, buffer + got, size_t(4 - got), 0);
                if (n <= 0)
                    break; // EOF, or no echo within the receive timeout
                got += n;
            }
            result = QByteArray(buffer, got);
        }
        ::close(fd);
        return result;
    });
    // This thread blocks (no event loop) until the client is done, at most its timeout
    // and a margin.
    QCOMPARE(echoed.wait_for(std::chrono::milliseconds(2 * kTimeoutMs)), std::future_status::ready);
    QCOMPARE(echoed.get(), QByteArray("busy"));
    QCOMPARE(connected.count(), 0); // not yet: this thread ran nothing meanwhile
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 1, kTimeoutMs);
    QCOMPARE(running.server->totals().clientsTotal, qint64(1));
#endif
}

void tst_EchoServer::idleTimeoutDisconnects()
{
    // The busy client's round trips follow each other with no pause, so only a stall of a
    // whole idle timeout (1 s) in this thread could make it idle: well past what a loaded
    // machine does.
    ServerConfig config = testConfig(1);
    config.idleTimeoutMs = 1000;
    auto running = startServer(config);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);

    TestClient idle, busy;
    QVERIFY(idle.connectTo(QHostAddress::LocalHost, running.port));
    QVERIFY(busy.connectTo(QHostAddress::LocalHost, running.port));
    QElapsedTimer clock;
    clock.start();
    // Keep `busy` active past the timeout with round trips (each waits for its echo).
    int round = 0;
    while (disconnected.count() == 0 && clock.elapsed() < kTimeoutMs) {
        const QByteArray ping = "ping" + QByteArray::number(round++);
        busy.received.clear();
        busy.socket.write(ping);
        QTRY_COMPARE_WITH_TIMEOUT(busy.received, ping, kTimeoutMs);
    }
    QCOMPARE(disconnected.count(), 1);
    QVERIFY(clock.elapsed() >= 950); // not before its time (coarse timers may be 5% early)
    const auto info = disconnected.at(0).at(1).value<DisconnectInfo>();
    QCOMPARE(info.reason, DisconnectReason::IdleTimeout);
    QTRY_VERIFY_WITH_TIMEOUT(idle.closed, kTimeoutMs);
    QVERIFY(!busy.closed);
    QCOMPARE(running.server->clientCount(), 1);
}

void tst_EchoServer::kickDisconnectsOneClient()
{
    auto running = startServer(testConfig(2));
    QSignalSpy connected(running.server.get(), &EchoServer::clientConnected);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    TestClient victim, bystander;
    QVERIFY(victim.connectTo(QHostAddress::LocalHost, running.port));
    QVERIFY(bystander.connectTo(QHostAddress::LocalHost, running.port));
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 2, kTimeoutMs);
    const quint64 victimId = connected.at(0).at(0).value<quint64>();

    QVERIFY(running.server->disconnectClient(victimId));
    QVERIFY(disconnected.wait(kTimeoutMs));
    QCOMPARE(disconnected.at(0).at(0).value<quint64>(), victimId);
    QCOMPARE(disconnected.at(0).at(1).value<DisconnectInfo>().reason, DisconnectReason::Kicked);
    QTRY_VERIFY_WITH_TIMEOUT(victim.closed, kTimeoutMs);
    QVERIFY(!running.server->disconnectClient(victimId)); // already gone
    QVERIFY(!running.server->disconnectClient(999999));

    bystander.socket.write("unaffected");
    QTRY_COMPARE_WITH_TIMEOUT(bystander.received, QByteArray("unaffected"), kTimeoutMs);
}

void tst_EchoServer::captureKeepsNewestBytesBothWays_data()
{
    addThreadRows();
}

void tst_EchoServer::captureKeepsNewestBytesBothWays()
{
    QFETCH(int, threads);
    ServerConfig config = testConfig(threads);
    config.captureBytesPerClient = 4096;
    auto running = startServer(config);
    QSignalSpy connected(running.server.get(), &EchoServer::clientConnected);
    TestClient client;
    QVERIFY(client.connectTo(QHostAddress::LocalHost, running.port));
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 1, kTimeoutMs);
    const auto stats = running.server->clientStats(connected.at(0).at(0).value<quint64>());
    QVERIFY(stats);

    // More than the capacity, in several writes: the newest 4096 bytes are kept, as
    // received and echoed chunks whose offsets continue the stream.
    const QByteArray sent = payload(10000, 7);
    for (int offset = 0; offset < sent.size(); offset += 2500) {
        client.socket.write(sent.mid(offset, 2500));
        QTRY_COMPARE_WITH_TIMEOUT(client.received.size(),
                                  qMin<qsizetype>(offset + 2500, sent.size()), kTimeoutMs);
    }
    QCOMPARE(client.received, sent);
    QTRY_COMPARE_WITH_TIMEOUT(stats->bytesOut(), qint64(sent.size()), kTimeoutMs);

    const CaptureSnapshot capture = stats->capture()->snapshot();
    QCOMPARE(capture.capacityBytes, 4096);
    QVERIFY(capture.heldBytes <= 4096);
    QCOMPARE(capture.heldBytes + capture.droppedBytes, qint64(2 * sent.size()));
    qint64 held = 0;
    for (const CaptureChunk &chunk : capture.chunks) {
        QVERIFY(chunk.timestampMs >= stats->connectedAtMs());
        QCOMPARE(chunk.bytes, sent.mid(chunk.streamOffset, chunk.bytes.size()));
        held += chunk.bytes.size();
    }
    QCOMPARE(held, capture.heldBytes);
    // The newest byte of all is the last echoed one.
    const CaptureChunk &last = capture.chunks.constLast();
    QCOMPARE(last.direction, CaptureChunk::Direction::Echoed);
    QCOMPARE(last.streamOffset + last.bytes.size(), qint64(sent.size()));
}

void tst_EchoServer::nonReaderIsBoundedAndOthersServed_data()
{
    addThreadRows();
}

void tst_EchoServer::nonReaderIsBoundedAndOthersServed()
{
    QFETCH(int, threads);
    ServerConfig config = testConfig(threads);
    auto running = startServer(config);
    QSignalSpy connected(running.server.get(), &EchoServer::clientConnected);

    TestClient hog;
    // It never reads: nothing takes its echo out of QTcpSocket's buffer, which stops
    // reading from the kernel once 1 KiB is there, so the echo backs up to the server.
    // (TestClient's own readyRead handler would read it all, and the test would measure
    // how fast the two sides run rather than the server's pushback.)
    QObject::disconnect(&hog.socket, &QTcpSocket::readyRead, nullptr, nullptr);
    hog.socket.setReadBufferSize(1024);
    QVERIFY(hog.connectTo(QHostAddress::LocalHost, running.port));
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 1, kTimeoutMs);
    const auto stats = running.server->clientStats(connected.at(0).at(0).value<quint64>());
    QVERIFY(stats);

    // Offer far more than any kernel buffers hold; the server must push back.
    constexpr qint64 kOffered = 64 * 1024 * 1024;
    const QByteArray chunk = payload(1024 * 1024, 7);
    for (qint64 i = 0; i < kOffered / chunk.size(); ++i)
        hog.socket.write(chunk);
    QTRY_COMPARE_WITH_TIMEOUT(stats->state(), ClientState::Paused, kTimeoutMs);

    // Another client's round trips stay fast while the hog is held back.
    TestClient other;
    QVERIFY(other.connectTo(QHostAddress::LocalHost, running.port));
    for (int i = 0; i < 20; ++i) {
        const QByteArray ping = "ping " + QByteArray::number(i);
        other.received.clear();
        other.socket.write(ping);
        QTRY_COMPARE_WITH_TIMEOUT(other.received, ping, 5000);
    }

    const ClientSnapshot s = stats->snapshot();
    // Unsent echo never passed the high-water mark by more than one read chunk.
    QVERIFY2(s.peakUnsentBytes <= config.highWaterBytes + 64 * 1024,
             qPrintable(QString::number(s.peakUnsentBytes)));
    QVERIFY(s.peakUnsentBytes > config.highWaterBytes); // it really was pushed that far
    // What it read is bounded by kernel buffers, not by what was offered.
    QVERIFY2(s.bytesIn < kOffered / 2, qPrintable(QString::number(s.bytesIn)));
    // Every byte read is echoed or still queued. The three counters are read one by one
    // from a session that may be mid-write in its own thread, so look for a snapshot taken
    // between two of its writes rather than trusting the first one.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&stats] {
            const ClientSnapshot now = stats->snapshot();
            return now.bytesIn - now.bytesOut == now.unsentBytes;
        }(),
        kTimeoutMs);
}

void tst_EchoServer::stopClosesEveryClient_data()
{
    addThreadRows();
}

void tst_EchoServer::stopClosesEveryClient()
{
    QFETCH(int, threads);
    QStringList order; // declared first: it outlives the server that reports into it
    auto running = startServer(testConfig(threads));
    EchoServer *server = running.server.get();
    connect(server, &EchoServer::clientDisconnected, this,
            [&order](quint64, const DisconnectInfo &info) {
                order << DisconnectInfo::reasonString(info.reason);
            });
    connect(server, &EchoServer::stopped, this, [&order] { order << QStringLiteral("stopped"); });
    QSignalSpy connected(server, &EchoServer::clientConnected);

    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 5; ++i) {
        clients.push_back(std::make_unique<TestClient>());
        QVERIFY(clients.back()->connectTo(QHostAddress::LocalHost, running.port));
        clients.back()->socket.write("x");
    }
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 5, kTimeoutMs);
    for (auto &client : clients)
        QTRY_COMPARE_WITH_TIMEOUT(client->received, QByteArray("x"), kTimeoutMs);

    server->stop();
    QCOMPARE(order.size(), 6);
    for (int i = 0; i < 5; ++i)
        QCOMPARE(order.at(i), QStringLiteral("server stopped"));
    QCOMPARE(order.last(), QStringLiteral("stopped"));
    QCOMPARE(server->clientCount(), 0);
    for (auto &client : clients)
        QTRY_VERIFY_WITH_TIMEOUT(client->closed, kTimeoutMs);

    // And it starts again, with clients served.
    QVERIFY(server->start(testConfig(threads)));
    TestClient again;
    QVERIFY(again.connectTo(QHostAddress::LocalHost, server->serverPort()));
    again.socket.write("again");
    QTRY_COMPARE_WITH_TIMEOUT(again.received, QByteArray("again"), kTimeoutMs);
}

void tst_EchoServer::messageEventsAreSampledAndSummarised()
{
    ServerConfig config = testConfig(1);
    config.framing.mode = FramingMode::Line;
    config.messageEventsPerSecond = 5;
    auto running = startServer(config);
    QSignalSpy events(running.server.get(), &EchoServer::eventOccurred);

    TestClient client;
    QVERIFY(client.connectTo(QHostAddress::LocalHost, running.port));
    QByteArray lines;
    for (int i = 0; i < 100; ++i)
        lines += "m\x1b[2J" + QByteArray::number(i) + "\n";
    client.socket.write(lines);
    QTRY_COMPARE_WITH_TIMEOUT(client.received, lines, kTimeoutMs);

    auto countOf = [&events](TrafficEvent::Kind kind, qint64 *sum = nullptr) {
        int n = 0;
        for (const auto &args : events) {
            const auto event = args.at(0).value<TrafficEvent>();
            if (event.kind == kind) {
                ++n;
                if (sum)
                    *sum += event.count;
            }
        }
        return n;
    };
    // The summary for the rest arrives within about a second.
    qint64 summarised = 0;
    QTRY_VERIFY_WITH_TIMEOUT(countOf(TrafficEvent::Kind::MessagesSummarised) >= 1, kTimeoutMs);
    const int sampled = countOf(TrafficEvent::Kind::MessageEchoed);
    countOf(TrafficEvent::Kind::MessagesSummarised, &summarised);
    QVERIFY2(sampled >= 5 && sampled <= 10, qPrintable(QString::number(sampled)));
    QCOMPARE(sampled + summarised, qint64(100)); // every message shown or counted
    for (const auto &args : events) {
        const auto event = args.at(0).value<TrafficEvent>();
        if (event.kind == TrafficEvent::Kind::MessageEchoed) {
            QVERIFY(event.payload.startsWith("m\x1b[2J"));
            QVERIFY(!event.toText().contains(QChar(0x1b))); // never raw in text
        }
    }
}

void tst_EchoServer::idleServerDoesNotWakeUp_data()
{
    QTest::addColumn<int>("threads");
    QTest::newRow("1 thread") << 1;
    QTest::newRow("2 threads") << 2;
    QTest::newRow("4 threads") << 4;
}

#ifdef Q_OS_LINUX
// Every thread of this process with the times the kernel switched to it after it slept
// (voluntary context switches: one per wake-up from epoll_wait, poll or a futex).
QMap<QString, qint64> threadWakeups()
{
    QMap<QString, qint64> wakeups;
    const QDir tasks(QStringLiteral("/proc/self/task"));
    for (const QString &tid : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile status(tasks.filePath(tid + QStringLiteral("/status")));
        if (!status.open(QIODevice::ReadOnly))
            continue; // the thread ended meanwhile
        QString name;
        qint64 voluntary = -1;
        for (const QByteArray &line : status.readAll().split('\n')) {
            if (line.startsWith("Name:"))
                name = QString::fromUtf8(line.mid(5).trimmed());
            else if (line.startsWith("voluntary_ctxt_switches:"))
                voluntary = line.mid(24).trimmed().toLongLong();
        }
        if (voluntary >= 0)
            wakeups.insert(tid + QLatin1Char(' ') + name, voluntary);
    }
    return wakeups;
}

bool isWorkerThread(const QString &threadKey)
{
    // "TID name": the kernel keeps 15 characters of "echoscope-worker-N".
    return threadKey.section(QLatin1Char(' '), 1).startsWith(QLatin1String("echoscope-worke"));
}

// Every worker thread is asleep (State S: waiting in epoll, nothing left to do). A worker
// still finishing its last client's set-up when a count is taken would add the one switch
// of going to sleep, which is not a wake-up.
bool workersAsleep()
{
    const QDir tasks(QStringLiteral("/proc/self/task"));
    for (const QString &tid : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile status(tasks.filePath(tid + QStringLiteral("/status")));
        if (!status.open(QIODevice::ReadOnly))
            continue;
        const QByteArray text = status.readAll();
        if (!text.contains("Name:\techoscope-worke"))
            continue;
        if (!text.contains("State:\tS"))
            return false;
    }
    return true;
}
#endif

void tst_EchoServer::idleServerDoesNotWakeUp()
{
#ifndef Q_OS_LINUX
    QSKIP("counts each thread's wake-ups in /proc/self/task");
#else
    // 100 idle clients: no thread of the process polls. Every thread is watched, the worker
    // threads' event loops and this one (the clients' and, with one thread, the server's):
    // the kernel counts each time it woke a sleeping thread, whatever woke it.
    QFETCH(int, threads);
    auto running = startServer(testConfig(threads));
    QSignalSpy connected(running.server.get(), &EchoServer::clientConnected);
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 100; ++i) {
        clients.push_back(std::make_unique<TestClient>());
        QVERIFY(clients.back()->connectTo(QHostAddress::LocalHost, running.port));
    }
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 100, kTimeoutMs);
    // Every client was taken over by its worker and has its session: nothing is pending.
    QTRY_COMPARE_WITH_TIMEOUT(running.server->clientCount(), 100, kTimeoutMs);

    QTRY_VERIFY_WITH_TIMEOUT(workersAsleep(), kTimeoutMs);

    const QMap<QString, qint64> before = threadWakeups();
    int wakeups = 0; // this thread's event loop, as Qt counts it
    auto *dispatcher = QAbstractEventDispatcher::instance();
    const auto connection =
        connect(dispatcher, &QAbstractEventDispatcher::awake, this, [&wakeups] { ++wakeups; });
    const qint64 cpuBefore = processCpuMicroseconds();
    QEventLoop loop;
    QTimer::singleShot(1000, &loop, &QEventLoop::quit); // measuring a period, not syncing
    loop.exec();
    const qint64 cpuUsed = processCpuMicroseconds() - cpuBefore;
    disconnect(connection);
    const QMap<QString, qint64> after = threadWakeups();

    // A worker has nothing to wake for: none in the second. This thread (and the others of
    // the test program) at most kMaxWakeups: this one wakes once for the timer that ends
    // the period.
    constexpr qint64 kMaxWakeups = 2;
    QStringList report;
    qint64 total = 0;
    bool quiet = true;
    for (auto it = after.cbegin(); it != after.cend(); ++it) {
        const qint64 n = it.value() - before.value(it.key(), 0);
        total += n;
        report << QStringLiteral("%1: %2").arg(it.key()).arg(n);
        quiet = quiet && n <= (isWorkerThread(it.key()) ? 0 : kMaxWakeups);
    }
    qInfo("1 s idle with 100 clients, %d worker threads: %lld wake-ups in %d threads (%s); "
          "%d event-loop wake-ups in this thread, %lld us CPU",
          threads, static_cast<long long>(total), int(after.size()),
          qPrintable(report.join(QStringLiteral(", "))), wakeups, static_cast<long long>(cpuUsed));
    QVERIFY2(after.size() >= threads, "fewer threads than workers");
    QVERIFY2(quiet, qPrintable(report.join(QStringLiteral(", "))));
    QVERIFY2(wakeups <= kMaxWakeups, qPrintable(QString::number(wakeups)));
#endif
}

QTEST_GUILESS_MAIN(tst_EchoServer)
#include "tst_echoserver.moc"
