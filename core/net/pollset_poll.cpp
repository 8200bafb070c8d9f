#include "pollset.h"

#include <cerrno>
#include <poll.h>

// The portable backend of PollSet: poll() over every descriptor of the set, for POSIX
// systems without epoll and the portable build (ECHOSCOPE_PORTABLE_IO). Each wait costs
// the descriptors held, not the ready ones; pollset_epoll.cpp is the Linux backend.

namespace Echoscope {

namespace {
short toPoll(quint32 events)
{
    return short(((events & PollSet::Readable) ? POLLIN : 0) |
                 ((events & PollSet::Writable) ? POLLOUT : 0));
}
} // namespace

struct PollSet::Backend
{
    std::vector<pollfd> fds;    // the set, in no order
    std::vector<quint32> tags;  // tags[i] belongs to fds[i]
    std::vector<int> positions; // positions[fd]: where fd is in fds, -1 if absent

    int positionOf(int fd) const
    {
        return fd >= 0 && size_t(fd) < positions.size() ? positions[size_t(fd)] : -1;
    }
};

PollSet::PollSet() : d(std::make_unique<Backend>()) {}

PollSet::~PollSet() = default;

bool PollSet::isValid() const
{
    return true;
}

QString PollSet::errorString() const
{
    return QString();
}

bool PollSet::add(int fd, quint32 tag, quint32 events)
{
    if (fd < 0 || d->positionOf(fd) >= 0)
        return false;
    if (size_t(fd) >= d->positions.size())
        d->positions.resize(size_t(fd) + 1, -1);
    d->positions[size_t(fd)] = int(d->fds.size());
    pollfd entry{};
    entry.fd = fd;
    entry.events = toPoll(events);
    d->fds.push_back(entry);
    d->tags.push_back(tag);
    return true;
}

void PollSet::modify(int fd, quint32 tag, quint32 events)
{
    const int position = d->positionOf(fd);
    if (position < 0)
        return;
    d->fds[size_t(position)].events = toPoll(events);
    d->tags[size_t(position)] = tag;
}

void PollSet::remove(int fd)
{
    const int position = d->positionOf(fd);
    if (position < 0)
        return;
    // The last one takes its place.
    const size_t last = d->fds.size() - 1;
    if (size_t(position) != last) {
        d->fds[size_t(position)] = d->fds[last];
        d->tags[size_t(position)] = d->tags[last];
        d->positions[size_t(d->fds[size_t(position)].fd)] = position;
    }
    d->fds.pop_back();
    d->tags.pop_back();
    d->positions[size_t(fd)] = -1;
}

int PollSet::wait(int timeoutMs)
{
    const int count = ::poll(d->fds.data(), nfds_t(d->fds.size()), timeoutMs);
    if (count < 0)
        return errno == EINTR ? 0 : -1;
    m_ready.clear();
    for (size_t i = 0; i < d->fds.size() && int(m_ready.size()) < count; ++i) {
        const short flags = d->fds[i].revents;
        if (flags == 0)
            continue;
        Ready ready;
        ready.tag = d->tags[i];
        ready.events = ((flags & POLLIN) ? quint32(Readable) : 0u) |
                       ((flags & POLLOUT) ? quint32(Writable) : 0u) |
                       ((flags & (POLLERR | POLLNVAL)) ? quint32(Error) : 0u) |
                       ((flags & POLLHUP) ? quint32(HangUp) : 0u);
        m_ready.push_back(ready);
    }
    return int(m_ready.size());
}

} // namespace Echoscope
