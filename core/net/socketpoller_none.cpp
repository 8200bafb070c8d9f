#include "socketpoller.h"

#include <QSocketNotifier>

// No poller of our own: where there is no epoll (and in the portable build,
// ECHOSCOPE_PORTABLE_IO) isSupported() is false and callers use a QSocketNotifier per
// connection. socketpoller_epoll.cpp is the Linux backend.

namespace Echoscope {

bool SocketPoller::isSupported()
{
    return false;
}

SocketPoller::SocketPoller() = default;

SocketPoller::~SocketPoller() = default;

bool SocketPoller::isDispatching() const
{
    return false;
}

bool SocketPoller::isValid() const
{
    return false;
}

SocketPoller::Watch *SocketPoller::add(qintptr, TransportHandler *)
{
    return nullptr;
}

void SocketPoller::setReadWanted(Watch *, bool) {}

void SocketPoller::setWriteWanted(Watch *, bool) {}

void SocketPoller::remove(Watch *) {}

void SocketPoller::dispatch() {}

void SocketPoller::apply(Watch *, bool, bool) {}

} // namespace Echoscope
