#pragma once

#include "disconnectinfo.h"
#include "nativesocket.h"
#include "trafficevent.h"

#include <QList>
#include <QString>
#include <QtGlobal>

QT_BEGIN_NAMESPACE
class QObject;
QT_END_NAMESPACE

namespace Echoscope {

class ClientStats;

// What a Transport tells the session that owns it, in the session's thread.
class TransportHandler
{
public:
    // Bytes (or the end of the stream) may be read now.
    virtual void transportReadable() = 0;
    // Writing may take more now (only while write notification is on).
    virtual void transportWritable() = 0;
    // The peer closed its side, reported by a transport that learns it on its own (TLS:
    // the QSslSocket saw the end). A plain transport reports it as read() -> EndOfFile.
    // Reported once, whether reading is on or off; bytes already received may remain
    // readable, and read() returns EndOfFile after them.
    virtual void transportPeerClosed() = 0;
    // The handshake (TLS; WebSocket's upgrade, after TLS for wss://) completed; the
    // connection carries data from now on.
    virtual void transportEstablished() = 0;
    // The connection cannot go on (a failed TLS handshake, a TLS-level error).
    virtual void transportFailed(DisconnectReason reason, const QString &detail) = 0;

protected:
    ~TransportHandler() = default;
};

// The byte pipe under one ClientSession: the reads, the writes and the readiness
// notifications, so that framing, echo, backpressure and limits stay in ClientSession
// whatever carries the bytes. PlainTransport is the raw descriptor; TlsTransport is a
// QSslSocket on it; WebSocketTransport is Qt WebSockets on either, and carries messages
// (preservesMessages()). A transport owns its descriptor until close() (or its destructor).
//
// The session decides everything else (reading on or off, draining, closing): a transport
// never enables reading by itself and never reports readiness while reading is off.
//
// Semantics shared by both: read() and write() never block; WouldBlock means "wait for
// transportReadable() / transportWritable()"; write() may take fewer bytes than offered,
// and what it takes counts as sent (the bytes a transport buffers itself are bounded).
class Transport
{
public:
    using Result = NativeSocket::Result;

    virtual ~Transport() = default;

    // Starts watching the connection; objects the transport needs are made children of
    // owner (which lives in the session's thread). Reading is enabled, write
    // notification is off. A TLS transport begins its handshake here.
    virtual void start(TransportHandler *handler, QObject *owner) = 0;
    // True for a transport that must complete a handshake before data flows; a failed
    // or late one ends the session with handshakeFailure() ("TLS", "WebSocket").
    virtual bool hasHandshake() const = 0;
    virtual DisconnectReason handshakeFailure() const { return DisconnectReason::SocketError; }
    virtual QString handshakeName() const { return QString(); }
    // Once established: writes what the handshake settled into stats (TLS cipher, the
    // WebSocket request) and returns the events that announce it, in order.
    virtual QList<TrafficEvent> establishedEvents(ClientStats *stats) const
    {
        Q_UNUSED(stats);
        return {};
    }
    // A message transport delivers the bytes of one message per read() at most, and says
    // whether the last read that returned Done ended one (an empty message is a Done read
    // of 0 bytes that ends it). The echo written back is split into messages of the same
    // sizes, in the same order, each of the kind (text, binary) of the one it echoes.
    virtual bool preservesMessages() const { return false; }
    virtual bool lastReadEndedMessage() const { return false; }
    // Whether the message the last read's bytes belong to is a text message (WebSocket).
    virtual bool lastReadWasText() const { return false; }
    // After transportPeerClosed(): how the peer ended it, as a sentence (a WebSocket close
    // frame's code and reason); empty when there is nothing to add.
    virtual QString peerCloseDetail() const { return QString(); }
    // After it ended a session with MessageTooLarge itself (WebSocket: 1009): how big the
    // message was seen to be. 0: the session's framer saw it, not the transport.
    virtual qint64 oversizeBytes() const { return 0; }
    // The close fault's status code for the next close(FaultClose) (WebSocket); others
    // have no such thing.
    virtual void setFaultCloseCode(quint16 code) { Q_UNUSED(code); }
    virtual Result read(char *data, qint64 maxBytes, qint64 *bytes) = 0;
    virtual Result write(const char *data, qint64 size, qint64 *bytes) = 0;
    virtual void setReadEnabled(bool enabled) = 0;
    virtual void setWriteNotificationEnabled(bool enabled) = 0;
    // False when the peer's close ends the connection for writing too (TLS: QSslSocket
    // cannot half-close), so no echo can follow it.
    virtual bool canWriteAfterPeerClose() const = 0;
    // Releases the descriptor; no handler call follows. The reason decides how: after an
    // orderly end the stream ends in order (FIN after the echo; TLS: close_notify too).
    virtual void close(DisconnectReason reason) = 0;
    // Why the last read() or write() returned Error (or Reset).
    virtual QString errorString() const = 0;
};

} // namespace Echoscope
