// The load generator against the real engine and against deliberately broken echo
// servers: it must report a clean run as clean, and catch every kind of bad echo.
#include "echoserver.h"
#include "loadgenerator.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>

using namespace Echoscope;

namespace {

constexpr int kTimeoutMs = 20000;

// Runs the generator on its own thread while this thread's event loop serves.
LoadResult runLoad(const LoadConfig &config)
{
    LoadGenerator generator(config);
    LoadResult result;
    std::atomic<bool> done{false};
    std::thread thread([&] {
        result = generator.run();
        done = true;
    });
    const bool finished = QTest::qWaitFor([&] { return done.load(); }, kTimeoutMs);
    if (!finished)
        generator.stop();
    thread.join();
    return result;
}

// An echo server with a fault: each connection's bytes go through `transform`, which
// may change them, hold them back or close the socket.
class BrokenServer : public QObject
{
public:
    using Transform = std::function<void(QTcpSocket *socket, const QByteArray &data)>;

    explicit BrokenServer(Transform transform) : m_transform(std::move(transform))
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, socket,
                        [this, socket] { m_transform(socket, socket->readAll()); });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }
    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }

private:
    QTcpServer m_server;
    Transform m_transform;
};

// A WebSocket echo server that is not ours: Qt's QWebSocketServer, echoing each binary
// message as one binary message, counting what it saw. Options break it on purpose.
class QtWebSocketEcho : public QObject
{
public:
    enum class Fault { None, FlipByte99, AsText, OneByteMore, OneByteLess };
    explicit QtWebSocketEcho(Fault fault = Fault::None, quint64 frameBytes = 0,
                             bool pingOnConnect = false)
        : m_server(QStringLiteral("tst_loadgenerator"), QWebSocketServer::NonSecureMode)
    {
        connect(&m_server, &QWebSocketServer::newConnection, this,
                [this, fault, frameBytes, pingOnConnect] {
                    while (QWebSocket *socket = m_server.nextPendingConnection())
                        serve(socket, fault, frameBytes, pingOnConnect);
                });
    }
    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }

    qint64 connections = 0;
    qint64 messages = 0;     // binary messages received whole
    qint64 bytes = 0;        // their payload
    qint64 pings = 0;        // sent on connect
    qint64 pongs = 0;        // the client's answers
    qint64 normalCloses = 0; // the client closed with 1000
    qint64 closes = 0;       // disconnections

private:
    void serve(QWebSocket *socket, Fault fault, quint64 frameBytes, bool pingOnConnect)
    {
        ++connections;
        socket->setParent(this);
        if (frameBytes > 0) // each echo in several frames: continuations
            socket->setOutgoingFrameSize(frameBytes);
        connect(socket, &QWebSocket::binaryMessageReceived, socket,
                [this, socket, fault](const QByteArray &message) {
                    ++messages;
                    const qint64 before = socket->property("seen").toLongLong();
                    bytes += message.size();
                    socket->setProperty("seen", before + message.size());
                    QByteArray echo = message;
                    switch (fault) {
                    case Fault::None:
                        break;
                    case Fault::FlipByte99:
                        if (before <= 99 && before + echo.size() > 99)
                            echo[qsizetype(99 - before)] =
                                char(echo[qsizetype(99 - before)] ^ 0x01);
                        break;
                    case Fault::AsText:
                        socket->sendTextMessage(QString::fromLatin1(echo));
                        return;
                    case Fault::OneByteMore:
                        echo.append('x');
                        break;
                    case Fault::OneByteLess:
                        echo.chop(1);
                        break;
                    }
                    socket->sendBinaryMessage(echo);
                });
        connect(socket, &QWebSocket::pong, this, [this] { ++pongs; });
        connect(socket, &QWebSocket::disconnected, socket, [this, socket] {
            ++closes;
            if (socket->closeCode() == QWebSocketProtocol::CloseCodeNormal)
                ++normalCloses;
            socket->deleteLater();
        });
        if (pingOnConnect) {
            socket->ping(QByteArrayLiteral("are you there?"));
            ++pings;
        }
    }

    QWebSocketServer m_server;
};

LoadConfig quickConfig(quint16 port, LoadConfig::Mode mode, int connections, qint64 size)
{
    LoadConfig config;
    config.port = port;
    config.mode = mode;
    config.connections = connections;
    config.messageBytes = size;
    // Long enough for a round trip of the biggest message on a loaded machine (the tests
    // assert that echoes came back verified within the window): a 1 MiB WebSocket
    // pingpong once had none in 300 ms under `stress-ng --cpu 2` beside the rest of the
    // suite. 300 ms up to 150 KiB, then 1 ms per 512 bytes (1 MiB: about 2 s).
    config.durationMs = int(std::max<qint64>(300, size / 512));
    config.timeoutMs = 3000;
    return config;
}

LoadConfig wsConfig(quint16 port, LoadConfig::Mode mode, int connections, qint64 size)
{
    LoadConfig config = quickConfig(port, mode, connections, size);
    config.protocol = LoadConfig::Protocol::WebSocket;
    config.wsPath = QStringLiteral("/echo?from=tst_loadgenerator");
    return config;
}

} // namespace

class tst_LoadGenerator : public QObject
{
    Q_OBJECT

private slots:
    void latencyPercentiles();
    void validatesConfig();
    void cleanRunAgainstEngine_data();
    void cleanRunAgainstEngine();
    void catchesCorruptedEcho_data();
    void catchesCorruptedEcho();
    void catchesTruncatedEcho();
    void catchesMissingEcho();
    void holdCountsRefusedConnections();
    void webSocketCleanRun_data();
    void webSocketCleanRun();
    void webSocketAgainstEngine_data();
    void webSocketAgainstEngine();
    void webSocketCatchesWrongEcho_data();
    void webSocketCatchesWrongEcho();
    void webSocketUpgradeAnsweredWrongly_data();
    void webSocketUpgradeAnsweredWrongly();
    void commandLineExitStatus();
    void commandLineWebSocket();
};

void tst_LoadGenerator::latencyPercentiles()
{
    LatencyHistogram histogram;
    QCOMPARE(histogram.percentile(0.5), 0);
    for (qint64 us = 1; us <= 10000; ++us)
        histogram.add(us);
    QCOMPARE(histogram.count(), 10000);
    QCOMPARE(histogram.maxMicroseconds(), 10000);
    // Buckets are about 3% wide.
    QVERIFY(qAbs(histogram.percentile(0.5) - 5000) <= 5000 / 32 + 1);
    QVERIFY(qAbs(histogram.percentile(0.99) - 9900) <= 9900 / 32 + 1);
    QCOMPARE(histogram.percentile(1.0), 10000);
    histogram.reset();
    QCOMPARE(histogram.count(), 0);
}

void tst_LoadGenerator::validatesConfig()
{
    LoadConfig config;
    QVERIFY(config.validate().contains(u"port"));
    config.port = 7;
    QVERIFY(config.validate().isEmpty());
    config.connections = 0;
    QVERIFY(config.validate().contains(u"connections"));
    config.connections = 1;
    config.protocol = LoadConfig::Protocol::WebSocket;
    QVERIFY(config.validate().isEmpty());
    config.wsPath = QStringLiteral("/a b");
    QVERIFY(config.validate().contains(u"WebSocket path"));
    config.wsPath = QStringLiteral("echo");
    QVERIFY(config.validate().contains(u"WebSocket path"));
    LoadConfig::Protocol protocol;
    QVERIFY(LoadConfig::parseProtocol(QStringLiteral("WS"), &protocol));
    QCOMPARE(protocol, LoadConfig::Protocol::WebSocket);
    QVERIFY(LoadConfig::parseProtocol(QStringLiteral("tcp"), &protocol));
    QCOMPARE(protocol, LoadConfig::Protocol::Tcp);
    QVERIFY(!LoadConfig::parseProtocol(QStringLiteral("wss"), &protocol));
    LoadConfig::Mode mode;
    QVERIFY(LoadConfig::parseMode(QStringLiteral("OneShot"), &mode));
    QCOMPARE(mode, LoadConfig::Mode::OneShot);
    QVERIFY(!LoadConfig::parseMode(QStringLiteral("ping"), &mode));
}

void tst_LoadGenerator::cleanRunAgainstEngine_data()
{
    QTest::addColumn<LoadConfig::Mode>("mode");
    QTest::addColumn<int>("connections");
    QTest::addColumn<qint64>("size");
    QTest::newRow("pingpong 1 B") << LoadConfig::Mode::PingPong << 4 << qint64(1);
    QTest::newRow("pingpong 16 KiB") << LoadConfig::Mode::PingPong << 10 << qint64(16384);
    QTest::newRow("pingpong 1 MiB") << LoadConfig::Mode::PingPong << 2 << qint64(1 << 20);
    QTest::newRow("stream 64 KiB") << LoadConfig::Mode::Stream << 4 << qint64(65536);
    QTest::newRow("oneshot 1 KiB") << LoadConfig::Mode::OneShot << 4 << qint64(1024);
    QTest::newRow("oneshot 300 KiB") << LoadConfig::Mode::OneShot << 2 << qint64(300 * 1024);
    QTest::newRow("hold") << LoadConfig::Mode::Hold << 200 << qint64(64);
}

void tst_LoadGenerator::cleanRunAgainstEngine()
{
    QFETCH(LoadConfig::Mode, mode);
    QFETCH(int, connections);
    QFETCH(qint64, size);
    EchoServer server;
    ServerConfig serverConfig;
    serverConfig.port = 0;
    serverConfig.threads = 2;
    QVERIFY2(server.start(serverConfig), qPrintable(server.errorString()));

    const LoadResult result = runLoad(quickConfig(server.serverPort(), mode, connections, size));
    QVERIFY2(result.errors() == 0, qPrintable(result.summary()));
    QVERIFY(result.seconds > 0);
    if (mode == LoadConfig::Mode::Hold) {
        QCOMPARE(result.held, qint64(connections));
        QCOMPARE(result.connectionsOpened, qint64(connections));
    } else {
        QVERIFY2(result.bytesEchoed > 0, qPrintable(result.summary()));
        QVERIFY(result.bytesEchoed <= result.bytesSent);
    }
    if (mode == LoadConfig::Mode::PingPong || mode == LoadConfig::Mode::OneShot) {
        QVERIFY(result.roundTrips > 0);
        QCOMPARE(result.latency.count(), result.roundTrips);
    }
    if (mode == LoadConfig::Mode::OneShot) { // whole messages, plus those cut by the end
        QVERIFY(result.bytesEchoed >= result.roundTrips * size);
        QVERIFY(result.bytesEchoed <= (result.roundTrips + connections) * size);
    }
    const QJsonObject json = result.toJson();
    QCOMPARE(json.value(u"errors").toInteger(), 0);
    QCOMPARE(json.value(u"mode").toString(), LoadConfig::modeName(mode));
}

void tst_LoadGenerator::catchesCorruptedEcho_data()
{
    QTest::addColumn<LoadConfig::Mode>("mode");
    QTest::newRow("pingpong") << LoadConfig::Mode::PingPong;
    QTest::newRow("stream") << LoadConfig::Mode::Stream;
    QTest::newRow("oneshot") << LoadConfig::Mode::OneShot;
}

void tst_LoadGenerator::catchesCorruptedEcho()
{
    QFETCH(LoadConfig::Mode, mode);
    // Echoes faithfully, except one bit of the 100th byte of each connection; closes
    // after the client's half-close, as an echo server should.
    BrokenServer server([](QTcpSocket *socket, const QByteArray &data) {
        const qint64 before = socket->property("seen").toLongLong();
        QByteArray echo = data;
        if (before <= 99 && before + echo.size() > 99)
            echo[qsizetype(99 - before)] = char(echo[qsizetype(99 - before)] ^ 0x01);
        socket->setProperty("seen", before + echo.size());
        socket->write(echo);
        if (socket->state() != QAbstractSocket::ConnectedState || socket->atEnd())
            socket->disconnectFromHost();
    });
    QVERIFY(server.listen());
    const LoadResult result = runLoad(quickConfig(server.port(), mode, 2, 1024));
    QVERIFY2(result.mismatches > 0, qPrintable(result.summary()));
    QVERIFY(result.errors() > 0);
    QVERIFY2(result.firstError.contains(u"byte 99"), qPrintable(result.firstError));
}

void tst_LoadGenerator::catchesTruncatedEcho()
{
    // Echoes all but the last byte of the first message, then closes.
    BrokenServer server([](QTcpSocket *socket, const QByteArray &data) {
        QByteArray buffered = socket->property("buffered").toByteArray() + data;
        if (buffered.size() >= 1000) {
            socket->write(buffered.left(999));
            socket->disconnectFromHost();
            return;
        }
        socket->setProperty("buffered", buffered);
    });
    QVERIFY(server.listen());
    for (LoadConfig::Mode mode : {LoadConfig::Mode::PingPong, LoadConfig::Mode::OneShot}) {
        const LoadResult result = runLoad(quickConfig(server.port(), mode, 1, 1000));
        QVERIFY2(result.shortEchoes > 0, qPrintable(result.summary()));
        QVERIFY2(result.firstError.contains(u"999 of 1000"), qPrintable(result.firstError));
        QCOMPARE(result.mismatches, 0);
    }
}

void tst_LoadGenerator::catchesMissingEcho()
{
    BrokenServer server([](QTcpSocket *, const QByteArray &) {}); // reads, never echoes
    QVERIFY(server.listen());
    LoadConfig config = quickConfig(server.port(), LoadConfig::Mode::PingPong, 1, 100);
    config.timeoutMs = 100;
    const LoadResult result = runLoad(config);
    QVERIFY2(result.timeouts > 0, qPrintable(result.summary()));
    QCOMPARE(result.roundTrips, 0);
}

void tst_LoadGenerator::holdCountsRefusedConnections()
{
    EchoServer server;
    ServerConfig serverConfig;
    serverConfig.port = 0;
    serverConfig.threads = 1;
    serverConfig.maxClients = 30;
    QVERIFY2(server.start(serverConfig), qPrintable(server.errorString()));
    const LoadResult result =
        runLoad(quickConfig(server.serverPort(), LoadConfig::Mode::Hold, 50, 1));
    QCOMPARE(result.held, 30);
    QVERIFY2(result.errors() >= 20, qPrintable(result.summary()));
}

void tst_LoadGenerator::webSocketCleanRun_data()
{
    QTest::addColumn<LoadConfig::Mode>("mode");
    QTest::addColumn<int>("connections");
    QTest::addColumn<qint64>("size");
    QTest::addColumn<quint64>("serverFrameBytes"); // 0: each echo in one frame
    QTest::newRow("pingpong 1 B") << LoadConfig::Mode::PingPong << 4 << qint64(1) << quint64(0);
    QTest::newRow("pingpong 200 B (16-bit length)")
        << LoadConfig::Mode::PingPong << 4 << qint64(200) << quint64(0);
    QTest::newRow("pingpong 16 KiB in 1000-byte frames")
        << LoadConfig::Mode::PingPong << 10 << qint64(16384) << quint64(1000);
    QTest::newRow("pingpong 1 MiB (64-bit length)")
        << LoadConfig::Mode::PingPong << 2 << qint64(1 << 20) << quint64(0);
    QTest::newRow("stream 64 KiB") << LoadConfig::Mode::Stream << 4 << qint64(65536) << quint64(0);
    QTest::newRow("stream 1.5 MiB messages, 100 KB frames")
        << LoadConfig::Mode::Stream << 1 << qint64(3 << 19) << quint64(100000);
    QTest::newRow("oneshot 1 KiB") << LoadConfig::Mode::OneShot << 4 << qint64(1024) << quint64(0);
    QTest::newRow("oneshot 300 KiB")
        << LoadConfig::Mode::OneShot << 2 << qint64(300 * 1024) << quint64(0);
    QTest::newRow("hold, pinged") << LoadConfig::Mode::Hold << 200 << qint64(64) << quint64(0);
}

void tst_LoadGenerator::webSocketCleanRun()
{
    QFETCH(LoadConfig::Mode, mode);
    QFETCH(int, connections);
    QFETCH(qint64, size);
    QFETCH(quint64, serverFrameBytes);
    // Every connection is pinged by the server as it opens: the generator must answer.
    QtWebSocketEcho server(QtWebSocketEcho::Fault::None, serverFrameBytes, true);
    QVERIFY(server.listen());

    LoadConfig config = wsConfig(server.port(), mode, connections, size);
    if (mode == LoadConfig::Mode::Stream && size > (1 << 20))
        config.durationMs = 3000; // Qt's server takes ~0.3 s per such message in 100 KB frames
    const LoadResult result = runLoad(config);
    QVERIFY2(result.errors() == 0, qPrintable(result.summary()));
    QVERIFY(result.seconds > 0);
    QVERIFY(result.connectionsOpened >= connections);
    QCOMPARE(result.upgrade.count(), result.connectionsOpened);
    // Every upgrade the generator counted, the server counted too; it may have upgraded a
    // few the run ended before checking.
    QTRY_VERIFY(server.connections >= result.connectionsOpened);
    QVERIFY(server.connections <= result.connectionsOpened + connections);
    // Pings come right behind the upgrade's answer: each connection that got as far as a
    // message answered its ping first (a oneshot cut by the run's end may not have).
    QTRY_VERIFY(server.pongs >=
                (mode == LoadConfig::Mode::OneShot ? result.roundTrips : qint64(connections)));
    QVERIFY(server.pongs <= server.pings);
    // Closed, every one of them (with a close frame when between messages).
    QTRY_COMPARE(server.closes, server.connections);

    if (mode == LoadConfig::Mode::Hold) {
        QCOMPARE(result.held, qint64(connections));
        QCOMPARE(server.connections, qint64(connections));
        QCOMPARE(server.messages, qint64(connections)); // one probe each
        QCOMPARE(server.bytes, 16 * qint64(connections));
        QCOMPARE(result.bytesSent, server.bytes);
        QCOMPARE(result.bytesEchoed, server.bytes);
        return;
    }
    // Payload only: what the server received whole lies between what came back verified
    // and what was sent.
    QVERIFY2(result.bytesEchoed > 0, qPrintable(result.summary()));
    QVERIFY(result.bytesEchoed <= server.bytes);
    QVERIFY(server.bytes <= result.bytesSent);
    QCOMPARE(server.bytes, server.messages * size);
    QVERIFY2(result.roundTrips > 0, qPrintable(result.summary()));
    QVERIFY(result.roundTrips <= server.messages);
    if (mode == LoadConfig::Mode::PingPong) {
        QCOMPARE(result.latency.count(), result.roundTrips);
        // One message in flight per connection at most; whole echoes verified.
        QVERIFY(server.messages <= result.roundTrips + connections);
        QVERIFY(result.bytesEchoed >= result.roundTrips * size);
        QVERIFY(result.bytesEchoed <= (result.roundTrips + connections) * size);
    }
    if (mode == LoadConfig::Mode::Stream)
        QVERIFY(result.bytesEchoed >= result.roundTrips * size);
    if (mode == LoadConfig::Mode::OneShot) {
        QCOMPARE(result.latency.count(), result.roundTrips);
        QVERIFY(result.bytesEchoed >= result.roundTrips * size);
        // Each completed connection closed with a close frame (1000) the server read.
        QVERIFY2(server.normalCloses >= result.roundTrips,
                 qPrintable(QStringLiteral("%1 normal closes, %2 connections completed")
                                .arg(server.normalCloses)
                                .arg(result.roundTrips)));
    }
    const QJsonObject json = result.toJson();
    QCOMPARE(json.value(u"protocol").toString(), QStringLiteral("ws"));
    QCOMPARE(json.value(u"bytes_are").toString(), QStringLiteral("payload"));
    QCOMPARE(json.value(u"errors").toInteger(), 0);
    QVERIFY(json.contains(u"upgrade_p50_us"));
    QVERIFY(result.summary().startsWith(u"ws "));
    if (mode == LoadConfig::Mode::PingPong || mode == LoadConfig::Mode::Stream)
        QVERIFY(result.summary().contains(u"MB/s echoed (payload)"));
}

void tst_LoadGenerator::webSocketAgainstEngine_data()
{
    QTest::addColumn<LoadConfig::Mode>("mode");
    QTest::addColumn<int>("connections");
    QTest::addColumn<qint64>("size");
    QTest::newRow("pingpong 1 KiB") << LoadConfig::Mode::PingPong << 10 << qint64(1024);
    QTest::newRow("pingpong 200 KiB") << LoadConfig::Mode::PingPong << 2 << qint64(200 * 1024);
    QTest::newRow("stream 64 KiB") << LoadConfig::Mode::Stream << 4 << qint64(65536);
    QTest::newRow("oneshot 1 KiB") << LoadConfig::Mode::OneShot << 4 << qint64(1024);
    QTest::newRow("hold") << LoadConfig::Mode::Hold << 200 << qint64(64);
}

void tst_LoadGenerator::webSocketAgainstEngine()
{
    // Echoscope's own WebSocket port: the same generator, both protocols on one server.
    QFETCH(LoadConfig::Mode, mode);
    QFETCH(int, connections);
    QFETCH(qint64, size);
    EchoServer server;
    ServerConfig serverConfig;
    serverConfig.port = 0;
    serverConfig.threads = 2;
    serverConfig.webSocketEcho = true;
    serverConfig.webSocketPort = 0;
    QVERIFY2(server.start(serverConfig), qPrintable(server.errorString()));
    QVERIFY(server.webSocketPort() != 0);

    for (LoadConfig::Protocol protocol :
         {LoadConfig::Protocol::WebSocket, LoadConfig::Protocol::Tcp}) {
        const bool ws = protocol == LoadConfig::Protocol::WebSocket;
        LoadConfig config =
            quickConfig(ws ? server.webSocketPort() : server.serverPort(), mode, connections, size);
        config.protocol = protocol;
        const LoadResult result = runLoad(config);
        QVERIFY2(result.errors() == 0, qPrintable(result.summary()));
        if (mode == LoadConfig::Mode::Hold) {
            QCOMPARE(result.held, qint64(connections));
            continue;
        }
        QVERIFY2(result.bytesEchoed > 0, qPrintable(result.summary()));
        QVERIFY(result.bytesEchoed <= result.bytesSent);
        if (ws && mode != LoadConfig::Mode::Stream)
            QVERIFY(result.bytesEchoed >= result.roundTrips * size);
        if (ws)
            QCOMPARE(result.upgrade.count(), result.connectionsOpened);
    }
}

void tst_LoadGenerator::webSocketCatchesWrongEcho_data()
{
    QTest::addColumn<LoadConfig::Mode>("mode");
    QTest::addColumn<QtWebSocketEcho::Fault>("fault");
    QTest::addColumn<QString>("problem");
    const QString flipped = QStringLiteral("echoed byte 99 differs");
    QTest::newRow("pingpong, a bit flipped")
        << LoadConfig::Mode::PingPong << QtWebSocketEcho::Fault::FlipByte99 << flipped;
    QTest::newRow("stream, a bit flipped")
        << LoadConfig::Mode::Stream << QtWebSocketEcho::Fault::FlipByte99 << flipped;
    QTest::newRow("oneshot, a bit flipped")
        << LoadConfig::Mode::OneShot << QtWebSocketEcho::Fault::FlipByte99 << flipped;
    QTest::newRow("echoed as text") << LoadConfig::Mode::PingPong << QtWebSocketEcho::Fault::AsText
                                    << QStringLiteral("came back as a text message");
    QTest::newRow("one byte more")
        << LoadConfig::Mode::PingPong << QtWebSocketEcho::Fault::OneByteMore
        << QStringLiteral("longer than the 1024 bytes");
    QTest::newRow("one byte less")
        << LoadConfig::Mode::Stream << QtWebSocketEcho::Fault::OneByteLess
        << QStringLiteral("has 1023 bytes; the message sent had 1024");
}

void tst_LoadGenerator::webSocketCatchesWrongEcho()
{
    QFETCH(LoadConfig::Mode, mode);
    QFETCH(QtWebSocketEcho::Fault, fault);
    QFETCH(QString, problem);
    QtWebSocketEcho server(fault);
    QVERIFY(server.listen());
    const LoadResult result = runLoad(wsConfig(server.port(), mode, 2, 1024));
    QVERIFY2(result.mismatches > 0, qPrintable(result.summary()));
    QVERIFY2(result.firstError.contains(problem), qPrintable(result.firstError));
    QCOMPARE(result.upgradeErrors, 0);
    QCOMPARE(result.protocolErrors, 0);
}

void tst_LoadGenerator::webSocketUpgradeAnsweredWrongly_data()
{
    QTest::addColumn<QByteArray>("answer"); // sent once the request is in; "echo": echoes it
    QTest::addColumn<QString>("problem");
    QTest::newRow("a plain TCP echo")
        << QByteArray("echo") << QStringLiteral("not HTTP (it starts with \"GET /echo");
    QTest::newRow("404") << QByteArray("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                         << QStringLiteral("\"HTTP/1.1 404 Not Found\", not 101");
    QTest::newRow("wrong accept key")
        << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                      "Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
        << QStringLiteral("Sec-WebSocket-Accept is \"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\"");
    QTest::newRow("no answer") << QByteArray()
                               << QStringLiteral("no answer to the WebSocket upgrade");
    QTest::newRow("closed mid-answer")
        << QByteArray("HTTP/1.1 101 Switching") << QStringLiteral("closed by the server during");
}

void tst_LoadGenerator::webSocketUpgradeAnsweredWrongly()
{
    QFETCH(QByteArray, answer);
    QFETCH(QString, problem);
    BrokenServer server([answer](QTcpSocket *socket, const QByteArray &data) {
        if (answer == "echo") {
            socket->write(data);
            return;
        }
        QByteArray request = socket->property("request").toByteArray() + data;
        socket->setProperty("request", request);
        if (!request.contains("\r\n\r\n") || answer.isEmpty())
            return;
        socket->write(answer);
        if (!answer.endsWith("\r\n\r\n"))
            socket->disconnectFromHost();
    });
    QVERIFY(server.listen());
    LoadConfig config = wsConfig(server.port(), LoadConfig::Mode::PingPong, 1, 100);
    config.timeoutMs = 200;
    const LoadResult result = runLoad(config);
    QVERIFY2(result.upgradeErrors > 0, qPrintable(result.summary()));
    QVERIFY2(result.firstError.contains(problem), qPrintable(result.firstError));
    QCOMPARE(result.connectionsOpened, 0);
    QCOMPARE(result.bytesSent, 0);
}

void tst_LoadGenerator::commandLineExitStatus()
{
    // The binary against a clean engine: 0 and a JSON summary; against a corrupting
    // server: 1 and the reason.
    EchoServer engine;
    ServerConfig serverConfig;
    serverConfig.port = 0;
    serverConfig.threads = 2;
    QVERIFY(engine.start(serverConfig));
    const auto bench = [](quint16 port, const QStringList &extra) {
        QProcess process;
        process.start(QStringLiteral(ECHOSCOPE_BINARY),
                      QStringList{QStringLiteral("bench"), QStringLiteral("--port"),
                                  QString::number(port), QStringLiteral("--duration"),
                                  QStringLiteral("0.3"), QStringLiteral("--quiet")} +
                          extra);
        const bool ended =
            QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, kTimeoutMs);
        if (!ended) {
            process.kill();
            process.waitForFinished();
        }
        return std::make_pair(process.exitCode(), process.readAllStandardOutput());
    };
    const auto [cleanStatus, cleanOutput] =
        bench(engine.serverPort(),
              {QStringLiteral("--mode"), QStringLiteral("stream"), QStringLiteral("--connections"),
               QStringLiteral("3"), QStringLiteral("--size"), QStringLiteral("16K"),
               QStringLiteral("--json")});
    QCOMPARE(cleanStatus, 0);
    const QJsonObject summary = QJsonDocument::fromJson(cleanOutput).object();
    QCOMPARE(summary.value(u"errors").toInteger(), 0);
    QVERIFY(summary.value(u"bytes_echoed").toInteger() > 0);

    BrokenServer broken([](QTcpSocket *socket, const QByteArray &data) {
        QByteArray echo = data;
        echo[0] = char(~echo[0]);
        socket->write(echo);
    });
    QVERIFY(broken.listen());
    const auto [brokenStatus, brokenOutput] = bench(broken.port(), {});
    QCOMPARE(brokenStatus, 1);
    QVERIFY2(brokenOutput.contains("differs from the byte sent"), brokenOutput.constData());

    const auto [usageStatus, usageOutput] =
        bench(engine.serverPort(), {QStringLiteral("--mode"), QStringLiteral("ping")});
    QCOMPARE(usageStatus, 2);
    Q_UNUSED(usageOutput);
}

void tst_LoadGenerator::commandLineWebSocket()
{
    // --protocol ws against Qt's WebSocket server: 0 and JSON; against a plain TCP echo: 1
    // and the upgrade's problem; refused arguments name themselves: 2.
    const auto bench = [](quint16 port, const QStringList &extra) {
        QProcess process;
        process.start(QStringLiteral(ECHOSCOPE_BINARY),
                      QStringList{QStringLiteral("bench"), QStringLiteral("--port"),
                                  QString::number(port), QStringLiteral("--duration"),
                                  QStringLiteral("0.3"), QStringLiteral("--quiet")} +
                          extra);
        const bool ended =
            QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, kTimeoutMs);
        if (!ended) {
            process.kill();
            process.waitForFinished();
        }
        return std::make_tuple(process.exitCode(), process.readAllStandardOutput(),
                               process.readAllStandardError());
    };
    QtWebSocketEcho server;
    QVERIFY(server.listen());
    const auto [status, output, errors] =
        bench(server.port(),
              {QStringLiteral("--protocol"), QStringLiteral("ws"), QStringLiteral("--ws-path"),
               QStringLiteral("/echo"), QStringLiteral("--mode"), QStringLiteral("stream"),
               QStringLiteral("--connections"), QStringLiteral("3"), QStringLiteral("--size"),
               QStringLiteral("16K"), QStringLiteral("--json")});
    QVERIFY2(status == 0, errors.constData());
    const QJsonObject summary = QJsonDocument::fromJson(output).object();
    QCOMPARE(summary.value(u"protocol").toString(), QStringLiteral("ws"));
    QCOMPARE(summary.value(u"ws_path").toString(), QStringLiteral("/echo"));
    QCOMPARE(summary.value(u"errors").toInteger(), 0);
    QVERIFY(summary.value(u"bytes_echoed").toInteger() > 0);
    QVERIFY(summary.value(u"bytes_echoed").toInteger() <= server.bytes);

    BrokenServer plainEcho([](QTcpSocket *socket, const QByteArray &data) { socket->write(data); });
    QVERIFY(plainEcho.listen());
    const auto [plainStatus, plainOutput, plainErrors] =
        bench(plainEcho.port(), {QStringLiteral("--protocol"), QStringLiteral("ws")});
    QCOMPARE(plainStatus, 1);
    QVERIFY2(plainOutput.contains("not a WebSocket server?"), plainOutput.constData());
    Q_UNUSED(plainErrors);

    const auto [badStatus, badOutput, badErrors] =
        bench(server.port(), {QStringLiteral("--protocol"), QStringLiteral("wss")});
    QCOMPARE(badStatus, 2);
    QVERIFY2(badErrors.contains("--protocol \"wss\": expected tcp or ws"), badErrors.constData());
    const auto [pathStatus, pathOutput, pathErrors] =
        bench(server.port(), {QStringLiteral("--ws-path"), QStringLiteral("/x")});
    QCOMPARE(pathStatus, 2);
    QVERIFY2(pathErrors.contains("--ws-path \"/x\": only with --protocol ws"),
             pathErrors.constData());
    Q_UNUSED(badOutput);
    Q_UNUSED(pathOutput);
}

QTEST_GUILESS_MAIN(tst_LoadGenerator)
#include "tst_loadgenerator.moc"
