// The control API (api/controlapi.h) of a real server with real TCP and WebSocket clients,
// driven with QNetworkAccessManager: status codes, JSON shapes, and that a kick or a fault
// set through it really acts on the client.

#include "controlapi.h"
#include "controljson.h"
#include "faultconfig.h"
#include "pcapngwriter.h"
#include "echoserver.h"
#include "echotestsupport.h"
#include "serverconfig.h"
#include "trafficevent.h"
#include "tsharksupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkDatagram>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QRegularExpression>
#include <QSemaphore>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUdpSocket>
#include <QTimer>
#include <QUrlQuery>
#include <QWebSocket>

#include <functional>
#include <memory>

using namespace Echoscope;
using namespace EchoTest;

namespace {

const QByteArray kToken = "test-token-0123456789";

struct Response
{
    int status = 0;
    QByteArray body;
    QJsonObject json;
    QByteArray contentType;
    QByteArray connection; // the Connection header
    bool finished = false;
};

// Each request on its own manager, so that a long poll does not hold up the next request.
Response send(const QUrl &url, const QByteArray &verb, const QByteArray &body = {},
              const QByteArray &token = {}, const QByteArray &scheme = "Bearer")
{
    QNetworkAccessManager manager;
    QNetworkRequest request(url);
    if (!token.isEmpty())
        request.setRawHeader("Authorization", scheme + ' ' + token);
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    std::unique_ptr<QNetworkReply> reply(manager.sendCustomRequest(request, verb, body));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    Response response;
    if (!reply->isFinished() && !finished.wait(kTimeoutMs))
        return response;
    response.finished = true;
    response.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    response.contentType = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
    response.connection = reply->rawHeader("Connection");
    response.body = reply->readAll();
    response.json = QJsonDocument::fromJson(response.body).object();
    return response;
}

// The server, the API on port 0 and a way to ask it.
struct Fixture
{
    std::unique_ptr<EchoServer> server = std::make_unique<EchoServer>();
    std::unique_ptr<ControlApi> api = std::make_unique<ControlApi>(server.get());
    quint16 port = 0;

    bool start(ServerConfig config = testConfig(2))
    {
        if (!server->start(config))
            return false;
        port = server->serverPort();
        return api->start(QStringLiteral("127.0.0.1"), 0, QString::fromLatin1(kToken));
    }
    QUrl url(const QString &path, const QString &query = QString()) const
    {
        QUrl url = api->url();
        url.setPath(url.path() + path);
        if (!query.isEmpty())
            url.setQuery(query);
        return url;
    }
    Response get(const QString &path, const QString &query = QString()) const
    {
        return send(url(path, query), "GET");
    }
    // A change (PUT, DELETE, ...) with the token, or with `token`.
    Response change(const QByteArray &verb, const QString &path, const QByteArray &body = {},
                    const QByteArray &token = kToken) const
    {
        return send(url(path), verb, body, token);
    }
    // A client that is connected, and its id.
    quint64 connect(TestClient *client)
    {
        QSignalSpy connected(server.get(), &EchoServer::clientConnected);
        if (!client->connectTo(QHostAddress::LocalHost, port))
            return 0;
        if (!connected.wait(kTimeoutMs))
            return 0;
        return connected.at(0).at(0).value<quint64>();
    }
    // Starts capturing `captureBytes` of each client; `client` connects and sends `sent`,
    // and has as many bytes back: the client's id (0 if any of that failed).
    quint64 startWithEcho(TestClient *client, const QByteArray &sent, int threads = 2,
                          qint64 captureBytes = 4096)
    {
        ServerConfig config = testConfig(threads);
        config.captureBytesPerClient = captureBytes;
        if (!start(config))
            return 0;
        const quint64 id = connect(client);
        if (id == 0)
            return 0;
        client->socket.write(sent);
        const bool echoed =
            QTest::qWaitFor([&] { return client->received.size() >= sent.size(); }, kTimeoutMs);
        return echoed ? id : 0;
    }
};

// Holds the worker thread of one client inside a call (a direct slot of its
// bytesReceived) until release(): what is sent to that worker meanwhile waits in its queue.
class WorkerHold
{
public:
    // Blocks the worker of `client`, which must be connected to `server`, with one byte.
    bool hold(EchoServer *server, TestClient *client)
    {
        m_connection = QObject::connect(
            server, &EchoServer::bytesReceived, server,
            [this](quint64, qint64) {
                m_entered.release();
                m_released.tryAcquire(1, kTimeoutMs); // bounded, even if the test fails
            },
            Qt::DirectConnection);
        client->socket.write("h");
        client->socket.flush(); // no event loop runs while this waits
        return m_entered.tryAcquire(1, kTimeoutMs);
    }
    void release()
    {
        QObject::disconnect(m_connection);
        m_released.release();
    }
    ~WorkerHold() { release(); }

private:
    QMetaObject::Connection m_connection;
    QSemaphore m_entered;
    QSemaphore m_released;
};

// A request sent without waiting for its answer.
std::unique_ptr<QNetworkReply> sendAsync(QNetworkAccessManager *manager, const QUrl &url,
                                         const QByteArray &verb, const QByteArray &body = {})
{
    QNetworkRequest request(url);
    request.setRawHeader("Authorization", "Bearer " + kToken);
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    return std::unique_ptr<QNetworkReply>(manager->sendCustomRequest(request, verb, body));
}

int statusOf(const QNetworkReply &reply)
{
    return reply.attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

QString idPath(quint64 id, const QString &tail = QString())
{
    return QStringLiteral("/clients/%1%2").arg(id).arg(tail);
}

// A server and its API with one connected client whose worker is held busy (WorkerHold):
// changes sent meanwhile wait at that worker, and their answers with them.
struct BusyWorkerFixture : Fixture
{
    TestClient client;
    quint64 id = 0;
    WorkerHold hold;
    QNetworkAccessManager manager;

    // Started, the client connected, and its worker held: false if any of that failed.
    bool start()
    {
        if (!Fixture::start())
            return false;
        id = connect(&client);
        return id != 0 && hold.hold(server.get(), &client);
    }
    // A change sent without waiting for its answer, once the API has it among its pending
    // changes (null if it did not come there in time).
    std::unique_ptr<QNetworkReply> queue(const QByteArray &verb, const QString &path,
                                         const QByteArray &body = {})
    {
        const int before = api->pendingChanges();
        auto reply = sendAsync(&manager, url(path), verb, body);
        const bool pending =
            QTest::qWaitFor([&] { return api->pendingChanges() == before + 1; }, kTimeoutMs);
        if (!pending)
            qWarning() << verb << path << "did not wait:" << api->pendingChanges()
                       << "pending changes, finished:" << reply->isFinished();
        return pending ? std::move(reply) : nullptr;
    }
};

// An HTTP client written by hand on a socket of its own: what it sent, what it read.
struct RawClient
{
    QTcpSocket socket;
    QByteArray received;
    qint64 sent = 0;

    bool connectTo(quint16 port)
    {
        QObject::connect(&socket, &QTcpSocket::readyRead, &socket, [this] {
            if (socket.isReadable())
                received += socket.readAll();
        });
        socket.connectToHost(QHostAddress::LocalHost, port);
        return socket.waitForConnected(kTimeoutMs);
    }
    void send(const QByteArray &bytes) { sent += socket.write(bytes); }
    bool closed() const { return socket.state() == QAbstractSocket::UnconnectedState; }
};

QByteArray rawRequest(const QByteArray &verb, const QByteArray &path,
                      const QByteArray &headers = {})
{
    return verb + " /api/v1" + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n";
}

} // namespace

class tst_ControlApi : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void listensOnPortZeroAndNamesAFailedListen();
    void serverDescribesItself();
    void listsAndFiltersClients();
    void describesAClientAndItsCapture();
    void captureAsPcapng();
    void describesAWebSocketClient();
    void kickNeedsTheToken();
    void bearerSchemeIsCaseInsensitive();
    void kickDisconnectsTheClient();
    void everyFaultFieldNamesItself();
    void eventsSincePastTheNewestIsClamped();
    void clientFaultChangesTheEcho();
    void defaultFaultsApplyToNewClientsAndClear();
    void newFaultFieldsRoundTrip();
    void udpPeerFaults();
    void faultsThatDoNotApplyToTheTransport();
    void refusesBadFaultBodies_data();
    void refusesBadFaultBodies();
    void unknownClientsAndEndpoints();
    void oversizedBodyIsAnswered413();
    void pipelinedRequestsAreCountedOnce();
    void connectionLimitAnswers503();
    void slowBodyIsCutAtItsDeadline();
    void concurrentChangesToOneClient();
    void changesWhileStopped();
    void getRightAfterAChangeShowsIt();
    void changeWaitsForTheWorker();
    void changeToAClientThatLeavesMeanwhileIs404();
    void changeRacingAStopIsAnswered();
    void eventsLongPollWakesOnANewEvent();
    void requestBehindAWaitingPollClosesTheConnection();
    void unreadAnswersAreBounded();
    void eventsPollTimesOutEmpty();
    void headlessPrintsTheControlLine();
    void ctlCommandDrivesTheApi();
    void ctlCapturesPcapng();
    void curlDrivesTheApi();
};

void tst_ControlApi::initTestCase()
{
    qRegisterMetaType<TrafficEvent>();
    qRegisterMetaType<DisconnectInfo>();
}

void tst_ControlApi::listensOnPortZeroAndNamesAFailedListen()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    QVERIFY(fixture.api->isListening());
    QVERIFY(fixture.api->serverPort() != 0);
    QCOMPARE(fixture.api->url().toString(),
             QStringLiteral("http://127.0.0.1:%1/api/v1").arg(fixture.api->serverPort()));

    // The same port again: refused, with the address, the port and the OS's reason.
    EchoServer other;
    ControlApi second(&other);
    QVERIFY(
        !second.start(QStringLiteral("127.0.0.1"), fixture.api->serverPort(), QStringLiteral("t")));
    QVERIFY(!second.isListening());
    QVERIFY2(second.errorString().contains(QLatin1String("127.0.0.1")),
             qPrintable(second.errorString()));
    QVERIFY2(second.errorString().contains(QString::number(fixture.api->serverPort())),
             qPrintable(second.errorString()));
    QVERIFY2(second.errorString().contains(QLatin1String("address"), Qt::CaseInsensitive),
             qPrintable(second.errorString())); // "The bound address is already in use"
    QVERIFY(!second.start(QStringLiteral("not-an-address"), 0, QStringLiteral("t")));
    QVERIFY(!second.start(QStringLiteral("127.0.0.1"), 0, QString())); // no token: refused
}

void tst_ControlApi::serverDescribesItself()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    const Response response = fixture.get(QStringLiteral("/server"));
    QVERIFY(response.finished);
    QCOMPARE(response.status, 200);
    QCOMPARE(response.contentType, QByteArray("application/json"));
    QCOMPARE(response.json.value(QStringLiteral("state")).toString(), QStringLiteral("listening"));
    const QJsonObject tcp = response.json.value(QStringLiteral("listeners"))
                                .toObject()
                                .value(QStringLiteral("tcp"))
                                .toObject();
    QCOMPARE(tcp.value(QStringLiteral("port")).toInt(), int(fixture.port));
    QCOMPARE(response.json.value(QStringLiteral("config"))
                 .toObject()
                 .value(QStringLiteral("threads"))
                 .toInt(),
             2);
    QVERIFY(response.json.value(QStringLiteral("totals")).isObject());
    QVERIFY(response.json.value(QStringLiteral("default_faults")).isObject());

    fixture.server->stop(); // the API answers while the server is stopped
    const Response stopped = fixture.get(QStringLiteral("/server"));
    QCOMPARE(stopped.status, 200);
    QCOMPARE(stopped.json.value(QStringLiteral("state")).toString(), QStringLiteral("stopped"));
    QCOMPARE(fixture.get(QStringLiteral("/clients"))
                 .json.value(QStringLiteral("clients"))
                 .toArray()
                 .size(),
             0);
    QCOMPARE(fixture.change("POST", QStringLiteral("/server")).status, 405);
}

void tst_ControlApi::listsAndFiltersClients()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    TestClient first, second;
    const quint64 firstId = fixture.connect(&first);
    const quint64 secondId = fixture.connect(&second);
    QVERIFY(firstId != 0 && secondId != 0);

    const Response all = fixture.get(QStringLiteral("/clients"));
    QCOMPARE(all.status, 200);
    const QJsonArray clients = all.json.value(QStringLiteral("clients")).toArray();
    QCOMPARE(clients.size(), 2);
    QCOMPARE(quint64(clients.at(0).toObject().value(QStringLiteral("id")).toDouble()), firstId);
    QCOMPARE(clients.at(0).toObject().value(QStringLiteral("protocol")).toString(),
             QStringLiteral("tcp"));
    QCOMPARE(clients.at(0).toObject().value(QStringLiteral("peer_port")).toInt(),
             int(first.socket.localPort()));
    // The faults: the same object as in the client's detail, and in words beside it.
    const QJsonObject listed = clients.at(0).toObject();
    QVERIFY(listed.value(QStringLiteral("faults")).isObject());
    QCOMPARE(listed.value(QStringLiteral("faults")),
             fixture.get(idPath(firstId)).json.value(QStringLiteral("faults")));
    QCOMPARE(listed.value(QStringLiteral("faults_description")).toString(),
             FaultConfig().describe());

    const auto count = [&](const QString &query) {
        const Response response = fixture.get(QStringLiteral("/clients"), query);
        return response.status == 200
                   ? int(response.json.value(QStringLiteral("clients")).toArray().size())
                   : -response.status;
    };
    QCOMPARE(count(QStringLiteral("protocol=tcp")), 2);
    QCOMPARE(count(QStringLiteral("protocol=udp")), 0);
    QCOMPARE(count(QStringLiteral("state=connected")), 2);
    QCOMPARE(count(QStringLiteral("state=paused")), 0);
    QCOMPARE(count(QStringLiteral("peer=127.0.0.1")), 2);
    QCOMPARE(count(QStringLiteral("peer=10.1.2.3")), 0);
    QCOMPARE(count(QStringLiteral("peer=127.0.0.1:%1").arg(second.socket.localPort())), 1);

    const Response badState =
        fixture.get(QStringLiteral("/clients"), QStringLiteral("state=asleep"));
    QCOMPARE(badState.status, 400);
    QCOMPARE(badState.json.value(QStringLiteral("field")).toString(), QStringLiteral("state"));
    const Response badParameter =
        fixture.get(QStringLiteral("/clients"), QStringLiteral("colour=red"));
    QCOMPARE(badParameter.status, 400);
    QCOMPARE(badParameter.json.value(QStringLiteral("field")).toString(), QStringLiteral("colour"));
}

void tst_ControlApi::describesAClientAndItsCapture()
{
    Fixture fixture;
    TestClient client;
    const QByteArray sent = payload(300, 7); // NUL, 0xFF, invalid UTF-8: base64 carries them
    const quint64 id = fixture.startWithEcho(&client, sent);
    QVERIFY(id != 0);
    QCOMPARE(client.received, sent);

    const Response detail = fixture.get(idPath(id));
    QCOMPARE(detail.status, 200);
    QCOMPARE(quint64(detail.json.value(QStringLiteral("id")).toDouble()), id);
    QCOMPARE(detail.json.value(QStringLiteral("bytes_in")).toInteger(), 300);
    QTRY_COMPARE_WITH_TIMEOUT(
        fixture.get(idPath(id)).json.value(QStringLiteral("bytes_out")).toInteger(), 300,
        kTimeoutMs);
    const QJsonObject histogram = detail.json.value(QStringLiteral("histogram")).toObject();
    QVERIFY(histogram.value(QStringLiteral("messages")).toInteger() >= 1);
    QVERIFY(detail.json.value(QStringLiteral("faults")).isObject());
    QCOMPARE(detail.json.value(QStringLiteral("faults_own")).toBool(), false);
    QVERIFY(detail.json.value(QStringLiteral("tls")).isNull());
    QVERIFY(detail.json.value(QStringLiteral("websocket")).isNull());

    const Response capture = fixture.get(idPath(id, QStringLiteral("/capture")));
    QCOMPARE(capture.status, 200);
    QByteArray received, echoed;
    for (const QJsonValue &value : capture.json.value(QStringLiteral("chunks")).toArray()) {
        const QJsonObject chunk = value.toObject();
        const QByteArray bytes =
            QByteArray::fromBase64(chunk.value(QStringLiteral("base64")).toString().toLatin1());
        QCOMPARE(chunk.value(QStringLiteral("size")).toInt(), int(bytes.size()));
        (chunk.value(QStringLiteral("direction")).toString() == QLatin1String("received")
             ? received
             : echoed) += bytes;
    }
    QCOMPARE(received, sent);
    QCOMPARE(echoed, sent);
    QCOMPARE(capture.json.value(QStringLiteral("received_bytes")).toInteger(), 300);
}

// ?format=pcapng: the capture as the pcapng file PcapngExport writes (tst_pcapng reads
// those back with tshark), as a download; another format is refused, naming the field.
void tst_ControlApi::captureAsPcapng()
{
    Fixture fixture;
    TestClient client;
    const QByteArray sent = payload(300, 8);
    const quint64 id = fixture.startWithEcho(&client, sent);
    QVERIFY(id != 0);
    QCOMPARE(client.received, sent);
    const auto stats = fixture.server->clientStats(id);
    QVERIFY(stats);
    // The echo's capture may trail the bytes the client already has.
    QTRY_COMPARE_WITH_TIMEOUT(stats->capture()->snapshot().echoedBytes, qint64(300), kTimeoutMs);

    const Response file =
        fixture.get(idPath(id, QStringLiteral("/capture")), QStringLiteral("format=pcapng"));
    QCOMPARE(file.status, 200);
    QCOMPARE(file.contentType, QByteArray("application/x-pcapng"));
    QVERIFY(file.body.startsWith(QByteArray::fromHex("0a0d0d0a")));
    QCOMPARE(file.body, PcapngExport::fromClient(*stats).toBytes());
    // The bytes both ways, each in one segment after its headers.
    QVERIFY(file.body.indexOf(sent) > 0);
    QVERIFY(file.body.indexOf(sent, file.body.indexOf(sent) + 1) > 0);

    const Response json =
        fixture.get(idPath(id, QStringLiteral("/capture")), QStringLiteral("format=json"));
    QCOMPARE(json.status, 200);
    QCOMPARE(json.json.value(QStringLiteral("received_bytes")).toInteger(), 300);
    const Response bad =
        fixture.get(idPath(id, QStringLiteral("/capture")), QStringLiteral("format=pcap"));
    QCOMPARE(bad.status, 400);
    QCOMPARE(bad.json.value(QStringLiteral("field")).toString(), QStringLiteral("format"));
    QCOMPARE(
        fixture.get(idPath(id + 1000, QStringLiteral("/capture")), QStringLiteral("format=pcapng"))
            .status,
        404);
}

void tst_ControlApi::describesAWebSocketClient()
{
    Fixture fixture;
    ServerConfig config = testConfig(2);
    config.webSocketEcho = true;
    config.webSocketPort = 0;
    QVERIFY(fixture.start(config));
    QWebSocket ws;
    QSignalSpy connected(&ws, &QWebSocket::connected);
    QSignalSpy echoed(&ws, &QWebSocket::textMessageReceived);
    ws.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/chat").arg(fixture.server->webSocketPort())));
    QVERIFY(connected.wait(kTimeoutMs));
    ws.sendTextMessage(QStringLiteral("hello"));
    QVERIFY(echoed.wait(kTimeoutMs));

    const Response list = fixture.get(QStringLiteral("/clients"), QStringLiteral("protocol=ws"));
    QCOMPARE(list.status, 200);
    const QJsonArray clients = list.json.value(QStringLiteral("clients")).toArray();
    QCOMPARE(clients.size(), 1);
    const quint64 id = quint64(clients.at(0).toObject().value(QStringLiteral("id")).toDouble());
    const Response detail = fixture.get(idPath(id));
    QCOMPARE(detail.status, 200);
    const QJsonObject webSocket = detail.json.value(QStringLiteral("websocket")).toObject();
    QCOMPARE(webSocket.value(QStringLiteral("resource")).toString(), QStringLiteral("/chat"));
    QVERIFY(webSocket.value(QStringLiteral("frames_received")).toInteger() >= 1);
    ws.close();
}

void tst_ControlApi::kickNeedsTheToken()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    TestClient client;
    const quint64 id = fixture.connect(&client);
    QVERIFY(id != 0);
    QSignalSpy disconnected(fixture.server.get(), &EchoServer::clientDisconnected);

    // The same length, one bit off: the constant-time compare refuses it too.
    QByteArray sameLength = kToken;
    sameLength[sameLength.size() / 2] = char(sameLength[sameLength.size() / 2] ^ 1);
    QSignalSpy events(fixture.server.get(), &EchoServer::eventOccurred);
    for (const QByteArray &token : {QByteArray(), QByteArray("wrong"), kToken + "x", sameLength}) {
        const Response response = send(fixture.url(idPath(id)), "DELETE", {}, token);
        QCOMPARE(response.status, 401);
        QVERIFY(response.json.value(QStringLiteral("error"))
                    .toString()
                    .contains(QLatin1String("Bearer")));
    }
    for (const QString &path : {QStringLiteral("/faults"), idPath(id, QStringLiteral("/faults"))}) {
        QCOMPARE(send(fixture.url(path), "PUT", R"({"close_after_bytes": 0})", "wrong").status,
                 401);
        QCOMPARE(send(fixture.url(path), "DELETE").status, 401);
    }
    // Nothing changed: still connected, still echoing, no faults.
    client.socket.write("still here");
    QTRY_COMPARE_WITH_TIMEOUT(client.received, QByteArray("still here"), kTimeoutMs);
    QCOMPARE(disconnected.count(), 0);
    QVERIFY(fixture.server->defaultFaults().isEmpty());
    QVERIFY(fixture.server->clientStats(id)->faults().isEmpty());
    // The refusals are logged (a line a second at most, with their count), without a token.
    const auto refusalLines = [&] {
        QStringList lines;
        for (const QList<QVariant> &args : events) {
            const auto event = args.at(0).value<TrafficEvent>();
            if (event.kind == TrafficEvent::Kind::Warning &&
                event.text.startsWith(QLatin1String("control API: ")))
                lines.append(event.text);
        }
        return lines;
    };
    QTRY_VERIFY_WITH_TIMEOUT(!refusalLines().isEmpty(), kTimeoutMs);
    QVERIFY2(refusalLines().constFirst().contains(QLatin1String("refused without the right token")),
             qPrintable(refusalLines().constFirst()));
    QTRY_COMPARE_WITH_TIMEOUT(
        [&] {
            int refused = 0;
            static const QRegularExpression count(QStringLiteral("(\\d+) changes? refused"));
            for (const QString &line : refusalLines())
                refused += count.match(line).captured(1).toInt();
            return refused;
        }(),
        8, kTimeoutMs);
    for (const QString &line : refusalLines()) {
        QVERIFY2(!line.contains(QString::fromLatin1(kToken.left(8))), qPrintable(line));
        QVERIFY2(line.contains(QLatin1String("127.0.0.1:")), qPrintable(line));
    }
}

// RFC 7235: the scheme's name is case-insensitive.
void tst_ControlApi::bearerSchemeIsCaseInsensitive()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    for (const QByteArray &scheme : {QByteArray("bearer"), QByteArray("BEARER")}) {
        QCOMPARE(send(fixture.url(QStringLiteral("/faults")), "PUT", R"({"delay_ms": 2})", kToken,
                      scheme)
                     .status,
                 200);
    }
    QCOMPARE(fixture.server->defaultFaults().delayMs, 2);
    QCOMPARE(send(fixture.url(QStringLiteral("/faults")), "DELETE", {}, kToken, "Basic").status,
             401);
}

void tst_ControlApi::kickDisconnectsTheClient()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    TestClient victim, bystander;
    const quint64 id = fixture.connect(&victim);
    QVERIFY(id != 0 && fixture.connect(&bystander) != 0);
    QSignalSpy disconnected(fixture.server.get(), &EchoServer::clientDisconnected);

    const Response response = fixture.change("DELETE", idPath(id));
    QCOMPARE(response.status, 200); // answered once kicked
    QCOMPARE(response.json.value(QStringLiteral("kicked")).toBool(), true);
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.count(), 1, kTimeoutMs);
    QCOMPARE(disconnected.at(0).at(0).value<quint64>(), id);
    QCOMPARE(disconnected.at(0).at(1).value<DisconnectInfo>().reason, DisconnectReason::Kicked);
    QTRY_VERIFY_WITH_TIMEOUT(victim.closed, kTimeoutMs);

    // In the event log as "disconnected" with the reason "kicked".
    const Response events = fixture.get(QStringLiteral("/events"), QStringLiteral("timeout_ms=0"));
    bool found = false;
    for (const QJsonValue &value : events.json.value(QStringLiteral("events")).toArray()) {
        const QJsonObject event = value.toObject();
        found |=
            event.value(QStringLiteral("event")).toString() == QLatin1String("disconnected") &&
            quint64(event.value(QStringLiteral("client")).toDouble()) == id &&
            event.value(QStringLiteral("reason")).toString() == QLatin1String("kicked") &&
            event.value(QStringLiteral("detail")).toString() == QLatin1String("by the control API");
    }
    QVERIFY2(found, events.body.constData());
    QCOMPARE(fixture.change("DELETE", idPath(id)).status, 404); // gone
    bystander.socket.write("unaffected");
    QTRY_COMPARE_WITH_TIMEOUT(bystander.received, QByteArray("unaffected"), kTimeoutMs);
}

void tst_ControlApi::clientFaultChangesTheEcho()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    TestClient client, other;
    const quint64 id = fixture.connect(&client);
    QVERIFY(id != 0 && fixture.connect(&other) != 0);
    QSignalSpy events(fixture.server.get(), &EchoServer::eventOccurred);
    QSignalSpy disconnected(fixture.server.get(), &EchoServer::clientDisconnected);

    const Response response =
        fixture.change("PUT", idPath(id, QStringLiteral("/faults")), R"({"close_after_bytes": 5})");
    QCOMPARE(response.status, 200);
    QCOMPARE(response.json.value(QStringLiteral("faults"))
                 .toObject()
                 .value(QStringLiteral("close_after_bytes"))
                 .toInteger(),
             5);
    // Applied in the client's worker: its fault event says when.
    QTRY_VERIFY_WITH_TIMEOUT(std::any_of(events.cbegin(), events.cend(),
                                         [id](const QList<QVariant> &args) {
                                             const auto event = args.at(0).value<TrafficEvent>();
                                             return event.kind ==
                                                        TrafficEvent::Kind::FaultInjected &&
                                                    event.clientId == id;
                                         }),
                             kTimeoutMs);
    const Response detail = fixture.get(idPath(id, QStringLiteral("/faults")));
    QCOMPARE(detail.json.value(QStringLiteral("faults_own")).toBool(), true);

    const QByteArray sent = "0123456789AB"; // 12 bytes; the echo stops after exactly 5
    client.socket.write(sent);
    QTRY_VERIFY_WITH_TIMEOUT(client.closed, kTimeoutMs);
    QCOMPARE(client.received, sent.left(5));
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.count(), 1, kTimeoutMs);
    QCOMPARE(disconnected.at(0).at(1).value<DisconnectInfo>().reason, DisconnectReason::FaultClose);

    other.socket.write(sent); // the other client has no faults
    QTRY_COMPARE_WITH_TIMEOUT(other.received, sent, kTimeoutMs);
}

// The faults toxiproxy and netem have: every field in, the same out, with its unit.
void tst_ControlApi::newFaultFieldsRoundTrip()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    const QByteArray body = R"({"blackhole": true, "timeout_ms": 0, "slow_close_ms": 250,
        "delay_ms": 5, "toxicity": 0.5, "udp_loss": 0.1, "udp_duplicate": 0.2,
        "udp_reorder": 0.3, "udp_corrupt": 0.4, "seed": 9})";
    QCOMPARE(send(fixture.url(QStringLiteral("/faults")), "PUT", body, kToken).status, 200);
    const FaultConfig set = fixture.server->defaultFaults();
    QVERIFY(set.blackhole);
    QCOMPARE(set.timeoutMs, 0);
    QCOMPARE(set.slowCloseMs, 250);
    QCOMPARE(set.toxicity, 0.5);
    QCOMPARE(set.udpLoss, 0.1);
    QCOMPARE(set.udpDuplicate, 0.2);
    QCOMPARE(set.udpReorder, 0.3);
    QCOMPARE(set.udpCorrupt, 0.4);
    const QJsonObject got =
        fixture.get(QStringLiteral("/faults")).json.value(QStringLiteral("faults")).toObject();
    QCOMPARE(got.value(QStringLiteral("blackhole")).toBool(), true);
    QCOMPARE(got.value(QStringLiteral("timeout_ms")).toInt(-1), 0);
    QCOMPARE(got.value(QStringLiteral("slow_close_ms")).toInt(), 250);
    QCOMPARE(got.value(QStringLiteral("toxicity")).toDouble(), 0.5);
    QCOMPARE(got.value(QStringLiteral("udp_loss")).toDouble(), 0.1);
    QCOMPARE(got.value(QStringLiteral("udp_duplicate")).toDouble(), 0.2);
    QCOMPARE(got.value(QStringLiteral("udp_reorder")).toDouble(), 0.3);
    QCOMPARE(got.value(QStringLiteral("udp_corrupt")).toDouble(), 0.4);
    QCOMPARE(got.value(QStringLiteral("description")).toString(), set.describe());
    // What GET answers may be sent back as it is; null turns the timeout off.
    QJsonObject back = got;
    back.insert(QStringLiteral("timeout_ms"), QJsonValue());
    QCOMPARE(send(fixture.url(QStringLiteral("/faults")), "PUT",
                  QJsonDocument(back).toJson(QJsonDocument::Compact), kToken)
                 .status,
             200);
    QCOMPARE(fixture.server->defaultFaults().timeoutMs, -1);
    QVERIFY(fixture.get(QStringLiteral("/faults"))
                .json.value(QStringLiteral("faults"))
                .toObject()
                .value(QStringLiteral("timeout_ms"))
                .isNull());
}

// A UDP peer takes faults of its own through the API like any client; they act on
// its datagrams (duplicate: each echo twice).
void tst_ControlApi::udpPeerFaults()
{
    ServerConfig config = testConfig(1);
    config.udpEcho = true;
    config.udpPort = 0;
    Fixture fixture;
    QVERIFY(fixture.start(config));
    QSignalSpy connected(fixture.server.get(), &EchoServer::clientConnected);
    QUdpSocket peer;
    QVERIFY(peer.bind(QHostAddress(QHostAddress::LocalHost), 0));
    const QHostAddress local(QHostAddress::LocalHost);
    QCOMPARE(peer.writeDatagram("one", local, fixture.server->udpPort()), 3);
    QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 1, kTimeoutMs);
    const quint64 id = connected.at(0).at(0).value<quint64>();
    QTRY_VERIFY_WITH_TIMEOUT(peer.hasPendingDatagrams(), kTimeoutMs);
    QCOMPARE(peer.receiveDatagram().data(), QByteArray("one"));

    QSignalSpy events(fixture.server.get(), &EchoServer::eventOccurred);
    const Response set = send(fixture.url(idPath(id, QStringLiteral("/faults"))), "PUT",
                              R"({"udp_duplicate": 1})", kToken);
    QCOMPARE(set.status, 200);
    QCOMPARE(set.json.value(QStringLiteral("faults_own")).toBool(), true);
    QCOMPARE(fixture.server->clientStats(id)->faults().udpDuplicate, 1.0); // in force
    // Logged like a TCP client's change, with its source.
    const auto faultTexts = [&] {
        QStringList texts;
        for (const QList<QVariant> &args : events) {
            const auto event = args.at(0).value<TrafficEvent>();
            // Not the summaries of what the faults did ("duplicated ...").
            if (event.kind == TrafficEvent::Kind::FaultInjected && event.clientId == id &&
                event.text.startsWith(QLatin1String("faults")))
                texts.append(event.text);
        }
        return texts;
    };
    FaultConfig duplicate;
    duplicate.udpDuplicate = 1.0;
    QTRY_COMPARE_WITH_TIMEOUT(
        faultTexts(),
        QStringList{
            QStringLiteral("faults set: %1 (by the control API)").arg(duplicate.describe())},
        kTimeoutMs);
    QCOMPARE(peer.writeDatagram("two", local, fixture.server->udpPort()), 3);
    QList<QByteArray> received;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            while (peer.hasPendingDatagrams())
                received.append(peer.receiveDatagram().data());
            return received.size() == 2;
        }(),
        kTimeoutMs);
    QCOMPARE(received, (QList<QByteArray>{"two", "two"}));
    QCOMPARE(send(fixture.url(idPath(id, QStringLiteral("/faults"))), "DELETE", {}, kToken).status,
             200);
    QVERIFY(fixture.server->clientStats(id)->faults().isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(faultTexts().size(), 2, kTimeoutMs);
    QCOMPARE(faultTexts().at(1),
             QStringLiteral("faults: back to those for all clients (%1) (by the control API)")
                 .arg(FaultConfig().describe()));
}

// A client's own faults that cannot act on its transport are refused, naming the field;
// the faults for all clients keep both kinds, and each client takes (and shows) those that
// apply to it.
void tst_ControlApi::faultsThatDoNotApplyToTheTransport()
{
    ServerConfig config = testConfig(2);
    config.udpEcho = true;
    config.udpPort = 0;
    Fixture fixture;
    QVERIFY(fixture.start(config));
    TestClient client;
    const quint64 tcpId = fixture.connect(&client);
    QVERIFY(tcpId != 0);
    QSignalSpy connected(fixture.server.get(), &EchoServer::clientConnected);
    QUdpSocket peer;
    QVERIFY(peer.bind(QHostAddress(QHostAddress::LocalHost), 0));
    QCOMPARE(
        peer.writeDatagram("one", QHostAddress(QHostAddress::LocalHost), fixture.server->udpPort()),
        3);
    QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 1, kTimeoutMs);
    const quint64 udpId = connected.at(0).at(0).value<quint64>();

    struct Refusal
    {
        quint64 id;
        QByteArray body;
        QString field;
        QString client;
    };
    const QList<Refusal> refusals = {
        {udpId, R"({"slice_bytes": 16})", QStringLiteral("slice_bytes"),
         QStringLiteral("a UDP peer")},
        {udpId, R"({"udp_loss": 0.5, "delay_ms": 5})", QStringLiteral("delay_ms"),
         QStringLiteral("a UDP peer")},
        {udpId, R"({"stop_reading": true})", QStringLiteral("stop_reading"),
         QStringLiteral("a UDP peer")},
        {udpId, R"({"timeout_ms": 0})", QStringLiteral("timeout_ms"), QStringLiteral("a UDP peer")},
        {tcpId, R"({"udp_loss": 0.5})", QStringLiteral("udp_loss"), QStringLiteral("a TCP client")},
        {tcpId, R"({"close_after_bytes": 5, "close_code": 4000})", QStringLiteral("close_code"),
         QStringLiteral("a TCP client")},
    };
    for (const Refusal &refusal : refusals) {
        const Response response =
            fixture.change("PUT", idPath(refusal.id, QStringLiteral("/faults")), refusal.body);
        QCOMPARE(response.status, 400);
        QCOMPARE(response.json.value(QStringLiteral("field")).toString(), refusal.field);
        QVERIFY2(
            response.json.value(QStringLiteral("error"))
                .toString()
                .startsWith(
                    QStringLiteral("%1 does not apply to %2: ").arg(refusal.field, refusal.client)),
            response.body.constData());
    }
    QVERIFY(fixture.server->clientStats(udpId)->faults().isEmpty()); // nothing changed
    QVERIFY(fixture.server->clientStats(tcpId)->faults().isEmpty());
    // What applies is taken, as before.
    QCOMPARE(fixture
                 .change("PUT", idPath(udpId, QStringLiteral("/faults")),
                         R"({"blackhole": true, "udp_loss": 0.5, "seed": 3})")
                 .status,
             200);
    QCOMPARE(fixture.change("DELETE", idPath(udpId, QStringLiteral("/faults"))).status, 200);

    // For all clients: both kinds kept; each client shows only its own kind.
    QCOMPARE(fixture
                 .change("PUT", QStringLiteral("/faults"),
                         R"({"delay_ms": 5, "slice_bytes": 16, "udp_loss": 0.25})")
                 .status,
             200);
    const QJsonObject all =
        fixture.get(QStringLiteral("/faults")).json.value(QStringLiteral("faults")).toObject();
    QCOMPARE(all.value(QStringLiteral("delay_ms")).toInt(), 5);
    QCOMPARE(all.value(QStringLiteral("udp_loss")).toDouble(), 0.25);
    const auto faultsOf = [&](quint64 id) {
        return fixture.get(idPath(id)).json.value(QStringLiteral("faults")).toObject();
    };
    QCOMPARE(faultsOf(udpId).value(QStringLiteral("udp_loss")).toDouble(), 0.25);
    QCOMPARE(faultsOf(udpId).value(QStringLiteral("delay_ms")).toInt(), 0);
    QCOMPARE(faultsOf(udpId).value(QStringLiteral("slice_bytes")).toInt(), 0);
    QCOMPARE(fixture.server->clientStats(udpId)->faults().describe(),
             QStringLiteral("UDP loss 25%"));
    QCOMPARE(faultsOf(tcpId).value(QStringLiteral("delay_ms")).toInt(), 5);
    QCOMPARE(faultsOf(tcpId).value(QStringLiteral("udp_loss")).toDouble(), 0.0);
    QVERIFY(
        !fixture.server->clientStats(tcpId)->faults().describe().contains(QStringLiteral("UDP")));
}

void tst_ControlApi::defaultFaultsApplyToNewClientsAndClear()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    const Response set =
        fixture.change("PUT", QStringLiteral("/faults"), R"({"close_after_bytes": 3, "seed": 42})");
    QCOMPARE(set.status, 200);
    QCOMPARE(fixture.server->defaultFaults().closeAfterBytes, 3);
    QCOMPARE(fixture.server->defaultFaults().seed, 42u);
    QCOMPARE(fixture.get(QStringLiteral("/faults"))
                 .json.value(QStringLiteral("faults"))
                 .toObject()
                 .value(QStringLiteral("close_after_bytes"))
                 .toInteger(),
             3);

    TestClient faulted;
    QVERIFY(fixture.connect(&faulted) != 0);
    faulted.socket.write("abcdefgh");
    QTRY_VERIFY_WITH_TIMEOUT(faulted.closed, kTimeoutMs);
    QCOMPARE(faulted.received, QByteArray("abc"));

    QCOMPARE(fixture.change("DELETE", QStringLiteral("/faults")).status, 200);
    QVERIFY(fixture.server->defaultFaults().isEmpty());
    TestClient clean;
    QVERIFY(fixture.connect(&clean) != 0);
    clean.socket.write("abcdefgh");
    QTRY_COMPARE_WITH_TIMEOUT(clean.received, QByteArray("abcdefgh"), kTimeoutMs);
    QVERIFY(!clean.closed);

    // A client's own faults, then DELETE: it follows the faults for all clients again.
    const quint64 id = fixture.server->clientIds().constLast();
    QCOMPARE(
        fixture.change("PUT", idPath(id, QStringLiteral("/faults")), R"({"delay_ms": 10})").status,
        200);
    QTRY_VERIFY_WITH_TIMEOUT(fixture.server->clientStats(id)->faults().delayMs == 10, kTimeoutMs);
    const Response cleared = fixture.change("DELETE", idPath(id, QStringLiteral("/faults")));
    QCOMPARE(cleared.status, 200);
    QCOMPARE(cleared.json.value(QStringLiteral("faults_own")).toBool(), false);
    QTRY_VERIFY_WITH_TIMEOUT(fixture.server->clientStats(id)->faults().isEmpty(), kTimeoutMs);
}

void tst_ControlApi::refusesBadFaultBodies_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("field"); // empty: the body as a whole
    QTest::newRow("unknown field") << QByteArray(R"({"delay_ms": 5, "latency": 3})") << "latency";
    QTest::newRow("wrong type") << QByteArray(R"({"delay_ms": "5"})") << "delay_ms";
    QTest::newRow("fraction") << QByteArray(R"({"slice_bytes": 1.5})") << "slice_bytes";
    QTest::newRow("out of range") << QByteArray(R"({"delay_ms": 60001})") << "delay_ms";
    QTest::newRow("negative limit")
        << QByteArray(R"({"close_after_bytes": -1})") << "close_after_bytes";
    QTest::newRow("probability") << QByteArray(R"({"reset_probability": 2})")
                                 << "reset_probability";
    QTest::newRow("bool") << QByteArray(R"({"stop_reading": 1})") << "stop_reading";
    QTest::newRow("seed") << QByteArray(R"({"seed": 4294967296})") << "seed";
    QTest::newRow("close code") << QByteArray(R"({"close_code": 1005})") << "close_code";
    QTest::newRow("slice gap without a slice size")
        << QByteArray(R"({"slice_gap_ms": 5})") << "slice_gap_ms";
    QTest::newRow("bandwidth") << QByteArray(R"({"bandwidth_bytes_per_s": -1})")
                               << "bandwidth_bytes_per_s";
    QTest::newRow("description not a string")
        << QByteArray(R"({"description": 5})") << "description";
    QTest::newRow("jitter over delay")
        << QByteArray(R"({"delay_ms": 5, "jitter_ms": 9})") << "jitter_ms";
    QTest::newRow("blackhole") << QByteArray(R"({"blackhole": "yes"})") << "blackhole";
    QTest::newRow("timeout negative") << QByteArray(R"({"timeout_ms": -1})") << "timeout_ms";
    QTest::newRow("timeout too long") << QByteArray(R"({"timeout_ms": 3600001})") << "timeout_ms";
    QTest::newRow("slow close") << QByteArray(R"({"slow_close_ms": 60001})") << "slow_close_ms";
    QTest::newRow("toxicity") << QByteArray(R"({"toxicity": 1.01})") << "toxicity";
    QTest::newRow("udp loss") << QByteArray(R"({"udp_loss": -0.5})") << "udp_loss";
    QTest::newRow("udp duplicate") << QByteArray(R"({"udp_duplicate": "0.1"})") << "udp_duplicate";
    QTest::newRow("udp reorder") << QByteArray(R"({"udp_reorder": 2})") << "udp_reorder";
    QTest::newRow("udp corrupt") << QByteArray(R"({"udp_corrupt": null})") << "udp_corrupt";
    QTest::newRow("not JSON") << QByteArray("{delay_ms: 5") << QString();
    QTest::newRow("not an object") << QByteArray("[1, 2]") << QString();
    QTest::newRow("empty body") << QByteArray() << QString();
}

void tst_ControlApi::refusesBadFaultBodies()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, field);
    Fixture fixture;
    QVERIFY(fixture.start());
    TestClient client;
    const quint64 id = fixture.connect(&client);
    QVERIFY(id != 0);
    for (const QString &path : {QStringLiteral("/faults"), idPath(id, QStringLiteral("/faults"))}) {
        const Response response = fixture.change("PUT", path, body);
        QCOMPARE(response.status, 400);
        const QString error = response.json.value(QStringLiteral("error")).toString();
        QVERIFY(!error.isEmpty());
        QCOMPARE(response.json.value(QStringLiteral("field")).toString(), field);
        if (!field.isEmpty())
            QVERIFY2(error.contains(field), qPrintable(error));
    }
    // Nothing changed.
    QVERIFY(fixture.server->defaultFaults().isEmpty());
    client.socket.write("echo");
    QTRY_COMPARE_WITH_TIMEOUT(client.received, QByteArray("echo"), kTimeoutMs);
    QVERIFY(fixture.server->clientStats(id)->faults().isEmpty());
}

void tst_ControlApi::unknownClientsAndEndpoints()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    for (const QString &tail : {QString(), QStringLiteral("/capture"), QStringLiteral("/faults")})
        QCOMPARE(fixture.get(idPath(424242, tail)).status, 404);
    QCOMPARE(fixture.change("DELETE", idPath(424242)).status, 404);
    const Response put =
        fixture.change("PUT", idPath(424242, QStringLiteral("/faults")), R"({"delay_ms": 1})");
    QCOMPARE(put.status, 404);
    QVERIFY(put.json.value(QStringLiteral("error")).toString().contains(QLatin1String("424242")));
    // Not a number, or past 64 bits: 400 naming the id.
    for (const QString &id :
         {QStringLiteral("abc"), QStringLiteral("0"), QStringLiteral("184467440737095516160")}) {
        const Response response = fixture.get(QStringLiteral("/clients/") + id);
        QCOMPARE(response.status, 400);
        QCOMPARE(response.json.value(QStringLiteral("field")).toString(), QStringLiteral("id"));
    }
    QCOMPARE(fixture.get(QStringLiteral("/nothing")).status, 404);
    QCOMPARE(send(QUrl(fixture.api->url().toString().replace(QLatin1String("/api/v1"),
                                                             QLatin1String("/metrics"))),
                  "GET")
                 .status,
             404);
    const Response wrongMethod = fixture.change("PATCH", QStringLiteral("/clients"), "{}");
    QCOMPARE(wrongMethod.status, 405);
}

void tst_ControlApi::oversizedBodyIsAnswered413()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    // A valid fault object (its description is taken and ignored), past the request limit
    // by its size alone: 413, the connection closed, nothing applied.
    const auto faults = [](int descriptionBytes) {
        return R"({"delay_ms": 5, "description": ")" + QByteArray(descriptionBytes, 'x') + R"("})";
    };
    QVERIFY(QJsonDocument::fromJson(faults(int(ControlApi::kMaxRequestBytes))).isObject());
    const Response response =
        fixture.change("PUT", QStringLiteral("/faults"), faults(int(ControlApi::kMaxRequestBytes)));
    QVERIFY(response.finished);
    QCOMPARE(response.status, 413);
    QCOMPARE(response.connection, QByteArray("close"));
    QCOMPARE(response.contentType, QByteArray("application/json"));
    QVERIFY2(response.json.value(QStringLiteral("error"))
                 .toString()
                 .contains(QString::number(ControlApi::kMaxRequestBytes)),
             response.body.constData());
    QVERIFY(fixture.server->defaultFaults().isEmpty());
    // The same object, well within the limit: taken.
    QCOMPARE(fixture.change("PUT", QStringLiteral("/faults"), faults(1000)).status, 200);
    QCOMPARE(fixture.server->defaultFaults().delayMs, 5);
}

// Qt HTTP Server reads one request per readyRead and posts readyRead again for the rest: a
// request's bytes are counted once however many requests a read holds. Here requests
// together 90 % of the limit, pipelined in one write, are all answered (counted once per
// readyRead, the count would pass the limit at the second).
void tst_ControlApi::pipelinedRequestsAreCountedOnce()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    RawClient client;
    QVERIFY(client.connectTo(fixture.api->serverPort()));
    const QByteArray request =
        rawRequest("GET", "/server", "X-Pad: " + QByteArray(400, 'p') + "\r\n");
    const int count = int(ControlApi::kMaxRequestBytes * 9 / 10 / request.size());
    QVERIFY(count > 2);
    client.send(request.repeated(count));
    QTRY_COMPARE_WITH_TIMEOUT(client.received.count("HTTP/1.1 200 OK\r\n"), count, kTimeoutMs);
    QVERIFY(!client.closed());
}

// More connections than kMaxConnections: the next is answered 503 (not dropped); idle ones
// are closed after the idle limit, and then a client gets through.
void tst_ControlApi::connectionLimitAnswers503()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < ControlApi::kMaxConnections; ++i) {
        idle.push_back(std::make_unique<RawClient>());
        QVERIFY(idle.back()->connectTo(fixture.api->serverPort()));
    }
    QTRY_COMPARE_WITH_TIMEOUT(fixture.api->openConnections(), ControlApi::kMaxConnections,
                              kTimeoutMs);
    const Response refused = fixture.get(QStringLiteral("/server"));
    QVERIFY(refused.finished);
    QCOMPARE(refused.status, 503);
    QCOMPARE(refused.connection, QByteArray("close"));
    QVERIFY2(refused.json.value(QStringLiteral("error"))
                 .toString()
                 .contains(QString::number(ControlApi::kMaxConnections)),
             refused.body.constData());
    QCOMPARE(refused.json.value(QStringLiteral("status")).toInt(), 503);

    // The idle limit (65 s by default) shortened: the idle connections are closed, the API
    // serves again.
    HttpListener::Limits limits = fixture.api->limits();
    QCOMPARE(limits.idleTimeoutMs, ControlApi::kMaxPollTimeoutMs + 5000);
    limits.idleTimeoutMs = 50;
    fixture.api->setLimits(limits);
    QTRY_COMPARE_WITH_TIMEOUT(fixture.api->openConnections(), 0, kTimeoutMs);
    for (const auto &client : idle)
        QTRY_VERIFY_WITH_TIMEOUT(client->closed(), kTimeoutMs);
    QCOMPARE(fixture.get(QStringLiteral("/server")).status, 200);
}

// A body that trickles in, a byte every 10 ms, is cut at the request deadline (from its
// first byte, not restarted by each), while another client is served meanwhile.
void tst_ControlApi::slowBodyIsCutAtItsDeadline()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    HttpListener::Limits limits = fixture.api->limits();
    QCOMPARE(limits.requestTimeoutMs, ControlApi::kRequestTimeoutMs);
    limits.requestTimeoutMs = 300;
    limits.lingerMs = 100;
    fixture.api->setLimits(limits);

    RawClient slow;
    QVERIFY(slow.connectTo(fixture.api->serverPort()));
    const QByteArray declared = "60000";
    slow.send(
        rawRequest("PUT", "/faults",
                   "Authorization: Bearer " + kToken + "\r\nContent-Length: " + declared + "\r\n") +
        "{\"delay_ms\": 5, \"description\": \"");
    const qint64 headerBytes = slow.sent;
    QTimer trickle;
    QObject::connect(&trickle, &QTimer::timeout, &slow.socket, [&slow] {
        if (!slow.closed())
            slow.send("x");
    });
    trickle.start(10);
    QCOMPARE(fixture.get(QStringLiteral("/server")).status, 200); // served meanwhile
    QTRY_VERIFY_WITH_TIMEOUT(slow.closed(), kTimeoutMs);
    trickle.stop();
    QVERIFY2(slow.received.startsWith("HTTP/1.1 408 "), slow.received.constData());
    QVERIFY(slow.received.contains("Connection: close\r\n"));
    QVERIFY(slow.sent - headerBytes < declared.toInt()); // it never finished
    QVERIFY(fixture.server->defaultFaults().isEmpty());
    QCOMPARE(fixture.get(QStringLiteral("/server")).status, 200);
}

// Twelve different changes at once, on as many connections: each is applied whole, each is
// an event (tagged with its source), and the state at the end is the last one applied.
void tst_ControlApi::concurrentChangesToOneClient()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    TestClient client;
    const quint64 id = fixture.connect(&client);
    QVERIFY(id != 0);
    QSignalSpy events(fixture.server.get(), &EchoServer::eventOccurred);
    QNetworkAccessManager manager;
    std::vector<std::unique_ptr<QNetworkReply>> replies;
    QHash<QString, FaultConfig> sent; // by the text of the event it makes
    for (int i = 1; i <= 12; ++i) {
        FaultConfig faults;
        faults.delayMs = 10 * i;
        faults.jitterMs = i;
        faults.seed = quint32(i);
        sent.insert(QStringLiteral("faults set: %1 (by the control API)").arg(faults.describe()),
                    faults);
        QNetworkRequest request(fixture.url(idPath(id, QStringLiteral("/faults"))));
        request.setRawHeader("Authorization", "Bearer " + kToken);
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
        const QByteArray body = QJsonDocument(ControlJson::faults(faults)).toJson();
        replies.emplace_back(manager.sendCustomRequest(request, "PUT", body));
    }
    QCOMPARE(sent.size(), 12);
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(replies.cbegin(), replies.cend(),
                                         [](const auto &reply) { return reply->isFinished(); }),
                             kTimeoutMs);
    for (const auto &reply : replies)
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);

    const auto faultTexts = [&] {
        QStringList texts;
        for (const QList<QVariant> &args : events) {
            const auto event = args.at(0).value<TrafficEvent>();
            if (event.kind == TrafficEvent::Kind::FaultInjected && event.clientId == id)
                texts.append(event.text);
        }
        return texts;
    };
    QTRY_COMPARE_WITH_TIMEOUT(faultTexts().size(), 12, kTimeoutMs);
    const QStringList texts = faultTexts();
    for (const QString &text : texts)
        QVERIFY2(sent.contains(text), qPrintable(text));
    QCOMPARE(QSet<QString>(texts.cbegin(), texts.cend()).size(), 12); // each change once
    const FaultConfig last = sent.value(texts.constLast());
    const Response now = fixture.get(idPath(id, QStringLiteral("/faults")));
    QCOMPARE(now.json.value(QStringLiteral("faults")).toObject(), ControlJson::faults(last));
    QCOMPARE(fixture.server->clientStats(id)->faults(), last);
    client.socket.write("still echoed");
    QTRY_COMPARE_WITH_TIMEOUT(client.received, QByteArray("still echoed"), kTimeoutMs);
}

void tst_ControlApi::changesWhileStopped()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    TestClient client;
    const quint64 id = fixture.connect(&client);
    QVERIFY(id != 0);
    fixture.server->stop();
    QCOMPARE(
        fixture.change("PUT", idPath(id, QStringLiteral("/faults")), R"({"delay_ms": 1})").status,
        404);
    QCOMPARE(fixture.change("DELETE", idPath(id)).status, 404);
    // The faults for all clients are kept across stop and start.
    QCOMPARE(fixture.change("PUT", QStringLiteral("/faults"), R"({"close_after_bytes": 1})").status,
             200);
    QVERIFY(fixture.server->start(testConfig(2)));
    TestClient next;
    QVERIFY(next.connectTo(QHostAddress::LocalHost, fixture.server->serverPort()));
    next.socket.write("xyz");
    QTRY_VERIFY_WITH_TIMEOUT(next.closed, kTimeoutMs);
    QCOMPARE(next.received, QByteArray("x"));
}

// A change is answered once the client's worker has made it (toxiproxy's semantics): a
// GET right after the answer shows it, every time. Repeated, so that the race with the
// worker's thread (two threads: the client's worker is not the API's) would show.
void tst_ControlApi::getRightAfterAChangeShowsIt()
{
    ServerConfig config = testConfig(2);
    config.udpEcho = true;
    config.udpPort = 0;
    Fixture fixture;
    QVERIFY(fixture.start(config));
    TestClient client, other, busy;
    const quint64 id = fixture.connect(&client);
    // Workers in turn: `busy` shares the worker of `client`, and keeps it busy echoing
    // while the changes arrive.
    QVERIFY(id != 0 && fixture.connect(&other) != 0 && fixture.connect(&busy) != 0);
    const QByteArray load(256 * 1024, 'x');
    QSignalSpy connected(fixture.server.get(), &EchoServer::clientConnected);
    QUdpSocket peer;
    QVERIFY(peer.bind(QHostAddress(QHostAddress::LocalHost), 0));
    QCOMPARE(
        peer.writeDatagram("one", QHostAddress(QHostAddress::LocalHost), fixture.server->udpPort()),
        3);
    QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 1, kTimeoutMs);
    const quint64 udpId = connected.at(0).at(0).value<quint64>();
    const auto faultsOf = [&](quint64 client) {
        const Response got = fixture.get(idPath(client, QStringLiteral("/faults")));
        return got.json.value(QStringLiteral("faults")).toObject();
    };
    const auto delayOf = [&](quint64 client) {
        return faultsOf(client).value(QStringLiteral("delay_ms")).toInt(-1);
    };
    for (int i = 1; i <= 200; ++i) {
        const quint64 target = i % 4 == 0 ? udpId : id;
        const QByteArray body =
            target == udpId ? QByteArray(R"({"udp_loss": 0.)") + QByteArray::number(i % 9 + 1) + "}"
                            : QByteArray(R"({"delay_ms": )") + QByteArray::number(i) + "}";
        busy.socket.write(load);
        busy.socket.flush();
        const Response set = fixture.change("PUT", idPath(target, QStringLiteral("/faults")), body);
        QCOMPARE(set.status, 200);
        if (target == udpId) {
            QCOMPARE(faultsOf(udpId).value(QStringLiteral("udp_loss")).toDouble(),
                     (i % 9 + 1) / 10.0);
        } else {
            QCOMPARE(fixture.server->clientStats(id)->faults().delayMs, i);
            QCOMPARE(delayOf(id), i);
        }
        if (i % 10 == 0) {
            // Back to the faults for all clients, and those changed: each shows at once.
            QCOMPARE(fixture.change("DELETE", idPath(id, QStringLiteral("/faults"))).status, 200);
            QCOMPARE(delayOf(id), 0);
            const QByteArray all = R"({"delay_ms": )" + QByteArray::number(1000 + i) + "}";
            QCOMPARE(fixture.change("PUT", QStringLiteral("/faults"), all).status, 200);
            QCOMPARE(delayOf(id), 1000 + i);
            QCOMPARE(fixture.change("DELETE", QStringLiteral("/faults")).status, 200);
            QCOMPARE(delayOf(id), 0);
        }
    }
    QTRY_COMPARE_WITH_TIMEOUT(busy.received.size(), 200 * load.size(), kTimeoutMs);
    // A kick is answered once the client is kicked: it is no longer listed as connected.
    const Response kicked = fixture.change("DELETE", idPath(id));
    QCOMPARE(kicked.status, 200);
    const ClientState state = fixture.server->clientStats(id)
                                  ? fixture.server->clientStats(id)->state()
                                  : ClientState::Closed;
    QCOMPARE(state, ClientState::Closed);
}

// While the client's worker is busy, the answer waits (the API's thread is not blocked:
// reads are answered meanwhile); it comes once the worker made the change.
void tst_ControlApi::changeWaitsForTheWorker()
{
    BusyWorkerFixture fixture;
    QVERIFY(fixture.start());
    const quint64 id = fixture.id;
    const auto put =
        fixture.queue("PUT", idPath(id, QStringLiteral("/faults")), R"({"delay_ms": 7})");
    QVERIFY(put);
    QCOMPARE(fixture.api->pendingChanges(), 1);
    QVERIFY(!put->isFinished());
    // Not made yet, and the API answers reads meanwhile.
    const Response before = fixture.get(idPath(id, QStringLiteral("/faults")));
    QCOMPARE(before.status, 200);
    QCOMPARE(before.json.value(QStringLiteral("faults_own")).toBool(), false);
    QVERIFY(!put->isFinished());
    fixture.hold.release();
    QTRY_VERIFY_WITH_TIMEOUT(put->isFinished(), kTimeoutMs);
    QCOMPARE(statusOf(*put), 200);
    QCOMPARE(fixture.server->clientStats(id)->faults().delayMs, 7);
    QCOMPARE(fixture.api->pendingChanges(), 0);
}

// A kick and a change queued behind it at a busy worker: the kick is answered 200, the
// change 404 (the client left before it), not a 200 for a change nobody made.
void tst_ControlApi::changeToAClientThatLeavesMeanwhileIs404()
{
    BusyWorkerFixture fixture;
    QVERIFY(fixture.start());
    const quint64 id = fixture.id;
    const auto kick = fixture.queue("DELETE", idPath(id));
    QVERIFY(kick);
    const auto put =
        fixture.queue("PUT", idPath(id, QStringLiteral("/faults")), R"({"delay_ms": 7})");
    QVERIFY(put);
    QCOMPARE(fixture.api->pendingChanges(), 2);
    fixture.hold.release();
    QTRY_VERIFY_WITH_TIMEOUT(kick->isFinished() && put->isFinished(), kTimeoutMs);
    QCOMPARE(statusOf(*kick), 200);
    QCOMPARE(statusOf(*put), 404);
    const QJsonObject error = QJsonDocument::fromJson(put->readAll()).object();
    QCOMPARE(error.value(QStringLiteral("error")).toString(),
             QStringLiteral("client %1 disconnected before the change was made").arg(id));
    QTRY_VERIFY_WITH_TIMEOUT(fixture.client.closed, kTimeoutMs);
}

// Changes (to a client, to all clients, a kick) waiting at a busy worker when the server
// stops: each gets its answer (the worker makes them before it closes its clients), none
// hangs, and the API goes on.
void tst_ControlApi::changeRacingAStopIsAnswered()
{
    BusyWorkerFixture fixture;
    QVERIFY(fixture.start());
    const quint64 id = fixture.id;
    const auto put =
        fixture.queue("PUT", idPath(id, QStringLiteral("/faults")), R"({"delay_ms": 7})");
    QVERIFY(put);
    const auto all = fixture.queue("PUT", QStringLiteral("/faults"), R"({"delay_ms": 3})");
    QVERIFY(all);
    const auto kick = fixture.queue("DELETE", idPath(id));
    QVERIFY(kick);
    QCOMPARE(fixture.api->pendingChanges(), 3);
    fixture.hold.release();
    fixture.server->stop(); // in this thread, before any answer could be written
    QTRY_VERIFY_WITH_TIMEOUT(put->isFinished() && all->isFinished() && kick->isFinished(),
                             kTimeoutMs);
    // Made before the stop closed the client: the truth is that they happened.
    QCOMPARE(statusOf(*put), 200);
    QCOMPARE(statusOf(*all), 200);
    QCOMPARE(statusOf(*kick), 200);
    QCOMPARE(fixture.api->pendingChanges(), 0);
    QCOMPARE(fixture.server->defaultFaults().delayMs, 3);
    // Stopped: a change to the client now is a 404 at once, and the API still answers.
    QCOMPARE(
        fixture.change("PUT", idPath(id, QStringLiteral("/faults")), R"({"delay_ms": 1})").status,
        404);
    QCOMPARE(fixture.get(QStringLiteral("/server")).status, 200);
}

void tst_ControlApi::eventsLongPollWakesOnANewEvent()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    const Response now = fixture.get(QStringLiteral("/events"), QStringLiteral("timeout_ms=0"));
    QCOMPARE(now.status, 200);
    const QJsonArray past = now.json.value(QStringLiteral("events")).toArray();
    QVERIFY(!past.isEmpty());
    QCOMPARE(past.at(0).toObject().value(QStringLiteral("event")).toString(),
             QStringLiteral("listening"));
    const qint64 next = now.json.value(QStringLiteral("next")).toInteger();
    QCOMPARE(next, qint64(past.size()) + 1);

    // A poll for what comes next waits; a client connecting answers it.
    QNetworkAccessManager manager;
    std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(fixture.url(
        QStringLiteral("/events"),
        QStringLiteral("since=%1&timeout_ms=%2").arg(next).arg(ControlApi::kMaxPollTimeoutMs)))));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QTRY_COMPARE_WITH_TIMEOUT(fixture.api->waitingPolls(), 1, kTimeoutMs); // it waits
    QVERIFY(!reply->isFinished());
    TestClient client;
    const quint64 id = fixture.connect(&client);
    QVERIFY(id != 0);
    QVERIFY(reply->isFinished() || finished.wait(kTimeoutMs));
    const QJsonObject body = QJsonDocument::fromJson(reply->readAll()).object();
    const QJsonArray events = body.value(QStringLiteral("events")).toArray();
    QVERIFY(!events.isEmpty());
    const QJsonObject first = events.at(0).toObject();
    QCOMPARE(first.value(QStringLiteral("seq")).toInteger(), next);
    QCOMPARE(first.value(QStringLiteral("event")).toString(), QStringLiteral("connected"));
    QCOMPARE(quint64(first.value(QStringLiteral("client")).toDouble()), id);
    QCOMPARE(body.value(QStringLiteral("missed")).toInteger(), 0);
    QCOMPARE(fixture.api->waitingPolls(), 0);

    const Response bad =
        fixture.get(QStringLiteral("/events"), QStringLiteral("timeout_ms=600001"));
    QCOMPARE(bad.status, 400);
    QCOMPARE(bad.json.value(QStringLiteral("field")).toString(), QStringLiteral("timeout_ms"));
}

void tst_ControlApi::eventsPollTimesOutEmpty()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    const qint64 next = fixture.get(QStringLiteral("/events"), QStringLiteral("timeout_ms=0"))
                            .json.value(QStringLiteral("next"))
                            .toInteger();
    const Response response =
        fixture.get(QStringLiteral("/events"), QStringLiteral("since=%1&timeout_ms=50").arg(next));
    QVERIFY(response.finished);
    QCOMPARE(response.status, 200);
    QCOMPARE(response.json.value(QStringLiteral("events")).toArray().size(), 0);
    QCOMPARE(response.json.value(QStringLiteral("next")).toInteger(), next);
}

// Reads the process's standard output into *output until `done` says so (bounded).
static bool readUntil(QProcess *process, QByteArray *output,
                      const std::function<bool(const QByteArray &)> &done)
{
    QDeadlineTimer deadline(kTimeoutMs);
    for (;;) {
        // What an event loop in between (a request's) has read already comes first.
        *output += process->readAllStandardOutput();
        if (done(*output))
            return true;
        if (deadline.hasExpired() || process->state() != QProcess::Running)
            return false;
        process->waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
    }
}

void tst_ControlApi::headlessPrintsTheControlLine()
{
    QProcess process;
    process.setProgram(QStringLiteral(ECHOSCOPE_BINARY));
    process.setArguments({QStringLiteral("--headless"), QStringLiteral("--port"),
                          QStringLiteral("0"), QStringLiteral("--control-port"),
                          QStringLiteral("0")});
    process.start();
    QVERIFY(process.waitForStarted(kTimeoutMs));
    QByteArray output;
    const auto controlLineRead = [](const QByteArray &text) {
        const qsizetype at = text.indexOf("/api/v1 token ");
        return at >= 0 && text.indexOf('\n', at) >= 0;
    };
    QVERIFY2(readUntil(&process, &output, controlLineRead), output.constData());
    const QList<QByteArray> lines = output.split('\n');
    QVERIFY(lines.at(0).startsWith("listening on 127.0.0.1:"));
    // control API at http://127.0.0.1:PORT/api/v1 token HEX, the line after it
    QVERIFY(lines.size() >= 2);
    const QList<QByteArray> words = lines.at(1).split(' ');
    QCOMPARE(words.size(), 6);
    QCOMPARE(words.at(0) + ' ' + words.at(1) + ' ' + words.at(2), QByteArray("control API at"));
    QCOMPARE(words.at(4), QByteArray("token"));
    const QByteArray token = words.at(5);
    QCOMPARE(token.size(), 64);
    const QUrl api(QString::fromLatin1(words.at(3)));
    QCOMPARE(api.host(), QStringLiteral("127.0.0.1"));
    QVERIFY(api.port() > 0);

    QUrl faults = api;
    faults.setPath(api.path() + QStringLiteral("/faults"));
    QCOMPARE(send(faults, "PUT", R"({"delay_ms": 1})", "wrong").status, 401);
    QCOMPARE(send(faults, "PUT", R"({"delay_ms": 1})", token).status, 200);
    QVERIFY2(readUntil(&process, &output,
                       [](const QByteArray &text) {
                           return text.contains("fault: faults for all clients: delay 1 ms");
                       }),
             output.constData());
    process.terminate();
    QVERIFY(process.waitForFinished(kTimeoutMs));
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 0);
}

struct Run
{
    int exitCode = -1;
    QByteArray output;
    QByteArray errorOutput;
};

// Runs a program to its end (bounded), with the event loop turning meanwhile so that the
// server in this process answers it.
static Run
runProgram(const QString &program, const QStringList &arguments,
           const QProcessEnvironment &environment = QProcessEnvironment::systemEnvironment())
{
    QProcess process;
    process.setProcessEnvironment(environment);
    process.start(program, arguments);
    Run run;
    if (!process.waitForStarted(kTimeoutMs))
        return run;
    QSignalSpy finished(&process, &QProcess::finished);
    if (!finished.wait(kTimeoutMs)) {
        process.kill();
        process.waitForFinished(kTimeoutMs);
        return run;
    }
    if (process.exitStatus() == QProcess::NormalExit)
        run.exitCode = process.exitCode();
    run.output = process.readAllStandardOutput();
    run.errorOutput = process.readAllStandardError();
    return run;
}

void tst_ControlApi::ctlCommandDrivesTheApi()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    TestClient client;
    const quint64 id = fixture.connect(&client);
    QVERIFY(id != 0);
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString tokenPath = directory.filePath(QStringLiteral("token"));
    QFile tokenFile(tokenPath);
    QVERIFY(tokenFile.open(QIODevice::WriteOnly));
    tokenFile.write(kToken + "\n");
    tokenFile.close();
    QVERIFY(tokenFile.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
    const QString port = QString::number(fixture.api->serverPort());
    QProcessEnvironment noToken = QProcessEnvironment::systemEnvironment();
    noToken.remove(QStringLiteral("ECHOSCOPE_CONTROL_TOKEN"));
    const auto ctl = [&](const QStringList &arguments) {
        return runProgram(QStringLiteral(ECHOSCOPE_BINARY),
                          QStringList{QStringLiteral("ctl"), QStringLiteral("--port"), port} +
                              arguments,
                          noToken);
    };

    const Run clients =
        ctl({QStringLiteral("clients"), QStringLiteral("--protocol"), QStringLiteral("tcp")});
    QCOMPARE(clients.exitCode, 0);
    const QJsonArray list =
        QJsonDocument::fromJson(clients.output).object().value(QStringLiteral("clients")).toArray();
    QCOMPARE(list.size(), 1);
    QCOMPARE(quint64(list.at(0).toObject().value(QStringLiteral("id")).toDouble()), id);

    // Without the token: refused (1), nothing done.
    const Run refused = ctl({QStringLiteral("kick"), QString::number(id)});
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.errorOutput.contains("401"), refused.errorOutput.constData());
    // A bad fault object: refused, naming the field.
    const Run bad = ctl({QStringLiteral("--token-file"), tokenPath, QStringLiteral("faults"),
                         QString::number(id), QStringLiteral(R"({"latency": 1})")});
    QCOMPARE(bad.exitCode, 1);
    QVERIFY2(bad.errorOutput.contains("latency"), bad.errorOutput.constData());
    // Faults through ctl change the echo.
    QSignalSpy events(fixture.server.get(), &EchoServer::eventOccurred);
    const Run faults = ctl({QStringLiteral("--token-file"), tokenPath, QStringLiteral("faults"),
                            QString::number(id), QStringLiteral(R"({"close_after_bytes": 2})")});
    QCOMPARE(faults.exitCode, 0);
    QTRY_VERIFY_WITH_TIMEOUT(std::any_of(events.cbegin(), events.cend(),
                                         [id](const QList<QVariant> &args) {
                                             const auto event = args.at(0).value<TrafficEvent>();
                                             return event.kind ==
                                                        TrafficEvent::Kind::FaultInjected &&
                                                    event.clientId == id;
                                         }),
                             kTimeoutMs);
    client.socket.write("abcdef");
    QTRY_VERIFY_WITH_TIMEOUT(client.closed, kTimeoutMs);
    QCOMPARE(client.received, QByteArray("ab"));

    TestClient victim;
    const quint64 victimId = fixture.connect(&victim);
    QVERIFY(victimId != 0);
    const Run kick = ctl({QStringLiteral("--token-file"), tokenPath, QStringLiteral("kick"),
                          QString::number(victimId)});
    QCOMPARE(kick.exitCode, 0);
    QTRY_VERIFY_WITH_TIMEOUT(victim.closed, kTimeoutMs);
    QCOMPARE(ctl({QStringLiteral("client"), QStringLiteral("99999")}).exitCode, 1); // 404

    QCOMPARE(ctl({QStringLiteral("frobnicate")}).exitCode, 2);
    QCOMPARE(ctl({QStringLiteral("kick")}).exitCode, 2); // no id
    // Not an id: refused before any request ("1/faults" would ask another path).
    for (const QString &notAnId : {QStringLiteral("1/faults"), QStringLiteral("0"),
                                   QStringLiteral("18446744073709551616"), QStringLiteral("-1")}) {
        const Run run = ctl({QStringLiteral("--token-file"), tokenPath, QStringLiteral("kick"),
                             QStringLiteral("--"), notAnId});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.errorOutput.startsWith("echoscope ctl: kick: client id ") &&
                     run.errorOutput.contains(notAnId.toUtf8()),
                 run.errorOutput.constData());
    }
    QCOMPARE(ctl({QStringLiteral("--token-file"), directory.filePath(QStringLiteral("none")),
                  QStringLiteral("server")})
                 .exitCode,
             2);
    // Nothing listens there any more: 3.
    fixture.api->stop();
    const Run unreachable = ctl({QStringLiteral("server")});
    QCOMPARE(unreachable.exitCode, 3);
    QVERIFY2(unreachable.errorOutput.contains(port.toUtf8()), unreachable.errorOutput.constData());
}

// ctl capture ID --format pcapng --output FILE: the file tshark follows to the bytes the
// client sent and got back; --format json (the default) to a file; refused arguments name
// themselves.
void tst_ControlApi::ctlCapturesPcapng()
{
    ServerConfig config = testConfig(2);
    config.captureBytesPerClient = 64 * 1024;
    Fixture fixture;
    QVERIFY(fixture.start(config));
    TestClient client;
    const quint64 id = fixture.connect(&client);
    QVERIFY(id != 0);
    const QByteArray sent("hello\n\0\xff binary", 15);
    client.socket.write(sent);
    QTRY_COMPARE_WITH_TIMEOUT(client.received, sent, kTimeoutMs);
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString port = QString::number(fixture.api->serverPort());
    const auto ctl = [&](const QStringList &arguments) {
        return runProgram(QStringLiteral(ECHOSCOPE_BINARY),
                          QStringList{QStringLiteral("ctl"), QStringLiteral("--port"), port} +
                              arguments);
    };

    const QString pcapPath = directory.filePath(QStringLiteral("client.pcapng"));
    const Run pcap =
        ctl({QStringLiteral("capture"), QString::number(id), QStringLiteral("--format"),
             QStringLiteral("pcapng"), QStringLiteral("-o"), pcapPath});
    QVERIFY2(pcap.exitCode == 0, pcap.errorOutput.constData());
    QVERIFY(pcap.output.isEmpty()); // all of it in the file
    QFile file(pcapPath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.readAll().startsWith(QByteArray::fromHex("0a0d0d0a"))); // a section header

    const Run json =
        ctl({QStringLiteral("capture"), QString::number(id), QStringLiteral("--output"),
             directory.filePath(QStringLiteral("client.json"))});
    QVERIFY2(json.exitCode == 0, json.errorOutput.constData());
    QFile jsonFile(directory.filePath(QStringLiteral("client.json")));
    QVERIFY(jsonFile.open(QIODevice::ReadOnly));
    const QJsonObject capture = QJsonDocument::fromJson(jsonFile.readAll()).object();
    QCOMPARE(quint64(capture.value(QStringLiteral("id")).toDouble()), id);

    const Run badFormat = ctl({QStringLiteral("capture"), QString::number(id),
                               QStringLiteral("--format"), QStringLiteral("pcap")});
    QCOMPARE(badFormat.exitCode, 2);
    QVERIFY2(badFormat.errorOutput.startsWith("echoscope ctl: --format ") &&
                 badFormat.errorOutput.contains("pcap") &&
                 badFormat.errorOutput.contains("expected json or pcapng"),
             badFormat.errorOutput.constData());
    const Run notCapture = ctl({QStringLiteral("server"), QStringLiteral("-o"), pcapPath});
    QCOMPARE(notCapture.exitCode, 2);
    QVERIFY2(notCapture.errorOutput.startsWith("echoscope ctl: --output is for capture only"),
             notCapture.errorOutput.constData());
    const Run unwritable =
        ctl({QStringLiteral("capture"), QString::number(id), QStringLiteral("--format"),
             QStringLiteral("pcapng"), QStringLiteral("-o"),
             directory.filePath(QStringLiteral("no/such/dir/x.pcapng"))});
    QCOMPARE(unwritable.exitCode, 1);
    QVERIFY2(unwritable.errorOutput.contains("no/such/dir/x.pcapng"),
             unwritable.errorOutput.constData());

    const QString tshark = tsharkPath();
    if (tshark.isEmpty())
        QSKIP("tshark is not installed (Debian: apt-get install tshark): the file is not read "
              "back");
    bool ok = false;
    const Followed followed = followTcp(tshark, pcapPath, &ok, kTimeoutMs);
    QVERIFY(ok);
    QCOMPARE(followed.fromClient, sent);
    QCOMPARE(followed.fromServer, sent);
}

void tst_ControlApi::curlDrivesTheApi()
{
    const QString curl = QStandardPaths::findExecutable(QStringLiteral("curl"));
    if (curl.isEmpty())
        QSKIP("curl is not installed (apt-get install curl)");
    Fixture fixture;
    QVERIFY(fixture.start());
    const QString url = fixture.url(QStringLiteral("/faults")).toString();
    const QStringList common{QStringLiteral("-s"),
                             QStringLiteral("-o"),
                             QStringLiteral("-"),
                             QStringLiteral("-w"),
                             QStringLiteral("\n%{http_code}"),
                             QStringLiteral("-X"),
                             QStringLiteral("PUT"),
                             QStringLiteral("-d"),
                             QStringLiteral(R"({"delay_ms": 7})"),
                             url};
    const Run refused = runProgram(curl, common);
    QCOMPARE(refused.exitCode, 0);
    QVERIFY2(refused.output.endsWith("\n401"), refused.output.constData());
    QVERIFY(fixture.server->defaultFaults().isEmpty());
    const Run done = runProgram(
        curl, QStringList{QStringLiteral("-H"),
                          QStringLiteral("Authorization: Bearer ") + QString::fromLatin1(kToken)} +
                  common);
    QCOMPARE(done.exitCode, 0);
    QVERIFY2(done.output.endsWith("\n200"), done.output.constData());
    QCOMPARE(fixture.server->defaultFaults().delayMs, 7);
}

// Requests pipelined behind a waiting long poll on one connection: HTTP/1.1 answers in
// order, and the poll's answer is not written yet. Answering them first would hand the
// client the wrong bodies, and keeping each as another waiter would let one connection
// pile up waiters without end (review of the control API: 120,000 in 25 s). The
// connection is closed with nothing answered, and no waiter is left.
void tst_ControlApi::requestBehindAWaitingPollClosesTheConnection()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    const Response now = fixture.get(QStringLiteral("/events"), QStringLiteral("timeout_ms=0"));
    QCOMPARE(now.status, 200);
    const qint64 next = now.json.value(QStringLiteral("next")).toInteger();

    QTcpSocket socket;
    QByteArray answered;
    QObject::connect(&socket, &QTcpSocket::readyRead, &socket, [&socket, &answered] {
        if (socket.isReadable())
            answered += socket.readAll();
    });
    socket.connectToHost(QHostAddress::LocalHost, fixture.api->url().port());
    QVERIFY(socket.waitForConnected(kTimeoutMs));
    const QByteArray poll = QStringLiteral("GET /api/v1/events?since=%1&timeout_ms=%2 HTTP/1.1\r\n"
                                           "Host: 127.0.0.1\r\n\r\n")
                                .arg(next + 1000)
                                .arg(ControlApi::kMaxPollTimeoutMs)
                                .toLatin1();
    socket.write(poll);
    QTRY_COMPARE_WITH_TIMEOUT(fixture.api->waitingPolls(), 1, kTimeoutMs);
    // Two more polls and a quick request behind it.
    socket.write(poll + poll + "GET /api/v1/server HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QTRY_COMPARE_WITH_TIMEOUT(socket.state(), QAbstractSocket::UnconnectedState, kTimeoutMs);
    QCOMPARE(answered, QByteArray()); // nothing answered out of order
    QTRY_COMPARE_WITH_TIMEOUT(fixture.api->waitingPolls(), 0, kTimeoutMs);

    // The API serves the next connection as before.
    QCOMPARE(fixture.get(QStringLiteral("/server")).status, 200);
}

// A client that pipelines requests for big answers and never reads them: the answers
// would pile up in the server's write buffer (review of the control API: 34 -> 520 MB from
// 180 capture requests). Past ControlApi::kMaxUnsentBytes its next request closes the
// connection.
void tst_ControlApi::unreadAnswersAreBounded()
{
    Fixture fixture;
    TestClient client;
    const QByteArray sent = payload(1024 * 1024, 3);
    const quint64 id = fixture.startWithEcho(&client, sent, 1, 1024 * 1024);
    QVERIFY(id != 0);
    QCOMPARE(client.received.size(), sent.size());
    // Each answer holds 2 MiB of capture as base64 (about 2.8 MB): 20 of them are 56 MB.
    const QByteArray request = QStringLiteral("GET /api/v1/clients/%1/capture HTTP/1.1\r\n"
                                              "Host: 127.0.0.1\r\n\r\n")
                                   .arg(id)
                                   .toLatin1();
    QTcpSocket reader;
    reader.setReadBufferSize(1); // reads (almost) nothing: the answers stay with the server
    reader.connectToHost(QHostAddress::LocalHost, fixture.api->url().port());
    QVERIFY(reader.waitForConnected(kTimeoutMs));
    QTRY_COMPARE_WITH_TIMEOUT(fixture.api->openConnections(), 1, kTimeoutMs);
    reader.write(request.repeated(20));
    // The server closes it (the reader, not reading, would not notice).
    QTRY_COMPARE_WITH_TIMEOUT(fixture.api->openConnections(), 0, kTimeoutMs);
    QCOMPARE(fixture.get(QStringLiteral("/server")).status, 200); // the API carries on
}

// Every field of the fault object (as GET answers it, so a field added later is covered),
// given a value of the wrong JSON type: 400 naming that field, in "field" and in the error.
void tst_ControlApi::everyFaultFieldNamesItself()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    const QJsonObject fields =
        fixture.get(QStringLiteral("/faults")).json.value(QStringLiteral("faults")).toObject();
    QVERIFY(fields.size() >= 11);
    QVERIFY(fields.contains(QStringLiteral("description")));
    for (const QString &name : fields.keys()) {
        const QByteArray body = QJsonDocument(QJsonObject{{name, QJsonArray{1}}}).toJson();
        const Response response = fixture.change("PUT", QStringLiteral("/faults"), body);
        QCOMPARE(response.status, 400);
        QCOMPARE(response.json.value(QStringLiteral("field")).toString(), name);
        QVERIFY2(response.json.value(QStringLiteral("error")).toString().startsWith(name + ':'),
                 response.body.constData());
    }
    // What GET answers goes back as it is.
    QCOMPARE(
        fixture.change("PUT", QStringLiteral("/faults"), QJsonDocument(fields).toJson()).status,
        200);
    QVERIFY(fixture.server->defaultFaults().isEmpty());
}

// A `since` past the newest event (a number kept across a restart) is taken as the next
// event: the answer's `next` is the real one, and a poll from there gets the next event.
void tst_ControlApi::eventsSincePastTheNewestIsClamped()
{
    Fixture fixture;
    QVERIFY(fixture.start());
    const qint64 next = fixture.get(QStringLiteral("/events"), QStringLiteral("timeout_ms=0"))
                            .json.value(QStringLiteral("next"))
                            .toInteger();
    const Response ahead = fixture.get(QStringLiteral("/events"),
                                       QStringLiteral("since=%1&timeout_ms=0").arg(next + 1000));
    QCOMPARE(ahead.status, 200);
    QCOMPARE(ahead.json.value(QStringLiteral("events")).toArray().size(), 0);
    QCOMPARE(ahead.json.value(QStringLiteral("next")).toInteger(), next);

    QNetworkAccessManager manager;
    std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(
        fixture.url(QStringLiteral("/events"), QStringLiteral("since=%1&timeout_ms=%2")
                                                   .arg(next + 1000)
                                                   .arg(ControlApi::kMaxPollTimeoutMs)))));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QTRY_COMPARE_WITH_TIMEOUT(fixture.api->waitingPolls(), 1, kTimeoutMs);
    TestClient client;
    QVERIFY(fixture.connect(&client) != 0);
    QVERIFY(reply->isFinished() || finished.wait(kTimeoutMs));
    const QJsonArray events = QJsonDocument::fromJson(reply->readAll())
                                  .object()
                                  .value(QStringLiteral("events"))
                                  .toArray();
    QVERIFY(!events.isEmpty());
    QCOMPARE(events.at(0).toObject().value(QStringLiteral("seq")).toInteger(), next);
}

QTEST_GUILESS_MAIN(tst_ControlApi)
#include "tst_controlapi.moc"
