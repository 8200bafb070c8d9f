#pragma once

#include "clientstats.h"
#include "disconnectinfo.h"
#include "echoserver.h"
#include "eventlog.h"
#include "trafficevent.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QPointer>

#include <array>
#include <initializer_list>
#include <iterator>
#include <vector>
#include <deque>
#include <limits>
#include <map>
#include <memory>

QT_BEGIN_NAMESPACE
class QTimer;
QT_END_NAMESPACE

namespace Echoscope {

// One client as a dashboard shows it at one moment.
struct ClientView
{
    ClientSnapshot counters;
    // Over about the last second; 0 once disconnected.
    double bytesInPerSecond = 0;
    double bytesOutPerSecond = 0;
    double messagesInPerSecond = 0;
    // Message events (MessageEchoed and MessagesSummarised) logged for this client
    // since its previous view, so a view can say "412 messages from ..." instead of
    // showing each. A view is shared by every snapshot until the client's next one
    // (its id in addedIds or changedIds): count it once, not once per snapshot.
    int messageEvents = 0;
    bool connected = true;
    qint64 disconnectedAtMs = 0; // ms since the epoch; 0 while connected
    DisconnectInfo disconnect;   // valid when !connected
};

// The clients of a snapshot, sorted by id. Each view is shared, immutable, between the
// snapshots (and the models) that show it: a snapshot in which one client of 10,000
// changed holds one new view and 9,999 it shares with the previous one. Reads like a
// list of ClientView.
class ClientViewList
{
public:
    using Pointer = std::shared_ptr<const ClientView>;

    class const_iterator
    {
    public:
        using iterator_category = std::random_access_iterator_tag;
        using value_type = ClientView;
        using difference_type = qsizetype;
        using pointer = const ClientView *;
        using reference = const ClientView &;
        const_iterator() = default;
        explicit const_iterator(QList<Pointer>::const_iterator it) : m_it(it) {}
        reference operator*() const { return **m_it; }
        pointer operator->() const { return m_it->get(); }
        const_iterator &operator++()
        {
            ++m_it;
            return *this;
        }
        const_iterator operator++(int)
        {
            const_iterator old = *this;
            ++m_it;
            return old;
        }
        const_iterator &operator--()
        {
            --m_it;
            return *this;
        }
        const_iterator &operator+=(difference_type n)
        {
            m_it += n;
            return *this;
        }
        const_iterator operator+(difference_type n) const { return const_iterator(m_it + n); }
        difference_type operator-(const_iterator other) const { return m_it - other.m_it; }
        bool operator==(const const_iterator &other) const { return m_it == other.m_it; }
        bool operator!=(const const_iterator &other) const { return m_it != other.m_it; }

    private:
        QList<Pointer>::const_iterator m_it;
    };

    ClientViewList() = default;
    // Copies, for snapshots made by hand (tests, tools).
    ClientViewList(const QList<ClientView> &views); // NOLINT: implicit on purpose
    ClientViewList(std::initializer_list<ClientView> views);

    qsizetype size() const { return m_views.size(); }
    qsizetype count() const { return m_views.size(); }
    bool isEmpty() const { return m_views.isEmpty(); }
    const ClientView &at(qsizetype i) const { return *m_views.at(i); }
    const ClientView &operator[](qsizetype i) const { return *m_views.at(i); }
    const ClientView &first() const { return *m_views.first(); }
    const ClientView &last() const { return *m_views.last(); }
    const_iterator begin() const { return const_iterator(m_views.cbegin()); }
    const_iterator end() const { return const_iterator(m_views.cend()); }
    const_iterator cbegin() const { return begin(); }
    const_iterator cend() const { return end(); }

    // The shared view at i, for a model that keeps it rather than a copy.
    const Pointer &shared(qsizetype i) const { return m_views.at(i); }
    // The index of the client with this id, -1 if absent: O(log n) (the list is
    // sorted by id, as a monitor publishes it).
    qsizetype indexOf(quint64 clientId) const;
    // The client with this id, nullptr if absent: O(log n).
    Pointer find(quint64 clientId) const;

    void append(const ClientView &view);
    void append(Pointer view) { m_views.append(std::move(view)); }
    void reserve(qsizetype n) { m_views.reserve(n); }
    void clear() { m_views.clear(); }
    QList<Pointer> &pointers() { return m_views; }
    const QList<Pointer> &pointers() const { return m_views; }

private:
    QList<Pointer> m_views;
};

// The whole server at one moment, published at the display rate.
struct TrafficSnapshot
{
    // Numbers the snapshots of one monitor, from 1. A snapshot whose sequence is one more
    // than the previous one's lists every difference from it in addedIds, removedIds and
    // changedIds; 0 (a snapshot made by hand): compare the clients themselves.
    quint64 sequence = 0;
    qint64 timestampMs = 0; // ms since the epoch
    bool listening = false;
    QHostAddress address;      // while listening
    quint16 port = 0;          // while listening
    bool tls = false;          // while listening: the listener speaks TLS
    quint16 udpPort = 0;       // while listening with UDP echo on; 0 otherwise
    quint16 webSocketPort = 0; // while listening with WebSocket echo on; 0 otherwise
    QString webSocketScheme;   // "ws" or "wss" with webSocketPort; empty otherwise
    qint64 uptimeMs = 0;       // since the server started listening; 0 when stopped
    ServerTotals totals;       // since the last start, as EchoServer::totals()
    // Over about the last second; 0 when stopped.
    double bytesInPerSecond = 0;
    double bytesOutPerSecond = 0;
    double messagesInPerSecond = 0;
    double messagesOutPerSecond = 0;
    // Whether this snapshot sampled the counters (totals, rates, the clients' values);
    // false for one that only adds and removes clients between two samples.
    bool valuesSampled = true;
    // Sorted by id: connected clients and disconnected ones still retained.
    ClientViewList clients;
    // Since the previous snapshot, sorted: clients new to `clients`, and clients gone
    // from it, so a model can insert and remove rows in batches. A client that came
    // and went between two snapshots is in neither.
    QList<quint64> addedIds;
    QList<quint64> removedIds;
    // Since the previous snapshot, sorted: clients in both whose view is a new one
    // (values or state changed). The others' views are the very same objects.
    QList<quint64> changedIds;
};

// What a dashboard reads: lives in the UI thread, samples the engine's lock-free
// per-client counters and publishes coalesced snapshots and coalesced event
// notifications. It never listens to the per-transfer signals, so the echo path does
// not wait for it.
//
// Its cost follows what changed, not how many clients there are: each client's
// ClientStats tells the server's ChangeFeed when its counters move, and a snapshot
// builds new views only for those clients (and for the ones added, gone, or whose rates
// are still falling to zero); every other view is shared with the previous snapshot,
// and the totals are running sums. One cadence for everything: clients that come and go
// are published at most every snapshotIntervalMs(), counters at most every
// valueIntervalMs(). With nothing changing it wakes only every idleIntervalMs() while
// listening (uptime, durations), does O(1) work then, and not at all once stopped.
class TrafficMonitor : public QObject
{
    Q_OBJECT

public:
    static constexpr int kDefaultSnapshotIntervalMs = 50;
    static constexpr int kDefaultIdleIntervalMs = 1000;
    static constexpr int kDefaultRetainDisconnectedMs = 30000;
    static constexpr int kRateWindowMs = 1000;
    static constexpr int kDefaultMaxRetainedDisconnected = 1000;

    // The server must be in this thread. If it is listening already, its clients are
    // picked up (uptime then counts from now: the server does not say when it started).
    // One monitor per server: the server's ChangeFeed has one reader.
    explicit TrafficMonitor(EchoServer *server, QObject *parent = nullptr);
    ~TrafficMonitor() override;

    // The shortest time between two snapshots (clients added and removed).
    int snapshotIntervalMs() const { return m_snapshotIntervalMs; }
    void setSnapshotIntervalMs(int intervalMs); // at least 1
    // The shortest time between two samples of the counters; never less than
    // snapshotIntervalMs(). 0 (the default): snapshotIntervalMs().
    int valueIntervalMs() const { return qMax(m_valueIntervalMs, m_snapshotIntervalMs); }
    void setValueIntervalMs(int intervalMs);
    // While listening with nothing changing, one snapshot this often (uptime, the
    // chart's time axis); 0: none.
    int idleIntervalMs() const { return m_idleIntervalMs; }
    void setIdleIntervalMs(int intervalMs);
    int retainDisconnectedMs() const { return m_retainDisconnectedMs; }
    // How long a disconnected client stays in snapshots; 0: gone at the next one.
    void setRetainDisconnectedMs(int retainMs);
    // At most this many disconnected clients are retained (the most recent ones), so a
    // connection storm cannot grow the snapshot without bound within the retention time.
    int maxRetainedDisconnected() const { return m_maxRetainedDisconnected; }
    void setMaxRetainedDisconnected(int count);
    int eventLogCapacity() const { return m_eventLog.capacity(); }
    void setEventLogCapacity(int capacity);

    // The last published snapshot.
    const TrafficSnapshot &snapshot() const { return m_snapshot; }
    // One client's view in the last snapshot, nullptr if it is not there: O(log n).
    ClientViewList::Pointer clientView(quint64 clientId) const;
    // Every event the server reported since this monitor was made, the newest
    // eventLogCapacity() of them.
    const EventLog &eventLog() const { return m_eventLog; }
    // Message sizes over the server's run (live and gone clients), as of the last
    // snapshot.
    SizeHistogram histogram() const { return m_snapshot.totals.histogram; }
    // One client's message sizes as of the last snapshot; empty if it is not there.
    SizeHistogram clientHistogram(quint64 clientId) const;
    // The counters and capture of a client in the snapshot, connected or retained after
    // it disconnected; nullptr if it is not there. Its capture() stays readable.
    std::shared_ptr<const ClientStats> clientStats(quint64 clientId) const;
    bool isTicking() const;

    // What the snapshots cost, counted since the monitor was made: snapshots published,
    // and client views built (one per client added, changed or gone per snapshot).
    quint64 snapshotCount() const { return m_snapshotCount; }
    quint64 viewsBuilt() const { return m_viewsBuilt; }

public slots:
    // Takes and publishes a snapshot now, with fresh counters (and any pending
    // eventsAppended()).
    void refresh();

signals:
    void snapshotReady(const Echoscope::TrafficSnapshot &snapshot);
    // Events [firstSequence, firstSequence + count) were appended to eventLog() since
    // the last emission; at most one emission per tick. If the log overflowed in
    // between, the oldest of them are gone: eventsSince() reports them as missed.
    void eventsAppended(quint64 firstSequence, int count);

private:
    // Counter samples over about kRateWindowMs, for rates that stay steady at 20 Hz.
    class RateWindow
    {
    public:
        enum Counter { BytesIn, BytesOut, MessagesIn, MessagesOut, CounterCount };
        using Values = std::array<qint64, CounterCount>;
        using Rates = std::array<double, CounterCount>;

        void reset() { m_count = 0; }
        // Records the counters as of nowMs; returns per-second rates since the oldest
        // sample kept, which is about kRateWindowMs old once there is enough history.
        Rates update(qint64 nowMs, const Values &values);

    private:
        struct Sample
        {
            qint64 timeMs;
            Values values;
        };
        static constexpr int kSlots = 32;
        const Sample &sample(int i) const
        {
            return m_ring ? (*m_ring)[size_t((m_first + i) % kSlots)] : m_single;
        }
        void push(const Sample &sample);

        // The first sample lives here; the ring (1.3 KiB) is made when a second one is
        // kept, so a client that never moves (10,000 idle ones) does not pay for it.
        Sample m_single{};
        std::unique_ptr<std::array<Sample, kSlots>> m_ring;
        int m_first = 0;
        int m_count = 0;
    };

    struct TrackedClient
    {
        std::shared_ptr<const ClientStats> stats;
        ClientViewList::Pointer view; // as last published, or the final one once gone
        RateWindow rates;
        qint64 disconnectedAtMono = 0; // m_clock time
        int messageEvents = 0;         // since the last view
        bool published = false;        // in m_snapshot.clients already
    };

    void serverStarted();
    void serverStopped();
    void track(quint64 clientId);
    void clientDisconnected(quint64 clientId, const DisconnectInfo &info);
    void eventOccurred(const TrafficEvent &event);
    void changesWaiting();
    void tick(bool sampleValues);
    // Makes a client's new view from its counters; false if nothing it shows changed.
    bool sample(TrackedClient &client, qint64 nowMono);
    void addToLiveSums(const ClientSnapshot &now, const ClientSnapshot &before);
    ServerTotals currentTotals() const;
    void schedule();

    QPointer<EchoServer> m_server;
    std::shared_ptr<ChangeFeed> m_feed;
    QTimer *m_timer = nullptr;
    QElapsedTimer m_clock; // monotonic: rates, retention, cadence
    int m_snapshotIntervalMs = kDefaultSnapshotIntervalMs;
    int m_valueIntervalMs = 0;
    int m_idleIntervalMs = kDefaultIdleIntervalMs;
    int m_retainDisconnectedMs = kDefaultRetainDisconnectedMs;
    int m_maxRetainedDisconnected = kDefaultMaxRetainedDisconnected;
    static constexpr qint64 kNever = std::numeric_limits<qint64>::min();

    std::map<quint64, TrackedClient> m_clients; // sorted by id
    int m_retainedCount = 0;                    // disconnected ones in m_clients, not expired
    std::deque<quint64> m_retainedOrder;        // disconnected ids, oldest first
    QList<quint64> m_pendingAdded;              // since the last snapshot
    std::vector<quint64> m_pendingChanged;      // gone, or events: at the next snapshot
    std::vector<quint64> m_watched;             // changed last sample, or rates not yet 0
    bool m_structureChanged = false;            // something for the next snapshot
    qint64 m_lastTickMono = kNever;
    qint64 m_lastSampleMono = kNever;

    // Running sums of the live clients' counters as last sampled; the server's retired
    // totals are added to them. Min and max only grow apart, so they are kept over all.
    ServerTotals m_liveSums;
    qint64 m_minMessageBytes = -1;
    qint64 m_maxMessageBytes = -1;
    RateWindow m_totalRates;
    bool m_totalRatesZero = true;
    TrafficSnapshot m_snapshot;
    quint64 m_snapshotCount = 0;
    quint64 m_viewsBuilt = 0;

    EventLog m_eventLog;
    quint64 m_publishedSequence = 1; // the first event not yet announced
};

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::ClientView)
Q_DECLARE_METATYPE(Echoscope::TrafficSnapshot)
