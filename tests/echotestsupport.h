#pragma once

// What the engine's socket tests share: binary payloads, length headers, a client that
// collects its echo, and the thread-count rows. Header-only, for tests.

#include "echoserver.h"
#include "measuring.h"
#include "serverconfig.h"

#include <QByteArray>
#include <QDebug>
#include <QHostAddress>
#include <QObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QTest>

#include <memory>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

namespace EchoTest {

constexpr int kTimeoutMs = 20000;

// Binary test data: every byte value, NUL, 0xFF and invalid UTF-8 sequences,
// never containing `avoid` (so a line payload holds no delimiter).
inline QByteArray payload(qsizetype size, quint32 seed, char avoid = '\0', bool useAvoid = false)
{
    QRandomGenerator random(seed);
    QByteArray data(size, Qt::Uninitialized);
    static const char kSpecial[] = {'\0',       char(0xff), char(0xc3), char(0x28),
                                    char(0xed), char(0xa0), char(0x80), '\x1b'};
    for (qsizetype i = 0; i < size; ++i) {
        char c = (i % 7 == 0) ? kSpecial[(i / 7) % sizeof kSpecial] : char(random.bounded(256));
        if (useAvoid && c == avoid)
            c = char(avoid + 1);
        data[i] = c;
    }
    return data;
}

inline QByteArray lengthHeader(quint64 length, int bytes)
{
    QByteArray header(bytes, '\0');
    for (int i = 0; i < bytes; ++i)
        header[bytes - 1 - i] = char((length >> (8 * i)) & 0xff);
    return header;
}

// A client that collects everything it receives.
class TestClient : public QObject
{
public:
    explicit TestClient(QObject *parent = nullptr) : QObject(parent)
    {
        connect(&socket, &QTcpSocket::readyRead, this, [this] { received += socket.readAll(); });
        // readyRead delivers everything before disconnected; the socket is closed then.
        connect(&socket, &QTcpSocket::disconnected, this, [this] { closed = true; });
    }
    bool connectTo(const QHostAddress &address, quint16 port)
    {
        socket.connectToHost(address, port);
        // Completes in the kernel's backlog: no need for the server's event loop.
        return socket.waitForConnected(kTimeoutMs);
    }
    void halfClose()
    {
        socket.flush();
#ifdef Q_OS_UNIX
        ::shutdown(int(socket.socketDescriptor()), SHUT_WR);
#endif
    }
    void reset()
    {
#ifdef Q_OS_UNIX
        struct linger option = {1, 0};
        ::setsockopt(int(socket.socketDescriptor()), SOL_SOCKET, SO_LINGER, &option, sizeof option);
#endif
        socket.abort();
    }

    QTcpSocket socket;
    QByteArray received;
    bool closed = false;
};

// Runs the openssl command in `directory` (the TLS tests make their certificates with it);
// false, with its error output as a warning, if it fails or takes longer than kTimeoutMs.
inline bool runOpenssl(const QString &directory, const QStringList &arguments)
{
    QProcess process;
    process.setWorkingDirectory(directory);
    process.start(QStringLiteral("openssl"), arguments);
    if (!process.waitForFinished(kTimeoutMs) || process.exitCode() != 0) {
        qWarning() << "openssl" << arguments << "failed:" << process.readAllStandardError();
        return false;
    }
    return true;
}

// Rows for tests that run with everything on the main thread and with two workers.
inline void addThreadRows()
{
    QTest::addColumn<int>("threads");
    QTest::newRow("1 thread") << 1;
    QTest::newRow("2 threads") << 2;
}

inline Echoscope::ServerConfig testConfig(int threads)
{
    Echoscope::ServerConfig config;
    config.port = 0;
    config.threads = threads;
    return config;
}

// A server started on its own, and the port it got (0 if it did not start).
struct Running
{
    std::unique_ptr<Echoscope::EchoServer> server;
    quint16 port = 0;
};

inline Running startServer(const Echoscope::ServerConfig &config)
{
    Running running;
    running.server = std::make_unique<Echoscope::EchoServer>();
    if (running.server->start(config))
        running.port = running.server->serverPort();
    else
        qWarning() << "start failed:" << running.server->errorString();
    return running;
}

} // namespace EchoTest
