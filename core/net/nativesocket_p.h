#pragma once

// The OS's socket headers and types for the code that every platform shares
// (nativesocket.cpp, nativeudpsocket.cpp), as Qt's qnativesocketengine_p.h does it; the calls
// that differ live in the per-platform files CMake picks (nativesocket_unix.cpp /
// nativesocket_win.cpp, nativeudpsocket_unix.cpp / nativeudpsocket_win.cpp).

#include <QtGlobal>

#ifdef Q_OS_WIN
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <netinet/in.h>
#include <sys/socket.h>
#endif

namespace Echoscope {

namespace NativePlatform {
#ifdef Q_OS_WIN
using SocketLength = int;
using Handle = SOCKET;
#else
using SocketLength = socklen_t;
using Handle = int;
#endif
} // namespace NativePlatform

} // namespace Echoscope
