// TLS echo: a real EchoServer with a TLS listener on loopback, port 0, and real
// QSslSocket clients. The certificate and keys are made at test time with the openssl
// command, in a temporary directory; every wait is bounded.

#include "echoserver.h"
#include "faultconfig.h"
#include "echotestsupport.h"
#include "serverconfig.h"
#include "tlscredentials.h"
#include "tlstransport.h"
#include "translations.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QSslCipher>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace Echoscope;
using namespace EchoTest;

namespace {

// A TLS client that trusts only the test's own certificate and collects its echo.
class TlsClient : public QObject
{
public:
    TlsClient(const QSslCertificate &authority, QSsl::SslProtocol protocol = QSsl::SecureProtocols)
    {
        QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
        configuration.setCaCertificates({authority});
        configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
        configuration.setProtocol(protocol);
        socket.setSslConfiguration(configuration);
        connect(&socket, &QSslSocket::readyRead, this, [this] {
            if (reading)
                received += socket.readAll();
        });
        connect(&socket, &QSslSocket::disconnected, this, [this] { closed = true; });
        connect(&socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
            for (const QSslError &error : errors)
                sslErrors.append(error.errorString());
        });
    }
    // Connects to 127.0.0.1 checking the certificate against the name "localhost". Runs
    // the event loop meanwhile: the server may share this thread.
    bool handshake(quint16 port)
    {
        bool failed = false;
        const auto connection = connect(&socket, &QSslSocket::errorOccurred, this,
                                        [&failed](QAbstractSocket::SocketError) { failed = true; });
        socket.connectToHostEncrypted(QStringLiteral("127.0.0.1"), port,
                                      QStringLiteral("localhost"));
        const bool done =
            QTest::qWaitFor([&] { return socket.isEncrypted() || failed; }, kTimeoutMs);
        disconnect(connection);
        return done && socket.isEncrypted();
    }
    void resumeReading()
    {
        reading = true;
        socket.setReadBufferSize(0);
        received += socket.readAll();
    }

    QSslSocket socket;
    QByteArray received;
    QStringList sslErrors;
    bool reading = true;
    bool closed = false;
};

TrafficEvent lastOfKind(const QSignalSpy &events, TrafficEvent::Kind kind)
{
    for (qsizetype i = events.size() - 1; i >= 0; --i) {
        const auto event = events.at(i).at(0).value<TrafficEvent>();
        if (event.kind == kind)
            return event;
    }
    return TrafficEvent();
}

bool hasEvent(const QSignalSpy &events, TrafficEvent::Kind kind)
{
    for (const QList<QVariant> &arguments : events) {
        if (arguments.at(0).value<TrafficEvent>().kind == kind)
            return true;
    }
    return false;
}

} // namespace

class tst_Tls : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void echoesOverTls_data();
    void echoesOverTls();
    void minimumVersionIsEnforced();
    void plainClientFailsHandshake();
    void silentClientTimesOut();
    void clientCloseEndsConnection();
    void kickedClientGetsOrderlyClose();
    void faultsActOnTlsClients_data();
    void faultsActOnTlsClients();
    void largeTransferStaysBounded();
    void badCredentialsFailStart_data();
    void badCredentialsFailStart();
    void configNeedsBothFiles();

private:
    ServerConfig tlsConfig(int threads) const;
    bool openssl(const QStringList &arguments);

    QTemporaryDir m_directory;
    QString m_certificate;
    QString m_key;
    QSslCertificate m_authority;
};

bool tst_Tls::openssl(const QStringList &arguments)
{
    return runOpenssl(m_directory.path(), arguments);
}

void tst_Tls::initTestCase()
{
    qRegisterMetaType<QHostAddress>();
    // The engine's texts in English (with their plural forms) in every locale: some are
    // compared below.
    Translations::install(QCoreApplication::instance(), QLocale(QLocale::English));
    QString why;
    if (!TlsCredentials::isAvailable(&why))
        QFAIL(qPrintable(why));
    if (QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty())
        QSKIP("the openssl command is not installed (apt-get install openssl): it makes the "
              "test certificates");
    QVERIFY(m_directory.isValid());
    // A throwaway self-signed pair for localhost, and what the failure rows need.
    QVERIFY(openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out",
                     "cert.pem", "-days", "2", "-subj", "/CN=localhost", "-addext",
                     "subjectAltName=DNS:localhost,IP:127.0.0.1"}));
    QVERIFY(openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                     "other-key.pem"}));
    QVERIFY(openssl({"pkey", "-in", "key.pem", "-aes256", "-passout", "pass:secret", "-out",
                     "encrypted-key.pem"}));
    QFile garbage(m_directory.filePath(QStringLiteral("garbage.pem")));
    QVERIFY(garbage.open(QIODevice::WriteOnly));
    garbage.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
    garbage.close();
    m_certificate = m_directory.filePath(QStringLiteral("cert.pem"));
    m_key = m_directory.filePath(QStringLiteral("key.pem"));
    const auto chain = QSslCertificate::fromPath(m_certificate);
    QCOMPARE(chain.size(), 1);
    m_authority = chain.constFirst();
}

ServerConfig tst_Tls::tlsConfig(int threads) const
{
    ServerConfig config = testConfig(threads);
    config.tlsCertificateFile = m_certificate;
    config.tlsKeyFile = m_key;
    return config;
}

void tst_Tls::echoesOverTls_data()
{
    addThreadRows();
}

void tst_Tls::echoesOverTls()
{
    QFETCH(int, threads);
    ServerConfig config = tlsConfig(threads);
    config.framing.mode = FramingMode::Length;
    config.framing.lengthBytes = 4;
    config.captureBytesPerClient = 1024 * 1024;
    Running running = startServer(config);
    QVERIFY(running.port != 0);
    QVERIFY(running.server->isTls());
    QVERIFY2(
        running.server->tlsSummary().contains(u"certificate localhost (self-signed, valid until "),
        qPrintable(running.server->tlsSummary()));
    QSignalSpy events(running.server.get(), &EchoServer::eventOccurred);

    TlsClient client(m_authority);
    QVERIFY2(client.handshake(running.port), qPrintable(client.socket.errorString()));
    QVERIFY2(client.sslErrors.isEmpty(), qPrintable(client.sslErrors.join(u"; ")));

    QByteArray sent;
    for (int i = 0; i < 20; ++i) {
        const QByteArray message = payload(1 + i * 997, quint32(i));
        sent += lengthHeader(quint64(message.size()), 4) + message;
    }
    client.socket.write(sent);
    QTRY_COMPARE_WITH_TIMEOUT(client.received.size(), sent.size(), kTimeoutMs);
    QCOMPARE(client.received, sent);

    QTRY_VERIFY_WITH_TIMEOUT(hasEvent(events, TrafficEvent::Kind::TlsEstablished), kTimeoutMs);
    const QList<quint64> ids = running.server->clientIds();
    QCOMPARE(ids.size(), 1);
    const ClientSnapshot snapshot = running.server->clientStats(ids.constFirst())->snapshot();
    // The server sees what the client negotiated, and counts plaintext bytes.
    QCOMPARE(snapshot.tlsProtocol, client.socket.sessionCipher().protocolString());
    QCOMPARE(snapshot.tlsCipher, client.socket.sessionCipher().name());
    QCOMPARE(snapshot.tlsCipherBits, client.socket.sessionCipher().usedBits());
    QVERIFY(snapshot.tlsProtocol.startsWith(u"TLSv1."));
    QCOMPARE(snapshot.state, ClientState::Connected);
    QCOMPARE(snapshot.bytesIn, qint64(sent.size()));
    QCOMPARE(snapshot.bytesOut, qint64(sent.size()));
    QCOMPARE(snapshot.messagesIn, 20);
    QCOMPARE(snapshot.messagesOut, 20);
    const TrafficEvent established = lastOfKind(events, TrafficEvent::Kind::TlsEstablished);
    QVERIFY2(established.text.contains(snapshot.tlsCipher), qPrintable(established.text));
    // The capture holds plaintext, not TLS records.
    const CaptureSnapshot capture =
        running.server->clientStats(ids.constFirst())->capture()->snapshot();
    QByteArray captured;
    for (const CaptureChunk &chunk : capture.chunks) {
        if (chunk.direction == CaptureChunk::Direction::Received)
            captured += chunk.bytes;
    }
    QCOMPARE(captured, sent);
}

void tst_Tls::minimumVersionIsEnforced()
{
    ServerConfig config = tlsConfig(1);
    config.tlsMinimumVersion = ServerConfig::TlsVersion::Tls13;
    Running running = startServer(config);
    QVERIFY(running.port != 0);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);

    TlsClient old(m_authority, QSsl::TlsV1_2);
    QVERIFY(!old.handshake(running.port));
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, kTimeoutMs);
    const auto info = disconnected.at(0).at(1).value<DisconnectInfo>();
    QCOMPARE(info.reason, DisconnectReason::TlsHandshakeFailed);
    QVERIFY2(!info.detail.isEmpty(), qPrintable(info.describe()));

    TlsClient current(m_authority);
    QVERIFY2(current.handshake(running.port), qPrintable(current.socket.errorString()));
    QCOMPARE(current.socket.sessionProtocol(), QSsl::TlsV1_3);
}

void tst_Tls::plainClientFailsHandshake()
{
    Running running = startServer(tlsConfig(1));
    QVERIFY(running.port != 0);
    QSignalSpy events(running.server.get(), &EchoServer::eventOccurred);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);

    TestClient plain;
    QVERIFY(plain.connectTo(QHostAddress::LocalHost, running.port));
    plain.socket.write("hello, plain text\n");
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, kTimeoutMs);
    const auto info = disconnected.at(0).at(1).value<DisconnectInfo>();
    QCOMPARE(info.reason, DisconnectReason::TlsHandshakeFailed);
    QVERIFY2(info.detail.contains(u"does not seem to speak TLS"), qPrintable(info.detail));
    QCOMPARE(info.bytesIn, 0); // nothing of it was taken as data
    QCOMPARE(info.bytesOut, 0);
    QTRY_VERIFY_WITH_TIMEOUT(plain.closed, kTimeoutMs);
    QVERIFY(!plain.received.contains("hello")); // never echoed in the clear

    const TrafficEvent event = lastOfKind(events, TrafficEvent::Kind::Disconnected);
    QVERIFY2(event.toText().contains(u"TLS handshake failed: "), qPrintable(event.toText()));
    QVERIFY(!hasEvent(events, TrafficEvent::Kind::TlsEstablished));
}

void tst_Tls::silentClientTimesOut()
{
    ServerConfig config = tlsConfig(1);
    config.tlsHandshakeTimeoutMs = 300;
    Running running = startServer(config);
    QVERIFY(running.port != 0);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);

    TestClient silent;
    QVERIFY(silent.connectTo(QHostAddress::LocalHost, running.port));
    QTRY_COMPARE_WITH_TIMEOUT(running.server->clientIds().size(), 1, kTimeoutMs);
    const auto stats = running.server->clientStats(running.server->clientIds().constFirst());
    QCOMPARE(stats->state(), ClientState::Handshaking);
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, kTimeoutMs);
    const auto info = disconnected.at(0).at(1).value<DisconnectInfo>();
    QCOMPARE(info.reason, DisconnectReason::TlsHandshakeFailed);
    QCOMPARE(info.detail, QStringLiteral("no TLS handshake within 0.3 s"));
    QVERIFY(info.durationMs >= 250);
    QTRY_VERIFY_WITH_TIMEOUT(silent.closed, kTimeoutMs);
}

void tst_Tls::clientCloseEndsConnection()
{
    ServerConfig config = tlsConfig(2);
    config.framing.mode = FramingMode::Line;
    Running running = startServer(config);
    QVERIFY(running.port != 0);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);

    TlsClient client(m_authority);
    QVERIFY(client.handshake(running.port));
    client.socket.write("one\ntwo\nunfinished");
    QTRY_COMPARE_WITH_TIMEOUT(client.received, QByteArray("one\ntwo\n"), kTimeoutMs);
    client.socket.disconnectFromHost(); // close_notify, then FIN
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, kTimeoutMs);
    const auto info = disconnected.at(0).at(1).value<DisconnectInfo>();
    QCOMPARE(info.reason, DisconnectReason::ClosedByPeer);
    QCOMPARE(info.messagesIn, 2);
    QCOMPARE(info.incompleteBytes, 10);
    QVERIFY2(info.detail.contains(u"incomplete message of 10 bytes"), qPrintable(info.detail));
}

void tst_Tls::kickedClientGetsOrderlyClose()
{
    Running running = startServer(tlsConfig(2));
    QVERIFY(running.port != 0);
    TlsClient client(m_authority);
    QVERIFY(client.handshake(running.port));
    client.socket.write("ping");
    QTRY_COMPARE_WITH_TIMEOUT(client.received, QByteArray("ping"), kTimeoutMs);
    QSignalSpy errors(&client.socket, &QSslSocket::errorOccurred);
    QVERIFY(running.server->disconnectClient(running.server->clientIds().constFirst()));
    QTRY_VERIFY_WITH_TIMEOUT(client.closed, kTimeoutMs);
    // close_notify came first: an orderly end, not a truncated stream.
    for (const QList<QVariant> &error : errors)
        QCOMPARE(error.at(0).value<QAbstractSocket::SocketError>(),
                 QAbstractSocket::RemoteHostClosedError);
}

// Faults schedule the echo above the transport: over TLS a close after N bytes is an
// orderly end after exactly N plaintext bytes, a reset after N ends it without close_notify.
void tst_Tls::faultsActOnTlsClients_data()
{
    QTest::addColumn<bool>("reset");
    QTest::newRow("close after 10") << false;
    QTest::newRow("reset after 10") << true;
}

void tst_Tls::faultsActOnTlsClients()
{
    QFETCH(bool, reset);
    Running running = startServer(tlsConfig(2));
    QVERIFY(running.port != 0);
    FaultConfig faults;
    (reset ? faults.resetAfterBytes : faults.closeAfterBytes) = 10;
    QString error;
    QVERIFY2(running.server->setDefaultFaults(faults, &error), qPrintable(error));
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);

    TlsClient client(m_authority);
    QVERIFY(client.handshake(running.port));
    client.socket.write("0123456789abcdef");
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, kTimeoutMs);
    const auto info = disconnected.at(0).at(1).value<DisconnectInfo>();
    QCOMPARE(info.reason, reset ? DisconnectReason::FaultReset : DisconnectReason::FaultClose);
    QCOMPARE(info.bytesOut, qint64(10));
    QTRY_VERIFY_WITH_TIMEOUT(client.closed, kTimeoutMs);
    if (!reset) // a reset may also discard what the client's kernel had not handed over
        QCOMPARE(client.received, QByteArray("0123456789"));
    QVERIFY(client.received.size() <= 10);
}

void tst_Tls::largeTransferStaysBounded()
{
    ServerConfig config = tlsConfig(2);
    config.highWaterBytes = 128 * 1024;
    config.lowWaterBytes = 32 * 1024;
    Running running = startServer(config);
    QVERIFY(running.port != 0);

    TlsClient client(m_authority);
    QVERIFY(client.handshake(running.port));
    // The client stops reading once it holds 16 KiB of echo, so the server's writes back
    // up, it pauses, and the client's writes back up in turn. Offered: far more than any
    // kernel buffers hold.
    client.reading = false;
    client.socket.setReadBufferSize(16 * 1024);
    const QByteArray sent = payload(16 * 1024 * 1024, 7);
    client.socket.write(sent);

    QTRY_COMPARE_WITH_TIMEOUT(running.server->clientIds().size(), 1, kTimeoutMs);
    const auto stats = running.server->clientStats(running.server->clientIds().constFirst());
    QTRY_COMPARE_WITH_TIMEOUT(stats->state(), ClientState::Paused, kTimeoutMs);
    const ClientSnapshot paused = stats->snapshot();
    // Queued echo: under the high-water mark plus one read (64 KiB); and what it read is
    // bounded by buffers, not by what was offered.
    QVERIFY2(paused.peakUnsentBytes <= config.highWaterBytes + 64 * 1024,
             qPrintable(QString::number(paused.peakUnsentBytes)));
    QVERIFY(paused.peakUnsentBytes > config.highWaterBytes);
    QVERIFY2(paused.bytesIn < sent.size() / 2, qPrintable(QString::number(paused.bytesIn)));

    client.resumeReading();
    QTRY_COMPARE_WITH_TIMEOUT(client.received.size(), sent.size(), kTimeoutMs);
    QVERIFY(client.received == sent);
    QTRY_COMPARE_WITH_TIMEOUT(stats->bytesOut(), qint64(sent.size()), kTimeoutMs);
    QCOMPARE(stats->snapshot().unsentBytes, 0);
}

void tst_Tls::badCredentialsFailStart_data()
{
    QTest::addColumn<QString>("certificate");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("expected");
    const QString missing = QStringLiteral("missing.pem");
    QTest::newRow("missing certificate") << missing << "key.pem"
                                         << "cannot read the TLS certificate file";
    QTest::newRow("missing key") << "cert.pem" << missing << "cannot read the TLS key file";
    QTest::newRow("garbage certificate") << "garbage.pem"
                                         << "key.pem"
                                         << "holds no certificate in PEM or DER form";
    QTest::newRow("certificate as key") << "cert.pem"
                                        << "cert.pem"
                                        << "holds no RSA, EC or DSA private key";
    QTest::newRow("encrypted key") << "cert.pem"
                                   << "encrypted-key.pem"
                                   << "is encrypted with a passphrase";
    QTest::newRow("key of another certificate") << "cert.pem"
                                                << "other-key.pem"
                                                << "cannot be used together";
}

void tst_Tls::badCredentialsFailStart()
{
    QFETCH(QString, certificate);
    QFETCH(QString, key);
    QFETCH(QString, expected);
    ServerConfig config = testConfig(1);
    config.tlsCertificateFile = m_directory.filePath(certificate);
    config.tlsKeyFile = m_directory.filePath(key);
    EchoServer server;
    QSignalSpy failed(&server, &EchoServer::failed);
    QVERIFY(!server.start(config));
    QVERIFY(!server.isListening());
    QCOMPARE(server.error(), EchoServer::Error::InvalidConfig);
    QCOMPARE(failed.size(), 1);
    QVERIFY2(server.errorString().contains(expected), qPrintable(server.errorString()));
    // The sentence names the file at fault.
    const QString named = expected.contains(u"key") || expected.contains(u"passphrase")
                              ? config.tlsKeyFile
                              : config.tlsCertificateFile;
    QVERIFY2(server.errorString().contains(named), qPrintable(server.errorString()));

    // The same server starts with good files afterwards.
    QVERIFY(server.start(tlsConfig(1)));
}

void tst_Tls::configNeedsBothFiles()
{
    ServerConfig config = testConfig(1);
    config.tlsCertificateFile = m_certificate;
    QVERIFY(config.validate().contains(u"needs a private key file"));
    config.tlsCertificateFile.clear();
    config.tlsKeyFile = m_key;
    QVERIFY(config.validate().contains(u"needs a certificate file"));
    config = tlsConfig(1);
    QVERIFY(config.validate().isEmpty());
    config.framing.mode = FramingMode::Eof;
    QVERIFY(config.validate().contains(u"eof framing cannot be used with TLS"));
    config.framing.mode = FramingMode::Stream;
    config.tlsHandshakeTimeoutMs = 0;
    QVERIFY(config.validate().contains(u"handshake timeout"));
}

QTEST_GUILESS_MAIN(tst_Tls)
#include "tst_tls.moc"
