#pragma once

#include "trafficevent.h"

#include <QList>
#include <QtGlobal>

#include <vector>

namespace Echoscope {

// The newest events, at most capacity() of them, each numbered when it is appended:
// sequence numbers start at 1, grow by one per event and are never reused, not even
// after clear(). A reader remembers the next sequence it wants and asks for
// eventsSince() it; if the log has overwritten some of them in the meantime, it is
// told how many instead of silently skipping them.
//
// Memory grows with the events held, up to the capacity; once full, each append
// replaces the oldest event. Each event is held shared and never changes, so a reader
// (the dashboard's log) can keep it without a copy of its own (sharedEventsSince()).
// Not thread-safe: one thread owns it.
class EventLog
{
public:
    static constexpr int kDefaultCapacity = 10000;

    explicit EventLog(int capacity = kDefaultCapacity);

    // Returns the new event's sequence number.
    quint64 append(const TrafficEvent &event);
    // Removes every event; sequence numbers keep counting.
    void clear();

    int capacity() const { return m_capacity; }
    // Keeps the newest events that fit; a capacity below 1 counts as 1.
    void setCapacity(int capacity);

    int size() const { return int(m_events.size()); }
    bool isEmpty() const { return m_events.empty(); }
    // The oldest event still held; equal to nextSequence() when the log is empty.
    quint64 firstSequence() const { return m_firstSequence; }
    // The sequence the next appended event will get.
    quint64 nextSequence() const { return m_nextSequence; }
    bool contains(quint64 sequence) const
    {
        return sequence >= m_firstSequence && sequence < m_nextSequence;
    }

    // The event with this sequence, or nullptr if it is not held (overwritten,
    // cleared or not yet appended). Valid until the log next changes.
    const TrafficEvent *at(quint64 sequence) const;
    // The held events with sequence >= `sequence`, oldest first, at most maxCount of
    // them (-1: all). If missed is given, it is set to how many of the requested
    // events are no longer held (overwritten or cleared): the reader fell behind.
    // The first returned event has sequence `sequence + *missed`.
    QList<TrafficEvent> eventsSince(quint64 sequence, int maxCount = -1,
                                    qint64 *missed = nullptr) const;
    // The same, the events shared rather than copied.
    QList<SharedTrafficEvent> sharedEventsSince(quint64 sequence, int maxCount = -1,
                                                qint64 *missed = nullptr) const;

private:
    size_t indexOf(quint64 sequence) const;

    int m_capacity;
    // A ring once full: the oldest event is at m_head; m_head stays 0 until then.
    std::vector<SharedTrafficEvent> m_events;
    size_t m_head = 0;
    quint64 m_firstSequence = 1;
    quint64 m_nextSequence = 1;
};

} // namespace Echoscope
