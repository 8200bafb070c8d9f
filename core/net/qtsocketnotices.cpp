#include "qtsocketnotices.h"

#include <QMetaObject>
#include <QSslSocket>

namespace Echoscope {

void QtSocketNotices::attach(QAbstractSocket *socket, TransportHandler *handler,
                             std::function<bool()> isOpen)
{
    m_socket = socket;
    m_handler = handler;
    m_isOpen = std::move(isOpen);
}

qint64 QtSocketNotices::bufferedWriteBytes() const
{
    qint64 buffered = m_socket->bytesToWrite();
    if (const auto *tls = qobject_cast<const QSslSocket *>(m_socket))
        buffered += tls->encryptedBytesToWrite();
    return buffered;
}

void QtSocketNotices::setWriteWanted(bool wanted)
{
    m_writeWanted = wanted;
    if (!wanted || !m_socket || !hasWriteRoom())
        return;
    QMetaObject::invokeMethod(
        m_socket,
        [this] {
            if (m_isOpen() && m_writeWanted)
                m_handler->transportWritable();
        },
        Qt::QueuedConnection);
}

void QtSocketNotices::bytesWritten()
{
    if (m_isOpen() && m_writeWanted && hasWriteRoom())
        m_handler->transportWritable();
}

void QtSocketNotices::postReadable(std::function<void()> call)
{
    if (m_readPosted)
        return;
    m_readPosted = true;
    QMetaObject::invokeMethod(
        m_socket,
        [this, call = std::move(call)] {
            m_readPosted = false;
            call();
        },
        Qt::QueuedConnection);
}

} // namespace Echoscope
