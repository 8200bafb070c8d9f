#include "trafficmonitor.h"

#include <QDateTime>
#include <QTimer>

#include <algorithm>
#include <limits>

namespace Echoscope {

namespace {
// A new rate sample at most this often: about 25 per window, whatever the tick rate.
constexpr qint64 kSampleSpacingMs = TrafficMonitor::kRateWindowMs / 25;
} // namespace

TrafficMonitor::RateWindow::Rates TrafficMonitor::RateWindow::update(qint64 nowMs,
                                                                     const Values &values)
{
    if (m_count > 0) {
        // Counters that went back (the server restarted) start a new history.
        const Sample &newest = sample(m_count - 1);
        bool wentBack = nowMs < newest.timeMs;
        for (int i = 0; i < CounterCount; ++i)
            wentBack = wentBack || values[size_t(i)] < newest.values[size_t(i)];
        if (wentBack)
            reset();
    }
    if (m_count == 0 || nowMs - sample(m_count - 1).timeMs >= kSampleSpacingMs) {
        if (m_count == kSlots) { // only if ticking much faster than kSampleSpacingMs
            m_first = (m_first + 1) % kSlots;
            --m_count;
        }
        m_samples[size_t((m_first + m_count) % kSlots)] = Sample{nowMs, values};
        ++m_count;
    }
    // Keep the newest sample that is at least a window old as the base; drop older ones.
    while (m_count > 1 && sample(1).timeMs <= nowMs - kRateWindowMs) {
        m_first = (m_first + 1) % kSlots;
        --m_count;
    }
    Rates rates{};
    const Sample &base = sample(0);
    const qint64 elapsedMs = nowMs - base.timeMs;
    if (elapsedMs > 0) {
        for (int i = 0; i < CounterCount; ++i)
            rates[size_t(i)] =
                double(values[size_t(i)] - base.values[size_t(i)]) * 1000.0 / double(elapsedMs);
    }
    return rates;
}

TrafficMonitor::TrafficMonitor(EchoServer *server, QObject *parent)
    : QObject(parent), m_server(server), m_timer(new QTimer(this))
{
    Q_ASSERT(server);
    qRegisterMetaType<Echoscope::ClientView>();
    qRegisterMetaType<Echoscope::TrafficSnapshot>();
    m_clock.start();
    m_timer->setInterval(kDefaultSnapshotIntervalMs);
    connect(m_timer, &QTimer::timeout, this, &TrafficMonitor::tick);

    // All of these are emitted in the server's thread, which is this one. The
    // per-transfer signals are left alone on purpose: the counters are read instead.
    connect(server, &EchoServer::started, this, &TrafficMonitor::serverStarted);
    connect(server, &EchoServer::stopped, this, &TrafficMonitor::serverStopped);
    connect(server, &EchoServer::clientConnected, this,
            [this](quint64 clientId, const QHostAddress &, quint16) { track(clientId); });
    connect(server, &EchoServer::clientDisconnected, this, &TrafficMonitor::clientDisconnected);
    connect(server, &EchoServer::eventOccurred, this, &TrafficMonitor::eventOccurred);

    if (server->isListening()) {
        const QList<quint64> ids = server->clientIds();
        for (quint64 id : ids)
            track(id);
        updateTicking();
    }
}

TrafficMonitor::~TrafficMonitor() = default;

int TrafficMonitor::snapshotIntervalMs() const
{
    return m_timer->interval();
}

void TrafficMonitor::setSnapshotIntervalMs(int intervalMs)
{
    m_timer->setInterval(qMax(1, intervalMs));
}

void TrafficMonitor::setMaxRetainedDisconnected(int count)
{
    m_maxRetainedDisconnected = qMax(0, count);
}

void TrafficMonitor::setRetainDisconnectedMs(int retainMs)
{
    m_retainDisconnectedMs = qMax(0, retainMs);
}

void TrafficMonitor::setEventLogCapacity(int capacity)
{
    m_eventLog.setCapacity(capacity);
}

SizeHistogram TrafficMonitor::clientHistogram(quint64 clientId) const
{
    const auto it = m_clients.find(clientId);
    return it == m_clients.end() ? SizeHistogram() : it->second.view.counters.histogram;
}

std::shared_ptr<const ClientStats> TrafficMonitor::clientStats(quint64 clientId) const
{
    const auto it = m_clients.find(clientId);
    return it == m_clients.end() ? nullptr : it->second.stats;
}

bool TrafficMonitor::isTicking() const
{
    return m_timer->isActive();
}

void TrafficMonitor::serverStarted()
{
    m_totalRates.reset(); // the server's totals start again from zero
    updateTicking();
}

void TrafficMonitor::serverStopped()
{
    refresh(); // the final counters, listening == false
}

void TrafficMonitor::track(quint64 clientId)
{
    std::shared_ptr<const ClientStats> stats = m_server ? m_server->clientStats(clientId) : nullptr;
    if (!stats)
        return;
    const auto [it, inserted] = m_clients.try_emplace(clientId);
    if (!inserted)
        return;
    TrackedClient &client = it->second;
    client.stats = std::move(stats);
    client.view.counters = client.stats->snapshot();
    // Ids grow, but a UDP peer's id is taken in its thread before it is reported here,
    // so the list is sorted when published.
    m_pendingAdded.append(clientId);
    updateTicking();
}

void TrafficMonitor::clientDisconnected(quint64 clientId, const DisconnectInfo &info)
{
    const auto it = m_clients.find(clientId);
    if (it == m_clients.end() || !it->second.view.connected)
        return;
    TrackedClient &client = it->second;
    ClientView &view = client.view;
    view.counters = client.stats->snapshot(); // final: the session is closed
    view.bytesInPerSecond = 0;
    view.bytesOutPerSecond = 0;
    view.messagesInPerSecond = 0;
    view.connected = false;
    view.disconnectedAtMs = QDateTime::currentMSecsSinceEpoch();
    view.disconnect = info;
    client.disconnectedAtMono = m_clock.elapsed();
    ++m_retainedCount;
    m_retainedOrder.push_back(clientId);
    updateTicking();
}

void TrafficMonitor::eventOccurred(const TrafficEvent &event)
{
    m_eventLog.append(event);
    if (event.clientId != 0 && (event.kind == TrafficEvent::Kind::MessageEchoed ||
                                event.kind == TrafficEvent::Kind::MessagesSummarised)) {
        const auto it = m_clients.find(event.clientId);
        if (it != m_clients.end())
            ++it->second.view.messageEvents;
    }
    if (!m_timer->isActive())
        updateTicking(); // one tick announces it
}

void TrafficMonitor::refresh()
{
    tick();
}

void TrafficMonitor::tick()
{
    const qint64 nowMono = m_clock.elapsed();
    const bool listening = m_server && m_server->isListening();

    TrafficSnapshot snapshot;
    snapshot.timestampMs = QDateTime::currentMSecsSinceEpoch();
    snapshot.listening = listening;
    snapshot.totals = m_server ? m_server->totals() : m_snapshot.totals;
    if (listening) {
        snapshot.address = m_server->serverAddress();
        snapshot.tls = m_server->isTls();
        snapshot.port = m_server->serverPort();
        snapshot.udpPort = m_server->udpPort();
        snapshot.webSocketPort = m_server->webSocketPort();
        if (snapshot.webSocketPort != 0)
            snapshot.webSocketScheme = m_server->webSocketScheme();
        snapshot.uptimeMs = qMax<qint64>(0, snapshot.timestampMs - m_server->startedAtMs());
        const ServerTotals &t = snapshot.totals;
        const RateWindow::Rates rates =
            m_totalRates.update(nowMono, {t.bytesIn, t.bytesOut, t.messagesIn, t.messagesOut});
        snapshot.bytesInPerSecond = rates[RateWindow::BytesIn];
        snapshot.bytesOutPerSecond = rates[RateWindow::BytesOut];
        snapshot.messagesInPerSecond = rates[RateWindow::MessagesIn];
        snapshot.messagesOutPerSecond = rates[RateWindow::MessagesOut];
    } else {
        m_totalRates.reset();
    }

    // Past the count limit the oldest gone clients leave first, whatever their age.
    while (m_retainedCount > m_maxRetainedDisconnected && !m_retainedOrder.empty()) {
        const auto it = m_clients.find(m_retainedOrder.front());
        m_retainedOrder.pop_front();
        if (it != m_clients.end() && !it->second.view.connected &&
            it->second.disconnectedAtMono != kExpired) {
            it->second.disconnectedAtMono = kExpired;
            --m_retainedCount; // counted down here; the loop below only erases it
        }
    }
    while (!m_retainedOrder.empty() && m_clients.find(m_retainedOrder.front()) == m_clients.end())
        m_retainedOrder.pop_front();

    snapshot.clients.reserve(qsizetype(m_clients.size()));
    for (auto it = m_clients.begin(); it != m_clients.end();) {
        const quint64 id = it->first;
        TrackedClient &client = it->second;
        ClientView &view = client.view;
        if (view.connected) {
            view.counters = client.stats->snapshot();
            const ClientSnapshot &c = view.counters;
            const RateWindow::Rates rates =
                client.rates.update(nowMono, {c.bytesIn, c.bytesOut, c.messagesIn, c.messagesOut});
            view.bytesInPerSecond = rates[RateWindow::BytesIn];
            view.bytesOutPerSecond = rates[RateWindow::BytesOut];
            view.messagesInPerSecond = rates[RateWindow::MessagesIn];
        } else if (client.disconnectedAtMono == kExpired ||
                   nowMono - client.disconnectedAtMono >= m_retainDisconnectedMs) {
            if (client.published)
                snapshot.removedIds.append(id);
            else
                m_pendingAdded.removeOne(id); // came and went unseen: neither added nor removed
            if (client.disconnectedAtMono != kExpired)
                --m_retainedCount;
            it = m_clients.erase(it);
            continue;
        }
        client.published = true;
        snapshot.clients.append(view);
        view.messageEvents = 0;
        ++it;
    }
    std::sort(m_pendingAdded.begin(), m_pendingAdded.end());
    snapshot.addedIds.swap(m_pendingAdded);

    m_snapshot = snapshot; // shared, not copied; receivers may call refresh() again
    emit snapshotReady(snapshot);

    const quint64 nextSequence = m_eventLog.nextSequence();
    if (nextSequence > m_publishedSequence) {
        const quint64 first = m_publishedSequence;
        const quint64 count = nextSequence - first;
        m_publishedSequence = nextSequence;
        emit eventsAppended(first, int(qMin<quint64>(count, std::numeric_limits<int>::max())));
    }
    updateTicking();
}

bool TrafficMonitor::needsTicking() const
{
    return (m_server && m_server->isListening()) || m_retainedCount > 0 ||
           !m_pendingAdded.isEmpty() || m_eventLog.nextSequence() > m_publishedSequence;
}

void TrafficMonitor::updateTicking()
{
    const bool needed = needsTicking();
    if (needed && !m_timer->isActive())
        m_timer->start();
    else if (!needed && m_timer->isActive())
        m_timer->stop();
}

} // namespace Echoscope
