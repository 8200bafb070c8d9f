#pragma once

#include "trafficevent.h"

#include <QList>
#include <QMutex>
#include <QMutexLocker>
#include <QObject>

#include <functional>

namespace Echoscope {

// The engine's events on their way from any thread (workers, the UDP service) to the
// thread that owns the queue, where drain() hands them to the handler in order.
//
// post() is safe from any thread and schedules one drain per batch in the owner's
// thread. Past kMaxQueuedEvents undelivered events, sampled-message events are dropped
// and counted (connects and disconnects never are); the next drain reports the count as
// one Warning event first.
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

    // `handler` runs in this object's thread, from drain() only.
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

private:
    void enqueueLocked(TrafficEvent event); // under m_mutex

    const Handler m_handler;
    QMutex m_mutex;
    QList<TrafficEvent> m_queue;    // posted from any thread, under m_mutex
    QList<TrafficEvent> m_draining; // this thread's: being handled by drain()
    bool m_drainScheduled = false;  // under m_mutex
    qint64 m_droppedEvents = 0;     // under m_mutex
};

} // namespace Echoscope
