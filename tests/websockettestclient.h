#pragma once

// A WebSocket client for the tests that must do what no well-behaved library does
// (unmasked frames, invalid UTF-8, a frame sent byte by byte, a reset, a client that
// stops reading): the upgrade request and RFC 6455 frames written by hand on a
// QTcpSocket or QSslSocket. Tests of ordinary behaviour use QWebSocket and
// python3-websockets instead, which are not ours.

#include "echotestsupport.h"

#include <QCryptographicHash>
#include <QRandomGenerator>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTest>
#include <QtEndian>

#include <memory>

namespace EchoTest {

struct WsFrame
{
    quint8 opcode = 0;
    bool fin = true;
    QByteArray payload;
    quint16 closeCode() const
    {
        return payload.size() >= 2 ? qFromBigEndian<quint16>(payload.constData()) : 0;
    }
};

// One frame as a client sends it: masked with a random key unless told otherwise.
inline QByteArray wsClientFrame(quint8 opcode, const QByteArray &payload, bool fin = true,
                                bool masked = true)
{
    QByteArray frame;
    frame.append(char((fin ? 0x80 : 0x00) | (opcode & 0x0f)));
    const quint8 maskBit = masked ? 0x80 : 0x00;
    const qint64 size = payload.size();
    if (size < 126) {
        frame.append(char(maskBit | quint8(size)));
    } else if (size < 65536) {
        frame.append(char(maskBit | 126));
        uchar length[2];
        qToBigEndian<quint16>(quint16(size), length);
        frame.append(reinterpret_cast<const char *>(length), 2);
    } else {
        frame.append(char(maskBit | 127));
        uchar length[8];
        qToBigEndian<quint64>(quint64(size), length);
        frame.append(reinterpret_cast<const char *>(length), 8);
    }
    if (!masked)
        return frame + payload;
    const quint32 key = QRandomGenerator::global()->generate() | 1; // never 0
    uchar keyBytes[4];
    qToBigEndian<quint32>(key, keyBytes);
    frame.append(reinterpret_cast<const char *>(keyBytes), 4);
    QByteArray body = payload;
    for (qsizetype i = 0; i < body.size(); ++i)
        body[i] = char(body[i] ^ char(keyBytes[i % 4]));
    return frame + body;
}

inline QByteArray wsCloseFrame(quint16 code, const QByteArray &reason = QByteArray())
{
    uchar bytes[2];
    qToBigEndian<quint16>(code, bytes);
    return wsClientFrame(0x8, QByteArray(reinterpret_cast<const char *>(bytes), 2) + reason);
}

// A client socket: plain TCP, or TLS that trusts only `authority` and verifies the peer.
inline QTcpSocket *newClientSocket(bool secure,
                                   const QSslCertificate &authority = QSslCertificate(),
                                   QObject *parent = nullptr)
{
    if (!secure)
        return new QTcpSocket(parent);
    auto *tls = new QSslSocket(parent);
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setCaCertificates({authority});
    configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
    tls->setSslConfiguration(configuration);
    return tls;
}

// Connects a newClientSocket() to 127.0.0.1:port (TLS: handshake done, the certificate
// checked for "localhost"); false if that does not happen within kTimeoutMs.
inline bool connectClientSocket(QTcpSocket *socket, quint16 port)
{
    if (auto *tls = qobject_cast<QSslSocket *>(socket)) {
        tls->connectToHostEncrypted(QStringLiteral("127.0.0.1"), port, QStringLiteral("localhost"));
        return QTest::qWaitFor([tls] { return tls->isEncrypted(); }, kTimeoutMs);
    }
    socket->connectToHost(QHostAddress::LocalHost, port);
    return socket->waitForConnected(kTimeoutMs);
}

// Takes the upgrade's answer (up to and including its empty line) off the front of
// *buffer; false while it is not complete.
inline bool takeResponseHeader(QByteArray *buffer, QByteArray *header)
{
    const qsizetype end = buffer->indexOf("\r\n\r\n");
    if (end < 0)
        return false;
    *header = buffer->left(end + 4);
    buffer->remove(0, end + 4);
    return true;
}

// Takes the first whole server frame (not masked) off the front of *buffer; false while
// it is not complete.
inline bool takeServerFrame(QByteArray *buffer, WsFrame *frame)
{
    if (buffer->size() < 2)
        return false;
    const auto b0 = quint8(buffer->at(0));
    const auto b1 = quint8(buffer->at(1));
    qsizetype header = 2;
    quint64 length = b1 & 0x7f;
    if (length == 126) {
        if (buffer->size() < 4)
            return false;
        length = qFromBigEndian<quint16>(buffer->constData() + 2);
        header = 4;
    } else if (length == 127) {
        if (buffer->size() < 10)
            return false;
        length = qFromBigEndian<quint64>(buffer->constData() + 2);
        header = 10;
    }
    if (quint64(buffer->size() - header) < length)
        return false;
    frame->fin = (b0 & 0x80) != 0;
    frame->opcode = b0 & 0x0f;
    frame->payload = buffer->mid(header, qsizetype(length));
    buffer->remove(0, header + qsizetype(length));
    return true;
}

// Adversarial tests' client: sends whatever it is told and keeps every frame it gets.
class WsRawClient : public QObject
{
public:
    explicit WsRawClient(bool secure = false, const QSslCertificate &authority = QSslCertificate())
        : m_socket(newClientSocket(secure, authority, this))
    {
        connect(m_socket, &QTcpSocket::readyRead, this, [this] {
            if (m_reading)
                take(m_socket->readAll());
        });
        connect(m_socket, &QTcpSocket::disconnected, this, [this] { closed = true; });
    }

    QTcpSocket *socket() const { return m_socket; }

    // Connects (TLS first when secure), sends `request` as is and waits for the whole
    // response header; returns its status code (0: none came).
    int sendRequest(quint16 port, const QByteArray &request)
    {
        if (!connectClientSocket(m_socket, port))
            return 0;
        m_socket->write(request);
        if (!QTest::qWaitFor([this] { return !responseHeader.isEmpty() || closed; }, kTimeoutMs) ||
            responseHeader.isEmpty())
            return 0;
        const QList<QByteArray> statusLine =
            responseHeader.left(responseHeader.indexOf("\r\n")).split(' ');
        return statusLine.size() >= 2 ? statusLine.at(1).toInt() : 0;
    }

    static QByteArray upgradeRequest(const QByteArray &path = "/",
                                     const QByteArray &extraHeaders = QByteArray())
    {
        return "GET " + path +
               " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
               extraHeaders + "\r\n";
    }

    // The upgrade: true once the server answered 101 with the right accept key.
    bool upgrade(quint16 port, const QByteArray &path = "/")
    {
        if (const int status = sendRequest(port, upgradeRequest(path)); status != 101) {
            qWarning() << "upgrade answered" << status << responseHeader;
            return false;
        }
        // RFC 6455's example key; the accept value is SHA-1(key + GUID) in base64.
        const QByteArray accept =
            QCryptographicHash::hash("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
                                     QCryptographicHash::Sha1)
                .toBase64();
        if (!responseHeader.contains("Sec-WebSocket-Accept: " + accept)) {
            qWarning() << "wrong accept key:" << responseHeader;
            return false;
        }
        return true;
    }

    void send(const QByteArray &bytes)
    {
        m_socket->write(bytes);
        m_socket->flush();
    }
    // One binary message in one masked frame; counts its payload as sent.
    void sendBinary(const QByteArray &payload)
    {
        send(wsClientFrame(0x2, payload));
        payloadSent += payload.size();
    }
    bool waitUntilWritten()
    {
        return QTest::qWaitFor([this] { return m_socket->bytesToWrite() == 0; }, kTimeoutMs);
    }
    // Stops consuming: the kernel's window then holds the server's echo back.
    void stopReading(qint64 bufferBytes)
    {
        m_reading = false;
        m_socket->setReadBufferSize(bufferBytes);
    }

    // What came back: every frame, the data messages' payloads joined, the close frame.
    QList<WsFrame> frames;
    QByteArray messagePayload;  // data frames' payloads, in order
    QList<QByteArray> messages; // whole messages
    QByteArray responseHeader;
    bool closed = false;
    qint64 payloadSent = 0;

    const WsFrame *closeFrame() const
    {
        for (const WsFrame &frame : frames) {
            if (frame.opcode == 0x8)
                return &frame;
        }
        return nullptr;
    }

private:
    void take(const QByteArray &bytes)
    {
        m_buffer += bytes;
        if (responseHeader.isEmpty() && !takeResponseHeader(&m_buffer, &responseHeader))
            return;
        WsFrame frame;
        while (takeServerFrame(&m_buffer, &frame)) {
            if (frame.opcode < 0x8) {
                messagePayload += frame.payload;
                m_message += frame.payload;
                if (frame.fin)
                    messages.append(std::exchange(m_message, QByteArray()));
            }
            frames.append(frame);
        }
    }

    QTcpSocket *const m_socket;
    QByteArray m_buffer;
    QByteArray m_message;
    bool m_reading = true;
};

} // namespace EchoTest
