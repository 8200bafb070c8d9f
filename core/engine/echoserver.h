#pragma once

#include "clientstats.h"
#include "disconnectinfo.h"
#include "faultconfig.h"
#include "networkfilter.h"
#include "ratewindow.h"
#include "serverconfig.h"
#include "trafficevent.h"
#include "udpechoservice.h"
#include "workerpool.h"

#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QMap>
#include <QObject>

#include <array>
#include <atomic>
#include <functional>
#include <memory>

QT_BEGIN_NAMESPACE
class QTcpServer;
class QTimer;
QT_END_NAMESPACE

namespace Echoscope {

struct AcceptEpisode;
class ChangeCompletion;
class EchoWorker;
class EventQueue;

// Totals over the server's life (since start), as of the moment they are read.
struct ServerTotals
{
    int clientsNow = 0;
    int clientsPeak = 0;
    qint64 clientsTotal = 0;
    qint64 clientsRefused = 0;
    qint64 bytesIn = 0;
    qint64 bytesOut = 0;
    qint64 messagesIn = 0;
    qint64 messagesOut = 0;
    qint64 messageBytesIn = 0;   // payload bytes of the messages framed
    qint64 minMessageBytes = -1; // -1: no message yet
    qint64 maxMessageBytes = -1;
    SizeHistogram histogram;
    // The four traffic counters above split by the clients' protocol, indexed by
    // int(IpProtocol): each one sums to its total (every client has one protocol).
    struct Traffic
    {
        qint64 bytesIn = 0;
        qint64 bytesOut = 0;
        qint64 messagesIn = 0;
        qint64 messagesOut = 0;
    };
    std::array<Traffic, kIpProtocolCount> byProtocol{};

    // Adds one client's counters (bytes, messages, sizes; not the client counts).
    void addClient(const ClientSnapshot &client);
};

// The echo engine: listens, and each worker thread accepts connections on the listening
// sockets and serves them for their whole life; this thread holds the policy's counters
// and reports what happens. A worker applies the refusals (max clients through one atomic
// count, --allow/--deny through the filter fixed at start) where it accepts; the new
// client's counters reach this thread with its Connected event, as a UDP peer's do.
//
// Under abuse it keeps serving the others and stays bounded: a refused connection
// (max clients, --allow/--deny, out of descriptors) is closed at once and reported, at
// most kRefusedEventsPerSecond of them one by one and the rest as one summary per
// reason per second; when accept() runs out of descriptors it says so once per
// episode, refuses what is queued through a spare descriptor instead of letting it
// wait, and serves again as soon as descriptors are free.
//
// Threads: the object lives in the thread that created it (normally the main
// thread). Every signal but the three per-transfer ones is emitted in that thread.
// bytesReceived, bytesEchoed and messageEchoed are emitted in the worker thread that
// owns the client, as they happen; with threads == 1 that is this thread too, unless
// setKeepsThisThreadFree().
class EchoServer : public QObject
{
    Q_OBJECT

public:
    // Refusals reported one by one per second; the rest are summarised.
    static constexpr int kRefusedEventsPerSecond = 10;

    enum class State { Stopped, Listening };
    enum class Error { NoError, InvalidConfig, ListenFailed };
    Q_ENUM(State)
    Q_ENUM(Error)

    explicit EchoServer(QObject *parent = nullptr);
    ~EchoServer() override;

    // Starts listening. On failure returns false, leaves the server stopped, and
    // sets error() and errorString() (which names the address, port and OS reason);
    // failed() is emitted too.
    bool start(const ServerConfig &config);
    // Stops accepting, closes every client with reason ServerStopped (each gets its
    // clientDisconnected()), joins the workers, then emits stopped().
    void stop();

    State state() const { return m_state; }
    bool isListening() const { return m_state == State::Listening; }
    Error error() const { return m_error; }
    QString errorString() const { return m_errorString; }
    ServerConfig config() const { return m_config; }
    QHostAddress serverAddress() const { return m_address; }
    quint16 serverPort() const { return m_port; }
    // The UDP echo port while listening with config().udpEcho; 0 otherwise.
    quint16 udpPort() const { return m_udpPort; }
    // The WebSocket echo port while listening with config().webSocketEcho; 0 otherwise.
    quint16 webSocketPort() const { return m_webSocketPort; }
    // "ws" or "wss" while the WebSocket port listens; empty otherwise.
    QString webSocketScheme() const;
    // The UDP echo's counters since the last start (zero without UDP echo).
    UdpTotals udpTotals() const;
    int workerCount() const { return int(m_workers.size()); }
    // With true, a single worker (threads = 1) runs in a thread of its own, as more
    // workers do, so this object's thread never serves a client. The dashboard sets it:
    // its GUI thread then only paints, and a busy client cannot delay a repaint (with 100
    // clients in pingpong the dashboard kept 90.0 % of headless's throughput serving in
    // the GUI thread, 93.1 % with the worker in its own). False (the default): this
    // thread serves, which saves a thread and the hops to it (headless). Taken at the
    // next start().
    void setKeepsThisThreadFree(bool keepFree) { m_keepsThisThreadFree = keepFree; }
    bool keepsThisThreadFree() const { return m_keepsThisThreadFree; }
    // TLS listener: "TLS 1.2 or later, certificate localhost (self-signed, valid until
    // ...); handshake within 10 s"; empty for plain TCP.
    QString tlsSummary() const { return m_tlsSummary; }
    bool isTls() const { return !m_tlsSummary.isEmpty(); }
    // When the current (or last) start() succeeded, in ms since the epoch.
    qint64 startedAtMs() const { return m_startedAtMs; }

    // Ends one client's connection with reason Kicked (a UDP peer is forgotten; its next
    // datagram makes it a new client). Returns false if it is not connected.
    //
    // `source`, in this call and those below, says who asks, for the event: "the control
    // API" makes "kicked: by the control API", "faults set: delay 5 ms (by the control
    // API)". Empty: the dashboard or the command line, as before.
    //
    // `done`, in this call and those below: when the call returned true, called once in
    // this server's thread after the change happened in the client's worker thread (so a
    // clientStats() read then shows it), with how it ended: Applied, ClientGone (the
    // client left before it; Stopped instead if the server stopped meanwhile), or Stopped
    // (the worker went with the server's stop before it got to the change). Never called
    // after this server is destroyed, nor when the call returned false.
    enum class ChangeResult { Applied, ClientGone, Stopped };
    using ChangeDone = std::function<void(ChangeResult)>;
    bool disconnectClient(quint64 clientId, const QString &source = QString(),
                          ChangeDone done = {});
    // Fault injection (see FaultConfig). The faults for all clients apply to every
    // client without faults of its own, current and future, and stay across stop() and
    // start(). A client's own faults replace them for that client until
    // followDefaultFaults(). Each returns false, with the reason in *error, for an
    // invalid config or a client not connected (a UDP peer gets the blackhole and the UDP rates).
    // Every change is a FaultInjected event.
    // setDefaultFaults()'s `done` comes when every worker (and the UDP echo) has applied
    // the faults, always Applied: a worker gone with a stop has no client left, and the
    // faults are kept for the next start.
    bool setDefaultFaults(const FaultConfig &faults, QString *error = nullptr,
                          const QString &source = QString(), ChangeDone done = {});
    FaultConfig defaultFaults() const { return m_defaultFaults; }
    bool setClientFaults(quint64 clientId, const FaultConfig &faults, QString *error = nullptr,
                         const QString &source = QString(), ChangeDone done = {});
    bool followDefaultFaults(quint64 clientId, QString *error = nullptr,
                             const QString &source = QString(), ChangeDone done = {});

    // An event from beside the engine (the control API's refused changes) into the same
    // stream as the engine's own: eventOccurred(), so the logs and the dashboard show it.
    // In the server's thread.
    void reportEvent(const TrafficEvent &event) { handleEvent(event); }

    // The live counters of a connected client (nullptr once it has disconnected and
    // its clientDisconnected() was emitted).
    std::shared_ptr<const ClientStats> clientStats(quint64 clientId) const;
    QList<quint64> clientIds() const;
    // TCP connections open now (UDP peers are in totals().clientsNow).
    int clientCount() const { return m_liveClients.load(std::memory_order_relaxed); }
    ServerTotals totals() const;
    // The client counts of totals() and the counters of the clients gone since the
    // start, without those of the clients connected now: O(1). A reader that keeps
    // running sums of the live clients (TrafficMonitor) adds them to this.
    ServerTotals retiredTotals() const;
    // Every client's ClientStats reports here when its counters move (one reader).
    const std::shared_ptr<ChangeFeed> &changeFeed() const { return m_changeFeed; }

signals:
    void started(const QHostAddress &address, quint16 port);
    void stopped();
    void failed(Echoscope::EchoServer::Error error, const QString &errorString);

    void clientConnected(quint64 clientId, const QHostAddress &peer, quint16 peerPort);
    // reason: the sentence for a person; kind: the same as an enum (for metrics, filters).
    void clientRefused(const QHostAddress &peer, quint16 peerPort, const QString &reason,
                       Echoscope::RefusalReason kind);
    // Refusals reported as a count only (UDP datagrams refused past the per-second log
    // budget, summarised by reason); clientRefused is not emitted for them.
    void refusalsSummarised(const QString &reason, qint64 count, Echoscope::RefusalReason kind);
    void clientDisconnected(quint64 clientId, const Echoscope::DisconnectInfo &info);
    // Every discrete event (listening, connect, refuse, disconnect, sampled message,
    // summary, error, stop) as one value, in order; what logs and the UI record.
    void eventOccurred(const Echoscope::TrafficEvent &event);

    // Per transfer, in the owning worker's thread. The workers emit them only once
    // something has connected to one of them (connectNotify()): three signals per request
    // cost a busy worker about 3 % of its CPU, for nobody.
    void bytesReceived(quint64 clientId, qint64 bytes);
    void bytesEchoed(quint64 clientId, qint64 bytes);
    void messageEchoed(quint64 clientId, qint64 payloadBytes);

protected:
    void connectNotify(const QMetaMethod &signal) override;

private:
    struct ClientEntry
    {
        std::shared_ptr<ClientStats> stats;
        EchoWorker *worker = nullptr; // nullptr: a UDP peer, served by m_udp
    };

    void startAccepting();
    // In the worker's thread: the policy, then the session and its Connected event.
    void acceptInWorker(EchoWorker *worker, qintptr descriptor, const QHostAddress &peer,
                        quint16 peerPort, IpProtocol transport);
    // Any thread: refuse() in this one.
    void refuseLater(const QHostAddress &peer, quint16 peerPort, RefusalReason kind,
                     const QString &reason, const QString &category);
    void refuse(const QHostAddress &peer, quint16 peerPort, RefusalReason kind,
                const QString &reason, const QString &category);
    void flushRefusalSummary();
    void handleEvent(const TrafficEvent &event);
    void fail(Error error, const QString &message);
    void startUdp(qintptr descriptor, const ServerConfig &config);
    void stopUdp();
    std::function<void(TrafficEvent)> eventPoster() const;
    // Any thread: a new client's entry travels with its Connected event.
    void postNewClient(ClientEntry entry, TrafficEvent event);
    void registerNewClient(const TrafficEvent &event);
    bool handleUdpEvent(const TrafficEvent &event);
    EchoWorker *faultableWorker(quint64 clientId, QString *error, bool *udpPeer) const;
    std::shared_ptr<ChangeCompletion> completion(ChangeDone done,
                                                 ChangeResult initial = ChangeResult::Stopped);

    ServerConfig m_config;
    State m_state = State::Stopped;
    Error m_error = Error::NoError;
    QString m_errorString;
    QHostAddress m_address;
    // m_address is an any address (0.0.0.0, ::): set with it, read by every accept.
    bool m_addressIsAny = false;
    quint16 m_port = 0;

    // The three parts composed here: the listening sockets (each worker accepts on them
    // with an Acceptor of its own), the events on their way from every thread to this
    // one, and the worker threads.
    QTcpServer *m_listener = nullptr;
    QTcpServer *m_webSocketListener = nullptr; // the WebSocket port's
    // The workers' acceptors' shared state; its spare descriptor is closed at stop(), not
    // when the last acceptor goes (a worker of this thread is deleted later).
    std::shared_ptr<AcceptEpisode> m_acceptEpisode;
    quint16 m_webSocketPort = 0;
    EventQueue *m_events = nullptr;
    WorkerPool m_workers{this};

    NetworkFilter m_filter;
    // Refusal events: the current one-second window, and what it summarised per reason.
    QTimer *m_refusalSummaryTimer = nullptr;
    RateWindow m_refusalWindow{kRefusedEventsPerSecond};
    QMap<QString, RefusalTally> m_suppressedRefusals; // by category sentence

    // Never reset: ids are unique for the object's life. The UDP thread takes ids too.
    std::atomic<quint64> m_nextClientId{0};
    std::atomic<int> m_liveClients{0};
    // Whether anything has connected to a per-transfer signal; read by the workers.
    std::atomic<bool> m_transfersWatched{false};
    bool m_keepsThisThreadFree = false;
    QHash<quint64, ClientEntry> m_clients;
    ServerTotals m_retired; // counters of clients gone since start
    const std::shared_ptr<ChangeFeed> m_changeFeed = std::make_shared<ChangeFeed>();
    FaultConfig m_defaultFaults;
    qint64 m_startedAtMs = 0;
    QString m_tlsSummary;

    // UDP echo: the service (in the first worker's thread) and its peers in m_clients.
    UdpEchoService *m_udp = nullptr;
    QHostAddress m_udpAddress;
    quint16 m_udpPort = 0;
    int m_udpClientsNow = 0;
    UdpTotals m_udpTotals; // as of the last stop()

    bool m_stopping = false;
    // New clients (TCP, WebSocket, UDP peers), by id, until their Connected event is
    // handled; under m_events' lock (EventQueue::post() with an action,
    // EventQueue::withLock()).
    QHash<quint64, ClientEntry> m_pendingClients;
};

} // namespace Echoscope
