#pragma once

#include <QMetaType>
#include <QString>

namespace Echoscope {

// How a client reaches the server: a TCP connection, or the datagrams of one UDP
// address and port (see UdpEchoService).
enum class IpProtocol {
    Tcp,
    Udp,
    WebSocket, // ws:// or wss:// (TLS under it) on the WebSocket port
};

// How many there are, and each in order: for arrays indexed by int(IpProtocol).
inline constexpr int kIpProtocolCount = 3;
inline constexpr IpProtocol kIpProtocols[kIpProtocolCount] = {IpProtocol::Tcp, IpProtocol::Udp,
                                                              IpProtocol::WebSocket};

// "TCP", "UDP" or "WebSocket", as logs and the UI show it.
inline QString ipProtocolName(IpProtocol transport)
{
    switch (transport) {
    case IpProtocol::Udp:
        return QStringLiteral("UDP");
    case IpProtocol::WebSocket:
        return QStringLiteral("WebSocket");
    case IpProtocol::Tcp:
        break;
    }
    return QStringLiteral("TCP");
}

// "tcp", "udp", "ws": the label of metrics and the JSON field.
inline QString ipProtocolKey(IpProtocol transport)
{
    switch (transport) {
    case IpProtocol::Udp:
        return QStringLiteral("udp");
    case IpProtocol::WebSocket:
        return QStringLiteral("ws");
    case IpProtocol::Tcp:
        break;
    }
    return QStringLiteral("tcp");
}

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::IpProtocol)
