#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QtGlobal>

#include <functional>

namespace Echoscope {

// One WebSocket frame as it went by on the wire (RFC 6455, section 5.2).
struct WsFrameHeader
{
    enum Opcode : quint8 {
        Continuation = 0x0,
        Text = 0x1,
        Binary = 0x2,
        Close = 0x8,
        Ping = 0x9,
        Pong = 0xA,
    };
    quint8 opcode = 0;
    bool fin = false;
    bool masked = false;
    quint8 reservedBits = 0; // RSV1-3, as the top three bits of a nibble (0 without extensions)
    quint64 length = 0;      // payload bytes
    // Control frames (at most 125 bytes): the payload, unmasked. Empty for data frames.
    QByteArray controlPayload;

    bool isControl() const { return (opcode & 0x8) != 0; }
    // Close frames: the status code (0 when the frame carries none) and the reason.
    quint16 closeCode() const;
    QByteArray closeReason() const;
    // "text", "binary", "continuation", "close", "ping", "pong", "opcode 0x3".
    static QString opcodeName(quint8 opcode);
};

// Reads frame headers out of a WebSocket byte stream without handling the protocol: Qt
// WebSockets does that (the handshake, unmasking, reassembly, UTF-8, close handshake);
// this only observes the same bytes, so that what a client sent can be shown frame by
// frame and checked where Qt does not check (client frames must be masked).
//
// Bytes in, frames out, nothing buffered but a header (at most 14 bytes) and a control
// frame's payload (at most 125): a data frame's payload is skipped without being looked
// at. A data frame is reported as soon as its header is complete, a control frame once
// its payload is.
class WsFrameScanner
{
public:
    using Callback = std::function<void(const WsFrameHeader &)>;

    // Consumes data; calls onFrame for each frame found, in order.
    void feed(QByteArrayView data, const Callback &onFrame);
    // Payload bytes of the current data frame still to come: they can be skipped
    // without being looked at (see skip()).
    quint64 skippable() const { return m_state == State::Payload ? m_remaining : 0; }
    // Skips bytes of a data frame's payload; bytes <= skippable().
    void skip(quint64 bytes);
    // A control frame announced more than 125 bytes: the stream is not WebSocket (or the
    // peer breaks the protocol); nothing more is read.
    bool hasFailed() const { return m_state == State::Failed; }
    quint64 framesSeen() const { return m_frames; } // frames reported so far

private:
    enum class State { Header, ControlPayload, Payload, Failed };

    bool parseHeader(const Callback &onFrame);
    void finishFrame(const Callback &onFrame);

    State m_state = State::Header;
    QByteArray m_header; // the header bytes gathered so far
    WsFrameHeader m_frame;
    quint32 m_maskKey = 0;
    quint64 m_remaining = 0;
    quint64 m_frames = 0;
};

} // namespace Echoscope
