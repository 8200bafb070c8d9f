#pragma once

#include "qtsocketnotices.h"
#include "transport.h"
#include "websocketlog.h"
#include "wsframescanner.h"

#include <QAbstractSocket>
#include <QCoreApplication>
#include <QByteArray>
#include <QPointer>
#include <QSslConfiguration>
#include <QStringList>

#include <deque>

QT_BEGIN_NAMESPACE
class QTcpSocket;
class QWebSocket;
class QWebSocketServer;
class QWebSocketCorsAuthenticator;
QT_END_NAMESPACE

namespace Echoscope {

class GatedSocketControl;

// A WebSocket connection (RFC 6455) on the accepted descriptor, by Qt WebSockets: a
// QTcpSocket (a QSslSocket for wss://) handed to a QWebSocketServer that never listens
// (handleConnection()), which does the upgrade and gives back the QWebSocket. Qt does the
// protocol: the handshake and its HTTP answers (400, 403), unmasking, reassembly of
// fragmented messages, UTF-8 checks (1007), size limits (1009), pings answered with pongs,
// the close handshake (the client's close frame echoed with its code).
//
// To the session it is a message transport: read() gives the payload of one received
// message at a time, and the echo written back is sent as messages of the same sizes and
// kinds (text as text, binary as binary) in the same order. An empty message is echoed as
// an empty message when its turn comes.
//
// Bounded and event-driven like the others:
//  - reading: Qt WebSockets reads every frame its socket holds as soon as it arrives; the
//    socket under it is gated (its bytesAvailable() says 0) while the session does not
//    read or a received message waits to be read, so at most one message is held here, the
//    socket's buffer stops at maxMessageBytes plus a frame header, and then the kernel's
//    window holds the client back. Nothing polls.
//  - writing: write() takes bytes only while less than kMaxBufferedWriteBytes wait in the
//    socket (plus the one message being gathered), so the unsent echo stays in the session.
//
// It also watches the frames go by both ways (WsFrameScanner over the same bytes, for the
// inspector and the counts) and enforces the one rule Qt does not: client frames must be
// masked (RFC 6455, 5.1); an unmasked one is answered with close 1002.
class WebSocketTransport final : public Transport
{
    Q_DECLARE_TR_FUNCTIONS(Echoscope::WebSocketTransport) // the context lupdate gives it

public:
    static constexpr qint64 kMaxBufferedWriteBytes = QtSocketNotices::kMaxBufferedWriteBytes;

    struct Options
    {
        qint64 maxMessageBytes = 1024 * 1024;
        QStringList allowedOrigins; // empty: every origin
        bool secure = false;        // wss://: TLS first, with tlsConfiguration
        QSslConfiguration tlsConfiguration;
    };

    // log: the client's WebSocketLog (its ClientStats'), which outlives the transport.
    WebSocketTransport(qintptr descriptor, const Options &options, WebSocketLog *log);
    ~WebSocketTransport() override;

    void start(TransportHandler *handler, QObject *owner) override;
    bool hasHandshake() const override { return true; }
    DisconnectReason handshakeFailure() const override
    {
        return DisconnectReason::WebSocketHandshakeFailed;
    }
    QString handshakeName() const override
    {
        return m_options.secure ? QStringLiteral("TLS and WebSocket") : QStringLiteral("WebSocket");
    }
    QList<TrafficEvent> establishedEvents(ClientStats *stats) const override;
    bool preservesMessages() const override { return true; }
    bool lastReadEndedMessage() const override { return m_lastReadEndedMessage; }
    bool lastReadWasText() const override { return m_lastReadWasText; }
    Result read(char *data, qint64 maxBytes, qint64 *bytes) override;
    Result write(const char *data, qint64 size, qint64 *bytes) override;
    void setReadEnabled(bool enabled) override;
    void setWriteNotificationEnabled(bool enabled) override;
    bool canWriteAfterPeerClose() const override { return false; }
    void close(DisconnectReason reason) override;
    QString errorString() const override { return m_errorString; }
    QString peerCloseDetail() const override { return m_peerCloseDetail; }
    qint64 oversizeBytes() const override { return m_oversizeBytes; }
    void setFaultCloseCode(quint16 code) override { m_faultCloseCode = code; }

private:
    struct Message
    {
        QByteArray data;
        bool text = false;
    };
    struct Echo
    {
        qint64 size = 0;
        bool text = false;
    };

    void beginUpgrade();
    void checkOrigin(QWebSocketCorsAuthenticator *authenticator);
    void upgraded();
    void upgradeRefused();
    void messageReceived(QByteArray data, bool text);
    void scanIncoming();
    void frameSeen(const WsFrameHeader &frame, bool received);
    void outgoingWritten(const char *data, qint64 size);
    void connectionEnding();
    void socketError(QAbstractSocket::SocketError error);
    void bytesWritten();
    void dispatchReadable();
    void postReadable();
    void updateGate();
    qint64 readBufferLimit() const;
    void rearmReading();
    void resumeQt();
    void sendEcho(const char *data, qint64 size, bool text);
    void sendEmptyEchoes();
    void fail(DisconnectReason reason, const QString &detail);
    QString closeText(quint16 code, const QByteArray &reason) const;

    qintptr m_descriptor;
    const Options m_options;
    WebSocketLog *const m_log;
    TransportHandler *m_handler = nullptr;
    QObject *m_owner = nullptr;
    QTcpSocket *m_socket = nullptr; // a GatedSocket<QTcpSocket or QSslSocket>
    GatedSocketControl *m_gate = nullptr;
    QPointer<QWebSocketServer> m_server; // during the upgrade only
    QWebSocket *m_webSocket = nullptr;
    QString m_requestLine; // "GET /chat HTTP/1.1", for a refusal's detail
    bool m_requestChecked = false;
    QString m_originRefused;
    QString m_sslErrors;

    // Frames seen both ways.
    WsFrameScanner m_incoming;
    WsFrameScanner m_outgoing;
    qint64 m_scanned = 0; // bytes at the front of the socket's buffer already scanned
    bool m_scanning = false;

    // Received messages not read yet (at most one while the gate holds) and the echo.
    std::deque<Message> m_received;
    qsizetype m_readOffset = 0;
    bool m_lastReadEndedMessage = false;
    bool m_lastReadWasText = false;
    std::deque<Echo> m_echoes; // messages read, in order, whose echo is not all sent
    QByteArray m_echoGathered; // the part of the front echo taken so far

    QString m_errorString;
    QString m_peerCloseDetail;
    quint16 m_clientCloseCode = 0;
    QByteArray m_clientCloseReason;
    bool m_clientClosed = false; // a close frame from the client was seen
    bool m_serverClosed = false; // Qt sent a close frame of its own accord
    quint16 m_serverCloseCode = 0;
    QByteArray m_serverCloseReason;
    bool m_unmaskedFrame = false;
    quint64 m_messageBytesSeen = 0; // the data frames of the message coming in, so far
    qint64 m_oversizeBytes = 0;
    quint16 m_faultCloseCode = 1000;
    bool m_established = false;
    bool m_peerClosed = false;
    bool m_closing = false; // our own close(): the close frame is ours
    bool m_closed = false;
    bool m_readEnabled = true;
    QtSocketNotices m_notices; // writable, and readable again
};

} // namespace Echoscope
