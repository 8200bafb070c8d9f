#include "eventqueue.h"

#include "clock.h"

#include <QCoreApplication>
#include <QEvent>
#include <QThread>
#include <QTimer>

#include <utility>

namespace Echoscope {

namespace {
// The event a scheduled drain is: a plain QEvent posted to the queue, not a queued call
// (whose slot object and QMetaCallEvent cost two allocations and an indirect call per
// drain, and a short connection has two drains).
QEvent::Type drainEventType()
{
    static const auto type = QEvent::Type(QEvent::registerEventType());
    return type;
}
} // namespace

EventQueue::EventQueue(Handler handler, QObject *parent)
    : QObject(parent), m_handler(std::move(handler)), m_followUpTimer(new QTimer(this))
{
    m_followUpTimer->setSingleShot(true);
    m_followUpTimer->setInterval(kFollowUpMs);
    connect(m_followUpTimer, &QTimer::timeout, this, &EventQueue::followUp);
}

bool EventQueue::isSampled(const TrafficEvent &event)
{
    return event.kind == TrafficEvent::Kind::MessageEchoed ||
           event.kind == TrafficEvent::Kind::MessagesSummarised ||
           (event.kind == TrafficEvent::Kind::FaultInjected && event.count > 0);
}

void EventQueue::post(TrafficEvent event)
{
    QMutexLocker locker(&m_mutex);
    if (m_queue.size() >= kMaxQueuedEvents && isSampled(event)) {
        ++m_droppedEvents;
        return;
    }
    enqueueLocked(std::move(event));
}

void EventQueue::enqueueLocked(TrafficEvent event)
{
    const bool sampled = isSampled(event);
    const bool canWait = sampled && m_followUpArmed && m_queue.size() < kMaxQueuedEvents / 2;
    m_sampledQueued = m_sampledQueued || sampled;
    m_queue.append(std::move(event));
    if (!m_drainScheduled && !canWait) {
        m_drainScheduled = true;
        QCoreApplication::postEvent(this, new QEvent(drainEventType()));
    }
}

bool EventQueue::event(QEvent *event)
{
    if (event->type() != drainEventType())
        return QObject::event(event);
    drain();
    return true;
}

// Re-entrant: a nested drain appends what was posted since to the batch being handled
// (m_draining) and goes on where the outer one was.
void EventQueue::drain()
{
    Q_ASSERT(QThread::currentThread() == thread()); // the follow-up timer is this thread's
    qint64 dropped = 0;
    bool sampled = false;
    {
        QMutexLocker locker(&m_mutex);
        sampled = m_sampledQueued || m_droppedEvents > 0;
        m_draining.append(std::move(m_queue));
        m_queue.clear();
        m_sampledQueued = false;
        m_drainScheduled = false;
        dropped = m_droppedEvents;
        m_droppedEvents = 0;
        // Sampled messages are flowing: what is sampled next waits for the follow-up.
        m_followUpArmed = sampled;
    }
    ++m_drains;
    if (sampled)
        m_followUpTimer->start();
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

bool EventQueue::hasFollowUp() const
{
    return m_followUpTimer->isActive();
}

// kFollowUpMs after a drain that handled sampled messages: takes what waited since, or
// ends the follow-ups when nothing did.
void EventQueue::followUp()
{
    {
        QMutexLocker locker(&m_mutex);
        if (m_queue.isEmpty() && m_droppedEvents == 0) {
            m_followUpArmed = false; // the next event wakes this thread again
            return;
        }
    }
    drain();
}

} // namespace Echoscope
