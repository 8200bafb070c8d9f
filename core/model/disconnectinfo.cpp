#include "disconnectinfo.h"

namespace Echoscope {

QString DisconnectInfo::reasonString(DisconnectReason reason)
{
    switch (reason) {
    case DisconnectReason::ClosedByPeer:
        return QStringLiteral("closed by peer");
    case DisconnectReason::ResetByPeer:
        return QStringLiteral("reset by peer");
    case DisconnectReason::IdleTimeout:
        return QStringLiteral("idle timeout");
    case DisconnectReason::MessageTooLarge:
        return QStringLiteral("message too large");
    case DisconnectReason::Kicked:
        return QStringLiteral("kicked");
    case DisconnectReason::ServerStopped:
        return QStringLiteral("server stopped");
    case DisconnectReason::SocketError:
        return QStringLiteral("socket error");
    case DisconnectReason::FaultClose:
        return QStringLiteral("closed by fault");
    case DisconnectReason::FaultReset:
        return QStringLiteral("reset by fault");
    case DisconnectReason::TlsHandshakeFailed:
        return QStringLiteral("TLS handshake failed");
    case DisconnectReason::Unreachable:
        return QStringLiteral("port unreachable");
    case DisconnectReason::WebSocketHandshakeFailed:
        return QStringLiteral("WebSocket handshake failed");
    case DisconnectReason::ProtocolError:
        return QStringLiteral("protocol error");
    }
    return QStringLiteral("unknown");
}

QString DisconnectInfo::describe() const
{
    const QString reasonText = reasonString(reason);
    return detail.isEmpty() ? reasonText : reasonText + QStringLiteral(": ") + detail;
}

} // namespace Echoscope
