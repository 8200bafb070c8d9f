#include "plaintransport.h"

#include <QSocketNotifier>

namespace Echoscope {

PlainTransport::PlainTransport(qintptr descriptor) : m_descriptor(descriptor) {}

PlainTransport::~PlainTransport()
{
    if (!m_closed) {
        // Destroyed without close(): release the descriptor all the same.
        delete m_readNotifier;
        delete m_writeNotifier;
        NativeSocket::close(m_descriptor);
    }
}

void PlainTransport::start(TransportHandler *handler, QObject *owner)
{
    NativeSocket::prepare(m_descriptor);
    m_readNotifier = new QSocketNotifier(m_descriptor, QSocketNotifier::Read, owner);
    QObject::connect(m_readNotifier, &QSocketNotifier::activated, owner,
                     [handler] { handler->transportReadable(); });
    m_writeNotifier = new QSocketNotifier(m_descriptor, QSocketNotifier::Write, owner);
    m_writeNotifier->setEnabled(false);
    QObject::connect(m_writeNotifier, &QSocketNotifier::activated, owner,
                     [handler] { handler->transportWritable(); });
}

Transport::Result PlainTransport::read(char *data, qint64 maxBytes, qint64 *bytes)
{
    return NativeSocket::read(m_descriptor, data, maxBytes, bytes);
}

Transport::Result PlainTransport::write(const char *data, qint64 size, qint64 *bytes)
{
    return NativeSocket::write(m_descriptor, data, size, bytes);
}

void PlainTransport::setReadEnabled(bool enabled)
{
    if (m_readNotifier)
        m_readNotifier->setEnabled(enabled);
}

void PlainTransport::setWriteNotificationEnabled(bool enabled)
{
    if (m_writeNotifier)
        m_writeNotifier->setEnabled(enabled);
}

void PlainTransport::close(DisconnectReason reason)
{
    if (m_closed)
        return;
    m_closed = true;
    // Notifiers go before the descriptor does, so no dispatcher ever polls a closed one.
    delete m_readNotifier;
    m_readNotifier = nullptr;
    delete m_writeNotifier;
    m_writeNotifier = nullptr;
    // The echo of a half-closed client is done, or a fault ends the stream in order: FIN.
    if (reason == DisconnectReason::ClosedByPeer || reason == DisconnectReason::FaultClose)
        NativeSocket::shutdownWrite(m_descriptor);
    if (reason == DisconnectReason::FaultReset)
        NativeSocket::abort(m_descriptor); // SO_LINGER 0: the peer sees a reset
    else
        NativeSocket::close(m_descriptor);
}

QString PlainTransport::errorString() const
{
    return NativeSocket::errorString();
}

} // namespace Echoscope
