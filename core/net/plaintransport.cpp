#include "plaintransport.h"

#include <QSocketNotifier>

namespace Echoscope {

PlainTransport::PlainTransport(qintptr descriptor, SocketPoller *poller)
    : m_descriptor(descriptor), m_poller(poller && poller->isValid() ? poller : nullptr)
{}

PlainTransport::~PlainTransport()
{
    if (!m_closed) {
        // Destroyed without close(): release the descriptor all the same.
        stopWatching();
        NativeSocket::close(m_descriptor);
    }
}

void PlainTransport::stopWatching()
{
    if (m_poller) {
        m_poller->remove(m_watch);
        m_watch = nullptr;
    }
    delete m_readNotifier;
    m_readNotifier = nullptr;
    delete m_writeNotifier;
    m_writeNotifier = nullptr;
}

void PlainTransport::start(TransportHandler *handler, QObject *owner)
{
    NativeSocket::prepare(m_descriptor);
    if (m_poller) {
        m_watch = m_poller->add(m_descriptor, handler);
        if (m_watch)
            return;
        m_poller = nullptr; // epoll refused it: this one uses notifiers
    }
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
    if (m_poller)
        m_poller->setReadWanted(m_watch, enabled);
    else if (m_readNotifier)
        m_readNotifier->setEnabled(enabled);
}

void PlainTransport::setWriteNotificationEnabled(bool enabled)
{
    if (m_poller)
        m_poller->setWriteWanted(m_watch, enabled);
    else if (m_writeNotifier)
        m_writeNotifier->setEnabled(enabled);
}

void PlainTransport::close(DisconnectReason reason)
{
    if (m_closed)
        return;
    m_closed = true;
    // The watch goes before the descriptor does, so no one ever polls a closed one.
    stopWatching();
    // A fault ends the stream in order: FIN first, even if the client's bytes are left
    // unread (close() alone would answer those with a reset). A half-closed client whose
    // echo is done was read to its end, so close() sends the FIN after what is still
    // queued, with no shutdown() call of its own.
    if (reason == DisconnectReason::FaultClose)
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
