#pragma once

#include "transport.h"

QT_BEGIN_NAMESPACE
class QSocketNotifier;
QT_END_NAMESPACE

namespace Echoscope {

// A connection as the accepted descriptor itself: non-blocking read()/write() through
// NativeSocket and a QSocketNotifier per direction (level-triggered: a notifier fires
// again while there is more to read).
class PlainTransport final : public Transport
{
public:
    explicit PlainTransport(qintptr descriptor);
    ~PlainTransport() override;

    void start(TransportHandler *handler, QObject *owner) override;
    bool isEncrypted() const override { return false; }
    Result read(char *data, qint64 maxBytes, qint64 *bytes) override;
    Result write(const char *data, qint64 size, qint64 *bytes) override;
    void setReadEnabled(bool enabled) override;
    void setWriteNotificationEnabled(bool enabled) override;
    bool canWriteAfterPeerClose() const override { return true; }
    void close(DisconnectReason reason) override;
    QString errorString() const override;

private:
    qintptr m_descriptor;
    bool m_closed = false;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
};

} // namespace Echoscope
