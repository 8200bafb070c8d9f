#include "httplistener.h"

#include "nativesocket.h"
#include "serverconfig.h"

#include <QAbstractHttpServer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTimer>

#include <utility>

namespace Echoscope {

// One connection's bounds, beside the HTTP server's own handling of it. Qt HTTP Server
// (6.4) reads a request inside a socket transaction, one request per readyRead (it posts
// readyRead again when more is buffered), and commits the transaction when the request is
// whole. So a slot connected before its own sees each read first (where a request starts),
// and one connected after it sees whether the read completed a request (the transaction
// is committed) and how many bytes the request has taken so far. The socket's read buffer
// is capped at the request limit: a request that does not fit stops the reading, and is
// answered 413 here.
class HttpConnection : public QObject
{
public:
    HttpConnection(QTcpSocket *socket, HttpListener *listener, bool refusing)
        : QObject(socket), m_socket(socket), m_listener(listener), m_refusing(refusing)
    {
        m_idle.setSingleShot(true);
        m_deadline.setSingleShot(true);
        m_linger.setSingleShot(true);
        connect(&m_idle, &QTimer::timeout, socket, &QTcpSocket::disconnectFromHost);
        connect(&m_deadline, &QTimer::timeout, this, [this] {
            answer(408, QStringLiteral("the request was not complete %1 ms after its first "
                                       "byte")
                            .arg(m_limits.requestTimeoutMs));
        });
        connect(&m_linger, &QTimer::timeout, this, [this] {
            m_socket->abort();
            m_socket->deleteLater();
        });
        connect(socket, &QTcpSocket::bytesWritten, this, [this] {
            if (m_answered) {
                if (m_socket->bytesToWrite() == 0)
                    NativeSocket::shutdownWrite(m_socket->socketDescriptor());
            } else if (!m_inRequest) {
                m_idle.start();
            }
        });
        apply(listener->limits());
        if (refusing) {
            listener->m_refusals.append(this);
            // Never handed to the HTTP server: deleted here when the client has gone.
            connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            connect(socket, &QTcpSocket::readyRead, this, [this] { m_socket->readAll(); });
        } else {
            listener->m_connections.append(this);
            m_idle.start();
        }
    }

    ~HttpConnection() override
    {
        if (!m_listener)
            return;
        (m_refusing ? m_listener->m_refusals : m_listener->m_connections).removeOne(this);
    }

    void forgetListener() { m_listener = nullptr; }

    void apply(const HttpListener::Limits &limits)
    {
        m_limits = limits;
        // A running timer restarts with its new interval.
        for (auto [timer, ms] : {std::pair{&m_idle, limits.idleTimeoutMs},
                                 std::pair{&m_deadline, limits.requestTimeoutMs},
                                 std::pair{&m_linger, limits.lingerMs}}) {
            timer->setInterval(ms);
            if (timer->isActive())
                timer->start();
        }
    }

    // Before the HTTP server's slot.
    void beforeRead()
    {
        if (m_answered) {
            m_socket->readAll(); // lingering: what still comes is read and dropped
            return;
        }
        m_before = m_socket->bytesAvailable();
        if (!m_inRequest && m_before > 0) {
            m_inRequest = true;
            m_requestBytes = 0;
            m_idle.stop();
            m_deadline.start(); // not restarted by the request's later bytes
        }
    }

    // After the HTTP server's slot.
    void afterRead()
    {
        if (m_answered || !m_inRequest)
            return;
        m_requestBytes += qMax<qint64>(0, m_before - m_socket->bytesAvailable());
        if (!m_socket->isTransactionStarted()) {
            // The request is whole and handed over; the next one starts with its first byte.
            m_inRequest = false;
            m_requestBytes = 0;
            m_deadline.stop();
            m_idle.start();
        } else if (m_requestBytes + m_socket->bytesAvailable() >= m_limits.maxRequestBytes) {
            answer(413, QStringLiteral("the request passed the limit of %1 bytes (request "
                                       "line, headers and body)")
                            .arg(m_limits.maxRequestBytes));
        }
    }

    // Answers the client with an error and closes the connection, the HTTP server no longer
    // reading it.
    void answer(int status, const QString &message)
    {
        m_idle.stop();
        m_deadline.stop();
        m_answered = true;
        if (!m_refusing) {
            if (m_listener && m_listener->m_owesAnswer && m_listener->m_owesAnswer(m_socket)) {
                // An earlier request's answer must come first: nothing can be said.
                m_socket->abort();
                return;
            }
            if (QObject *http = m_listener ? m_listener->parent() : nullptr)
                disconnect(m_socket, &QTcpSocket::readyRead, http, nullptr);
            if (m_socket->isTransactionStarted())
                m_socket->commitTransaction();
        }
        m_socket->readAll();
        m_socket->write(HttpListener::errorAnswer(status, message));
        m_linger.start();
    }

private:
    QTcpSocket *m_socket;
    HttpListener *m_listener;
    const bool m_refusing;
    HttpListener::Limits m_limits;
    QTimer m_idle;
    QTimer m_deadline;
    QTimer m_linger;
    bool m_inRequest = false;
    bool m_answered = false;
    qint64 m_before = 0;
    qint64 m_requestBytes = 0;
};

HttpListener::HttpListener(const Limits &limits, QObject *parent)
    : QTcpServer(parent), m_limits(limits)
{}

HttpListener::~HttpListener()
{
    // The sockets (and their HttpConnection) are deleted after this, as children.
    for (HttpConnection *connection : m_connections + m_refusals)
        connection->forgetListener();
}

HttpListener *HttpListener::serve(QAbstractHttpServer *http, const Limits &limits,
                                  const QString &address, quint16 port, const QString &what,
                                  QString *error)
{
    QHostAddress bindAddress;
    QString reason;
    if (!ServerConfig::resolveBindAddress(address, &bindAddress, &reason)) {
        *error = QStringLiteral("%1: %2").arg(what, reason);
        return nullptr;
    }
    auto *listener = new HttpListener(limits, nullptr);
    if (!listener->QTcpServer::listen(bindAddress, port)) {
        *error = QStringLiteral("cannot listen for %1 on %2 port %3: %4")
                     .arg(what, ServerConfig::describeAddress(bindAddress))
                     .arg(port)
                     .arg(listener->errorString());
        delete listener;
        return nullptr;
    }
    http->bind(listener); // now its child
    return listener;
}

void HttpListener::setLimits(const Limits &limits)
{
    m_limits = limits;
    for (HttpConnection *connection : m_connections + m_refusals)
        connection->apply(limits);
}

void HttpListener::setOwesAnswer(std::function<bool(const QTcpSocket *)> owesAnswer)
{
    m_owesAnswer = std::move(owesAnswer);
}

QUrl HttpListener::localUrl(const QHostAddress &address, quint16 port, const QString &path)
{
    QHostAddress host = address;
    if (host == QHostAddress(QHostAddress::Any) || host == QHostAddress(QHostAddress::AnyIPv4))
        host = QHostAddress(QHostAddress::LocalHost);
    else if (host == QHostAddress(QHostAddress::AnyIPv6))
        host = QHostAddress(QHostAddress::LocalHostIPv6);
    QUrl url;
    url.setScheme(QStringLiteral("http"));
    url.setHost(host.toString());
    url.setPort(port);
    url.setPath(path);
    return url;
}

QByteArray HttpListener::errorAnswer(int status, const QString &message)
{
    const char *reason = status == 408   ? "Request Timeout"
                         : status == 413 ? "Content Too Large"
                         : status == 503 ? "Service Unavailable"
                                         : "Error";
    const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("error"), message},
                                                      {QStringLiteral("status"), status}})
                                .toJson(QJsonDocument::Compact) +
                            '\n';
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason +
           "\r\nContent-Type: application/json\r\nContent-Length: " +
           QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

// A QTcpSocket on the accepted descriptor, or nullptr (the descriptor closed).
QTcpSocket *HttpListener::adopt(qintptr descriptor)
{
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        NativeSocket::close(descriptor);
        return nullptr;
    }
    return socket;
}

void HttpListener::incomingConnection(qintptr descriptor)
{
    if (m_connections.size() >= m_limits.maxConnections) {
        refuse(descriptor);
        return;
    }
    QTcpSocket *socket = adopt(descriptor);
    if (!socket)
        return;
    // Each read then takes at most this much: a request that does not fit stops the reading.
    socket->setReadBufferSize(m_limits.maxRequestBytes);
    auto *connection = new HttpConnection(socket, this, false);
    connect(socket, &QTcpSocket::readyRead, connection, &HttpConnection::beforeRead);
    // The HTTP server takes the socket and connects its slot inside this call (its
    // pendingConnectionAvailable slot), so the next one runs after its own.
    addPendingConnection(socket);
    connect(socket, &QTcpSocket::readyRead, connection, &HttpConnection::afterRead);
}

void HttpListener::refuse(qintptr descriptor)
{
    ++m_refused;
    if (m_refusals.size() >= m_limits.maxConnections) {
        // Refusals too are bounded: beyond them, closed without a word.
        NativeSocket::close(descriptor);
        return;
    }
    if (QTcpSocket *socket = adopt(descriptor)) {
        auto *connection = new HttpConnection(socket, this, true);
        connection->answer(503, QStringLiteral("too many connections: %1 are open, the most "
                                               "this server takes; try again when one closes")
                                    .arg(m_limits.maxConnections));
    }
}

} // namespace Echoscope
