#include "nativesocket.h"

#include "hostaddress.h"
#include "nativesocket_p.h"

namespace Echoscope {

// What every platform shares; the rest is in nativesocket_unix.cpp or nativesocket_win.cpp.

void NativeSocket::fromSockaddr(const sockaddr *address, QHostAddress *host, quint16 *port)
{
    *host = nullHostAddress(); // nothing of an address it held before (a scope id) is kept
    *port = 0;
    if (address->sa_family == AF_INET)
        *port = ntohs(reinterpret_cast<const sockaddr_in *>(address)->sin_port);
    else if (address->sa_family == AF_INET6)
        *port = ntohs(reinterpret_cast<const sockaddr_in6 *>(address)->sin6_port);
    else
        return;
    host->setAddress(address); // its one allocation, made when it stops sharing the null's
    bool isV4 = false;
    const quint32 v4 = host->toIPv4Address(&isV4);
    if (isV4 && host->protocol() == QAbstractSocket::IPv6Protocol)
        host->setAddress(v4);
}

void NativeSocket::abort(Descriptor fd)
{
    setResetOnClose(fd);
    close(fd);
}

} // namespace Echoscope
