#pragma once

#include <QMetaType>
#include <QString>
#include <QtGlobal>

namespace Echoscope {

enum class DisconnectReason {
    ClosedByPeer,       // the client closed (or half-closed and its echo was finished)
    ResetByPeer,        // the client reset the connection (RST)
    IdleTimeout,        // nothing moved for the configured idle time
    MessageTooLarge,    // a framed message exceeded the limit
    Kicked,             // disconnected on request (the dashboard, an API call)
    ServerStopped,      // the server stopped with the client connected
    SocketError,        // any other socket error; the text is in DisconnectInfo::detail
    FaultClose,         // an injected fault closed it (orderly, FIN); see FaultConfig
    FaultReset,         // an injected fault reset it (RST)
    TlsHandshakeFailed, // TLS listener: no handshake (an error, not TLS, or too slow); see detail
    Unreachable,        // UDP: an echo to the peer came back as ICMP port unreachable
    // WebSocket: the upgrade was refused (not a WebSocket request, a version or origin
    // not accepted: the detail names the HTTP status sent), or never completed.
    WebSocketHandshakeFailed,
    // WebSocket: the client broke the protocol (unmasked frame, invalid UTF-8 in a text
    // message, a bad opcode or close code); closed with the status code in the detail.
    ProtocolError, // the last (DisconnectInfo::reasonText()'s cache has one text for each)
};

// What became of a connection: why it ended and what it moved. Every byte the
// server accepted is either echoed (bytesOut) or counted in unechoedBytes().
struct DisconnectInfo
{
    DisconnectReason reason = DisconnectReason::ClosedByPeer;
    QString detail;             // a sentence adding to the reason, may be empty
    qint64 bytesIn = 0;         // bytes read from the client
    qint64 bytesOut = 0;        // bytes echoed (accepted by the kernel)
    qint64 messagesIn = 0;      // messages framed
    qint64 messagesOut = 0;     // messages whose echo was written whole
    qint64 durationMs = 0;      // from accept to close
    qint64 oversizeBytes = 0;   // MessageTooLarge: the size seen
    qint64 incompleteBytes = 0; // an unfinished message dropped at close

    qint64 unechoedBytes() const { return bytesIn - bytesOut; }
    // "closed by peer", "reset by peer", ...: the English words, for what machines read
    // (JSON "reason", metric labels, the WebSocket close frame's reason).
    static QString reasonString(DisconnectReason reason);
    // The same words in the user's language (translations/README.md), for people.
    static QString reasonText(DisconnectReason reason);
    // reasonText(), plus the detail when there is one.
    QString describe() const;
};

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::DisconnectReason)
Q_DECLARE_METATYPE(Echoscope::DisconnectInfo)
