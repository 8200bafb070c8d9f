#include "socketpoller.h"

#include "transport.h"

#include <QSocketNotifier>

#include <cerrno>
#include <sys/epoll.h>
#include <unistd.h>

// The epoll backend (Linux). socketpoller_none.cpp is the one for systems without epoll and
// for the portable build (ECHOSCOPE_PORTABLE_IO).

namespace Echoscope {

class SocketPoller::Watch
{
public:
    qintptr descriptor = -1;
    TransportHandler *handler = nullptr;
    bool read = false;  // wanted
    bool write = false; // wanted
    bool inSet = false; // registered with epoll
    bool removed = false;
};

namespace {
// Readiness taken per turn; more ready descriptors wait for the next turn, which comes
// at once because the epoll descriptor stays readable.
constexpr int kMaxEventsPerTurn = 256;
} // namespace

bool SocketPoller::isSupported()
{
    return true;
}

SocketPoller::SocketPoller() : m_epoll(::epoll_create1(EPOLL_CLOEXEC)) {}

SocketPoller::~SocketPoller()
{
    m_notifier.reset();
    for (Watch *watch : m_removed)
        delete watch;
    if (m_epoll >= 0)
        ::close(m_epoll);
}

bool SocketPoller::isValid() const
{
    return m_epoll >= 0;
}

SocketPoller::Watch *SocketPoller::add(qintptr descriptor, TransportHandler *handler)
{
    if (m_epoll < 0)
        return nullptr;
    if (!m_notifier) { // here, in the thread that uses it
        m_notifier = std::make_unique<QSocketNotifier>(m_epoll, QSocketNotifier::Read);
        QObject::connect(m_notifier.get(), &QSocketNotifier::activated, m_notifier.get(),
                         [this] { dispatch(); });
    }
    auto *watch = new Watch;
    watch->descriptor = descriptor;
    watch->handler = handler;
    apply(watch, true, false);
    if (!watch->inSet) {
        delete watch;
        return nullptr;
    }
    ++m_watchCount;
    return watch;
}

void SocketPoller::setReadWanted(Watch *watch, bool wanted)
{
    if (watch && !watch->removed && watch->read != wanted)
        apply(watch, wanted, watch->write);
}

void SocketPoller::setWriteWanted(Watch *watch, bool wanted)
{
    if (watch && !watch->removed && watch->write != wanted)
        apply(watch, watch->read, wanted);
}

void SocketPoller::apply(Watch *watch, bool read, bool write)
{
    watch->read = read;
    watch->write = write;
    const int fd = int(watch->descriptor);
    if (!read && !write) {
        if (watch->inSet)
            ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
        watch->inSet = false;
        return;
    }
    epoll_event event{};
    event.events = (read ? EPOLLIN : 0u) | (write ? EPOLLOUT : 0u);
    event.data.ptr = watch;
    if (watch->inSet) {
        ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &event);
        return;
    }
    watch->inSet = ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event) == 0;
}

void SocketPoller::remove(Watch *watch)
{
    if (!watch || watch->removed)
        return;
    if (watch->inSet)
        ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, int(watch->descriptor), nullptr);
    watch->inSet = false;
    watch->removed = true;
    --m_watchCount;
    if (m_dispatching)
        m_removed.push_back(watch); // its readiness may still be in this turn's list
    else
        delete watch;
}

void SocketPoller::dispatch()
{
    epoll_event events[kMaxEventsPerTurn];
    int count = 0;
    do {
        count = ::epoll_wait(m_epoll, events, kMaxEventsPerTurn, 0);
    } while (count < 0 && errno == EINTR);
    if (count <= 0)
        return;
    m_dispatching = true;
    for (int i = 0; i < count; ++i) {
        auto *watch = static_cast<Watch *>(events[i].data.ptr);
        const quint32 ready = events[i].events;
        // As Qt's dispatcher: an error or hang-up wakes the reader, who learns the reason
        // from read(); with reading paused, the writer learns it from write().
        if (!watch->removed && watch->read && (ready & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            watch->handler->transportReadable();
        if (!watch->removed && watch->write &&
            (ready & (EPOLLOUT | EPOLLERR | (watch->read ? 0u : quint32(EPOLLHUP)))))
            watch->handler->transportWritable();
    }
    m_dispatching = false;
    for (Watch *watch : m_removed)
        delete watch;
    m_removed.clear();
}

} // namespace Echoscope
