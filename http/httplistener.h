#pragma once

#include <QTcpServer>

namespace Echoscope {

// Hands Qt HTTP Server its connections, within bounds: at most maxConnections at once
// (more are closed at once), each closed when idle for idleTimeoutMs or when more than
// maxRequestBytes arrive before a response goes out. QHttpServer (6.4) has no such
// limits of its own. Bind a QAbstractHttpServer to it with bind().
class HttpListener : public QTcpServer
{
public:
    struct Limits
    {
        int maxConnections = 16;
        int idleTimeoutMs = 5 * 60 * 1000;
        qint64 maxRequestBytes = 16 * 1024;
    };

    HttpListener(const Limits &limits, QObject *parent);

    const Limits &limits() const { return m_limits; }
    int openConnections() const { return m_open; }

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    const Limits m_limits;
    int m_open = 0;
};

} // namespace Echoscope
