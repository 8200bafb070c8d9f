#pragma once

#include "trafficevent.h"

#include <QList>
#include <QMutex>
#include <QMutexLocker>
#include <QObject>

#include <functional>

QT_BEGIN_NAMESPACE
class QTimer;
QT_END_NAMESPACE

namespace Echoscope {

// The engine's events on their way from any thread (workers, the UDP service) to the
// thread that owns the queue, where drain() hands them to the handler in order.
//
// post() is safe from any thread and schedules one drain per batch in the owner's
// thread. Sampled-message events (isSampled()) are batched further: a drain that handled
// some arms a follow-up drain kFollowUpMs later, and until then posting one does not wake
// the owner's thread. So a busy server wakes that thread for its sampled messages at most
// 1000 / kFollowUpMs times a second, not once per message sampled, and they reach the
// handler up to kFollowUpMs later (the dashboard's log repaints less often anyway; headless
// --verbose lines and the control API's event stream see the delay). Every other event (a
// connect, a disconnect, an error) schedules a drain at once and takes what waits along, in
// order; so does a sampled one once half of kMaxQueuedEvents wait. A follow-up that finds
// nothing ends them: a queue with no sampled messages has no timer.
//
// Past kMaxQueuedEvents undelivered events, sampled-message events are dropped and counted
// (connects and disconnects never are); the next drain reports the count as one Warning
// event first.
//
// drain() is re-entrant on purpose: a handler that ends up draining again (a receiver
// that calls EchoServer::stop(), which drains) goes on with the same batch where the
// outer drain was, so no event is lost or reordered, and the outer drain then finds the
// batch empty.
class EventQueue : public QObject
{
    Q_OBJECT

public:
    using Handler = std::function<void(const TrafficEvent &event)>;

    // Past this many undelivered events, sampled-message events are dropped (and counted).
    static constexpr qsizetype kMaxQueuedEvents = 50000;
    // How long sampled-message events may wait for the follow-up drain.
    static constexpr int kFollowUpMs = 50;

    // The events that may be dropped past kMaxQueuedEvents and may wait for the follow-up:
    // the sampled messages, their summaries, and the per-message fault events.
    static bool isSampled(const TrafficEvent &event);

    // `handler` runs in this object's thread, from drain() only; drain() is called there too.
    explicit EventQueue(Handler handler, QObject *parent = nullptr);

    // Any thread.
    void post(TrafficEvent event);
    // Any thread: runs `action` and queues `event` under one lock, so that what the action
    // stores is there as soon as the event can be drained, and the event is queued before
    // any later one from the same thread. The event is never dropped.
    template<typename Action>
    void post(TrafficEvent event, Action &&action)
    {
        QMutexLocker locker(&m_mutex);
        action();
        enqueueLocked(std::move(event));
    }
    // Any thread: runs `action` under the lock a post() takes (to read what an action
    // stored).
    template<typename Action>
    auto withLock(Action &&action)
    {
        QMutexLocker locker(&m_mutex);
        return action();
    }

    // This object's thread: hands every queued event to the handler, in order.
    void drain();
    // Drains so far (each the owner's thread woken, or a nested drain); for tests.
    quint64 drainCount() const { return m_drains; }
    // A follow-up drain is due (only after a drain that handled sampled messages).
    bool hasFollowUp() const;

protected:
    bool event(QEvent *event) override; // the scheduled drain

private:
    void enqueueLocked(TrafficEvent event); // under m_mutex
    void followUp();

    const Handler m_handler;
    QMutex m_mutex;
    QList<TrafficEvent> m_queue;    // posted from any thread, under m_mutex
    QList<TrafficEvent> m_draining; // this thread's: being handled by drain()
    bool m_drainScheduled = false;  // under m_mutex
    // Under m_mutex: the last drain handled sampled messages, and its follow-up has not
    // yet found the queue empty; sampled messages posted meanwhile wait for it.
    bool m_followUpArmed = false;
    bool m_sampledQueued = false; // under m_mutex: m_queue holds a sampled event
    QTimer *m_followUpTimer = nullptr;
    quint64 m_drains = 0;
    qint64 m_droppedEvents = 0; // under m_mutex
};

} // namespace Echoscope
