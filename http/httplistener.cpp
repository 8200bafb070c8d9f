#include "httplistener.h"

#include "nativesocket.h"

#include <QTcpSocket>
#include <QTimer>

#include <memory>

namespace Echoscope {

HttpListener::HttpListener(const Limits &limits, QObject *parent)
    : QTcpServer(parent), m_limits(limits)
{}

void HttpListener::incomingConnection(qintptr descriptor)
{
    if (m_open >= m_limits.maxConnections) {
        NativeSocket::close(descriptor);
        return;
    }
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        NativeSocket::close(descriptor);
        return;
    }
    ++m_open;
    connect(socket, &QObject::destroyed, this, [this] { --m_open; });
    // Each read then takes at most this much, so the count below stays near the limit.
    socket->setReadBufferSize(m_limits.maxRequestBytes);

    auto *idle = new QTimer(socket);
    idle->setSingleShot(true);
    idle->setInterval(m_limits.idleTimeoutMs);
    connect(idle, &QTimer::timeout, socket, &QTcpSocket::abort);
    idle->start();

    // Connected before QHttpServer's own slot, so this sees each read before it does.
    const auto requestBytes = std::make_shared<qint64>(0); // freed with the connections
    const qint64 maxRequestBytes = m_limits.maxRequestBytes;
    connect(socket, &QTcpSocket::readyRead, socket, [socket, idle, requestBytes, maxRequestBytes] {
        idle->start();
        *requestBytes += socket->bytesAvailable();
        if (*requestBytes >= maxRequestBytes) {
            // Not from inside readyRead: QHttpServer's slot still runs after this one.
            QMetaObject::invokeMethod(socket, &QTcpSocket::abort, Qt::QueuedConnection);
        }
    });
    connect(socket, &QTcpSocket::bytesWritten, socket, [idle, requestBytes] {
        idle->start();
        *requestBytes = 0;
    });
    addPendingConnection(socket);
}

} // namespace Echoscope
