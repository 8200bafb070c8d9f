#pragma once

#include "disconnectinfo.h"
#include "nativesocket.h"

#include <QString>
#include <QtGlobal>

QT_BEGIN_NAMESPACE
class QObject;
QT_END_NAMESPACE

namespace Echoscope {

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
    // A TLS handshake completed; the connection carries data from now on.
    virtual void transportEstablished() = 0;
    // The connection cannot go on (a failed TLS handshake, a TLS-level error).
    virtual void transportFailed(DisconnectReason reason, const QString &detail) = 0;

protected:
    ~TransportHandler() = default;
};

// The byte pipe under one ClientSession: the reads, the writes and the readiness
// notifications, so that framing, echo, backpressure and limits stay in ClientSession
// whatever carries the bytes. PlainTransport is the raw descriptor; TlsTransport is a
// QSslSocket on it. A transport owns its descriptor until close() (or its destructor).
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
    // True for a transport that must complete a handshake before data flows.
    virtual bool isEncrypted() const = 0;
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
