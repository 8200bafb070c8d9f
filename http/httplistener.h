#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QTcpServer>
#include <QUrl>

#include <functional>

class QAbstractHttpServer;
class QTcpSocket;

namespace Echoscope {

class HttpConnection;

// Hands Qt HTTP Server its connections, within bounds (QHttpServer 6.4 has none of its own):
// - at most maxConnections at once: one more is answered 503 (Connection: close) and closed;
// - a request must be complete within requestTimeoutMs of its first byte, however slowly
//   its bytes keep coming (slow headers or a slow body: "slowloris"), else the connection is
//   closed;
// - a connection with no request under way is closed after idleTimeoutMs (keep-alive);
// - a request of maxRequestBytes or more is answered 413 (Connection: close).
// The listener's own answers are JSON, {"error": "sentence", "status": N}; after one it
// reads and discards what the client still sends, for up to lingerMs, so that the client
// reads the answer rather than a reset ("lingering close").
//
// serve() resolves the address, listens and binds a QAbstractHttpServer to it.
class HttpListener : public QTcpServer
{
public:
    struct Limits
    {
        int maxConnections = 16;
        // Between requests (keep-alive). A server whose answers wait (a long poll) keeps
        // this above its longest wait: the timer starts when a request is handed over.
        int idleTimeoutMs = 65 * 1000;
        // From a request's first byte to its last.
        int requestTimeoutMs = 10 * 1000;
        qint64 maxRequestBytes = 16 * 1024;
        int lingerMs = 2000;
    };

    HttpListener(const Limits &limits, QObject *parent);
    ~HttpListener() override;

    // Resolves `address` (the words of --bind: ServerConfig::resolveBindAddress), listens on
    // it and `port` (0: a free one) and binds `http` to the listener (which `http` then owns).
    // nullptr on failure, with *error naming `what` ("the control API"), the address, the
    // port and the OS's reason.
    static HttpListener *serve(QAbstractHttpServer *http, const Limits &limits,
                               const QString &address, quint16 port, const QString &what,
                               QString *error);

    const Limits &limits() const { return m_limits; }
    // Open connections take the new timeouts at once (their timers restart with them).
    void setLimits(const Limits &limits);
    // Connections handed to the HTTP server and open now.
    int openConnections() const { return int(m_connections.size()); }
    // Connections answered 503 since the start (more than maxConnections at once).
    qint64 refusedConnections() const { return m_refused; }

    // Says whether the HTTP server still owes `socket` an answer (a request it holds, such as
    // a long poll). The listener then closes the connection rather than answering 413 itself,
    // which would come before the answer owed.
    void setOwesAnswer(std::function<bool(const QTcpSocket *)> owesAnswer);

    // http://ADDRESS:PORT/PATH, where a client on this machine finds a listener on
    // `address`: loopback for an any-address.
    static QUrl localUrl(const QHostAddress &address, quint16 port, const QString &path);
    // A whole HTTP/1.1 answer with a JSON error body and "Connection: close".
    static QByteArray errorAnswer(int status, const QString &message);

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    friend class HttpConnection;
    QTcpSocket *adopt(qintptr descriptor);
    void refuse(qintptr descriptor);

    Limits m_limits;
    QList<HttpConnection *> m_connections; // handed to the HTTP server
    QList<HttpConnection *> m_refusals;    // 503s being written now
    qint64 m_refused = 0;
    std::function<bool(const QTcpSocket *)> m_owesAnswer;
};

} // namespace Echoscope
