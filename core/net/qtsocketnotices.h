#pragma once

#include "transport.h"

#include <QAbstractSocket>

#include <functional>

namespace Echoscope {

// What TlsTransport and WebSocketTransport share: each sits on a Qt socket with buffers of
// its own, whose signals say "bytes arrived" and "bytes were written" once, not for as long
// as it stays so. These notices keep such a transport level-triggered like PlainTransport:
//  - writable: while the session wants it and the socket holds less than
//    kMaxBufferedWriteBytes unsent (plaintext, and under TLS ciphertext the kernel has not
//    taken), so the unsent echo waits in the session, where the water marks see it;
//  - readable: posted again, at most one queued, while bytes the session can read remain.
// Every notice is queued on the socket (its thread; dropped with it) and checks, when it
// runs, that the transport is still open.
class QtSocketNotices
{
public:
    static constexpr qint64 kMaxBufferedWriteBytes = 64 * 1024;

    // socket: a QTcpSocket or QSslSocket; isOpen: false once the transport has closed.
    void attach(QAbstractSocket *socket, TransportHandler *handler, std::function<bool()> isOpen);

    qint64 bufferedWriteBytes() const;
    bool hasWriteRoom() const { return bufferedWriteBytes() < kMaxBufferedWriteBytes; }

    // Transport::setWriteNotificationEnabled. With room now a notice is posted: room may
    // have opened with no signal to say so (nothing was buffered at all).
    void setWriteWanted(bool wanted);
    // From the socket's bytesWritten and encryptedBytesWritten.
    void bytesWritten();

    // Queues `call` unless a readable notice is queued already.
    void postReadable(std::function<void()> call);
    // The socket's own readyRead came: a later postReadable() queues again.
    void readArrived() { m_readPosted = false; }

private:
    QAbstractSocket *m_socket = nullptr;
    TransportHandler *m_handler = nullptr;
    std::function<bool()> m_isOpen;
    bool m_writeWanted = false;
    bool m_readPosted = false;
};

} // namespace Echoscope
