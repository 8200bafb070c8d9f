#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QtGlobal>

#include <atomic>
#include <deque>
#include <mutex>

namespace Echoscope {

// What a WebSocket client asked for in its upgrade request.
struct WebSocketRequest
{
    QString resource;                             // the request target as given: "/chat?room=1"
    QString origin;                               // the Origin header; empty when it sent none
    QStringList requestedProtocols;               // Sec-WebSocket-Protocol, in the client's order
    QString acceptedProtocol;                     // the one the server chose; empty: none
    bool secure = false;                          // wss:// (TLS under it)
    QList<QPair<QByteArray, QByteArray>> headers; // every request header, in order
};

// One frame, either way, as it went by on the wire.
struct WebSocketFrameRecord
{
    qint64 timestampMs = 0; // ms since the epoch
    bool received = false;  // from the client (else sent by the server)
    quint8 opcode = 0;      // WsFrameHeader::Opcode
    bool fin = false;
    bool masked = false;
    qint64 length = 0;      // payload bytes
    quint16 closeCode = 0;  // close frames with a status code
    QByteArray closeReason; // close frames: the reason, UTF-8
};

// The WebSocket side of one client: its upgrade request, the newest frames both ways
// (a bounded ring) and counts of every frame kind. The session's thread writes; any
// thread reads. Only frames take the lock, and only WebSocket clients have a log.
class WebSocketLog
{
public:
    static constexpr int kMaxFrames = 256;

    void setRequest(const WebSocketRequest &request);
    WebSocketRequest request() const;
    bool hasRequest() const { return m_hasRequest.load(std::memory_order_acquire); }

    void addFrame(const WebSocketFrameRecord &frame);
    // The newest frames, oldest first (at most kMaxFrames), and how many were seen in all.
    QList<WebSocketFrameRecord> frames(qint64 *framesSeen = nullptr) const;
    qint64 pingsReceived() const { return m_pings.load(std::memory_order_relaxed); }
    qint64 framesReceived() const { return m_framesIn.load(std::memory_order_relaxed); }
    qint64 framesSent() const { return m_framesOut.load(std::memory_order_relaxed); }

private:
    mutable std::mutex m_mutex;
    WebSocketRequest m_request;
    std::atomic<bool> m_hasRequest{false};
    std::deque<WebSocketFrameRecord> m_frames;
    qint64 m_framesSeen = 0;
    std::atomic<qint64> m_pings{0};
    std::atomic<qint64> m_framesIn{0};
    std::atomic<qint64> m_framesOut{0};
};

} // namespace Echoscope
