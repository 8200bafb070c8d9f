#include "tlstransport.h"

#include "clientstats.h"

#include <QLoggingCategory>
#include <QSslCipher>
#include <QSslError>
#include <QSslSocket>

Q_LOGGING_CATEGORY(lcTls, "echoscope.tls", QtWarningMsg)

namespace Echoscope {

TlsTransport::TlsTransport(qintptr descriptor, const QSslConfiguration &configuration,
                           qint64 readBufferBytes)
    : m_descriptor(descriptor), m_configuration(configuration), m_readBufferBytes(readBufferBytes)
{}

TlsTransport::~TlsTransport()
{
    if (m_closed)
        return;
    if (m_socket) {
        m_socket->disconnect();
        m_socket->abort(); // closes the descriptor; the socket dies with its owner
    } else {
        NativeSocket::close(m_descriptor);
    }
}

void TlsTransport::start(TransportHandler *handler, QObject *owner)
{
    m_handler = handler;
    NativeSocket::prepare(m_descriptor); // TCP_NODELAY, no SIGPIPE; Qt keeps it non-blocking
    m_socket = new QSslSocket(owner);
    m_socket->setReadBufferSize(m_readBufferBytes);
    m_notices.attach(m_socket, m_handler, [this] { return !m_closed; });
    if (!m_socket->setSocketDescriptor(m_descriptor)) {
        const QString reason = m_socket->errorString();
        NativeSocket::close(m_descriptor);
        m_closed = true;
        m_handler->transportFailed(DisconnectReason::SocketError,
                                   tr("cannot use the connection for TLS: %1").arg(reason));
        return;
    }
    m_socket->setSslConfiguration(m_configuration);
    QObject::connect(m_socket, &QSslSocket::encrypted, owner, [this] {
        m_established = true;
        m_handler->transportEstablished();
    });
    QObject::connect(m_socket, &QSslSocket::readyRead, owner, [this] { readyRead(); });
    QObject::connect(m_socket, &QSslSocket::encryptedBytesWritten, owner,
                     [this] { bytesWritten(); });
    QObject::connect(m_socket, &QSslSocket::bytesWritten, owner, [this] { bytesWritten(); });
    QObject::connect(m_socket, &QSslSocket::errorOccurred, owner,
                     [this](QAbstractSocket::SocketError error) { socketError(error); });
    QObject::connect(m_socket, &QSslSocket::disconnected, owner, [this] { peerClosed(); });
    QObject::connect(m_socket, &QSslSocket::sslErrors, owner,
                     [this](const QList<QSslError> &errors) {
                         QStringList texts;
                         for (const QSslError &error : errors)
                             texts.append(error.errorString());
                         m_sslErrors = texts.join(QStringLiteral("; "));
                     });
    m_socket->startServerEncryption();
}

QString TlsTransport::protocolName() const
{
    return m_socket ? m_socket->sessionCipher().protocolString() : QString();
}

QString TlsTransport::cipherName() const
{
    return m_socket ? m_socket->sessionCipher().name() : QString();
}

int TlsTransport::cipherBits() const
{
    return m_socket ? m_socket->sessionCipher().usedBits() : 0;
}

QList<TrafficEvent> TlsTransport::establishedEvents(ClientStats *stats) const
{
    stats->setTlsSession(protocolName(), cipherName(), cipherBits());
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::TlsEstablished;
    event.text = tr("%1, %2 (%3-bit)").arg(protocolName(), cipherName()).arg(cipherBits());
    return {event};
}

Transport::Result TlsTransport::read(char *data, qint64 maxBytes, qint64 *bytes)
{
    *bytes = 0;
    if (m_closed)
        return Result::EndOfFile;
    const qint64 n = m_socket->bytesAvailable() > 0 ? m_socket->read(data, maxBytes) : 0;
    if (n > 0) {
        *bytes = n;
        return Result::Done;
    }
    if (n < 0) {
        m_errorString = m_socket->errorString();
        return Result::Error;
    }
    return m_peerClosed ? Result::EndOfFile : Result::WouldBlock;
}

Transport::Result TlsTransport::write(const char *data, qint64 size, qint64 *bytes)
{
    *bytes = 0;
    if (m_closed || m_peerClosed || m_socket->state() != QAbstractSocket::ConnectedState) {
        m_errorString = tr("the TLS connection is closed");
        return Result::Reset;
    }
    const qint64 room = kMaxBufferedWriteBytes - m_notices.bufferedWriteBytes();
    if (room <= 0 || size <= 0)
        return size <= 0 ? Result::Done : Result::WouldBlock;
    const qint64 n = m_socket->write(data, qMin(size, room));
    if (n < 0) {
        m_errorString = m_socket->errorString();
        return Result::Error;
    }
    *bytes = n;
    return Result::Done;
}

void TlsTransport::setReadEnabled(bool enabled)
{
    m_readEnabled = enabled;
    // What arrived while reading was off, and the end of the stream after it.
    if (enabled && m_socket && (m_socket->bytesAvailable() > 0 || m_peerClosed))
        postReadable();
}

void TlsTransport::setWriteNotificationEnabled(bool enabled)
{
    m_notices.setWriteWanted(enabled);
}

void TlsTransport::readyRead()
{
    m_notices.readArrived();
    dispatchReadable();
}

// Reported again only while the session keeps reading and took something this time:
// a session that reads nothing (it is about to turn reading off) is never re-polled.
void TlsTransport::dispatchReadable()
{
    if (m_closed || !m_readEnabled)
        return;
    const qint64 before = m_socket->bytesAvailable();
    m_handler->transportReadable();
    if (m_closed || !m_readEnabled)
        return;
    const qint64 after = m_socket->bytesAvailable();
    if (after > 0 && after < before)
        postReadable();
}

void TlsTransport::postReadable()
{
    m_notices.postReadable([this] { dispatchReadable(); });
}

void TlsTransport::bytesWritten()
{
    m_notices.bytesWritten();
}

void TlsTransport::peerClosed()
{
    if (m_closed || m_peerClosed)
        return;
    m_peerClosed = true;
    if (!m_established) {
        m_handler->transportFailed(DisconnectReason::TlsHandshakeFailed,
                                   tr("the client closed the connection during the TLS handshake"));
        return;
    }
    // The session reads what is left (then read() says EndOfFile), or, with reading off,
    // decides what the end means.
    m_handler->transportPeerClosed();
}

QString TlsTransport::handshakeFailure(QAbstractSocket::SocketError error) const
{
    if (error == QAbstractSocket::RemoteHostClosedError)
        return tr("the client closed the connection during the TLS handshake");
    QString text = m_socket->errorString();
    if (!m_sslErrors.isEmpty())
        text += tr(" (%1)").arg(m_sslErrors);
    // OpenSSL's words for "this was not a TLS ClientHello".
    if (text.contains(QLatin1String("wrong version number")) ||
        text.contains(QLatin1String("http request")) ||
        text.contains(QLatin1String("packet length too long")))
        text += tr("; the client does not seem to speak TLS");
    return text;
}

void TlsTransport::socketError(QAbstractSocket::SocketError error)
{
    if (m_closed)
        return;
    qCDebug(lcTls) << "socket error" << error << m_socket->errorString();
    if (!m_established) {
        m_handler->transportFailed(DisconnectReason::TlsHandshakeFailed, handshakeFailure(error));
        return;
    }
    switch (error) {
    case QAbstractSocket::RemoteHostClosedError:
        peerClosed(); // disconnected() may follow; peerClosed() runs once
        return;
    default:
        m_handler->transportFailed(DisconnectReason::SocketError,
                                   tr("TLS: %1").arg(m_socket->errorString()));
        return;
    }
}

void TlsTransport::close(DisconnectReason reason)
{
    if (m_closed)
        return;
    m_closed = true;
    if (!m_socket)
        return;
    m_socket->disconnect(); // no signal reaches the session any more
    const bool broken =
        reason == DisconnectReason::ResetByPeer || reason == DisconnectReason::SocketError ||
        reason == DisconnectReason::TlsHandshakeFailed || reason == DisconnectReason::FaultReset;
    if (reason == DisconnectReason::FaultReset)
        NativeSocket::setResetOnClose(m_socket->socketDescriptor()); // the peer sees a reset
    if (!broken && m_established && m_socket->state() == QAbstractSocket::ConnectedState) {
        // Encrypt what is buffered, add close_notify, and hand the kernel what it takes now.
        m_socket->flush();
        m_socket->disconnectFromHost();
        m_socket->flush();
    }
    m_socket->abort(); // closes the descriptor now
}

} // namespace Echoscope
