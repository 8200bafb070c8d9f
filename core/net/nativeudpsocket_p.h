#pragma once

// What nativeudpsocket.cpp (every platform) needs from nativeudpsocket_unix.cpp or
// nativeudpsocket_win.cpp, whichever CMake builds.

#include "nativesocket_p.h"
#include "nativeudpsocket.h"

#include <QString>

namespace Echoscope {

namespace NativePlatform {

// A non-blocking, close-on-exec datagram socket of the family (AF_INET, AF_INET6).
Handle openDatagramSocket(int family);
bool isValid(Handle fd);
// The index of the network interface an IPv6 scope names ("eth0"); 0 if unknown.
quint32 interfaceIndex(const QString &name);
// Asks for ICMP errors in the socket's error queue (NativeUdpSocket::readError()), where
// the backend keeps one.
void enableErrorQueue(Handle fd, int family);

inline const sockaddr *asSockaddr(const NativeUdpSocket::Endpoint &endpoint)
{
    return reinterpret_cast<const sockaddr *>(endpoint.storage.data());
}

inline sockaddr *asSockaddr(NativeUdpSocket::Endpoint *endpoint)
{
    return reinterpret_cast<sockaddr *>(endpoint->storage.data());
}

} // namespace NativePlatform

} // namespace Echoscope
