#pragma once

#include "clientstats.h"
#include "disconnectinfo.h"
#include "faultconfig.h"
#include "nativeudpsocket.h"
#include "ratewindow.h"
#include "networkfilter.h"
#include "serverconfig.h"
#include "trafficevent.h"
#include "transfergate.h"

#include <QByteArray>
#include <QHash>
#include <QMap>
#include <QObject>

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <random>

QT_BEGIN_NAMESPACE
class QSocketNotifier;
class QTimer;
QT_END_NAMESPACE

namespace Echoscope {

// Counters of the UDP echo over one server run; any thread may read them.
struct UdpTotals
{
    qint64 datagramsIn = 0;   // every datagram read, from tracked peers or not
    qint64 oversized = 0;     // over the message size limit (or the datagram limit): not echoed
    qint64 echoesDropped = 0; // the echo could not be sent (no buffer space, a send error)
    qint64 icmpErrors = 0;    // ICMP errors read back (port unreachable and the others)
    qint64 refused = 0;       // datagrams dropped: a denied network, or no room for a new peer
};

// RFC 862 datagram echo on one bound UDP socket, in one thread (EchoServer's first
// worker thread): reads every pending datagram and sends each back to its sender.
//
// Each sending address and port is a client, as a TCP connection is: it gets an id and
// a ClientStats (counters, sizes, capture) when its first datagram arrives, and is
// forgotten - with a disconnect event and its final counters - when it has sent nothing
// for udpIdleTimeoutMs, when an echo to it comes back as ICMP port unreachable (its
// socket is closed), when it is kicked, or when the server stops. One timer serves all
// the expiries (none while there are no peers).
//
// A datagram is one message. One larger than maxMessageBytes is counted and logged but
// not echoed. Nothing is queued: an echo the kernel cannot take now (EAGAIN, ENOBUFS) is
// dropped and counted, as UDP allows. Datagrams from a new peer in a denied network, or
// beyond maxUdpPeers, are dropped and reported as refused. Every repeated report (refusals,
// oversized datagrams, dropped echoes, ICMP errors) is rate-limited: the first few per
// second one by one, then one summary per second.
class UdpEchoService : public QObject
{
    Q_OBJECT

public:
    // Reports shown one by one per second, per kind; the rest are summarised.
    static constexpr int kReportsPerSecond = 10;
    // Datagrams handled per wake-up before the thread's other work gets a turn.
    static constexpr int kMaxDatagramsPerWakeup = 256;

    using IdAllocator = std::function<quint64()>;
    // A new peer: its counters and its Connected event, in this order.
    using PeerCallback = std::function<void(std::shared_ptr<ClientStats>, TrafficEvent)>;
    using EventCallback = std::function<void(TrafficEvent)>;

    // Takes over the bound descriptor (NativeUdpSocket::bind()). The callbacks are
    // called in the service's thread and must be safe to call from it.
    UdpEchoService(qintptr descriptor, const ServerConfig &config, IdAllocator allocateId,
                   PeerCallback peerSeen, EventCallback postEvent, QObject *parent = nullptr);
    ~UdpEchoService() override;
    // The three per-datagram signals are emitted only while *watched is true (unset:
    // always), as EchoWorker's. Call before the service moves to its thread.
    void setTransfersWatched(const std::atomic<bool> *watched) { m_transfers.watch(watched); }

    // These run in the service's thread.
    void start();
    // Forgets one peer with reason Kicked; false if it is not tracked.
    bool disconnectPeer(quint64 clientId, const QString &detail = QString());
    // Forgets every peer with `reason` and closes the socket; the service is done.
    void shutdown(DisconnectReason reason);
    int peerCount() const { return m_livePeers.load(std::memory_order_relaxed); }
    // Faults (see FaultConfig): for every peer without faults of its own, current and
    // new; for one peer (false if it is not tracked); back to those for all peers. A
    // peer's echo gets the blackhole and the UDP rates (loss, duplicate, reorder,
    // corrupt), drawn in this order per datagram from its seeded generator. `source`
    // says who asks, for the event, as EchoServer's: "faults set: ... (by the control API)".
    void setDefaultFaults(const FaultConfig &faults);
    bool setPeerFaults(quint64 clientId, const FaultConfig &faults,
                       const QString &source = QString());
    bool followDefaultFaults(quint64 clientId, const QString &source = QString());

    // Any thread.
    UdpTotals totals() const;

signals:
    // Per datagram, in the service's thread, as EchoWorker's.
    void bytesReceived(quint64 clientId, qint64 bytes);
    void bytesEchoed(quint64 clientId, qint64 bytes);
    void messageEchoed(quint64 clientId, qint64 payloadBytes);

private:
    struct Peer
    {
        std::shared_ptr<ClientStats> stats;
        NativeUdpSocket::Endpoint endpoint;
        NativeUdpSocket::Key key;
        qint64 lastActivityMono = 0; // monoMs()
        // Message sampling for the event log, as ClientSession does it.
        RateWindow sampleWindow;
        qint64 suppressedMessages = 0;
        qint64 suppressedBytes = 0;
        // Its faults, and the draws for them.
        FaultConfig faults;
        bool ownFaults = false;
        bool seeded = false;
        std::mt19937 random;
        QByteArray held; // the reorder fault's datagram, sent after the next one
        bool holding = false;
        // The per-second summary of what the faults did.
        qint64 discarded = 0;
        qint64 lost = 0;
        qint64 duplicated = 0;
        qint64 reordered = 0;
        qint64 corrupted = 0;
    };
    // Oldest activity first: the front is the next to expire.
    using PeerList = std::list<Peer>;

    // One kind of report, rate-limited in one-second windows.
    struct Throttle
    {
        Throttle(int perSecond, const char *summary) : window(perSecond), summary(summary) {}
        RateWindow window;
        // "+%1 ... in the last second" (a QT_TRANSLATE_N_NOOP text of this class, %1 the
        // count); null for the refusals, summed up per reason instead
        const char *const summary;
        qint64 suppressed = 0;
    };

    void readPending();
    void handleDatagram(const char *data, qint64 bytes, bool truncated,
                        const NativeUdpSocket::Endpoint &from);
    PeerList::iterator addPeer(const NativeUdpSocket::Endpoint &from,
                               const NativeUdpSocket::Key &key, qint64 now);
    void echo(PeerList::iterator peer, const char *data, qint64 bytes);
    // The echo under the peer's faults: echo() none, one or more times.
    void echoWithFaults(PeerList::iterator peer, const char *data, qint64 bytes);
    void applyFaults(Peer &peer, const FaultConfig &faults, bool own,
                     const QString &source = QString());
    void countFault(Peer &peer, qint64 Peer::*counter);
    void flushFaultSummary(Peer &peer);
    void flushFaultSummaries();
    void drainErrors();
    void forgetUnreachable();
    void forget(PeerList::iterator peer, DisconnectReason reason, const QString &detail);
    void expireIdle();
    void scheduleExpiry();
    void sampleMessage(Peer &peer, const char *data, qint64 bytes, qint64 now);
    void flushPeerSummary(Peer &peer);
    void refuse(const NativeUdpSocket::Endpoint &from, qint64 bytes, RefusalReason kind,
                const QString &reason, const QString &category);
    void warn(Throttle &throttle, const QString &text);
    bool admit(Throttle &throttle);
    void flushSummaries();
    TrafficEvent peerEvent(const Peer &peer, TrafficEvent::Kind kind) const;
    qint64 monoMs() const;
    static void bump(std::atomic<qint64> &counter);

    qintptr m_descriptor;
    QHostAddress m_localAddress; // where the socket is bound
    quint16 m_localPort = 0;
    const ServerConfig m_config;
    const NetworkFilter m_filter;
    IdAllocator m_allocateId;
    PeerCallback m_peerSeen;
    EventCallback m_postEvent;
    QByteArray m_buffer;
    QSocketNotifier *m_readNotifier = nullptr;
    QTimer *m_expiryTimer = nullptr;
    QTimer *m_summaryTimer = nullptr;

    PeerList m_peers;
    QHash<NativeUdpSocket::Key, PeerList::iterator> m_byKey;
    QHash<quint64, PeerList::iterator> m_byId;
    std::atomic<int> m_livePeers{0};
    // Peers whose echo came back as port unreachable, forgotten at the end of the read
    // batch: datagrams of theirs still queued (sent before its socket closed) count on
    // the same client rather than making a new one each.
    QList<NativeUdpSocket::Key> m_unreachable;
    QList<quint64> m_pendingPeerSummaries;
    FaultConfig m_defaultFaults;
    TransferGate m_transfers;
    QTimer *m_faultSummaryTimer = nullptr;
    QList<quint64> m_pendingFaultSummaries;

    Throttle m_refusals{kReportsPerSecond, nullptr};
    QMap<QString, RefusalTally> m_suppressedRefusals; // per reason, this window
    Throttle m_oversizedReports{
        kReportsPerSecond,
        QT_TRANSLATE_N_NOOP(
            "Echoscope::UdpEchoService",
            "+%1 oversized UDP datagram(s) not echoed in the last second, not shown one by one")};
    Throttle m_dropReports{
        1,
        QT_TRANSLATE_N_NOOP("Echoscope::UdpEchoService",
                            "+%1 UDP echo(es) dropped in the last second, not shown one by one")};
    Throttle m_icmpReports{
        kReportsPerSecond,
        QT_TRANSLATE_N_NOOP(
            "Echoscope::UdpEchoService",
            "+%1 ICMP error(s) about UDP echoes in the last second, not shown one by one")};
    Throttle m_receiveErrorReports{
        1,
        QT_TRANSLATE_N_NOOP("Echoscope::UdpEchoService",
                            "+%1 UDP receive error(s) in the last second, not shown one by one")};

    std::atomic<qint64> m_datagramsIn{0};
    std::atomic<qint64> m_oversized{0};
    std::atomic<qint64> m_echoesDropped{0};
    std::atomic<qint64> m_icmpErrors{0};
    std::atomic<qint64> m_refused{0};
};

} // namespace Echoscope
