#include "eventqueue.h"

#include "clock.h"

#include <utility>

namespace Echoscope {

EventQueue::EventQueue(Handler handler, QObject *parent)
    : QObject(parent), m_handler(std::move(handler))
{}

void EventQueue::post(TrafficEvent event)
{
    QMutexLocker locker(&m_mutex);
    if (m_queue.size() >= kMaxQueuedEvents &&
        (event.kind == TrafficEvent::Kind::MessageEchoed ||
         event.kind == TrafficEvent::Kind::MessagesSummarised ||
         (event.kind == TrafficEvent::Kind::FaultInjected && event.count > 0))) {
        ++m_droppedEvents;
        return;
    }
    enqueueLocked(std::move(event));
}

void EventQueue::enqueueLocked(TrafficEvent event)
{
    m_queue.append(std::move(event));
    if (!m_drainScheduled) {
        m_drainScheduled = true;
        QMetaObject::invokeMethod(this, &EventQueue::drain, Qt::QueuedConnection);
    }
}

// Re-entrant: a nested drain appends what was posted since to the batch being handled
// (m_draining) and goes on where the outer one was.
void EventQueue::drain()
{
    qint64 dropped = 0;
    {
        QMutexLocker locker(&m_mutex);
        m_draining.append(std::move(m_queue));
        m_queue.clear();
        m_drainScheduled = false;
        dropped = m_droppedEvents;
        m_droppedEvents = 0;
    }
    if (dropped > 0) {
        TrafficEvent warning;
        warning.kind = TrafficEvent::Kind::Warning;
        warning.timestampMs = Clock::wallMs();
        warning.count = dropped;
        warning.text = QStringLiteral("%1 message events were dropped: the event consumer fell "
                                      "behind (counters are exact)")
                           .arg(dropped);
        m_handler(warning);
    }
    while (!m_draining.isEmpty())
        m_handler(m_draining.takeFirst());
}

} // namespace Echoscope
