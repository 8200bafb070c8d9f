#include "eventlog.h"

#include <algorithm>

namespace Echoscope {

EventLog::EventLog(int capacity) : m_capacity(qMax(1, capacity)) {}

quint64 EventLog::append(const TrafficEvent &event)
{
    if (m_events.size() < size_t(m_capacity)) {
        if (m_events.size() == m_events.capacity()) // grow, but never past the capacity
            m_events.reserve(
                std::min(size_t(m_capacity), std::max<size_t>(64, 2 * m_events.size())));
        m_events.push_back(std::make_shared<const TrafficEvent>(event));
    } else {
        m_events[m_head] = std::make_shared<const TrafficEvent>(event);
        m_head = (m_head + 1) % m_events.size();
        ++m_firstSequence;
    }
    return m_nextSequence++;
}

void EventLog::clear()
{
    m_events.clear();
    m_head = 0;
    m_firstSequence = m_nextSequence;
}

void EventLog::setCapacity(int capacity)
{
    capacity = qMax(1, capacity);
    if (capacity == m_capacity)
        return;
    // Unroll the ring, oldest first, keeping the newest events that fit.
    const size_t keep = std::min(m_events.size(), size_t(capacity));
    std::vector<SharedTrafficEvent> events;
    events.reserve(keep);
    for (quint64 sequence = m_nextSequence - keep; sequence < m_nextSequence; ++sequence)
        events.push_back(std::move(m_events[indexOf(sequence)]));
    m_events.swap(events);
    m_head = 0;
    m_firstSequence = m_nextSequence - keep;
    m_capacity = capacity;
}

size_t EventLog::indexOf(quint64 sequence) const
{
    return (m_head + size_t(sequence - m_firstSequence)) % m_events.size();
}

const TrafficEvent *EventLog::at(quint64 sequence) const
{
    return contains(sequence) ? m_events[indexOf(sequence)].get() : nullptr;
}

QList<TrafficEvent> EventLog::eventsSince(quint64 sequence, int maxCount, qint64 *missed) const
{
    const QList<SharedTrafficEvent> shared = sharedEventsSince(sequence, maxCount, missed);
    QList<TrafficEvent> events;
    events.reserve(shared.size());
    for (const SharedTrafficEvent &event : shared)
        events.append(*event);
    return events;
}

QList<SharedTrafficEvent> EventLog::sharedEventsSince(quint64 sequence, int maxCount,
                                                      qint64 *missed) const
{
    sequence = qMax<quint64>(sequence, 1); // there is no event 0
    const quint64 first = qMax(sequence, m_firstSequence);
    if (missed)
        *missed = qint64(first - sequence); // 0 unless some were overwritten or cleared
    QList<SharedTrafficEvent> events;
    if (first >= m_nextSequence || maxCount == 0)
        return events;
    quint64 count = m_nextSequence - first;
    if (maxCount > 0)
        count = qMin<quint64>(count, quint64(maxCount));
    events.reserve(qsizetype(count));
    for (quint64 s = first; s < first + count; ++s)
        events.append(m_events[indexOf(s)]);
    return events;
}

} // namespace Echoscope
