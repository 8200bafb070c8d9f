#pragma once

#include "wsframescanner.h"

#include <QByteArray>
#include <QString>
#include <QtGlobal>

namespace Echoscope {

// The client's side of RFC 6455, as much as the load generator needs to send binary
// messages and verify their echo: the upgrade request and the check of its answer, masked
// frame headers and masking, and a reader of server frames that hands payload out in place
// (no copy and no allocation per frame). No extensions, no subprotocols: a server that
// picks one fails the handshake.
class WsClientFraming
{
public:
    // The opcodes are the server side's (WsFrameHeader::Text, ...): one enum for both.
    using Opcode = WsFrameHeader::Opcode;
    static constexpr int kMaxHeaderBytes = 14;          // 2 + 8 (64-bit length) + 4 (mask key)
    static constexpr int kMaxControlPayloadBytes = 125; // RFC 6455 5.5
    static constexpr int kMaxControlFrameBytes = 6 + kMaxControlPayloadBytes; // masked
    static constexpr quint16 kCloseNormal = 1000;
    static constexpr quint16 kCloseGoingAway = 1001;
    static constexpr quint16 kCloseNoStatus = 1005; // what a close frame without a code means

    // --- The upgrade (RFC 6455 4.1) ---
    // 16 random bytes in base64 (24 characters), for Sec-WebSocket-Key.
    static QByteArray makeKey(quint64 random1, quint64 random2);
    // base64(SHA-1(key + the RFC's GUID)): the Sec-WebSocket-Accept a server must answer.
    static QByteArray acceptFor(const QByteArray &key);
    // The GET request; host is the Host header's value ("127.0.0.1:8080", "[::1]:8080").
    static QByteArray upgradeRequest(const QByteArray &host, const QByteArray &path,
                                     const QByteArray &key);
    // The length of the answer's header up to and including its empty line; 0 while it is
    // not complete.
    static qint64 responseHeaderBytes(const char *data, qint64 size);
    // Empty when `response` (a complete header) accepts the upgrade requested with `key`,
    // else a sentence naming what is wrong (status, Upgrade, Connection, the Accept key, an
    // extension or subprotocol nobody asked for, or an answer that is not HTTP at all).
    static QString checkUpgradeResponse(const QByteArray &response, const QByteArray &key);
    // Whether the first bytes of an answer can still become an HTTP status line ("HTTP/").
    static bool couldBeHttp(const char *data, qint64 size);

    // --- Client frames (RFC 6455 5.2, 5.3) ---
    // Writes the header of a masked frame (FIN as given, no reserved bits) with a 7-, 16- or
    // 64-bit length as the length needs, followed by maskKey (its 4 bytes big-endian, which
    // is the order they are applied in): its size, 6 to kMaxHeaderBytes.
    static int writeHeader(char *out, Opcode opcode, bool fin, quint64 payloadBytes,
                           quint32 maskKey);
    // XORs size bytes of payload, which start `position` bytes into the frame's payload,
    // with the key (in place); applying it twice gives the bytes back.
    static void mask(char *data, qint64 size, quint32 maskKey, quint64 position);
    // A whole masked control frame (ping, pong, close) into out (kMaxControlFrameBytes):
    // its size. A payload over kMaxControlPayloadBytes is cut to it.
    static int writeControlFrame(char *out, Opcode opcode, const char *payload, int size,
                                 quint32 maskKey);
    // A close frame with a status code (and no reason).
    static int writeCloseFrame(char *out, quint16 code, quint32 maskKey);

    // Server frames, fed in pieces of any size (down to one byte at a time).
    //
    //   Header --(data frame)--> DataPayload --(payload done, FIN)--> MessageEnd --> Header
    //     |  ^                      |
    //     |  +---(payload done, no FIN: the next frame continues it)
    //     +--(control frame)--> ControlPayload --(payload done)--> Header
    //   any rule broken --> Failed (sticky)
    class Reader
    {
    public:
        enum class Event {
            None,       // all input consumed, nothing to report: feed more
            Data,       // payload bytes of the current data message (Text or Binary)
            MessageEnd, // the current data message ended (its final frame is read)
            Ping,       // controlPayload() is its payload
            Pong,
            Close, // closeCode(), closeReason()
            Error, // errorString(); every later read reports it again
        };

        // Consumes bytes of [data, data + size) up to the next event and returns how
        // many. For Data, *payload and *payloadBytes point into the input. Call again with
        // the rest (also when nothing is left: a frame's end may still be reported) until
        // it reports None.
        qint64 read(const char *data, qint64 size, Event *event, const char **payload,
                    qint64 *payloadBytes);
        void reset() { *this = Reader(); }

        // Text or Binary: the opcode of the message the last Data or MessageEnd belongs to.
        Opcode messageOpcode() const { return m_messageOpcode; }
        const char *controlPayload() const { return m_control; }
        int controlPayloadBytes() const { return m_controlBytes; }
        quint16 closeCode() const; // kCloseNoStatus when the close frame had no code
        QString closeReason() const;
        QString errorString() const { return m_error; }

    private:
        enum class State { Header, DataPayload, ControlPayload, MessageEnd, Failed };
        Event fail(const QString &error);
        Event headerComplete();

        State m_state = State::Header;
        char m_header[kMaxHeaderBytes] = {};
        int m_headerHave = 0;
        int m_headerNeed = 2;
        Opcode m_opcode = WsFrameHeader::Binary; // of the frame being read
        bool m_fin = false;
        bool m_inMessage = false; // a data message has started and not ended
        Opcode m_messageOpcode = WsFrameHeader::Binary;
        quint64 m_remaining = 0; // payload bytes of the frame still to come
        char m_control[kMaxControlPayloadBytes] = {};
        int m_controlBytes = 0;
        QString m_error;
    };
};

} // namespace Echoscope
