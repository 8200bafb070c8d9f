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

void TrafficMonitor::RateWindow::push(const Sample &sample)
{
    if (!m_ring) {
        if (m_count == 0) {
            m_single = sample;
            m_count = 1;
            return;
        }
        m_ring = std::make_unique<std::array<Sample, kSlots>>();
        (*m_ring)[0] = m_single;
        m_first = 0;
    }
    if (m_count == kSlots) { // only if ticking much faster than kSampleSpacingMs
        m_first = (m_first + 1) % kSlots;
        --m_count;
    }
    (*m_ring)[size_t((m_first + m_count) % kSlots)] = sample;
    ++m_count;
}

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
        push(Sample{nowMs, values});
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

namespace {

// What a view shows that can move without the client reporting a change to its feed
// (a store the feed's flag missed by a hair is caught by the next sample).
bool sameCounters(const ClientSnapshot &a, const ClientSnapshot &b)
{
    return a.bytesIn == b.bytesIn && a.bytesOut == b.bytesOut && a.messagesIn == b.messagesIn &&
           a.messagesOut == b.messagesOut && a.unsentBytes == b.unsentBytes &&
           a.peakUnsentBytes == b.peakUnsentBytes && a.state == b.state &&
           a.lastActivityMs == b.lastActivityMs && a.webSocketPings == b.webSocketPings &&
           a.webSocketResource == b.webSocketResource && a.tlsProtocol == b.tlsProtocol &&
           a.faultsPerClient == b.faultsPerClient && a.faults == b.faults;
}

bool ratesZero(const ClientView &view)
{
    return view.bytesInPerSecond == 0 && view.bytesOutPerSecond == 0 &&
           view.messagesInPerSecond == 0;
}

void mergeMinMax(qint64 *minimum, qint64 *maximum, qint64 otherMin, qint64 otherMax)
{
    if (otherMin >= 0 && (*minimum < 0 || otherMin < *minimum))
        *minimum = otherMin;
    *maximum = qMax(*maximum, otherMax);
}

} // namespace

ClientViewList::ClientViewList(const QList<ClientView> &views)
{
    m_views.reserve(views.size());
    for (const ClientView &view : views)
        append(view);
}

ClientViewList::ClientViewList(std::initializer_list<ClientView> views)
{
    m_views.reserve(qsizetype(views.size()));
    for (const ClientView &view : views)
        append(view);
}

qsizetype ClientViewList::indexOf(quint64 clientId) const
{
    const auto it =
        std::lower_bound(m_views.cbegin(), m_views.cend(), clientId,
                         [](const Pointer &view, quint64 id) { return view->counters.id < id; });
    return it != m_views.cend() && (*it)->counters.id == clientId ? it - m_views.cbegin() : -1;
}

ClientViewList::Pointer ClientViewList::find(quint64 clientId) const
{
    const qsizetype i = indexOf(clientId);
    return i >= 0 ? m_views.at(i) : nullptr;
}

void ClientViewList::append(const ClientView &view)
{
    m_views.append(std::make_shared<const ClientView>(view));
}

TrafficMonitor::TrafficMonitor(EchoServer *server, QObject *parent)
    : QObject(parent), m_server(server), m_feed(server->changeFeed()), m_timer(new QTimer(this))
{
    Q_ASSERT(server);
    qRegisterMetaType<Echoscope::ClientView>();
    qRegisterMetaType<Echoscope::TrafficSnapshot>();
    m_clock.start();
    m_timer->setSingleShot(true);
    connect(m_timer, &QTimer::timeout, this, [this] { tick(false); });

    // All of these are emitted in the server's thread, which is this one. The
    // per-transfer signals are left alone on purpose: the counters are read instead.
    connect(server, &EchoServer::started, this, &TrafficMonitor::serverStarted);
    connect(server, &EchoServer::stopped, this, &TrafficMonitor::serverStopped);
    connect(server, &EchoServer::clientConnected, this,
            [this](quint64 clientId, const QHostAddress &, quint16) { track(clientId); });
    connect(server, &EchoServer::clientDisconnected, this, &TrafficMonitor::clientDisconnected);
    connect(server, &EchoServer::eventOccurred, this, &TrafficMonitor::eventOccurred);

    // Called in a worker's thread, at most once between two samples: a posted call.
    m_feed->setWake([this] {
        QMetaObject::invokeMethod(this, &TrafficMonitor::changesWaiting, Qt::QueuedConnection);
    });
    m_structureChanged = server->isListening(); // the first snapshot shows it listening

    m_feed->take(); // what changed before is read whole below
    if (server->isListening()) {
        const QList<quint64> ids = server->clientIds();
        for (quint64 id : ids)
            track(id);
    }
    schedule();
}

TrafficMonitor::~TrafficMonitor()
{
    m_feed->setWake(nullptr); // no more posts; those already posted die with this object
}

void TrafficMonitor::setSnapshotIntervalMs(int intervalMs)
{
    m_snapshotIntervalMs = qMax(1, intervalMs);
    schedule();
}

void TrafficMonitor::setValueIntervalMs(int intervalMs)
{
    m_valueIntervalMs = qMax(0, intervalMs);
    schedule();
}

void TrafficMonitor::setIdleIntervalMs(int intervalMs)
{
    m_idleIntervalMs = qMax(0, intervalMs);
    schedule();
}

void TrafficMonitor::setMaxRetainedDisconnected(int count)
{
    m_maxRetainedDisconnected = qMax(0, count);
    schedule();
}

void TrafficMonitor::setRetainDisconnectedMs(int retainMs)
{
    m_retainDisconnectedMs = qMax(0, retainMs);
    schedule();
}

void TrafficMonitor::setEventLogCapacity(int capacity)
{
    m_eventLog.setCapacity(capacity);
}

ClientViewList::Pointer TrafficMonitor::clientView(quint64 clientId) const
{
    return m_snapshot.clients.find(clientId);
}

SizeHistogram TrafficMonitor::clientHistogram(quint64 clientId) const
{
    const ClientViewList::Pointer view = clientView(clientId);
    return view ? view->counters.histogram : SizeHistogram();
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
    // The server's totals start again from zero, and so do the live sums.
    m_liveSums = ServerTotals();
    m_minMessageBytes = -1;
    m_maxMessageBytes = -1;
    m_totalRates.reset();
    m_structureChanged = true;
    schedule();
}

void TrafficMonitor::serverStopped()
{
    refresh(); // the final counters, listening == false
}

void TrafficMonitor::addToLiveSums(const ClientSnapshot &now, const ClientSnapshot &before)
{
    m_liveSums.bytesIn += now.bytesIn - before.bytesIn;
    m_liveSums.bytesOut += now.bytesOut - before.bytesOut;
    m_liveSums.messagesIn += now.messagesIn - before.messagesIn;
    m_liveSums.messagesOut += now.messagesOut - before.messagesOut;
    m_liveSums.messageBytesIn += now.messageBytesIn - before.messageBytesIn;
    for (int i = 0; i < SizeHistogram::kBuckets; ++i)
        m_liveSums.histogram.counts[size_t(i)] +=
            now.histogram.counts[size_t(i)] - before.histogram.counts[size_t(i)];
    mergeMinMax(&m_minMessageBytes, &m_maxMessageBytes, now.minMessageBytes, now.maxMessageBytes);
}

ServerTotals TrafficMonitor::currentTotals() const
{
    if (!m_server)
        return m_snapshot.totals;
    ServerTotals totals = m_server->retiredTotals(); // O(1)
    totals.bytesIn += m_liveSums.bytesIn;
    totals.bytesOut += m_liveSums.bytesOut;
    totals.messagesIn += m_liveSums.messagesIn;
    totals.messagesOut += m_liveSums.messagesOut;
    totals.messageBytesIn += m_liveSums.messageBytesIn;
    totals.histogram.add(m_liveSums.histogram);
    mergeMinMax(&totals.minMessageBytes, &totals.maxMessageBytes, m_minMessageBytes,
                m_maxMessageBytes);
    return totals;
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
    client.stats->takeChanged(); // from now on, its next change reaches the feed
    auto view = std::make_shared<ClientView>();
    view->counters = client.stats->snapshot();
    addToLiveSums(view->counters, ClientSnapshot());
    client.view = std::move(view);
    ++m_viewsBuilt;
    // Ids grow, but a UDP peer's id is taken in its thread before it is reported here,
    // so the list is sorted when published.
    m_pendingAdded.append(clientId);
    m_watched.push_back(clientId); // its rates, from the next sample on
    schedule();
}

void TrafficMonitor::clientDisconnected(quint64 clientId, const DisconnectInfo &info)
{
    const auto it = m_clients.find(clientId);
    if (it == m_clients.end() || !it->second.view->connected)
        return;
    TrackedClient &client = it->second;
    auto view = std::make_shared<ClientView>(*client.view);
    view->counters = client.stats->snapshot(); // final: the session is closed
    // Its counters are the server's retired totals now, no longer a live sum.
    mergeMinMax(&m_minMessageBytes, &m_maxMessageBytes, view->counters.minMessageBytes,
                view->counters.maxMessageBytes);
    ClientSnapshot none;
    addToLiveSums(none, client.view->counters);
    view->bytesInPerSecond = 0;
    view->bytesOutPerSecond = 0;
    view->messagesInPerSecond = 0;
    view->connected = false;
    view->disconnectedAtMs = QDateTime::currentMSecsSinceEpoch();
    view->disconnect = info;
    view->messageEvents = client.messageEvents;
    client.messageEvents = 0;
    client.view = std::move(view);
    ++m_viewsBuilt;
    client.disconnectedAtMono = m_clock.elapsed();
    ++m_retainedCount;
    m_retainedOrder.push_back(clientId);
    if (client.published)
        m_pendingChanged.push_back(clientId);
    m_structureChanged = true;
    schedule();
}

void TrafficMonitor::eventOccurred(const TrafficEvent &event)
{
    m_eventLog.append(event);
    if (event.clientId != 0 && (event.kind == TrafficEvent::Kind::MessageEchoed ||
                                event.kind == TrafficEvent::Kind::MessagesSummarised)) {
        const auto it = m_clients.find(event.clientId);
        if (it != m_clients.end()) {
            ++it->second.messageEvents;
            m_watched.push_back(event.clientId);
        }
    }
    schedule(); // one snapshot announces it
}

void TrafficMonitor::changesWaiting()
{
    // Taken now, so that the changes of a client gone already (its last writes come
    // after it was reported gone) cost no snapshot.
    const std::vector<quint64> ids = m_feed->take();
    bool any = false;
    for (quint64 id : ids) {
        const auto it = m_clients.find(id);
        if (it != m_clients.end() && it->second.view->connected) {
            m_watched.push_back(id);
            any = true;
        }
    }
    if (any)
        schedule();
}

void TrafficMonitor::refresh()
{
    tick(true);
}

bool TrafficMonitor::sample(TrackedClient &client, qint64 nowMono)
{
    const bool moved = client.stats->takeChanged(); // before reading: a later change reports
    const ClientView &old = *client.view;
    ClientSnapshot counters = client.stats->snapshot();
    const ClientSnapshot &c = counters;
    const RateWindow::Rates rates =
        client.rates.update(nowMono, {c.bytesIn, c.bytesOut, c.messagesIn, c.messagesOut});
    const bool sameRates = rates[RateWindow::BytesIn] == old.bytesInPerSecond &&
                           rates[RateWindow::BytesOut] == old.bytesOutPerSecond &&
                           rates[RateWindow::MessagesIn] == old.messagesInPerSecond;
    if (!moved && sameRates && client.messageEvents == 0 && sameCounters(c, old.counters))
        return false;
    addToLiveSums(c, old.counters);
    auto view = std::make_shared<ClientView>(old);
    view->counters = std::move(counters);
    view->bytesInPerSecond = rates[RateWindow::BytesIn];
    view->bytesOutPerSecond = rates[RateWindow::BytesOut];
    view->messagesInPerSecond = rates[RateWindow::MessagesIn];
    view->messageEvents = client.messageEvents;
    client.messageEvents = 0;
    client.view = std::move(view);
    ++m_viewsBuilt;
    return true;
}

void TrafficMonitor::tick(bool force)
{
    const qint64 nowMono = m_clock.elapsed();
    const bool sampleValues =
        force || m_lastSampleMono == kNever || nowMono - m_lastSampleMono >= valueIntervalMs();
    m_lastTickMono = nowMono;
    const bool listening = m_server && m_server->isListening();
    TrafficSnapshot &snapshot = m_snapshot;
    QList<quint64> removed;
    std::vector<quint64> changed;

    // Gone clients: past the count limit the oldest leave first, whatever their age;
    // they all stay as long, so the oldest are also the first to expire.
    while (!m_retainedOrder.empty()) {
        const auto it = m_clients.find(m_retainedOrder.front());
        if (it != m_clients.end() && m_retainedCount <= m_maxRetainedDisconnected &&
            nowMono - it->second.disconnectedAtMono < m_retainDisconnectedMs)
            break;
        m_retainedOrder.pop_front();
        if (it == m_clients.end())
            continue;
        if (it->second.published)
            removed.append(it->first);
        else
            m_pendingAdded.removeOne(it->first); // came and went unseen: in neither list
        --m_retainedCount;
        m_clients.erase(it);
    }
    std::sort(removed.begin(), removed.end());
    if (!removed.isEmpty()) {
        snapshot.clients.pointers().removeIf([&removed](const ClientViewList::Pointer &view) {
            return std::binary_search(removed.cbegin(), removed.cend(), view->counters.id);
        });
    }

    // New clients, as of when they came: their changes are sampled from then on.
    std::sort(m_pendingAdded.begin(), m_pendingAdded.end());
    if (!m_pendingAdded.isEmpty()) {
        QList<ClientViewList::Pointer> &views = snapshot.clients.pointers();
        const bool inOrder = views.isEmpty() || views.last()->counters.id < m_pendingAdded.first();
        views.reserve(views.size() + m_pendingAdded.size());
        for (quint64 id : std::as_const(m_pendingAdded)) {
            TrackedClient &client = m_clients.at(id);
            client.published = true;
            views.append(client.view);
        }
        if (!inOrder) { // a UDP peer's id, taken before a TCP client's: rare
            std::sort(views.begin(), views.end(),
                      [](const ClientViewList::Pointer &a, const ClientViewList::Pointer &b) {
                          return a->counters.id < b->counters.id;
                      });
        }
    }

    // Clients that went since the last snapshot: their final views, at once.
    changed.swap(m_pendingChanged);

    if (sampleValues) {
        m_lastSampleMono = nowMono;
        // Whose counters moved, and who still needs looking at (rates falling to zero, a
        // change missed by a hair): the only clients a sample reads.
        std::vector<quint64> ids = m_feed->take();
        ids.insert(ids.end(), m_watched.begin(), m_watched.end());
        m_watched.clear();
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        for (quint64 id : ids) {
            const auto it = m_clients.find(id);
            if (it == m_clients.end() || !it->second.view->connected)
                continue; // not tracked yet (picked up when it is) or gone (final view)
            TrackedClient &client = it->second;
            const bool built = sample(client, nowMono);
            if (built && client.published)
                changed.push_back(id);
            // Looked at again at the next sample until it shows no change.
            if (built || !ratesZero(*client.view) || client.messageEvents != 0)
                m_watched.push_back(id);
        }
    }
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    for (quint64 id : changed) {
        const qsizetype i = snapshot.clients.indexOf(id);
        const auto it = m_clients.find(id);
        if (i >= 0 && it != m_clients.end())
            snapshot.clients.pointers()[i] = it->second.view;
    }

    snapshot.sequence = ++m_snapshotCount;
    snapshot.timestampMs = QDateTime::currentMSecsSinceEpoch();
    snapshot.listening = listening;
    snapshot.valuesSampled = sampleValues;
    snapshot.totals = currentTotals(); // O(1): running sums
    snapshot.address = QHostAddress();
    snapshot.tls = false;
    snapshot.port = 0;
    snapshot.udpPort = 0;
    snapshot.webSocketPort = 0;
    snapshot.webSocketScheme.clear();
    snapshot.uptimeMs = 0;
    if (listening) {
        snapshot.address = m_server->serverAddress();
        snapshot.tls = m_server->isTls();
        snapshot.port = m_server->serverPort();
        snapshot.udpPort = m_server->udpPort();
        snapshot.webSocketPort = m_server->webSocketPort();
        if (snapshot.webSocketPort != 0)
            snapshot.webSocketScheme = m_server->webSocketScheme();
        snapshot.uptimeMs = qMax<qint64>(0, snapshot.timestampMs - m_server->startedAtMs());
        if (sampleValues) {
            const ServerTotals &t = snapshot.totals;
            const RateWindow::Rates rates =
                m_totalRates.update(nowMono, {t.bytesIn, t.bytesOut, t.messagesIn, t.messagesOut});
            snapshot.bytesInPerSecond = rates[RateWindow::BytesIn];
            snapshot.bytesOutPerSecond = rates[RateWindow::BytesOut];
            snapshot.messagesInPerSecond = rates[RateWindow::MessagesIn];
            snapshot.messagesOutPerSecond = rates[RateWindow::MessagesOut];
        }
    } else {
        m_totalRates.reset();
        snapshot.bytesInPerSecond = 0;
        snapshot.bytesOutPerSecond = 0;
        snapshot.messagesInPerSecond = 0;
        snapshot.messagesOutPerSecond = 0;
    }
    m_totalRatesZero = snapshot.bytesInPerSecond == 0 && snapshot.bytesOutPerSecond == 0 &&
                       snapshot.messagesInPerSecond == 0 && snapshot.messagesOutPerSecond == 0;
    snapshot.addedIds.clear();
    snapshot.addedIds.swap(m_pendingAdded);
    snapshot.removedIds = removed;
    snapshot.changedIds = QList<quint64>(changed.cbegin(), changed.cend());
    m_structureChanged = false;

    // A copy to emit (the list is shared, not copied), so that a receiver that calls
    // refresh() again does not change what the next receivers read; released after,
    // so that the next snapshot changes the list in place.
    {
        const TrafficSnapshot published = snapshot;
        emit snapshotReady(published);
    }

    const quint64 nextSequence = m_eventLog.nextSequence();
    if (nextSequence > m_publishedSequence) {
        const quint64 first = m_publishedSequence;
        const quint64 count = nextSequence - first;
        m_publishedSequence = nextSequence;
        emit eventsAppended(first, int(qMin<quint64>(count, std::numeric_limits<int>::max())));
    }
    schedule();
}

void TrafficMonitor::schedule()
{
    const qint64 nowMono = m_clock.elapsed();
    const qint64 lastTick =
        m_lastTickMono == kNever ? nowMono - m_snapshotIntervalMs : m_lastTickMono;
    const qint64 lastSample =
        m_lastSampleMono == kNever ? nowMono - valueIntervalMs() : m_lastSampleMono;
    qint64 due = std::numeric_limits<qint64>::max();
    // Clients that came or went, and events to announce: at the next snapshot.
    if (m_structureChanged || !m_pendingAdded.isEmpty() || !m_pendingChanged.empty() ||
        m_eventLog.nextSequence() > m_publishedSequence)
        due = lastTick + m_snapshotIntervalMs;
    // Counters that moved, or rates not yet back to zero: at the next sample.
    if (!m_watched.empty() || !m_totalRatesZero)
        due = qMin(due, qMax(lastSample + valueIntervalMs(), lastTick + m_snapshotIntervalMs));
    // Gone clients, when the oldest is due to leave.
    if (m_retainedCount > m_maxRetainedDisconnected) {
        due = qMin(due, lastTick + m_snapshotIntervalMs);
    } else if (!m_retainedOrder.empty()) {
        const auto it = m_clients.find(m_retainedOrder.front());
        const qint64 expires = it == m_clients.end()
                                   ? nowMono
                                   : it->second.disconnectedAtMono + m_retainDisconnectedMs;
        due = qMin(due, qMax(expires, lastTick + m_snapshotIntervalMs));
    }
    // Listening and idle: the uptime and the durations still move, slowly.
    if (m_idleIntervalMs > 0 && m_server && m_server->isListening())
        due = qMin(due, lastTick + m_idleIntervalMs);

    if (due == std::numeric_limits<qint64>::max()) {
        m_timer->stop();
        return;
    }
    const int delay =
        int(qBound<qint64>(0, due - nowMono, qint64(std::numeric_limits<int>::max())));
    // Unchanged deadlines (most calls: an event among many) leave the timer alone.
    if (m_timer->isActive() && qAbs(m_timer->remainingTime() - delay) <= 1)
        return;
    m_timer->start(delay);
}

} // namespace Echoscope
