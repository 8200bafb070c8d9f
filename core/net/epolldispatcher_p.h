#pragma once

// The Linux worker dispatcher's class, shared by workerdispatcher_epoll.cpp and
// socketpoller_epoll.cpp only (see workerdispatcher.h).

#include <QAbstractEventDispatcher>
#include <QAtomicInt>

#include <atomic>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

QT_BEGIN_NAMESPACE
class QSocketNotifier;
QT_END_NAMESPACE

namespace Echoscope {

// Something in the dispatcher's epoll set; epoll_event.data.ptr points to it.
class EpollEntry
{
public:
    virtual ~EpollEntry() = default;
    // Called in the dispatcher's turn with the epoll events of this entry.
    virtual void epollReady(quint32 events) = 0;
    bool retired = false; // out of the set; no more epollReady()
};

class EpollDispatcher final : public QAbstractEventDispatcher
{
    Q_OBJECT

public:
    EpollDispatcher();
    ~EpollDispatcher() override;

    bool isValid() const { return m_epoll >= 0 && m_wakeFd >= 0; }
    // The calling thread's dispatcher if it is one of these, else nullptr.
    static EpollDispatcher *current();

    // The set itself, for entries of other classes (SocketPoller's watches). Errors are
    // reported by return value (errno set), as epoll_ctl().
    bool addEntry(int descriptor, quint32 events, EpollEntry *entry);
    bool modifyEntry(int descriptor, quint32 events, EpollEntry *entry);
    void removeEntry(int descriptor);
    // Takes over an entry already out of the set: deleted now, or when the current turn
    // ends if one runs (its readiness may still be in the turn's list).
    void retire(EpollEntry *entry);
    // True while the entries of an epoll_pwait2() are being handled (a handler may run a
    // nested loop: then the outer turn is still on).
    bool inTurn() const { return m_turnDepth > 0; }
    // See WorkerDispatcher::wakeUpWrites().
    quint64 wakeUpWrites() const { return m_wakeUpWrites.load(std::memory_order_relaxed); }

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;
    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;
    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType,
                       QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;
    void wakeUp() override;
    void interrupt() override;

private:
    class NotifierEntry;
    class WakeEntry;
    struct Timer
    {
        QObject *object = nullptr;
        qint64 intervalMs = 0;
        Qt::TimerType type = Qt::CoarseTimer;
        qint64 dueNs = 0; // steady clock
        bool inEvent = false;
    };

    void notifierReady(NotifierEntry *entry, quint32 events);
    void updateNotifierEntry(NotifierEntry *entry, bool isNew);
    int activateSocketNotifiers();
    int activateTimers();
    void drainWakeUps();
    int m_epoll = -1;
    int m_wakeFd = -1;
    WakeEntry *m_wakeEntry = nullptr;
    void writeWakeUp();

    QAtomicInt m_wakeUpPending;
    QAtomicInt m_interrupt;
    // The thread that runs processEvents(), once it has: an event it posts to itself needs
    // no eventfd write, only a wait that does not block (m_postedBySelf, its own).
    std::atomic<Qt::HANDLE> m_ownerThread{nullptr};
    bool m_postedBySelf = false;
    std::atomic<quint64> m_wakeUpWrites{0};
    int m_turnDepth = 0;
    std::vector<EpollEntry *> m_retired;

    std::unordered_map<int, NotifierEntry *> m_notifiers; // by descriptor
    std::vector<QSocketNotifier *> m_pendingNotifiers;    // this turn's, nullptr if gone

    std::unordered_map<int, Timer> m_timers;       // by id
    std::set<std::pair<qint64, int>> m_timerQueue; // (due, id), earliest first
};

} // namespace Echoscope
