// UDP echo: a real EchoServer with UDP echo on, port 0, driven by real QUdpSocket peers
// on 127.0.0.1 and ::1. With threads == 1 the service shares this thread, so a test
// decides when the server reads; every wait is bounded.

#include "echoserver.h"
#include "echotestsupport.h"
#include "nativeudpsocket.h"
#include "serverconfig.h"
#include "trafficmonitor.h"
#include "translations.h"
#include "errortext.h"

#include <QNetworkDatagram>
#include <QSignalSpy>
#include <QTest>
#include <QUdpSocket>

#include <memory>
#include <vector>

using namespace Echoscope;
using namespace EchoTest;

namespace {

ServerConfig udpConfig(int threads, const QString &bind = QStringLiteral("127.0.0.1"))
{
    ServerConfig config = testConfig(threads);
    config.bindAddress = bind;
    config.udpEcho = true;
    config.udpPort = 0;
    return config;
}

// A UDP client bound to a port of its own on the given loopback address.
class Peer
{
public:
    explicit Peer(const QHostAddress &local = QHostAddress(QHostAddress::LocalHost))
    {
        m_ok = socket.bind(local, 0);
        if (!m_ok)
            qWarning() << "peer bind failed:" << socket.errorString();
    }
    bool isBound() const { return m_ok; }
    quint16 port() const { return socket.localPort(); }
    bool send(const QByteArray &data, const QHostAddress &to, quint16 port)
    {
        return socket.writeDatagram(data, to, port) == data.size();
    }
    // The next datagram, or an invalid one if none came within timeoutMs. The server
    // runs while this waits (QTest::qWaitFor spins the event loop).
    QNetworkDatagram receive(int timeoutMs = kTimeoutMs)
    {
        if (!QTest::qWaitFor([this] { return socket.hasPendingDatagrams(); }, timeoutMs))
            return {};
        return socket.receiveDatagram();
    }

    QUdpSocket socket;

private:
    bool m_ok = false;
};

// The events of one kind in the spy, in order.
QList<TrafficEvent> eventsOf(const QSignalSpy &spy, TrafficEvent::Kind kind)
{
    QList<TrafficEvent> events;
    for (const QList<QVariant> &arguments : spy) {
        const auto event = arguments.at(0).value<TrafficEvent>();
        if (event.kind == kind)
            events.append(event);
    }
    return events;
}

bool anyEventContains(const QSignalSpy &spy, const QString &text)
{
    for (const QList<QVariant> &arguments : spy) {
        if (arguments.at(0).value<TrafficEvent>().toText().contains(text))
            return true;
    }
    return false;
}

} // namespace

class tst_UdpEcho : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void offByDefault();
    void listensAndSaysSo();
    void echoesByteExact_data();
    void echoesByteExact();
    void dualStackAnyShowsIpv4PeersAsIpv4();
    void twoPeersAreTwoClients();
    void transferSignalsConnectedLater();
    void countsHistogramAndCapture();
    void oversizedIsNotEchoed();
    void portUnreachableForgetsPeerAndSocketKeepsWorking_data();
    void portUnreachableForgetsPeerAndSocketKeepsWorking();
    void idleExpiry();
    void chattyPeerStays();
    void kickForgetsPeer();
    void faultsForPeers();
    void stopEndsEveryPeer_data();
    void stopEndsEveryPeer();
    void peerLimitRefuses();
    void deniedNetworkIsRefused();
    void udpPortInUseFailsWholeStart();
    void invalidUdpSettingsAreWorded();
    void messageEventsAreSampled();
    void monitorShowsUdpPeers();
};

void tst_UdpEcho::initTestCase()
{
    qRegisterMetaType<QHostAddress>();
    qRegisterMetaType<Echoscope::DisconnectInfo>();
    qRegisterMetaType<Echoscope::TrafficEvent>();
    // The engine's texts in English (with their plural forms) in every locale: some are
    // compared below.
    Echoscope::Translations::install(QCoreApplication::instance(), QLocale(QLocale::English));
}

void tst_UdpEcho::offByDefault()
{
    EchoServer server;
    QSignalSpy events(&server, &EchoServer::eventOccurred);
    QVERIFY(server.start(testConfig(1)));
    QCOMPARE(server.udpPort(), quint16(0));
    QCOMPARE(eventsOf(events, TrafficEvent::Kind::Listening).size(), 1);

    // Nothing answers on the TCP port number over UDP.
    Peer peer;
    QVERIFY(peer.isBound());
    QVERIFY(peer.send("ping", QHostAddress(QHostAddress::LocalHost), server.serverPort()));
    QVERIFY(!peer.receive(300).isValid());
    QVERIFY(server.totals().clientsTotal == 0);
}

void tst_UdpEcho::listensAndSaysSo()
{
    EchoServer server;
    QSignalSpy events(&server, &EchoServer::eventOccurred);
    QVERIFY(server.start(udpConfig(1)));
    QVERIFY(server.udpPort() != 0);
    const QList<TrafficEvent> listening = eventsOf(events, TrafficEvent::Kind::Listening);
    QCOMPARE(listening.size(), 2);
    // The TCP line stays exactly what scripts match; the UDP one follows it.
    QCOMPARE(listening.at(0).toText(),
             QStringLiteral("listening on 127.0.0.1:%1").arg(server.serverPort()));
    QCOMPARE(listening.at(1).toText(),
             QStringLiteral("listening for UDP on 127.0.0.1:%1").arg(server.udpPort()));
    QCOMPARE(listening.at(1).toJson().value(QStringLiteral("transport")).toString(),
             QStringLiteral("udp"));
    QCOMPARE(listening.at(1).toJson().value(QStringLiteral("port")).toInt(), server.udpPort());
    QVERIFY(!listening.at(0).toJson().contains(QStringLiteral("transport")));

    server.stop();
    QCOMPARE(server.udpPort(), quint16(0));
    const QList<TrafficEvent> stoppedEvents = eventsOf(events, TrafficEvent::Kind::Stopped);
    QCOMPARE(stoppedEvents.size(), 1);
    QVERIFY2(stoppedEvents.at(0).text.contains(QStringLiteral("UDP: 0 datagrams in")),
             qPrintable(stoppedEvents.at(0).text));
}

void tst_UdpEcho::echoesByteExact_data()
{
    QTest::addColumn<QString>("bind");
    QTest::addColumn<int>("threads");
    QTest::addColumn<QList<int>>("sizes");
    const QList<int> sizes = {0, 1, 7, 512, 1472, 9000, 32768, 65507};
    QTest::newRow("IPv4, 1 thread") << QStringLiteral("127.0.0.1") << 1 << sizes;
    QTest::newRow("IPv6, 1 thread") << QStringLiteral("::1") << 1 << sizes;
    QTest::newRow("IPv4, 2 threads") << QStringLiteral("127.0.0.1") << 2 << sizes;
    QTest::newRow("IPv6, 2 threads") << QStringLiteral("::1") << 2 << sizes;
}

void tst_UdpEcho::echoesByteExact()
{
    QFETCH(QString, bind);
    QFETCH(int, threads);
    QFETCH(QList<int>, sizes);
    EchoServer server;
    QVERIFY(server.start(udpConfig(threads, bind)));
    const QHostAddress address(bind);
    Peer peer(address);
    QVERIFY(peer.isBound());
    for (int size : sizes) {
        const QByteArray data = payload(size, quint32(size) + 1);
        QVERIFY(peer.send(data, address, server.udpPort()));
        const QNetworkDatagram echo = peer.receive();
        QVERIFY2(!echo.senderAddress().isNull(),
                 qPrintable(QStringLiteral("no echo of %1 bytes").arg(size)));
        QCOMPARE(echo.senderPort(), int(server.udpPort()));
        QCOMPARE(echo.data().size(), data.size());
        QVERIFY2(echo.data() == data,
                 qPrintable(QStringLiteral("echo of %1 bytes differs").arg(size)));
    }
    qint64 total = 0;
    for (int size : sizes)
        total += size;
    // An echo can come before the peer's Connected event reaches this thread.
    QTRY_COMPARE_WITH_TIMEOUT(server.totals().clientsNow, 1, kTimeoutMs);
    QCOMPARE(server.totals().messagesIn, qint64(sizes.size()));
    QTRY_COMPARE_WITH_TIMEOUT(server.totals().messagesOut, qint64(sizes.size()), kTimeoutMs);
    QCOMPARE(server.totals().bytesIn, total);
    QCOMPARE(server.totals().bytesOut, total);
    QCOMPARE(server.totals().minMessageBytes, qint64(0));
    QCOMPARE(server.totals().maxMessageBytes, qint64(65507));
}

void tst_UdpEcho::dualStackAnyShowsIpv4PeersAsIpv4()
{
    EchoServer server;
    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QVERIFY(server.start(udpConfig(1, QStringLiteral("any"))));
    Peer v4;
    Peer v6(QHostAddress(QHostAddress::LocalHostIPv6));
    QVERIFY(v4.isBound());
    QVERIFY(v6.isBound());
    QVERIFY(v4.send("four", QHostAddress(QHostAddress::LocalHost), server.udpPort()));
    QCOMPARE(v4.receive().data(), QByteArray("four"));
    QVERIFY(v6.send("six", QHostAddress(QHostAddress::LocalHostIPv6), server.udpPort()));
    QCOMPARE(v6.receive().data(), QByteArray("six"));
    // The echo can arrive before the event does: events reach this thread queued.
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 2, kTimeoutMs);
    QCOMPARE(connected.at(0).at(1).value<QHostAddress>(), QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(connected.at(0).at(2).value<quint16>(), v4.port());
    QCOMPARE(connected.at(1).at(1).value<QHostAddress>(),
             QHostAddress(QHostAddress::LocalHostIPv6));
    QCOMPARE(connected.at(1).at(2).value<quint16>(), v6.port());
}

void tst_UdpEcho::twoPeersAreTwoClients()
{
    EchoServer server;
    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QSignalSpy events(&server, &EchoServer::eventOccurred);
    QVERIFY(server.start(udpConfig(2)));
    const QHostAddress local(QHostAddress::LocalHost);
    Peer a;
    Peer b;
    QVERIFY(a.isBound() && b.isBound());
    for (int round = 0; round < 3; ++round) {
        const QByteArray forA = "a" + QByteArray::number(round);
        const QByteArray forB = "bb" + QByteArray::number(round);
        QVERIFY(a.send(forA, local, server.udpPort()));
        QVERIFY(b.send(forB, local, server.udpPort()));
        QCOMPARE(a.receive().data(), forA);
        QCOMPARE(b.receive().data(), forB);
    }
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 2, kTimeoutMs);
    const QList<quint64> ids = server.clientIds();
    QCOMPARE(ids.size(), 2);
    QSet<quint16> ports;
    for (quint64 id : ids) {
        const auto stats = server.clientStats(id);
        QVERIFY(stats);
        QCOMPARE(stats->transport(), IpProtocol::Udp);
        QCOMPARE(stats->peerAddress(), local);
        ports.insert(stats->peerPort());
        QTRY_COMPARE_WITH_TIMEOUT(stats->messagesOut(), qint64(3), kTimeoutMs);
        const ClientSnapshot snapshot = stats->snapshot();
        QCOMPARE(snapshot.transport, IpProtocol::Udp);
        QCOMPARE(snapshot.messagesIn, qint64(3));
        QCOMPARE(snapshot.state, ClientState::Connected);
    }
    QCOMPARE(ports, (QSet<quint16>{a.port(), b.port()}));
    const ServerTotals totals = server.totals();
    QCOMPARE(totals.clientsNow, 2);
    QCOMPARE(totals.clientsTotal, qint64(2));
    QCOMPARE(totals.clientsPeak, 2);
    QCOMPARE(totals.messagesIn, qint64(6));

    const QList<TrafficEvent> seen = eventsOf(events, TrafficEvent::Kind::Connected);
    QCOMPARE(seen.size(), 2);
    QCOMPARE(seen.at(0).transport, IpProtocol::Udp);
    QVERIFY2(seen.at(0).toText().contains(QStringLiteral("UDP) seen")),
             qPrintable(seen.at(0).toText()));
}

// The per-datagram signals reach a receiver that connects while a peer is being served
// (the service emits them only once something has connected), every datagram after it.
// One thread: QSignalSpy records in the emitting thread.
void tst_UdpEcho::transferSignalsConnectedLater()
{
    EchoServer server;
    QVERIFY(server.start(udpConfig(1)));
    const QHostAddress address(QHostAddress::LocalHost);
    Peer peer;
    QVERIFY(peer.isBound());
    QVERIFY(peer.send("before", address, server.udpPort()));
    QCOMPARE(peer.receive().data(), QByteArray("before"));

    QSignalSpy received(&server, &EchoServer::bytesReceived);
    QSignalSpy echoed(&server, &EchoServer::bytesEchoed);
    QSignalSpy messages(&server, &EchoServer::messageEchoed);
    const QList<QByteArray> datagrams = {"after", "and again", ""};
    for (const QByteArray &datagram : datagrams) {
        QVERIFY(peer.send(datagram, address, server.udpPort()));
        const QNetworkDatagram echo = peer.receive();
        QVERIFY(echo.isValid()); // an empty echo is a datagram too
        QCOMPARE(echo.data(), datagram);
    }
    const auto sum = [](const QSignalSpy &spy) {
        qint64 total = 0;
        for (const auto &args : spy)
            total += args.at(1).value<qint64>();
        return total;
    };
    QTRY_COMPARE_WITH_TIMEOUT(messages.count(), int(datagrams.size()), kTimeoutMs);
    QCOMPARE(received.count(), int(datagrams.size()));
    QCOMPARE(echoed.count(), int(datagrams.size()));
    QCOMPARE(sum(received), qint64(5 + 9));
    QCOMPARE(sum(echoed), qint64(5 + 9));
    QCOMPARE(sum(messages), qint64(5 + 9));
}

void tst_UdpEcho::countsHistogramAndCapture()
{
    ServerConfig config = udpConfig(1);
    config.captureBytesPerClient = 4096;
    EchoServer server;
    QVERIFY(server.start(config));
    Peer peer;
    QVERIFY(peer.isBound());
    const QList<int> sizes = {0, 1, 3, 100, 100, 1000};
    for (int size : sizes) {
        QVERIFY(peer.send(QByteArray(size, 'x'), QHostAddress(QHostAddress::LocalHost),
                          server.udpPort()));
        QVERIFY(peer.receive().senderPort() == server.udpPort());
    }
    QTRY_COMPARE_WITH_TIMEOUT(server.clientIds().size(), 1, kTimeoutMs);
    const ServerTotals totals = server.totals();
    QCOMPARE(totals.histogram.total(), qint64(sizes.size()));
    QCOMPARE(totals.histogram.counts[size_t(SizeHistogram::bucketFor(0))], qint64(1));
    QCOMPARE(totals.histogram.counts[size_t(SizeHistogram::bucketFor(100))], qint64(2));
    QCOMPARE(totals.histogram.counts[size_t(SizeHistogram::bucketFor(1000))], qint64(1));
    QCOMPARE(server.udpTotals().datagramsIn, qint64(sizes.size()));

    const auto stats = server.clientStats(server.clientIds().constFirst());
    QVERIFY(stats);
    const CaptureSnapshot capture = stats->capture()->snapshot();
    QByteArray received;
    QByteArray echoed;
    for (const CaptureChunk &chunk : capture.chunks) {
        (chunk.direction == CaptureChunk::Direction::Received ? received : echoed) += chunk.bytes;
    }
    QCOMPARE(received.size(), 1204);
    QCOMPARE(echoed, received);
}

void tst_UdpEcho::oversizedIsNotEchoed()
{
    ServerConfig config = udpConfig(1);
    config.maxMessageBytes = 1024;
    config.captureBytesPerClient = 8192;
    EchoServer server;
    QSignalSpy events(&server, &EchoServer::eventOccurred);
    QVERIFY(server.start(config));
    Peer peer;
    QVERIFY(peer.isBound());
    const QHostAddress local(QHostAddress::LocalHost);
    QVERIFY(peer.send(QByteArray(1024, 'a'), local, server.udpPort()));
    QCOMPARE(peer.receive().data().size(), 1024); // exactly the limit is fine
    QVERIFY(peer.send(QByteArray(2000, 'b'), local, server.udpPort()));
    QVERIFY(peer.send("after", local, server.udpPort()));
    // Loopback keeps the order: the next echo is the small one, so the big one was not.
    QCOMPARE(peer.receive().data(), QByteArray("after"));
    QTRY_VERIFY_WITH_TIMEOUT(
        anyEventContains(events,
                         QStringLiteral("warning: oversized datagram of 2000 bytes from "
                                        "127.0.0.1:%1: over the limit of 1024 bytes, not echoed")
                             .arg(peer.port())),
        kTimeoutMs);
    QCOMPARE(server.udpTotals().oversized, qint64(1));
    QTRY_COMPARE_WITH_TIMEOUT(server.clientIds().size(), 1, kTimeoutMs);
    const auto stats = server.clientStats(server.clientIds().constFirst());
    QCOMPARE(stats->bytesIn(), qint64(1024 + 2000 + 5));
    QCOMPARE(stats->bytesOut(), qint64(1024 + 5));
    QCOMPARE(stats->messagesIn(), qint64(2));
    // The capture keeps each datagram apart, even the two that came back to back.
    QList<qsizetype> received;
    for (const CaptureChunk &chunk : stats->capture()->snapshot().chunks) {
        if (chunk.direction == CaptureChunk::Direction::Received)
            received.append(chunk.bytes.size());
    }
    QCOMPARE(received, (QList<qsizetype>{1024, 2000, 5}));
}

void tst_UdpEcho::portUnreachableForgetsPeerAndSocketKeepsWorking_data()
{
    QTest::addColumn<QString>("bind");
    QTest::addColumn<QString>("peer");
    QTest::newRow("IPv4") << QStringLiteral("127.0.0.1") << QStringLiteral("127.0.0.1");
    QTest::newRow("IPv6") << QStringLiteral("::1") << QStringLiteral("::1");
    QTest::newRow("IPv4 peer of a dual-stack socket")
        << QStringLiteral("any") << QStringLiteral("127.0.0.1");
}

void tst_UdpEcho::portUnreachableForgetsPeerAndSocketKeepsWorking()
{
    if (!NativeUdpSocket::hasErrorQueue())
        QSKIP("this I/O backend keeps no UDP error queue: a bounced echo goes unseen");
    QFETCH(QString, bind);
    QFETCH(QString, peer);
    // One thread: the server reads only when this test spins the event loop, so the
    // peer's socket is closed before its echo is sent.
    EchoServer server;
    QSignalSpy disconnected(&server, &EchoServer::clientDisconnected);
    QSignalSpy events(&server, &EchoServer::eventOccurred);
    QVERIFY(server.start(udpConfig(1, bind)));
    const QHostAddress local(peer);
    quint16 gonePort = 0;
    {
        Peer gone(local);
        QVERIFY(gone.isBound());
        gonePort = gone.port();
        for (int i = 0; i < 3; ++i)
            QVERIFY(gone.send("into the void", local, server.udpPort()));
    } // closed here

    QVERIFY(disconnected.wait(kTimeoutMs));
    const auto info = disconnected.at(0).at(1).value<DisconnectInfo>();
    QCOMPARE(info.reason, DisconnectReason::Unreachable);
    // Its datagrams still queued when the first echo bounced count on the same client,
    // and the bounce is said once.
    QCOMPARE(info.messagesIn, qint64(3));
    QCOMPARE(info.bytesIn, qint64(39));
    QCOMPARE(eventsOf(events, TrafficEvent::Kind::Connected).size(), 1);
    QVERIFY(anyEventContains(events, QStringLiteral("echo to %1 bounced: port unreachable")
                                         .arg(TrafficEvent::endpoint(local, gonePort))));
    int bounces = 0;
    for (const TrafficEvent &warning : eventsOf(events, TrafficEvent::Kind::Warning))
        bounces += warning.text.contains(QStringLiteral("bounced")) ? 1 : 0;
    QCOMPARE(bounces, 1);
    QVERIFY(server.udpTotals().icmpErrors >= 1);
    QCOMPARE(server.totals().clientsNow, 0);

    // The socket still reads and echoes, to new peers and old addresses alike.
    for (int i = 0; i < 3; ++i) {
        Peer next(local);
        QVERIFY(next.isBound());
        const QByteArray data = "still here " + QByteArray::number(i);
        QVERIFY(next.send(data, local, server.udpPort()));
        QCOMPARE(next.receive().data(), data);
    }
}

void tst_UdpEcho::idleExpiry()
{
    ServerConfig config = udpConfig(2);
    config.udpIdleTimeoutMs = 300;
    EchoServer server;
    QSignalSpy disconnected(&server, &EchoServer::clientDisconnected);
    QSignalSpy events(&server, &EchoServer::eventOccurred);
    QVERIFY(server.start(config));
    Peer early;
    Peer late;
    QVERIFY(early.isBound() && late.isBound());
    const QHostAddress local(QHostAddress::LocalHost);
    QElapsedTimer clock;
    clock.start();
    QVERIFY(early.send("one", local, server.udpPort()));
    QCOMPARE(early.receive().data(), QByteArray("one"));
    QTest::qWait(100); // so that the two expire at different times
    QVERIFY(late.send("two", local, server.udpPort()));
    QCOMPARE(late.receive().data(), QByteArray("two"));

    QTRY_COMPARE_WITH_TIMEOUT(disconnected.count(), 2, kTimeoutMs);
    QVERIFY(clock.elapsed() >= 300);
    for (int i = 0; i < 2; ++i) {
        const auto info = disconnected.at(i).at(1).value<DisconnectInfo>();
        QCOMPARE(info.reason, DisconnectReason::IdleTimeout);
        QCOMPARE(info.detail, QStringLiteral("no datagram for 0.3 s"));
        QVERIFY(info.durationMs >= 290);
        QCOMPARE(info.messagesOut, qint64(1));
    }
    // The first seen is the first gone.
    QCOMPARE(disconnected.at(0).at(0).value<quint64>() + 1,
             disconnected.at(1).at(0).value<quint64>());
    const QList<TrafficEvent> gone = eventsOf(events, TrafficEvent::Kind::Disconnected);
    QVERIFY2(gone.at(0).toText().contains(QStringLiteral("UDP) forgotten: idle timeout")),
             qPrintable(gone.at(0).toText()));
    QCOMPARE(server.totals().clientsNow, 0);
    QCOMPARE(server.totals().clientsTotal, qint64(2));
    QCOMPARE(server.totals().messagesIn, qint64(2)); // retired counters are kept
}

// A peer that keeps sending stays: the idle clock counts from its last datagram, not its
// first. It sends for one and a half idle timeouts, a datagram every tenth of one (a
// loaded machine would have to stall this thread for ten times the pace to make a gap).
void tst_UdpEcho::chattyPeerStays()
{
    constexpr int kIdleMs = 1000;
    constexpr int kPaceMs = kIdleMs / 10;
    constexpr int kDatagrams = 15;
    ServerConfig config = udpConfig(2);
    config.udpIdleTimeoutMs = kIdleMs;
    EchoServer server;
    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QSignalSpy disconnected(&server, &EchoServer::clientDisconnected);
    QVERIFY(server.start(config));
    const QHostAddress local(QHostAddress::LocalHost);
    Peer chatty;
    QVERIFY(chatty.isBound());
    QElapsedTimer sinceFirst;
    QElapsedTimer sinceLast;
    qint64 longestGap = 0;
    for (int i = 0; i < kDatagrams; ++i) {
        if (i == 0)
            sinceFirst.start();
        else
            longestGap = qMax(longestGap, sinceLast.elapsed());
        sinceLast.start();
        QVERIFY(chatty.send("tick", local, server.udpPort()));
        QCOMPARE(chatty.receive().data(), QByteArray("tick"));
        QTest::qWait(kPaceMs); // the peer's pace, not synchronisation
    }
    qInfo("%d datagrams over %lld ms, the longest gap %lld ms", kDatagrams,
          static_cast<long long>(sinceFirst.elapsed()), static_cast<long long>(longestGap));
    QVERIFY2(sinceFirst.elapsed() > kIdleMs, "the peer did not outlast one idle timeout");
    QVERIFY2(longestGap < kIdleMs, qPrintable(QString::number(longestGap)));
    // One peer all along, never forgotten, all its datagrams counted on it.
    QCOMPARE(connected.count(), 1);
    QCOMPARE(disconnected.count(), 0);
    const auto stats = server.clientStats(connected.at(0).at(0).value<quint64>());
    QVERIFY(stats);
    QTRY_COMPARE_WITH_TIMEOUT(stats->snapshot().messagesIn, qint64(kDatagrams), kTimeoutMs);
    // Then it goes quiet and is forgotten, an idle timeout after its last datagram.
    QVERIFY(disconnected.wait(kTimeoutMs));
    const auto info = disconnected.at(0).at(1).value<DisconnectInfo>();
    QCOMPARE(info.reason, DisconnectReason::IdleTimeout);
    QCOMPARE(info.messagesIn, qint64(kDatagrams));
    QVERIFY(sinceLast.elapsed() >= kIdleMs - 10);
}

void tst_UdpEcho::kickForgetsPeer()
{
    EchoServer server;
    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QSignalSpy disconnected(&server, &EchoServer::clientDisconnected);
    QVERIFY(server.start(udpConfig(2)));
    Peer peer;
    QVERIFY(peer.isBound());
    const QHostAddress local(QHostAddress::LocalHost);
    QVERIFY(peer.send("hello", local, server.udpPort()));
    QCOMPARE(peer.receive().data(), QByteArray("hello"));
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 1, kTimeoutMs);
    const quint64 first = connected.at(0).at(0).value<quint64>();

    QVERIFY(server.disconnectClient(first));
    QVERIFY(disconnected.wait(kTimeoutMs));
    QCOMPARE(disconnected.at(0).at(0).value<quint64>(), first);
    QCOMPARE(disconnected.at(0).at(1).value<DisconnectInfo>().reason, DisconnectReason::Kicked);
    QVERIFY(!server.clientStats(first));
    QVERIFY(!server.disconnectClient(first));

    // Its next datagram is echoed and makes it a new client.
    QVERIFY(peer.send("again", local, server.udpPort()));
    QCOMPARE(peer.receive().data(), QByteArray("again"));
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 2, kTimeoutMs);
    QVERIFY(connected.at(1).at(0).value<quint64>() > first);
}

// A UDP peer takes faults of its own (the blackhole and the UDP rates act on its
// datagrams; tst_faults tests each); a peer that is not tracked is refused with the reason.
void tst_UdpEcho::faultsForPeers()
{
    EchoServer server;
    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QVERIFY(server.start(udpConfig(2)));
    Peer peer;
    QVERIFY(peer.isBound());
    QVERIFY(peer.send("hello", QHostAddress(QHostAddress::LocalHost), server.udpPort()));
    QCOMPARE(peer.receive().data(), QByteArray("hello"));
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 1, kTimeoutMs);
    const quint64 id = connected.at(0).at(0).value<quint64>();

    FaultConfig faults;
    faults.udpDuplicate = 1.0;
    QString error;
    QVERIFY2(server.setClientFaults(id, faults, &error), qPrintable(error));
    const auto stats = server.clientStats(id);
    QTRY_VERIFY_WITH_TIMEOUT(stats->faults().udpDuplicate == 1.0, kTimeoutMs);
    QVERIFY(peer.send("twice", QHostAddress(QHostAddress::LocalHost), server.udpPort()));
    QCOMPARE(peer.receive().data(), QByteArray("twice"));
    QCOMPARE(peer.receive().data(), QByteArray("twice"));
    QVERIFY(server.followDefaultFaults(id, &error));
    QTRY_VERIFY_WITH_TIMEOUT(stats->faults().isEmpty(), kTimeoutMs);
    QVERIFY(!server.setClientFaults(id + 1000, faults, &error));
    QCOMPARE(error, QStringLiteral("client %1 is not connected").arg(id + 1000));
    // The peer is echoed once again.
    QVERIFY(peer.send("again", QHostAddress(QHostAddress::LocalHost), server.udpPort()));
    QCOMPARE(peer.receive().data(), QByteArray("again"));
}

void tst_UdpEcho::stopEndsEveryPeer_data()
{
    addThreadRows();
}

void tst_UdpEcho::stopEndsEveryPeer()
{
    QFETCH(int, threads);
    EchoServer server;
    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QVERIFY(server.start(udpConfig(threads)));
    std::vector<std::unique_ptr<Peer>> peers;
    for (int i = 0; i < 4; ++i) {
        peers.push_back(std::make_unique<Peer>());
        QVERIFY(peers.back()->send("x", QHostAddress(QHostAddress::LocalHost), server.udpPort()));
        QVERIFY(peers.back()->receive().isValid());
    }
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 4, kTimeoutMs);

    const quint16 oldPort = server.udpPort();
    QList<DisconnectReason> reasons;
    bool stoppedBeforeAll = false;
    connect(&server, &EchoServer::clientDisconnected, this,
            [&](quint64, const DisconnectInfo &info) { reasons.append(info.reason); });
    connect(&server, &EchoServer::stopped, this, [&] { stoppedBeforeAll = reasons.size() < 4; });
    server.stop();
    QCOMPARE(reasons.size(), 4);
    for (DisconnectReason reason : reasons)
        QCOMPARE(reason, DisconnectReason::ServerStopped);
    QVERIFY(!stoppedBeforeAll);
    QCOMPARE(server.totals().clientsNow, 0);
    QCOMPARE(server.totals().clientsTotal, qint64(4));
    QCOMPARE(server.totals().messagesIn, qint64(4));

    // Nothing answers any more.
    peers.front()->send("late", QHostAddress(QHostAddress::LocalHost), oldPort);
    QVERIFY(!peers.front()->receive(200).isValid());
    QVERIFY(server.start(udpConfig(threads))); // and it starts again
    QVERIFY(server.udpPort() != 0);
}

void tst_UdpEcho::peerLimitRefuses()
{
    ServerConfig config = udpConfig(1);
    config.maxUdpPeers = 2;
    EchoServer server;
    QSignalSpy refused(&server, &EchoServer::clientRefused);
    QVERIFY(server.start(config));
    const QHostAddress local(QHostAddress::LocalHost);
    Peer a;
    Peer b;
    Peer c;
    QVERIFY(a.send("a", local, server.udpPort()));
    QCOMPARE(a.receive().data(), QByteArray("a"));
    QVERIFY(b.send("b", local, server.udpPort()));
    QCOMPARE(b.receive().data(), QByteArray("b"));
    QVERIFY(c.send("c", local, server.udpPort()));
    QVERIFY(refused.wait(kTimeoutMs));
    QCOMPARE(refused.at(0).at(1).value<quint16>(), c.port());
    QVERIFY2(refused.at(0).at(2).toString().contains(QStringLiteral("max UDP peers reached (2")),
             qPrintable(refused.at(0).at(2).toString()));
    QVERIFY(!c.receive(200).isValid());
    QCOMPARE(server.totals().clientsNow, 2);
    QCOMPARE(server.totals().clientsRefused, qint64(1));
    QCOMPARE(server.udpTotals().refused, qint64(1));

    // A flood from the refused peer is summarised, not logged datagram by datagram.
    QSignalSpy events(&server, &EchoServer::eventOccurred);
    for (int i = 0; i < 50; ++i)
        QVERIFY(c.send("flood", local, server.udpPort()));
    QTRY_COMPARE_WITH_TIMEOUT(server.totals().clientsRefused, qint64(51), kTimeoutMs);
    QVERIFY(eventsOf(events, TrafficEvent::Kind::Refused).size() <=
            UdpEchoService::kReportsPerSecond + 1);
    // The tracked ones are still served.
    QVERIFY(a.send("a2", local, server.udpPort()));
    QCOMPARE(a.receive().data(), QByteArray("a2"));
}

void tst_UdpEcho::deniedNetworkIsRefused()
{
    ServerConfig config = udpConfig(1);
    config.denyNetworks = {{QHostAddress(QStringLiteral("127.0.0.0")), 8}};
    EchoServer server;
    QSignalSpy refused(&server, &EchoServer::clientRefused);
    QVERIFY(server.start(config));
    Peer peer;
    QVERIFY(peer.send("no", QHostAddress(QHostAddress::LocalHost), server.udpPort()));
    QVERIFY(refused.wait(kTimeoutMs));
    QVERIFY2(refused.at(0).at(2).toString().contains(QStringLiteral("127.0.0.0/8")),
             qPrintable(refused.at(0).at(2).toString()));
    QVERIFY(!peer.receive(200).isValid());
    QCOMPARE(server.totals().clientsTotal, qint64(0));
}

void tst_UdpEcho::udpPortInUseFailsWholeStart()
{
    QUdpSocket holder;
    QVERIFY(holder.bind(QHostAddress(QHostAddress::LocalHost), 0, QUdpSocket::DontShareAddress));
    ServerConfig config = udpConfig(2);
    config.udpPort = holder.localPort();
    EchoServer server;
    QSignalSpy started(&server, &EchoServer::started);
    QVERIFY(!server.start(config));
    QCOMPARE(server.error(), EchoServer::Error::ListenFailed);
    const QString message = server.errorString();
    QVERIFY2(message.contains(QStringLiteral("UDP")), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("127.0.0.1 port %1").arg(holder.localPort())),
             qPrintable(message));
    // The OS reason (EADDRINUSE), in whatever language this machine speaks.
    QVERIFY2(message.endsWith(EchoTest::osErrorText(EADDRINUSE)), qPrintable(message));
    QVERIFY(!server.isListening());
    QCOMPARE(started.count(), 0);
    QCOMPARE(server.udpPort(), quint16(0));
    // The TCP side was let go too: the same config on another UDP port starts.
    config.udpPort = 0;
    QVERIFY(server.start(config));
}

void tst_UdpEcho::invalidUdpSettingsAreWorded()
{
    ServerConfig config = udpConfig(1);
    config.udpIdleTimeoutMs = 0;
    QVERIFY(config.validate().contains(QStringLiteral("UDP idle timeout")));
    config = udpConfig(1);
    config.maxUdpPeers = 0;
    QVERIFY(config.validate().contains(QStringLiteral("max UDP peers must be at least 1")));
    EchoServer server;
    QVERIFY(!server.start(config));
    QCOMPARE(server.error(), EchoServer::Error::InvalidConfig);
}

void tst_UdpEcho::messageEventsAreSampled()
{
    ServerConfig config = udpConfig(1);
    config.messageEventsPerSecond = 3;
    EchoServer server;
    QSignalSpy events(&server, &EchoServer::eventOccurred);
    QVERIFY(server.start(config));
    Peer peer;
    for (int i = 0; i < 10; ++i) {
        QVERIFY(peer.send("m" + QByteArray::number(i), QHostAddress(QHostAddress::LocalHost),
                          server.udpPort()));
        QVERIFY(peer.receive().isValid());
    }
    QTRY_VERIFY_WITH_TIMEOUT(!eventsOf(events, TrafficEvent::Kind::MessagesSummarised).isEmpty(),
                             kTimeoutMs);
    const QList<TrafficEvent> sampled = eventsOf(events, TrafficEvent::Kind::MessageEchoed);
    const QList<TrafficEvent> summaries = eventsOf(events, TrafficEvent::Kind::MessagesSummarised);
    qint64 summarised = 0;
    for (const TrafficEvent &summary : summaries)
        summarised += summary.count;
    QCOMPARE(qint64(sampled.size()) + summarised, qint64(10));
    QVERIFY(sampled.size() >= 3);
    QCOMPARE(sampled.at(0).payload, QByteArray("m0"));
    QCOMPARE(sampled.at(0).transport, IpProtocol::Udp);
}

void tst_UdpEcho::monitorShowsUdpPeers()
{
    EchoServer server;
    TrafficMonitor monitor(&server);
    QVERIFY(server.start(udpConfig(2)));
    TestClient tcp;
    QVERIFY(tcp.connectTo(QHostAddress(QHostAddress::LocalHost), server.serverPort()));
    Peer peer;
    QVERIFY(peer.send("udp", QHostAddress(QHostAddress::LocalHost), server.udpPort()));
    QCOMPARE(peer.receive().data(), QByteArray("udp"));
    QTRY_COMPARE_WITH_TIMEOUT(monitor.snapshot().clients.size(), 2, kTimeoutMs);
    const TrafficSnapshot snapshot = monitor.snapshot();
    QCOMPARE(snapshot.udpPort, server.udpPort());
    int udp = 0;
    for (const ClientView &view : snapshot.clients)
        udp += view.counters.transport == IpProtocol::Udp ? 1 : 0;
    QCOMPARE(udp, 1);
    // Ids may reach the monitor out of order (a UDP peer's is taken in its thread); the
    // snapshot's lists are sorted all the same.
    QVERIFY(snapshot.clients.at(0).counters.id < snapshot.clients.at(1).counters.id);
    QCOMPARE(snapshot.totals.clientsNow, 2);
}

QTEST_GUILESS_MAIN(tst_UdpEcho)
#include "tst_udpecho.moc"
