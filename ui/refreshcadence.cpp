#include "refreshcadence.h"

#include "eventlogpanel.h"
#include "trafficmonitor.h"

#include <QTimer>

#include <algorithm>

namespace Echoscope {

RefreshCadence::RefreshCadence(TrafficMonitor *monitor, EventLogPanel *log, QObject *parent)
    : QObject(parent), m_monitor(monitor), m_log(log), m_eventPullTimer(new QTimer(this))
{
    // Counters change many times a second, unreadably, and repainting every cell that
    // often is most of what the UI thread does under load (benchmarks/README.md).
    m_monitor->setValueIntervalMs(kValueRefreshMs);
    m_nextEventSequence = m_monitor->eventLog().nextSequence();
    m_eventPullTimer->setSingleShot(true);
    connect(m_eventPullTimer, &QTimer::timeout, this, [this] { pullEvents(true); });
    connect(m_monitor, &TrafficMonitor::snapshotReady, this, &RefreshCadence::apply);
    connect(m_monitor, &TrafficMonitor::eventsAppended, this, [this] { pullEvents(); });
    connect(m_log, &EventLogPanel::pausedChanged, this, [this](bool paused) {
        if (!paused)
            pullEvents(true);
    });
}

void RefreshCadence::apply(const TrafficSnapshot &snapshot)
{
    // One cadence, the monitor's: clients come and go at once, values change when it
    // sampled them (every kValueRefreshMs at most, once a second when idle).
    emit snapshotArrived(snapshot);
    const quint64 watched = m_watched ? m_watched() : 0;
    if (snapshot.valuesSampled || snapshot.listening != m_valuesShowListening ||
        (watched != 0 &&
         std::binary_search(snapshot.changedIds.cbegin(), snapshot.changedIds.cend(), watched))) {
        m_valuesShowListening = snapshot.listening;
        emit valuesDue(snapshot);
    }
    if (snapshot.valuesSampled)
        emit valuesSampled();

    if (m_log->hasBacklog() || snapshot.listening)
        pullEvents();
}

void RefreshCadence::pullEvents(bool force)
{
    if (!force && m_lastEventPull.isValid() && m_lastEventPull.elapsed() < kEventLogRefreshMs) {
        if (!m_eventPullTimer->isActive())
            m_eventPullTimer->start(int(kEventLogRefreshMs - m_lastEventPull.elapsed()));
        return;
    }
    m_eventPullTimer->stop();
    m_lastEventPull.start();
    if (m_log->isPaused()) {
        m_log->setWaitingEvents(qint64(m_monitor->eventLog().nextSequence()) -
                                qint64(m_nextEventSequence));
        return;
    }
    qint64 missed = 0;
    const QList<SharedTrafficEvent> events =
        m_monitor->eventLog().sharedEventsSince(m_nextEventSequence, kMaxEventsPerTick, &missed);
    if (events.isEmpty() && missed == 0)
        return;
    const quint64 firstSequence = m_nextEventSequence + quint64(missed);
    m_nextEventSequence = firstSequence + quint64(events.size());
    m_log->appendEvents(events, missed, firstSequence);
    m_log->setBacklog(qint64(m_monitor->eventLog().nextSequence()) - qint64(m_nextEventSequence));
}

} // namespace Echoscope
