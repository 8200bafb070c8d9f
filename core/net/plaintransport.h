#pragma once

#include "socketpoller.h"
#include "transport.h"

QT_BEGIN_NAMESPACE
class QSocketNotifier;
QT_END_NAMESPACE

namespace Echoscope {

// A connection as the accepted descriptor itself: non-blocking read()/write() through
// NativeSocket, its readiness from the thread's SocketPoller (epoll) when there is one,
// or from a QSocketNotifier per direction otherwise. Both are level-triggered: readiness
// is reported again while there is more to read.
class PlainTransport final : public Transport
{
public:
    // poller: the session thread's, or nullptr for QSocketNotifiers; it must outlive
    // the transport's close() (or its destruction).
    explicit PlainTransport(qintptr descriptor, SocketPoller *poller = nullptr);
    ~PlainTransport() override;

    void start(TransportHandler *handler, QObject *owner) override;
    bool hasHandshake() const override { return false; }
    Result read(char *data, qint64 maxBytes, qint64 *bytes) override;
    Result write(const char *data, qint64 size, qint64 *bytes) override;
    void setReadEnabled(bool enabled) override;
    void setWriteNotificationEnabled(bool enabled) override;
    bool canWriteAfterPeerClose() const override { return true; }
    void close(DisconnectReason reason) override;
    QString errorString() const override;

private:
    void stopWatching();

    qintptr m_descriptor;
    SocketPoller *m_poller;
    SocketPoller::Watch *m_watch = nullptr;
    bool m_closed = false;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
};

} // namespace Echoscope
