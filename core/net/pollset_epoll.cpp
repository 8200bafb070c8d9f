#include "pollset.h"

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <unistd.h>

// The Linux backend of PollSet: one epoll set. pollset_poll.cpp is the portable one.

namespace Echoscope {

namespace {
// Readiness taken per wait; more wait for the next, which returns at once.
constexpr int kMaxEventsPerWait = 512;

quint32 toEpoll(quint32 events)
{
    return ((events & PollSet::Readable) ? quint32(EPOLLIN | EPOLLRDHUP) : 0u) |
           ((events & PollSet::Writable) ? quint32(EPOLLOUT) : 0u);
}
} // namespace

struct PollSet::Backend
{
    int epoll = -1;
    int error = 0; // errno of epoll_create1
    epoll_event events[kMaxEventsPerWait];
};

PollSet::PollSet() : d(std::make_unique<Backend>())
{
    d->epoll = ::epoll_create1(EPOLL_CLOEXEC);
    if (d->epoll < 0)
        d->error = errno;
    m_ready.resize(kMaxEventsPerWait);
}

PollSet::~PollSet()
{
    if (d->epoll >= 0)
        ::close(d->epoll);
}

bool PollSet::isValid() const
{
    return d->epoll >= 0;
}

QString PollSet::errorString() const
{
    return QStringLiteral("epoll_create1: %1").arg(QString::fromLocal8Bit(std::strerror(d->error)));
}

bool PollSet::add(int fd, quint32 tag, quint32 events)
{
    epoll_event event{};
    event.events = toEpoll(events);
    event.data.u32 = tag;
    return ::epoll_ctl(d->epoll, EPOLL_CTL_ADD, fd, &event) == 0;
}

void PollSet::modify(int fd, quint32 tag, quint32 events)
{
    epoll_event event{};
    event.events = toEpoll(events);
    event.data.u32 = tag;
    ::epoll_ctl(d->epoll, EPOLL_CTL_MOD, fd, &event);
}

void PollSet::remove(int)
{
    // Nothing: closing the descriptor takes it out of the set (none is duplicated).
}

int PollSet::wait(int timeoutMs)
{
    const int count = ::epoll_wait(d->epoll, d->events, kMaxEventsPerWait, timeoutMs);
    if (count < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < count; ++i) {
        const quint32 flags = d->events[i].events;
        Ready &ready = m_ready[size_t(i)];
        ready.tag = d->events[i].data.u32;
        ready.events = ((flags & (EPOLLIN | EPOLLRDHUP)) ? quint32(Readable) : 0u) |
                       ((flags & EPOLLOUT) ? quint32(Writable) : 0u) |
                       ((flags & EPOLLERR) ? quint32(Error) : 0u) |
                       ((flags & EPOLLHUP) ? quint32(HangUp) : 0u);
    }
    return count;
}

} // namespace Echoscope
