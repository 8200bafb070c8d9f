#include "socketpoller.h"

#include "epolldispatcher_p.h"
#include "transport.h"

#include <QSocketNotifier>

#include <cerrno>
#include <sys/epoll.h>
#include <unistd.h>

// The epoll backend (Linux). socketpoller_none.cpp is the one for systems without epoll and
// for the portable build (ECHOSCOPE_PORTABLE_IO).

namespace Echoscope {

class SocketPoller::Watch final : public EpollEntry
{
public:
    explicit Watch(SocketPoller *poller) : poller(poller) {}
    // In the WorkerDispatcher's turn (the poller's own dispatch() calls deliver() itself).
    void epollReady(quint32 events) override { poller->deliver(this, events); }

    SocketPoller *const poller;
    qintptr descriptor = -1;
    TransportHandler *handler = nullptr;
    bool read = false;  // wanted
    bool write = false; // wanted
    bool inSet = false; // registered with epoll
    bool removed = false;
    Watch *previous = nullptr; // in the poller's list of live watches
    Watch *next = nullptr;
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
    // Watches still registered (their sessions not closed): out of the dispatcher's set,
    // which outlives this poller only while its thread runs.
    const bool dispatcherAlive = m_dispatcher && m_dispatcherGuard;
    while (Watch *watch = m_live) {
        m_live = watch->next;
        if (dispatcherAlive) {
            if (watch->inSet)
                m_dispatcher->removeEntry(int(watch->descriptor));
            m_dispatcher->retire(watch);
        } else {
            delete watch;
        }
    }
    for (Watch *watch : m_removed)
        delete watch;
    if (m_epoll >= 0)
        ::close(m_epoll);
}

bool SocketPoller::isValid() const
{
    return m_epoll >= 0;
}

bool SocketPoller::useThreadDispatcher()
{
    if (!m_modeChosen) { // here, in the thread that uses it
        m_modeChosen = true;
        if (EpollDispatcher *dispatcher = EpollDispatcher::current()) {
            m_dispatcher = dispatcher;
            m_dispatcherGuard = dispatcher;
        } else {
            m_notifier = std::make_unique<QSocketNotifier>(m_epoll, QSocketNotifier::Read);
            QObject::connect(m_notifier.get(), &QSocketNotifier::activated, m_notifier.get(),
                             [this] { dispatch(); });
        }
    }
    return m_dispatcher != nullptr;
}

SocketPoller::Watch *SocketPoller::add(qintptr descriptor, TransportHandler *handler)
{
    if (m_epoll < 0)
        return nullptr;
    useThreadDispatcher();
    auto *watch = new Watch(this);
    watch->descriptor = descriptor;
    watch->handler = handler;
    apply(watch, true, false);
    if (!watch->inSet) {
        delete watch;
        return nullptr;
    }
    watch->next = m_live;
    if (m_live)
        m_live->previous = watch;
    m_live = watch;
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
        if (watch->inSet) {
            if (m_dispatcher)
                m_dispatcher->removeEntry(fd);
            else
                ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
        }
        watch->inSet = false;
        return;
    }
    const quint32 events = (read ? quint32(EPOLLIN) : 0u) | (write ? quint32(EPOLLOUT) : 0u);
    if (m_dispatcher) {
        if (watch->inSet)
            m_dispatcher->modifyEntry(fd, events, watch);
        else
            watch->inSet = m_dispatcher->addEntry(fd, events, watch);
        return;
    }
    epoll_event event{};
    event.events = events;
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
    if (watch->inSet) {
        if (m_dispatcher)
            m_dispatcher->removeEntry(int(watch->descriptor));
        else
            ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, int(watch->descriptor), nullptr);
    }
    watch->inSet = false;
    watch->removed = true;
    --m_watchCount;
    if (watch->previous)
        watch->previous->next = watch->next;
    else
        m_live = watch->next;
    if (watch->next)
        watch->next->previous = watch->previous;
    if (m_dispatcher)
        m_dispatcher->retire(watch); // deleted when the dispatcher's turn ends
    else if (m_dispatching)
        m_removed.push_back(watch); // its readiness may still be in this turn's list
    else
        delete watch;
}

bool SocketPoller::isDispatching() const
{
    return m_dispatcher ? m_dispatcherGuard && m_dispatcher->inTurn() : m_dispatching;
}

void SocketPoller::deliver(Watch *watch, quint32 ready)
{
    // As Qt's dispatcher: an error or hang-up wakes the reader, who learns the reason
    // from read(); with reading paused, the writer learns it from write().
    if (!watch->removed && watch->read && (ready & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        watch->handler->transportReadable();
    if (!watch->removed && watch->write &&
        (ready & (EPOLLOUT | EPOLLERR | (watch->read ? 0u : quint32(EPOLLHUP)))))
        watch->handler->transportWritable();
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
    for (int i = 0; i < count; ++i)
        deliver(static_cast<Watch *>(events[i].data.ptr), events[i].events);
    m_dispatching = false;
    for (Watch *watch : m_removed)
        delete watch;
    m_removed.clear();
}

} // namespace Echoscope
