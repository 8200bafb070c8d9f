#pragma once

#include "qtsocketnotices.h"
#include "transport.h"

#include <QAbstractSocket>
#include <QCoreApplication>
#include <QSslConfiguration>

QT_BEGIN_NAMESPACE
class QSslSocket;
QT_END_NAMESPACE

namespace Echoscope {

// A connection as a QSslSocket in server mode on the accepted descriptor (what
// QSslServer would hand out, with our own accept loop). The session sees plaintext.
//
// Bounded both ways: QSslSocket's decrypted read buffer is capped (readBufferBytes), so
// a session that stops reading stops the socket reading too; write() takes bytes only
// while QSslSocket's own plaintext and ciphertext buffers hold less than
// kMaxBufferedWriteBytes, so the unsent echo stays in the session, where the high- and
// low-water marks see it.
//
// QSslSocket emits readyRead once per arrival, not while data is left; this transport
// posts itself another transportReadable() while reading is enabled and decrypted bytes
// remain, so it behaves like the level-triggered plain one.
class TlsTransport final : public Transport
{
    Q_DECLARE_TR_FUNCTIONS(Echoscope::TlsTransport) // the context lupdate gives it

public:
    static constexpr qint64 kMaxBufferedWriteBytes = QtSocketNotices::kMaxBufferedWriteBytes;

    TlsTransport(qintptr descriptor, const QSslConfiguration &configuration,
                 qint64 readBufferBytes);
    ~TlsTransport() override;

    void start(TransportHandler *handler, QObject *owner) override;
    bool hasHandshake() const override { return true; }
    DisconnectReason handshakeFailure() const override
    {
        return DisconnectReason::TlsHandshakeFailed;
    }
    QString handshakeName() const override { return QStringLiteral("TLS"); }
    QList<TrafficEvent> establishedEvents(ClientStats *stats) const override;
    Result read(char *data, qint64 maxBytes, qint64 *bytes) override;
    Result write(const char *data, qint64 size, qint64 *bytes) override;
    void setReadEnabled(bool enabled) override;
    void setWriteNotificationEnabled(bool enabled) override;
    bool canWriteAfterPeerClose() const override { return false; }
    void close(DisconnectReason reason) override;
    QString errorString() const override { return m_errorString; }

    // Once established: "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256.
    QString protocolName() const;
    QString cipherName() const;
    int cipherBits() const;

private:
    void readyRead();
    void bytesWritten();
    void socketError(QAbstractSocket::SocketError error);
    void peerClosed();
    void dispatchReadable();
    void postReadable();
    QString handshakeFailure(QAbstractSocket::SocketError error) const;

    qintptr m_descriptor;
    const QSslConfiguration m_configuration;
    const qint64 m_readBufferBytes;
    TransportHandler *m_handler = nullptr;
    QSslSocket *m_socket = nullptr;
    QString m_errorString;
    QString m_sslErrors; // certificate problems reported during the handshake
    bool m_established = false;
    bool m_peerClosed = false;
    bool m_closed = false;
    bool m_readEnabled = true;
    QtSocketNotices m_notices; // writable, and readable again
};

} // namespace Echoscope
