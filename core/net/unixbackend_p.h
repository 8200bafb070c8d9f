#pragma once

// What the two POSIX backends of core/net do differently. CMake builds one of them:
//   unixbackend_linux.cpp     Linux ("epoll"): accept4(), SOCK_NONBLOCK | SOCK_CLOEXEC, the
//                             UDP error queue (IP_RECVERR) and MSG_TRUNC's real datagram size
//   unixbackend_portable.cpp  any POSIX system, and Linux with ECHOSCOPE_PORTABLE_IO
//                             ("portable"): accept() + fcntl(), no error queue
// with the matching poller files (socketpoller_epoll.cpp / socketpoller_none.cpp,
// pollset_epoll.cpp / pollset_poll.cpp). The code both share is nativesocket_unix.cpp and
// nativeudpsocket_unix.cpp; NativeSocket::backendName() and NativeUdpSocket::readError()
// are defined in the backend file.

#include <sys/socket.h>
#include <sys/types.h>

namespace Echoscope {

namespace UnixBackend {

// accept(2) whose new descriptor is non-blocking and close-on-exec; -1 with errno as
// accept(2) sets it (EINTR included: the caller repeats).
int accept(int listener, sockaddr *address, socklen_t *length);
// socket(2) of the type (SOCK_STREAM, SOCK_DGRAM), non-blocking and close-on-exec.
int socket(int family, int type);
// A connected pair of local stream sockets, close-on-exec (blocking); 0 or -1 as
// socketpair(2).
int socketPair(int fds[2]);
// Asks for ICMP errors about the socket's datagrams in its error queue.
void enableErrorQueue(int fd, int family);
// recvmsg(2) of one datagram; a cut one has MSG_TRUNC in msg_flags and, where the system
// can tell, its real size as the result.
ssize_t receiveDatagram(int fd, msghdr *message);

} // namespace UnixBackend

} // namespace Echoscope
