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
    // since the previous snapshot, so a view can say "412 messages from ..." instead
    // of showing each.
    int messageEvents = 0;
    bool connected = true;
    qint64 disconnectedAtMs = 0; // ms since the epoch; 0 while connected
    DisconnectInfo disconnect;   // valid when !connected
};

// The whole server at one moment, published at a fixed rate.
struct TrafficSnapshot
{
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
    // Sorted by id: connected clients and disconnected ones still retained.
    QList<ClientView> clients;
    // Since the previous snapshot, sorted: clients new to `clients`, and clients gone
    // from it, so a model can insert and remove rows in batches. A client that came
    // and went between two snapshots is in neither.
    QList<quint64> addedIds;
    QList<quint64> removedIds;
};

// What a dashboard reads: lives in the UI thread, samples the engine's lock-free
// per-client counters on a timer and publishes coalesced snapshots (about 20 per
// second) and coalesced event notifications. It never listens to the per-transfer
// signals, so the echo path does not wait for it, and an idle, stopped server makes
// it do nothing at all.
//
// It ticks while the server is listening, while disconnected clients are retained,
// and once more after any event; otherwise its timer is stopped.
class TrafficMonitor : public QObject
{
    Q_OBJECT

public:
    static constexpr int kDefaultSnapshotIntervalMs = 50;
    static constexpr int kDefaultRetainDisconnectedMs = 30000;
    static constexpr int kRateWindowMs = 1000;
    static constexpr int kDefaultMaxRetainedDisconnected = 1000;

    // The server must be in this thread. If it is listening already, its clients are
    // picked up (uptime then counts from now: the server does not say when it started).
    explicit TrafficMonitor(EchoServer *server, QObject *parent = nullptr);
    ~TrafficMonitor() override;

    int snapshotIntervalMs() const;
    void setSnapshotIntervalMs(int intervalMs); // at least 1
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

public slots:
    // Takes and publishes a snapshot now (and any pending eventsAppended()).
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
        const Sample &sample(int i) const { return m_samples[size_t((m_first + i) % kSlots)]; }

        std::array<Sample, kSlots> m_samples{};
        int m_first = 0;
        int m_count = 0;
    };

    struct TrackedClient
    {
        std::shared_ptr<const ClientStats> stats;
        ClientView view; // as last published, or the final one once disconnected
        RateWindow rates;
        qint64 disconnectedAtMono = 0; // m_clock time
        bool published = false;        // in a snapshot's clients already
    };

    void serverStarted();
    void serverStopped();
    void track(quint64 clientId);
    void clientDisconnected(quint64 clientId, const DisconnectInfo &info);
    void eventOccurred(const TrafficEvent &event);
    void tick();
    bool needsTicking() const;
    void updateTicking();

    QPointer<EchoServer> m_server;
    QTimer *m_timer = nullptr;
    QElapsedTimer m_clock; // monotonic: rates and retention
    int m_retainDisconnectedMs = kDefaultRetainDisconnectedMs;
    int m_maxRetainedDisconnected = kDefaultMaxRetainedDisconnected;
    static constexpr qint64 kExpired = std::numeric_limits<qint64>::min();

    std::map<quint64, TrackedClient> m_clients; // sorted by id
    int m_retainedCount = 0;                    // disconnected ones in m_clients, not expired
    std::deque<quint64> m_retainedOrder;        // disconnected ids, oldest first
    QList<quint64> m_pendingAdded;              // since the last snapshot
    QList<quint64> m_pendingRemoved;
    RateWindow m_totalRates;
    TrafficSnapshot m_snapshot;

    EventLog m_eventLog;
    quint64 m_publishedSequence = 1; // the first event not yet announced
};

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::ClientView)
Q_DECLARE_METATYPE(Echoscope::TrafficSnapshot)
