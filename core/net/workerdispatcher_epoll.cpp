#include "workerdispatcher.h"

#include "epolldispatcher_p.h"

#include <QCoreApplication>
#include <QEvent>
#include <QSocketNotifier>
#include <QThread>
#include <QTimerEvent>
#include <QVariant>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

// The Linux backend of WorkerDispatcher (workerdispatcher.h). It follows what Qt's
// QEventDispatcherUNIX does (qeventdispatcher_unix.cpp, qtimerinfo_unix.cpp) where the
// behaviour shows: posted events first in every processEvents(), interrupt() and wakeUp()
// from any thread, socket notifiers activated after the wait by QEvent::SockAct (one not
// yet activated is skipped once it is unregistered), then the timers that are due, each at
// most once per pass and never inside its own timer event; a repeating timer's next
// deadline is its last plus its interval (now plus its interval if that has passed already).
// Differences: every timer type is kept to the nanosecond (Qt lets a coarse timer fire up to
// 5 % early or late, and a very coarse one to the second: this never fires one early), and
// epoll reports a descriptor until it is unregistered, so a notifier excluded by
// QEventLoop::ExcludeSocketNotifiers is reported again at the next pass.

namespace Echoscope {

namespace {

constexpr int kMaxEventsPerTurn = 256;

qint64 nowNs()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool turnedOffByEnvironment()
{
    static const bool off = qgetenv("ECHOSCOPE_WORKER_DISPATCHER") == "qt";
    return off;
}

// epoll_pwait2() (nanosecond timeouts) came with Linux 5.11 and glibc 2.35. On an older
// kernel, or under a seccomp filter that does not know it (older container runtimes), it
// fails with ENOSYS or EPERM: the dispatcher then waits with epoll_wait(), its timeout
// rounded up to the millisecond so that no timer fires early, for the rest of the process.
// ECHOSCOPE_WORKER_DISPATCHER=epoll_wait starts there (the tests run both ways).
std::atomic<bool> g_millisecondWaits{qgetenv("ECHOSCOPE_WORKER_DISPATCHER") == "epoll_wait"};

int waitForEvents(int epoll, epoll_event *events, int maxEvents, const timespec *timeout)
{
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 35)
    if (!g_millisecondWaits.load(std::memory_order_relaxed)) {
        const int count = ::epoll_pwait2(epoll, events, maxEvents, timeout, nullptr);
        if (count >= 0 || (errno != ENOSYS && errno != EPERM))
            return count;
        g_millisecondWaits.store(true, std::memory_order_relaxed);
    }
#endif
    int milliseconds = -1;
    if (timeout) {
        const qint64 ns = qint64(timeout->tv_sec) * 1000000000 + timeout->tv_nsec;
        milliseconds = int(std::min<qint64>((ns + 999999) / 1000000, INT_MAX));
    }
    return ::epoll_wait(epoll, events, maxEvents, milliseconds);
}

} // namespace

class EpollDispatcher::WakeEntry final : public EpollEntry
{
public:
    explicit WakeEntry(EpollDispatcher *dispatcher) : m_dispatcher(dispatcher) {}
    void epollReady(quint32) override { m_dispatcher->drainWakeUps(); }

private:
    EpollDispatcher *const m_dispatcher;
};

class EpollDispatcher::NotifierEntry final : public EpollEntry
{
public:
    NotifierEntry(EpollDispatcher *dispatcher, int descriptor)
        : dispatcher(dispatcher), descriptor(descriptor)
    {}
    void epollReady(quint32 events) override { dispatcher->notifierReady(this, events); }
    quint32 mask() const
    {
        return (read ? quint32(EPOLLIN) : 0u) | (write ? quint32(EPOLLOUT) : 0u) |
               (exception ? quint32(EPOLLPRI) : 0u);
    }

    EpollDispatcher *const dispatcher;
    const int descriptor;
    QSocketNotifier *read = nullptr;
    QSocketNotifier *write = nullptr;
    QSocketNotifier *exception = nullptr;
    bool inSet = false;
    // Added with EPOLLEXCLUSIVE (WorkerDispatcher::kExclusiveWakeUp); such an entry is
    // never modified in place (epoll refuses that), it is taken out and added again.
    bool exclusive = false;
};

bool WorkerDispatcher::isEnabled()
{
    return !turnedOffByEnvironment();
}

bool WorkerDispatcher::waitsInMilliseconds()
{
    return g_millisecondWaits.load(std::memory_order_relaxed);
}

quint64 WorkerDispatcher::wakeUpWrites(const QAbstractEventDispatcher *dispatcher)
{
    const auto *ours = qobject_cast<const EpollDispatcher *>(dispatcher);
    return ours ? ours->wakeUpWrites() : 0;
}

QAbstractEventDispatcher *WorkerDispatcher::create()
{
    if (!isEnabled())
        return nullptr;
    auto *dispatcher = new EpollDispatcher;
    if (!dispatcher->isValid()) {
        delete dispatcher;
        return nullptr;
    }
    return dispatcher;
}

EpollDispatcher::EpollDispatcher()
    : m_epoll(::epoll_create1(EPOLL_CLOEXEC)), m_wakeFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
    if (m_epoll < 0 || m_wakeFd < 0)
        return;
    m_wakeEntry = new WakeEntry(this);
    if (!addEntry(m_wakeFd, EPOLLIN, m_wakeEntry)) {
        ::close(m_wakeFd);
        m_wakeFd = -1;
    }
}

EpollDispatcher::~EpollDispatcher()
{
    for (auto &[descriptor, entry] : m_notifiers)
        delete entry;
    for (EpollEntry *entry : m_retired)
        delete entry;
    delete m_wakeEntry;
    if (m_wakeFd >= 0)
        ::close(m_wakeFd);
    if (m_epoll >= 0)
        ::close(m_epoll);
}

EpollDispatcher *EpollDispatcher::current()
{
    return qobject_cast<EpollDispatcher *>(QAbstractEventDispatcher::instance());
}

bool EpollDispatcher::addEntry(int descriptor, quint32 events, EpollEntry *entry)
{
    epoll_event event{};
    event.events = events;
    event.data.ptr = entry;
    return ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, descriptor, &event) == 0;
}

bool EpollDispatcher::modifyEntry(int descriptor, quint32 events, EpollEntry *entry)
{
    epoll_event event{};
    event.events = events;
    event.data.ptr = entry;
    return ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, descriptor, &event) == 0;
}

void EpollDispatcher::removeEntry(int descriptor)
{
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, descriptor, nullptr);
}

void EpollDispatcher::retire(EpollEntry *entry)
{
    entry->retired = true;
    if (m_turnDepth > 0)
        m_retired.push_back(entry);
    else
        delete entry;
}

// An event posted by the dispatcher's own thread (a deleteLater(), a queued call to
// itself) is sent at the top of the next processEvents(), and that one does not block:
// the thread is awake, so the eventfd write, its read and one more epoll_pwait2() (about
// a third of a worker's system calls per short connection) are not needed.
void EpollDispatcher::wakeUp()
{
    if (QThread::currentThreadId() == m_ownerThread.load(std::memory_order_relaxed)) {
        m_postedBySelf = true;
        return;
    }
    writeWakeUp();
}

void EpollDispatcher::writeWakeUp()
{
    if (m_wakeUpPending.testAndSetAcquire(0, 1)) {
        m_wakeUpWrites.fetch_add(1, std::memory_order_relaxed);
        const quint64 one = 1;
        ssize_t written = 0;
        do {
            written = ::write(m_wakeFd, &one, sizeof one);
        } while (written < 0 && errno == EINTR);
    }
}

void EpollDispatcher::interrupt()
{
    m_interrupt.storeRelaxed(1);
    writeWakeUp(); // from any thread: a nested wait must return too
}

void EpollDispatcher::drainWakeUps()
{
    quint64 count = 0;
    ssize_t got = 0;
    do {
        got = ::read(m_wakeFd, &count, sizeof count);
    } while (got < 0 && errno == EINTR);
    m_wakeUpPending.storeRelease(0);
}

bool EpollDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_ownerThread.store(QThread::currentThreadId(), std::memory_order_relaxed);
    m_interrupt.storeRelaxed(0);
    emit awake();
    m_postedBySelf = false;
    QCoreApplication::sendPostedEvents(); // this thread's, as Qt's dispatcher does

    const bool includeTimers = !(flags & QEventLoop::X11ExcludeTimers);
    const bool includeNotifiers = !(flags & QEventLoop::ExcludeSocketNotifiers);
    // Posted by this thread since the top (while sending): not blocking sends them next.
    const bool canWait =
        (flags & QEventLoop::WaitForMoreEvents) && !m_interrupt.loadRelaxed() && !m_postedBySelf;
    if (canWait)
        emit aboutToBlock();
    if (m_interrupt.loadRelaxed())
        return false;

    // An event another thread posts from now on writes the eventfd, so the wait below
    // returns at once; one this thread posts makes the next processEvents() not block.
    timespec timeout{0, 0};
    timespec *wait = &timeout;
    if (canWait) {
        if (includeTimers && !m_timerQueue.empty()) {
            const qint64 left = std::max<qint64>(0, m_timerQueue.begin()->first - nowNs());
            timeout.tv_sec = time_t(left / 1000000000);
            timeout.tv_nsec = long(left % 1000000000);
        } else {
            wait = nullptr; // until something happens
        }
    }

    epoll_event events[kMaxEventsPerTurn];
    int count = waitForEvents(m_epoll, events, kMaxEventsPerTurn, wait);
    if (count < 0) {
        if (errno != EINTR)
            qErrnoWarning("EpollDispatcher: waiting for events");
        count = 0;
    }

    int handled = 0;
    ++m_turnDepth;
    // Events posted before this readiness came are sent before it is handled: a command
    // for a session (a fault, a kick) posted before the client's bytes arrived applies to
    // those bytes. (Qt's dispatcher leaves them for the next pass, after the sockets.)
    for (int i = 0; i < count; ++i) {
        if (events[i].data.ptr == m_wakeEntry) {
            drainWakeUps();
            ++handled;
            QCoreApplication::sendPostedEvents();
            break;
        }
    }
    for (int i = 0; i < count; ++i) {
        auto *entry = static_cast<EpollEntry *>(events[i].data.ptr);
        if (entry->retired || entry == m_wakeEntry)
            continue;
        if (!includeNotifiers)
            continue; // level-triggered: reported again at the next pass
        entry->epollReady(events[i].events);
        ++handled;
    }
    if (--m_turnDepth == 0) { // entries retired in a nested turn may be in an outer's list
        for (EpollEntry *entry : m_retired)
            delete entry;
        m_retired.clear();
    }

    handled += activateSocketNotifiers();
    if (includeTimers)
        handled += activateTimers();
    return handled > 0;
}

// --- socket notifiers

void EpollDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    Q_ASSERT(notifier);
    const int descriptor = int(notifier->socket());
    NotifierEntry *&entry = m_notifiers[descriptor];
    const bool isNew = !entry;
    if (isNew)
        entry = new NotifierEntry(this, descriptor);
    QSocketNotifier **slot = nullptr;
    const char *typeName = "";
    switch (notifier->type()) {
    case QSocketNotifier::Read:
        slot = &entry->read;
        typeName = "Read";
        break;
    case QSocketNotifier::Write:
        slot = &entry->write;
        typeName = "Write";
        break;
    case QSocketNotifier::Exception:
        slot = &entry->exception;
        typeName = "Exception";
        break;
    }
    if (*slot && *slot != notifier)
        qWarning("%s: Multiple socket notifiers for same socket %d and type %s", Q_FUNC_INFO,
                 descriptor, typeName);
    *slot = notifier;
    if (isNew)
        entry->exclusive = notifier->type() == QSocketNotifier::Read &&
                           notifier->property(WorkerDispatcher::kExclusiveWakeUp).toBool();
    updateNotifierEntry(entry, isNew);
}

void EpollDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    Q_ASSERT(notifier);
    std::replace(m_pendingNotifiers.begin(), m_pendingNotifiers.end(), notifier,
                 static_cast<QSocketNotifier *>(nullptr));
    const auto it = m_notifiers.find(int(notifier->socket()));
    if (it == m_notifiers.end())
        return;
    NotifierEntry *entry = it->second;
    for (QSocketNotifier **slot : {&entry->read, &entry->write, &entry->exception}) {
        if (*slot == notifier)
            *slot = nullptr;
    }
    if (entry->mask() == 0) {
        if (entry->inSet)
            removeEntry(entry->descriptor);
        m_notifiers.erase(it);
        retire(entry);
        return;
    }
    updateNotifierEntry(entry, false);
}

void EpollDispatcher::updateNotifierEntry(NotifierEntry *entry, bool isNew)
{
    quint32 mask = entry->mask();
    if (entry->exclusive) {
        mask |= EPOLLEXCLUSIVE;
        if (!isNew && entry->inSet)
            removeEntry(entry->descriptor);
        entry->inSet = addEntry(entry->descriptor, mask, entry);
        return;
    }
    if (!isNew && entry->inSet) {
        if (modifyEntry(entry->descriptor, mask, entry) || errno != ENOENT)
            return;
        // closed and reopened under the same number without unregistering: add it again
    }
    entry->inSet = addEntry(entry->descriptor, mask, entry);
    if (!entry->inSet && errno == EEXIST)
        entry->inSet = modifyEntry(entry->descriptor, mask, entry);
    if (!entry->inSet)
        qErrnoWarning("EpollDispatcher: cannot watch descriptor %d", entry->descriptor);
}

void EpollDispatcher::notifierReady(NotifierEntry *entry, quint32 events)
{
    // As Qt's dispatcher maps poll(): an error or hang-up wakes the reader, an error the
    // writer too.
    if (entry->read && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        m_pendingNotifiers.push_back(entry->read);
    if (entry->write && (events & (EPOLLOUT | EPOLLERR)))
        m_pendingNotifiers.push_back(entry->write);
    if (entry->exception && (events & EPOLLPRI))
        m_pendingNotifiers.push_back(entry->exception);
}

int EpollDispatcher::activateSocketNotifiers()
{
    int activated = 0;
    // A handler may unregister (nulls its entry here) or register notifiers; those it
    // registers wait for the next pass.
    for (size_t i = 0; i < m_pendingNotifiers.size(); ++i) {
        QSocketNotifier *notifier = m_pendingNotifiers[i];
        if (!notifier)
            continue;
        m_pendingNotifiers[i] = nullptr;
        QEvent event(QEvent::SockAct);
        QCoreApplication::sendEvent(notifier, &event);
        ++activated;
    }
    m_pendingNotifiers.clear();
    return activated;
}

// --- timers

void EpollDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType,
                                    QObject *object)
{
    Q_ASSERT(timerId > 0 && interval >= 0 && object);
    Timer &timer = m_timers[timerId];
    if (timer.object) // re-registered under the same id: drop the old deadline
        m_timerQueue.erase({timer.dueNs, timerId});
    timer.object = object;
    timer.intervalMs = interval;
    timer.type = timerType;
    timer.dueNs = nowNs() + interval * 1000000;
    timer.inEvent = false;
    m_timerQueue.emplace(timer.dueNs, timerId);
}

bool EpollDispatcher::unregisterTimer(int timerId)
{
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return false;
    m_timerQueue.erase({it->second.dueNs, timerId});
    m_timers.erase(it);
    return true;
}

bool EpollDispatcher::unregisterTimers(QObject *object)
{
    bool any = false;
    for (auto it = m_timers.begin(); it != m_timers.end();) {
        if (it->second.object == object) {
            m_timerQueue.erase({it->second.dueNs, it->first});
            it = m_timers.erase(it);
            any = true;
        } else {
            ++it;
        }
    }
    return any;
}

QList<QAbstractEventDispatcher::TimerInfo> EpollDispatcher::registeredTimers(QObject *object) const
{
    QList<TimerInfo> list;
    for (const auto &[id, timer] : m_timers) {
        if (timer.object == object)
            list.append(TimerInfo(id, int(timer.intervalMs), timer.type));
    }
    return list;
}

int EpollDispatcher::remainingTime(int timerId)
{
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return -1;
    const qint64 left = it->second.dueNs - nowNs();
    // Whole milliseconds, rounded up, as Qt's: a timer due in 0.3 ms has 1 ms left.
    return left <= 0 ? 0 : int((left + 999999) / 1000000);
}

int EpollDispatcher::activateTimers()
{
    if (m_timerQueue.empty())
        return 0;
    const qint64 now = nowNs();
    if (m_timerQueue.begin()->first > now)
        return 0;
    // The timers due now, each once: one a handler starts or restarts waits for the next
    // pass, even with a zero interval.
    std::vector<int> due; // a local: a handler may run a nested loop that comes here
    for (auto it = m_timerQueue.begin(); it != m_timerQueue.end() && it->first <= now; ++it)
        due.push_back(it->second);
    int activated = 0;
    for (int id : due) {
        auto it = m_timers.find(id);
        if (it == m_timers.end())
            continue; // killed by an earlier handler
        Timer &timer = it->second;
        if (timer.inEvent || timer.dueNs > now)
            continue; // inside its own event (a nested loop), or restarted meanwhile
        m_timerQueue.erase({timer.dueNs, id});
        const qint64 intervalNs = timer.intervalMs * 1000000;
        timer.dueNs += intervalNs;
        if (timer.dueNs < now)
            timer.dueNs = now + intervalNs;
        m_timerQueue.emplace(timer.dueNs, id);
        timer.inEvent = true;
        QObject *object = timer.object;
        QTimerEvent event(id);
        QCoreApplication::sendEvent(object, &event);
        ++activated;
        // The handler may have killed it, or killed it and got the same id anew.
        it = m_timers.find(id);
        if (it != m_timers.end())
            it->second.inEvent = false;
    }
    return activated;
}

} // namespace Echoscope
