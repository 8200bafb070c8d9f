// WebSocket echo (ws:// and wss://) against real peers: QWebSocket (Qt Test), Debian's
// python3-websockets (a client not written for Echoscope), and, for what no well-behaved
// client does, frames written by hand (websockettestclient.h). Port 0, bounded waits.

#include "clientstats.h"
#include "disconnectinfo.h"
#include "echoserver.h"
#include "echotestsupport.h"
#include "serverconfig.h"
#include "tlscredentials.h"
#include "trafficevent.h"
#include "websockettestclient.h"

#include <QProcess>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

using namespace Echoscope;
using namespace EchoTest;

namespace {

ServerConfig webSocketConfig(int threads)
{
    ServerConfig config = testConfig(threads);
    config.webSocketEcho = true;
    config.webSocketPort = 0;
    return config;
}

QUrl urlFor(const EchoServer &server, const QString &path = QStringLiteral("/"))
{
    return QUrl(QStringLiteral("%1://127.0.0.1:%2%3")
                    .arg(server.webSocketScheme())
                    .arg(server.webSocketPort())
                    .arg(path));
}

// A QWebSocket that keeps what it receives, message by message, with its kind.
class QtClient : public QObject
{
public:
    QtClient()
    {
        connect(&socket, &QWebSocket::textMessageReceived, this,
                [this](const QString &message) { texts.append(message); });
        connect(&socket, &QWebSocket::binaryMessageReceived, this,
                [this](const QByteArray &message) { binaries.append(message); });
        connect(&socket, &QWebSocket::disconnected, this, [this] { closed = true; });
        connect(&socket, &QWebSocket::pong, this,
                [this](quint64, const QByteArray &payload) { pongs.append(payload); });
    }
    bool open(const QUrl &url)
    {
        socket.open(url);
        return QTest::qWaitFor(
                   [this] { return socket.state() == QAbstractSocket::ConnectedState || closed; },
                   kTimeoutMs) &&
               socket.state() == QAbstractSocket::ConnectedState;
    }
    bool open(const QNetworkRequest &request)
    {
        socket.open(request);
        return QTest::qWaitFor(
                   [this] { return socket.state() == QAbstractSocket::ConnectedState || closed; },
                   kTimeoutMs) &&
               socket.state() == QAbstractSocket::ConnectedState;
    }

    QWebSocket socket;
    QStringList texts;
    QList<QByteArray> binaries;
    QList<QByteArray> pongs;
    bool closed = false;
};

// The disconnect of the only client of `server` (bounded wait).
bool waitForDisconnect(QSignalSpy &spy, DisconnectInfo *info)
{
    if (!QTest::qWaitFor([&spy] { return spy.size() > 0; }, kTimeoutMs))
        return false;
    *info = spy.constLast().at(1).value<DisconnectInfo>();
    return true;
}

} // namespace

class tst_WebSocket : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void listensOnItsOwnPort();
    void echoesTextAsTextAndBinaryAsBinary_data();
    void echoesTextAsTextAndBinaryAsBinary();
    void reassemblesFragmentedMessages();
    void requestIsShown();
    void pingsAreAnsweredAndCounted();
    void closeFrameIsEchoedAndIsTheReason();
    void messageTooBigIsClosedWith1009();
    void invalidUtf8IsClosedWith1007();
    void unmaskedFrameIsClosedWith1002();
    void notAnUpgradeIsRefusedWith426();
    void badUpgradeIsRefusedWith400();
    void originNotAllowedIsRefusedWith403();
    void handshakeTimeoutIsCounted();
    void faultsApply();
    void clientThatDoesNotReadIsPaused_data();
    void clientThatDoesNotReadIsPaused();
    void secureWebSocket();
    void pythonWebSocketsClient();
    void listenFailureNamesThePort();

private:
    QTemporaryDir m_directory;
    QString m_certificate;
    QString m_key;
    QSslCertificate m_authority;
    QString m_noTls;
};

void tst_WebSocket::initTestCase()
{
    qRegisterMetaType<DisconnectInfo>();
    qRegisterMetaType<TrafficEvent>();
    QString why;
    if (!TlsCredentials::isAvailable(&why))
        m_noTls = why;
    else if (QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty())
        m_noTls = QStringLiteral("the openssl command is not installed (it makes the test "
                                 "certificate)");
    else if (!runOpenssl(m_directory.path(),
                         {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem",
                          "-out", "cert.pem", "-days", "2", "-subj", "/CN=localhost", "-addext",
                          "subjectAltName=DNS:localhost,IP:127.0.0.1"}))
        m_noTls = QStringLiteral("openssl could not make the test certificate");
    if (m_noTls.isEmpty()) {
        m_certificate = m_directory.filePath(QStringLiteral("cert.pem"));
        m_key = m_directory.filePath(QStringLiteral("key.pem"));
        m_authority = QSslCertificate::fromPath(m_certificate).value(0);
    }
}

void tst_WebSocket::listensOnItsOwnPort()
{
    EchoServer server;
    QSignalSpy spy(&server, &EchoServer::eventOccurred);
    QVERIFY2(server.start(webSocketConfig(1)), qPrintable(server.errorString()));
    QVERIFY(server.webSocketPort() != 0);
    QVERIFY(server.webSocketPort() != server.serverPort());
    QCOMPARE(server.webSocketScheme(), QStringLiteral("ws"));
    bool announced = false;
    for (const auto &arguments : spy) {
        const auto event = arguments.at(0).value<TrafficEvent>();
        if (event.kind == TrafficEvent::Kind::Listening &&
            event.transport == IpProtocol::WebSocket) {
            announced = event.port == server.webSocketPort() &&
                        event.toText().startsWith(QStringLiteral("listening for WebSocket on "));
        }
    }
    QVERIFY(announced);
    server.stop();
    QCOMPARE(server.webSocketPort(), quint16(0));

    // Off by default.
    EchoServer plain;
    QVERIFY(plain.start(testConfig(1)));
    QCOMPARE(plain.webSocketPort(), quint16(0));
}

void tst_WebSocket::echoesTextAsTextAndBinaryAsBinary_data()
{
    addThreadRows();
}

void tst_WebSocket::echoesTextAsTextAndBinaryAsBinary()
{
    QFETCH(int, threads);
    Running running = startServer(webSocketConfig(threads));
    QVERIFY(running.port != 0);
    QtClient client;
    QVERIFY(client.open(urlFor(*running.server)));

    const QString text = QStringLiteral("h\u00e9llo, w\u00f6rld \U0001F600");
    const QByteArray small = payload(100, 1);
    const QByteArray large = payload(200 * 1024, 2); // several reads of the server's buffer
    qint64 sent = 0;
    client.socket.sendTextMessage(text);
    sent += text.toUtf8().size();
    client.socket.sendBinaryMessage(small);
    sent += small.size();
    client.socket.sendBinaryMessage(QByteArray()); // an empty message is a message
    client.socket.sendTextMessage(QString());
    client.socket.sendBinaryMessage(large);
    sent += large.size();
    QVERIFY(QTest::qWaitFor([&] { return client.binaries.size() == 3 && client.texts.size() == 2; },
                            kTimeoutMs));
    QCOMPARE(client.texts, QStringList({text, QString()}));
    QCOMPARE(client.binaries, QList<QByteArray>({small, QByteArray(), large}));

    const quint64 id = running.server->clientIds().value(0);
    const auto stats = running.server->clientStats(id);
    QVERIFY(stats);
    QCOMPARE(stats->transport(), IpProtocol::WebSocket);
    const ClientSnapshot snapshot = stats->snapshot();
    QCOMPARE(snapshot.messagesIn, 5);
    QTRY_COMPARE_WITH_TIMEOUT(stats->snapshot().messagesOut, 5, kTimeoutMs);
    QCOMPARE(snapshot.bytesIn, sent); // payload bytes, as the client itself counted them
    QTRY_COMPARE_WITH_TIMEOUT(stats->snapshot().bytesOut, sent, kTimeoutMs);
    QCOMPARE(snapshot.histogram.counts[0], 2); // the two empty messages

    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    client.socket.close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("done"));
    DisconnectInfo info;
    QVERIFY(waitForDisconnect(disconnected, &info));
    QCOMPARE(info.reason, DisconnectReason::ClosedByPeer);
    QVERIFY2(info.detail.contains(QLatin1String("close frame 1000 (normal closure): \"done\"")),
             qPrintable(info.detail));
    QCOMPARE(info.bytesIn, sent);
    QCOMPARE(info.bytesOut, sent);
    QTRY_COMPARE_WITH_TIMEOUT(running.server->clientCount(), 0, kTimeoutMs);
}

void tst_WebSocket::reassemblesFragmentedMessages()
{
    Running running = startServer(webSocketConfig(1));
    QVERIFY(running.port != 0);
    QtClient client;
    client.socket.setOutgoingFrameSize(1000); // QWebSocket fragments what it sends
    QVERIFY(client.open(urlFor(*running.server)));
    const QByteArray message = payload(10 * 1000 + 7, 3);
    client.socket.sendBinaryMessage(message);
    QVERIFY(QTest::qWaitFor([&] { return client.binaries.size() == 1; }, kTimeoutMs));
    QCOMPARE(client.binaries.constFirst(), message);

    const auto stats = running.server->clientStats(running.server->clientIds().value(0));
    QVERIFY(stats);
    QCOMPARE(stats->snapshot().messagesIn, 1); // one message, not eleven
    // The frames as they went by: 11 in (binary, then continuations, FIN on the last,
    // every one masked), and the echo out.
    const QList<WebSocketFrameRecord> frames = stats->webSocket()->frames();
    QList<WebSocketFrameRecord> received;
    for (const WebSocketFrameRecord &frame : frames) {
        if (frame.received)
            received.append(frame);
    }
    QCOMPARE(received.size(), 11);
    QCOMPARE(received.constFirst().opcode, quint8(0x2));
    QVERIFY(!received.constFirst().fin);
    QCOMPARE(received.at(1).opcode, quint8(0x0));
    QVERIFY(received.constLast().fin);
    qint64 total = 0;
    for (const WebSocketFrameRecord &frame : received) {
        QVERIFY(frame.masked);
        total += frame.length;
    }
    QCOMPARE(total, message.size());
    QVERIFY(stats->webSocket()->framesSent() >= 1);
}

void tst_WebSocket::requestIsShown()
{
    Running running = startServer(webSocketConfig(1));
    QVERIFY(running.port != 0);
    QSignalSpy events(running.server.get(), &EchoServer::eventOccurred);
    QNetworkRequest request(urlFor(*running.server, QStringLiteral("/chat/room?id=7")));
    request.setRawHeader("Origin", "http://localhost:8080");
    request.setRawHeader("X-Test", "yes");
    request.setRawHeader("Sec-WebSocket-Protocol", "echo.v1, chat");
    QtClient client;
    QVERIFY(client.open(request));
    const auto stats = running.server->clientStats(running.server->clientIds().value(0));
    QVERIFY(stats);
    QTRY_VERIFY_WITH_TIMEOUT(stats->webSocket()->hasRequest(), kTimeoutMs);
    const WebSocketRequest seen = stats->webSocket()->request();
    QCOMPARE(seen.resource, QStringLiteral("/chat/room?id=7"));
    QCOMPARE(seen.origin, QStringLiteral("http://localhost:8080"));
    QCOMPARE(seen.requestedProtocols, QStringList({"echo.v1", "chat"}));
    QVERIFY(!seen.secure);
    bool custom = false;
    for (const auto &header : seen.headers)
        custom = custom || (header.first.compare("X-Test", Qt::CaseInsensitive) == 0 &&
                            header.second == "yes");
    QVERIFY(custom);
    QCOMPARE(stats->snapshot().webSocketResource, QStringLiteral("/chat/room?id=7"));
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (const auto &arguments : events) {
                const auto event = arguments.at(0).value<TrafficEvent>();
                if (event.kind == TrafficEvent::Kind::WebSocketEstablished)
                    return event.text.contains(QLatin1String("GET /chat/room?id=7")) &&
                           event.text.contains(QLatin1String("origin http://localhost:8080")) &&
                           event.transport == IpProtocol::WebSocket;
            }
            return false;
        }(),
        kTimeoutMs);
}

void tst_WebSocket::pingsAreAnsweredAndCounted()
{
    Running running = startServer(webSocketConfig(2));
    QVERIFY(running.port != 0);
    QtClient client;
    QVERIFY(client.open(urlFor(*running.server)));
    client.socket.ping("one");
    client.socket.ping("two");
    QVERIFY(QTest::qWaitFor([&] { return client.pongs.size() == 2; }, kTimeoutMs));
    QCOMPARE(client.pongs, QList<QByteArray>({"one", "two"}));
    const auto stats = running.server->clientStats(running.server->clientIds().value(0));
    QVERIFY(stats);
    QCOMPARE(stats->snapshot().webSocketPings, 2);
    QCOMPARE(stats->snapshot().messagesIn, 0); // control frames are not messages
}

void tst_WebSocket::closeFrameIsEchoedAndIsTheReason()
{
    Running running = startServer(webSocketConfig(1));
    QVERIFY(running.port != 0);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    WsRawClient client;
    QVERIFY(client.upgrade(running.port == 0 ? 0 : running.server->webSocketPort()));
    client.send(wsCloseFrame(4001, "bye now"));
    QVERIFY(QTest::qWaitFor([&] { return client.closeFrame() || client.closed; }, kTimeoutMs));
    QVERIFY(client.closeFrame());
    QCOMPARE(client.closeFrame()->closeCode(), quint16(4001)); // echoed with the client's code
    DisconnectInfo info;
    QVERIFY(waitForDisconnect(disconnected, &info));
    QCOMPARE(info.reason, DisconnectReason::ClosedByPeer);
    QVERIFY2(info.detail.startsWith(QLatin1String("close frame 4001: \"bye now\"")),
             qPrintable(info.detail));
}

void tst_WebSocket::messageTooBigIsClosedWith1009()
{
    ServerConfig config = webSocketConfig(1);
    config.maxMessageBytes = 1000;
    Running running = startServer(config);
    QVERIFY(running.port != 0);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    WsRawClient client;
    QVERIFY(client.upgrade(running.server->webSocketPort()));
    client.sendBinary(payload(999, 4));                      // under the limit: echoed
    client.send(wsClientFrame(0x2, payload(600, 5), false)); // a message of 1200 in two
    client.send(wsClientFrame(0x0, payload(600, 6), true));
    QVERIFY(QTest::qWaitFor([&] { return client.closeFrame() != nullptr; }, kTimeoutMs));
    QCOMPARE(client.closeFrame()->closeCode(), quint16(1009));
    QCOMPARE(client.messages.size(), 1);
    DisconnectInfo info;
    QVERIFY(waitForDisconnect(disconnected, &info));
    QCOMPARE(info.reason, DisconnectReason::MessageTooLarge);
    QVERIFY2(info.detail.contains(QLatin1String("1009 (message too big)")),
             qPrintable(info.detail));
    QCOMPARE(info.bytesOut, 999);
}

void tst_WebSocket::invalidUtf8IsClosedWith1007()
{
    Running running = startServer(webSocketConfig(1));
    QVERIFY(running.port != 0);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    WsRawClient client;
    QVERIFY(client.upgrade(running.server->webSocketPort()));
    client.send(wsClientFrame(0x1, QByteArray("ok \xff\xfe", 5)));
    QVERIFY(QTest::qWaitFor([&] { return client.closeFrame() != nullptr; }, kTimeoutMs));
    QCOMPARE(client.closeFrame()->closeCode(), quint16(1007));
    DisconnectInfo info;
    QVERIFY(waitForDisconnect(disconnected, &info));
    QCOMPARE(info.reason, DisconnectReason::ProtocolError);
    QVERIFY2(info.detail.contains(QLatin1String("1007")), qPrintable(info.detail));
}

void tst_WebSocket::unmaskedFrameIsClosedWith1002()
{
    Running running = startServer(webSocketConfig(1));
    QVERIFY(running.port != 0);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    WsRawClient client;
    QVERIFY(client.upgrade(running.server->webSocketPort()));
    client.sendBinary(payload(10, 7)); // masked: echoed
    QVERIFY(QTest::qWaitFor([&] { return client.messages.size() == 1; }, kTimeoutMs));
    client.send(wsClientFrame(0x2, payload(10, 8), true, false));
    QVERIFY(QTest::qWaitFor([&] { return client.closeFrame() != nullptr; }, kTimeoutMs));
    QCOMPARE(client.closeFrame()->closeCode(), quint16(1002));
    QCOMPARE(client.messages.size(), 1); // the unmasked one is not echoed
    DisconnectInfo info;
    QVERIFY(waitForDisconnect(disconnected, &info));
    QCOMPARE(info.reason, DisconnectReason::ProtocolError);
    QVERIFY2(info.detail.contains(QLatin1String("not masked")), qPrintable(info.detail));
    QCOMPARE(info.bytesIn, 10);
}

void tst_WebSocket::notAnUpgradeIsRefusedWith426()
{
    Running running = startServer(webSocketConfig(1));
    QVERIFY(running.port != 0);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    WsRawClient client;
    QCOMPARE(client.sendRequest(running.server->webSocketPort(),
                                "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
             426);
    QVERIFY(client.responseHeader.contains("Upgrade: websocket"));
    DisconnectInfo info;
    QVERIFY(waitForDisconnect(disconnected, &info));
    QCOMPARE(info.reason, DisconnectReason::WebSocketHandshakeFailed);
    QVERIFY2(info.detail.contains(QLatin1String("HTTP 426")) &&
                 info.detail.contains(QLatin1String("GET /index.html HTTP/1.1")),
             qPrintable(info.detail));
    QVERIFY(QTest::qWaitFor([&] { return client.closed; }, kTimeoutMs));
    // The TCP port is not a WebSocket port and the WebSocket port serves no plain echo.
    QCOMPARE(running.server->clientCount(), 0);
}

void tst_WebSocket::badUpgradeIsRefusedWith400()
{
    Running running = startServer(webSocketConfig(1));
    QVERIFY(running.port != 0);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    // An upgrade without its key: answered by us (Qt WebSockets would close in silence).
    WsRawClient noKey;
    QCOMPARE(noKey.sendRequest(running.server->webSocketPort(),
                               "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"),
             400);
    DisconnectInfo info;
    QVERIFY(waitForDisconnect(disconnected, &info));
    QCOMPARE(info.reason, DisconnectReason::WebSocketHandshakeFailed);
    QVERIFY2(info.detail.contains(QLatin1String("HTTP 400")) &&
                 info.detail.contains(QLatin1String("Sec-WebSocket-Key")),
             qPrintable(info.detail));
    // A version Qt WebSockets does not speak: its own 400, with the versions it does.
    WsRawClient oldVersion;
    QByteArray request = WsRawClient::upgradeRequest();
    request.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8");
    QCOMPARE(oldVersion.sendRequest(running.server->webSocketPort(), request), 400);
    QVERIFY(oldVersion.responseHeader.contains("Sec-WebSocket-Version: 13"));
    QVERIFY(QTest::qWaitFor([&] { return disconnected.size() == 2; }, kTimeoutMs));
    info = disconnected.constLast().at(1).value<DisconnectInfo>();
    QCOMPARE(info.reason, DisconnectReason::WebSocketHandshakeFailed);
    QVERIFY2(info.detail.contains(QLatin1String("HTTP 400")), qPrintable(info.detail));
}

void tst_WebSocket::originNotAllowedIsRefusedWith403()
{
    ServerConfig config = webSocketConfig(1);
    config.webSocketOrigins = {QStringLiteral("http://good.example")};
    Running running = startServer(config);
    QVERIFY(running.port != 0);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    WsRawClient refused;
    QCOMPARE(
        refused.sendRequest(running.server->webSocketPort(),
                            WsRawClient::upgradeRequest("/", "Origin: http://evil.example\r\n")),
        403);
    DisconnectInfo info;
    QVERIFY(waitForDisconnect(disconnected, &info));
    QCOMPARE(info.reason, DisconnectReason::WebSocketHandshakeFailed);
    QVERIFY2(info.detail.contains(QLatin1String("HTTP 403")) &&
                 info.detail.contains(QLatin1String("http://evil.example")),
             qPrintable(info.detail));

    WsRawClient allowed;
    QCOMPARE(
        allowed.sendRequest(running.server->webSocketPort(),
                            WsRawClient::upgradeRequest("/", "Origin: http://good.example\r\n")),
        101);
}

void tst_WebSocket::handshakeTimeoutIsCounted()
{
    ServerConfig config = webSocketConfig(1);
    config.webSocketHandshakeTimeoutMs = 300;
    Running running = startServer(config);
    QVERIFY(running.port != 0);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    QTcpSocket silent; // connects and never sends its request
    silent.connectToHost(QHostAddress::LocalHost, running.server->webSocketPort());
    QVERIFY(silent.waitForConnected(kTimeoutMs));
    DisconnectInfo info;
    QVERIFY(waitForDisconnect(disconnected, &info));
    QCOMPARE(info.reason, DisconnectReason::WebSocketHandshakeFailed);
    QCOMPARE(info.detail, QStringLiteral("no WebSocket handshake within 0.3 s"));
    QVERIFY(QTest::qWaitFor([&] { return silent.state() == QAbstractSocket::UnconnectedState; },
                            kTimeoutMs));
}

void tst_WebSocket::faultsApply()
{
    // The close code is part of the fault, checked when it is parsed.
    FaultConfig parsed;
    QString error;
    QVERIFY(parsed.parseCloseAfter(u"250:4000", &error));
    QCOMPARE(parsed.closeAfterBytes, 250);
    QCOMPARE(parsed.closeCode, quint16(4000));
    QCOMPARE(parsed.describe(), QStringLiteral("close after 250 bytes (WebSocket code 4000)"));
    QVERIFY(!parsed.parseCloseAfter(u"250:1005", &error)); // reserved: never sent
    QVERIFY(error.contains(QLatin1String("close code")));
    QCOMPARE(parsed.closeCode, quint16(4000)); // left as it was

    // A close after N bytes of echo: the echo stops at a message boundary the client can
    // count, and the close frame carries the fault's code.
    Running running = startServer(webSocketConfig(1));
    QVERIFY(running.port != 0);
    QVERIFY(running.server->setDefaultFaults(parsed));
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);
    WsRawClient client;
    QVERIFY(client.upgrade(running.server->webSocketPort()));
    for (int i = 0; i < 5; ++i)
        client.sendBinary(payload(100, quint32(10 + i)));
    DisconnectInfo info;
    QVERIFY(waitForDisconnect(disconnected, &info));
    QCOMPARE(info.reason, DisconnectReason::FaultClose);
    QCOMPARE(info.bytesOut, 250);
    QVERIFY(QTest::qWaitFor([&] { return client.closed; }, kTimeoutMs));
    // Whole messages only: two were echoed; the third's 50 bytes were taken but its
    // message never completed, so it was not sent.
    QCOMPARE(client.messages.size(), 2);
    QVERIFY(client.closeFrame());
    QCOMPARE(client.closeFrame()->closeCode(), quint16(4000));
}

// Backpressure: a client that sends and never reads. The server pauses it (stops reading:
// the gate, then the kernel's window) instead of queueing its echo without bound.
void tst_WebSocket::clientThatDoesNotReadIsPaused_data()
{
    addThreadRows();
}

void tst_WebSocket::clientThatDoesNotReadIsPaused()
{
    QFETCH(int, threads);
    Running running = startServer(webSocketConfig(threads));
    QVERIFY(running.port != 0);
    WsRawClient client;
    QVERIFY(client.upgrade(running.server->webSocketPort()));
    client.stopReading(16 * 1024);
    for (int i = 0; i < 16; ++i)
        client.sendBinary(payload(1024 * 1024, quint32(20 + i)));
    const auto stats = running.server->clientStats(running.server->clientIds().value(0));
    QVERIFY(stats);
    QVERIFY2(QTest::qWaitFor([&] { return stats->state() == ClientState::Paused; }, kTimeoutMs),
             qPrintable(QStringLiteral("state %1, in %2, out %3, unsent %4")
                            .arg(int(stats->state()))
                            .arg(stats->bytesIn())
                            .arg(stats->bytesOut())
                            .arg(stats->snapshot().unsentBytes)));
    // Bounded: what it read is what it echoed plus at most the high-water mark and a message.
    const ClientSnapshot paused = stats->snapshot();
    QVERIFY(paused.bytesIn < 16 * 1024 * 1024);
    QVERIFY(paused.unsentBytes <= ServerConfig::kDefaultHighWaterBytes + 1024 * 1024);
}

void tst_WebSocket::secureWebSocket()
{
    if (!m_noTls.isEmpty())
        QSKIP(qPrintable(m_noTls));
    ServerConfig config = webSocketConfig(2);
    config.tlsCertificateFile = m_certificate;
    config.tlsKeyFile = m_key;
    Running running = startServer(config);
    QVERIFY(running.port != 0);
    QCOMPARE(running.server->webSocketScheme(), QStringLiteral("wss"));
    QSignalSpy events(running.server.get(), &EchoServer::eventOccurred);
    QtClient client;
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setCaCertificates({m_authority});
    client.socket.setSslConfiguration(tls);
    // 127.0.0.1, not "localhost": a minimal system may have no hosts entry for it (the
    // fresh-machine CI phase has none); the certificate names the address too.
    QVERIFY(client.open(
        QUrl(QStringLiteral("wss://127.0.0.1:%1/secure").arg(running.server->webSocketPort()))));
    const QByteArray message = payload(70 * 1024, 9);
    client.socket.sendBinaryMessage(message);
    client.socket.sendTextMessage(QStringLiteral("text over TLS"));
    QVERIFY(QTest::qWaitFor([&] { return client.binaries.size() == 1 && client.texts.size() == 1; },
                            kTimeoutMs));
    QCOMPARE(client.binaries.constFirst(), message);
    QCOMPARE(client.texts.constFirst(), QStringLiteral("text over TLS"));
    const auto stats = running.server->clientStats(running.server->clientIds().value(0));
    QVERIFY(stats);
    const ClientSnapshot snapshot = stats->snapshot();
    QVERIFY(!snapshot.tlsProtocol.isEmpty());
    QVERIFY(stats->webSocket()->request().secure);
    QCOMPARE(snapshot.webSocketResource, QStringLiteral("/secure"));
    bool tlsEvent = false;
    bool webSocketEvent = false;
    for (const auto &arguments : events) {
        const auto kind = arguments.at(0).value<TrafficEvent>().kind;
        tlsEvent = tlsEvent || kind == TrafficEvent::Kind::TlsEstablished;
        webSocketEvent = webSocketEvent || kind == TrafficEvent::Kind::WebSocketEstablished;
    }
    QVERIFY(tlsEvent && webSocketEvent);
}

// A client not written for Echoscope: Debian's python3-websockets.
void tst_WebSocket::pythonWebSocketsClient()
{
    const QString python = QStringLiteral("/usr/bin/python3");
    QProcess check;
    check.start(python, {QStringLiteral("-c"), QStringLiteral("import websockets")});
    if (!check.waitForFinished(kTimeoutMs) || check.exitCode() != 0)
        QSKIP("python3-websockets is not installed: apt-get install python3-websockets");
    Running running = startServer(webSocketConfig(2));
    QVERIFY(running.port != 0);
    const QString script = QStringLiteral(R"(
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1]) as ws:
        await ws.send("hello from python")
        assert await ws.recv() == "hello from python"
        data = bytes(range(256)) * 1000
        await ws.send(data)
        assert await ws.recv() == data
        await ws.send(b"")
        assert await ws.recv() == b""
        await asyncio.wait_for(await ws.ping(b"p"), 10)
asyncio.run(main())
print("ok")
)");
    QProcess client;
    client.start(python, {QStringLiteral("-c"), script,
                          urlFor(*running.server, QStringLiteral("/py")).toString()});
    // The event loop runs meanwhile: the server accepts in this thread.
    QVERIFY(QTest::qWaitFor([&] { return client.state() == QProcess::NotRunning; }, kTimeoutMs));
    QVERIFY2(client.exitCode() == 0 && client.readAllStandardOutput().trimmed() == "ok",
             qPrintable(QString::fromLocal8Bit(client.readAllStandardError())));
    QTRY_COMPARE_WITH_TIMEOUT(running.server->totals().messagesOut, 3, kTimeoutMs);
    QCOMPARE(running.server->totals().bytesIn, qint64(17 + 256000));
}

void tst_WebSocket::listenFailureNamesThePort()
{
    Running first = startServer(webSocketConfig(1));
    QVERIFY(first.port != 0);
    ServerConfig config = webSocketConfig(1);
    config.webSocketPort = first.server->webSocketPort(); // taken
    EchoServer second;
    QVERIFY(!second.start(config));
    QCOMPARE(second.error(), EchoServer::Error::ListenFailed);
    QVERIFY2(second.errorString().startsWith(QStringLiteral("cannot listen for WebSocket on "
                                                            "127.0.0.1 port %1: ")
                                                 .arg(config.webSocketPort)),
             qPrintable(second.errorString()));
    QVERIFY(!second.isListening());
}

QTEST_MAIN(tst_WebSocket)
#include "tst_websocket.moc"
