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

LoadConfig quickConfig(quint16 port, LoadConfig::Mode mode, int connections, qint64 size)
{
    LoadConfig config;
    config.port = port;
    config.mode = mode;
    config.connections = connections;
    config.messageBytes = size;
    config.durationMs = 300;
    config.timeoutMs = 3000;
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
    void commandLineExitStatus();
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

QTEST_GUILESS_MAIN(tst_LoadGenerator)
#include "tst_loadgenerator.moc"
