#pragma once

#include <QMetaType>
#include <QString>

namespace Echoscope {

// How a client reaches the server: a TCP connection, or the datagrams of one UDP
// address and port (see UdpEchoService).
enum class IpProtocol {
    Tcp,
    Udp,
};

// "TCP" or "UDP", as logs and the UI show it.
inline QString ipProtocolName(IpProtocol transport)
{
    return transport == IpProtocol::Udp ? QStringLiteral("UDP") : QStringLiteral("TCP");
}

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::IpProtocol)
