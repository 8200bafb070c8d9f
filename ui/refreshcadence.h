#pragma once

#include <QElapsedTimer>
#include <QObject>

#include <functional>

QT_BEGIN_NAMESPACE
class QTimer;
QT_END_NAMESPACE

namespace Echoscope {

class EventLogPanel;
class TrafficMonitor;
struct TrafficSnapshot;

// When the dashboard shows what: it takes the monitor's snapshots and events and says
// which of them the panes redraw now, so that a busy server costs the UI thread a bounded
// amount of work per frame (benchmarks/README.md):
// - every snapshot goes to the client table at once (rows added, gone, disconnecting);
// - the numbers a person reads (the status panel, the inspector, the histograms, the chart)
//   only when the monitor sampled them (every kValueRefreshMs at most, once a second when
//   idle), when the server started or stopped, or when the watched client (the inspected
//   one) changed;
// - new events move into the echo log at most every kEventLogRefreshMs, kMaxEventsPerTick
//   at a time (the rest waits, or is counted as missed if the monitor's log overwrote it).
class RefreshCadence : public QObject
{
    Q_OBJECT

public:
    // The numbers a person reads are redrawn 4 times a second: readable, and a fifth of the
    // repaints of following every snapshot. (Wireshark's live capture refreshes twice a
    // second.) What changes the picture rather than a number still shows at the next
    // snapshot: new, gone and disconnecting clients, the server starting or stopping, the
    // inspected client disconnecting.
    static constexpr int kValueRefreshMs = 250;
    // The echo log takes in new events at most 5 times a second: a lone event still shows
    // at the next snapshot, a stream of them scrolls the view (a repaint of every visible
    // row) 5 times a second instead of 20.
    static constexpr int kEventLogRefreshMs = 200;
    // Events moved from the monitor's log into the view per pull.
    static constexpr int kMaxEventsPerTick = 2000;

    // Sets the monitor's value interval; events from now on go to log.
    RefreshCadence(TrafficMonitor *monitor, EventLogPanel *log, QObject *parent = nullptr);

    // The client whose every change is shown at once (0: none).
    void setWatchedClient(std::function<quint64()> watched) { m_watched = std::move(watched); }

    // Passes a snapshot on as the signals below say (also the first one, by hand).
    void apply(const TrafficSnapshot &snapshot);
    // Moves new events into the log view; at most every kEventLogRefreshMs unless forced
    // (a later pull is scheduled instead).
    void pullEvents(bool force = false);

signals:
    // Every snapshot, for the client table.
    void snapshotArrived(const TrafficSnapshot &snapshot);
    // The numbers to redraw.
    void valuesDue(const TrafficSnapshot &snapshot);
    // The monitor sampled the values: the durations of the rows in sight moved on.
    void valuesSampled();

private:
    TrafficMonitor *m_monitor;
    EventLogPanel *m_log;
    std::function<quint64()> m_watched;
    bool m_valuesShowListening = false;
    quint64 m_nextEventSequence = 1;
    QElapsedTimer m_lastEventPull;
    QTimer *m_eventPullTimer;
};

} // namespace Echoscope
