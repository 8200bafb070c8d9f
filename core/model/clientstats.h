#pragma once

#include "capturebuffer.h"
#include "changefeed.h"
#include "disconnectinfo.h"
#include "faultconfig.h"
#include "hostaddress.h"
#include "ipprotocol.h"
#include "websocketlog.h"

#include <QHostAddress>
#include <QMetaType>
#include <QString>
#include <QtGlobal>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>

namespace Echoscope {

// Message sizes in power-of-two buckets: bucket 0 holds empty messages, bucket
// k >= 1 holds sizes in [2^(k-1), 2^k), the last bucket everything larger.
struct SizeHistogram
{
    static constexpr int kBuckets = 32;
    std::array<qint64, kBuckets> counts{};

    static int bucketFor(qint64 bytes);
    static qint64 bucketLow(int bucket);    // smallest size in the bucket
    static qint64 bucketHigh(int bucket);   // largest size in the bucket (inclusive)
    static QString bucketLabel(int bucket); // "0", "1", "2-3", "4-7", ... "1G+"
    qint64 total() const;
    void add(const SizeHistogram &other);
};

enum class ClientState {
    Connected, // reading and echoing
    Paused,    // not reading: its unsent echo passed the high-water mark
    Draining,  // the client half-closed; finishing the echo before closing
    Closed,
    Handshaking, // TLS listener: accepted, the TLS handshake not finished yet
    Stopped,     // not reading: the stop-reading fault
};

// A copy of one client's counters at one moment: what the UI and logs read.
struct ClientSnapshot
{
    quint64 id = 0;
    IpProtocol transport = IpProtocol::Tcp;
    QHostAddress peerAddress = nullHostAddress();
    quint16 peerPort = 0;
    qint64 connectedAtMs = 0;  // ms since the epoch
    qint64 lastActivityMs = 0; // ms since the epoch: last byte in or out
    qint64 bytesIn = 0;
    qint64 bytesOut = 0;
    qint64 messagesIn = 0;
    qint64 messagesOut = 0;
    qint64 messageBytesIn = 0;    // payload bytes of the messages framed
    qint64 lastMessageBytes = -1; // -1: no message yet
    qint64 minMessageBytes = -1;
    qint64 maxMessageBytes = -1;
    qint64 unsentBytes = 0;     // echo queued in user space, not yet taken by the kernel
    qint64 peakUnsentBytes = 0; // the most it has ever been
    ClientState state = ClientState::Connected;
    SizeHistogram histogram;
    FaultConfig faults;           // the faults injected into its echo (empty: none)
    bool faultsPerClient = false; // set for this client rather than for all clients
    // TLS listener, once the handshake is done: "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256.
    // Empty (0) for a plain connection or before the handshake.
    QString tlsProtocol;
    QString tlsCipher;
    int tlsCipherBits = 0;
    // WebSocket clients, once upgraded: the request target ("/chat") and the pings
    // received (each answered by Qt WebSockets with a pong). See ClientStats::webSocket().
    QString webSocketResource;
    qint64 webSocketPings = 0;
};

// The live counters of one connection. The session's thread is the only writer
// and updates them with relaxed atomic stores: no lock and no allocation on the
// echo path. Any thread may read them at any time through snapshot().
class ClientStats
{
public:
    ClientStats(quint64 id, const QHostAddress &peerAddress, quint16 peerPort, qint64 connectedAtMs,
                qint64 captureBytes = 0, IpProtocol transport = IpProtocol::Tcp,
                CaptureBuffer::Policy capturePolicy = CaptureBuffer::Policy::DropOldest);
    ClientStats(const ClientStats &) = delete;
    ClientStats &operator=(const ClientStats &) = delete;

    quint64 id() const { return m_id; }
    IpProtocol transport() const { return m_transport; }
    QHostAddress peerAddress() const { return m_peerAddress; }
    quint16 peerPort() const { return m_peerPort; }
    qint64 connectedAtMs() const { return m_connectedAtMs; }
    // The server's end of the connection (a UDP peer: the address the UDP port is bound
    // to, which is unspecified when it listens on every address). Set once, before the
    // stats are shared with other threads; null and 0 when not known.
    void setServerEndpoint(const QHostAddress &address, quint16 port)
    {
        m_serverAddress = address;
        m_serverPort = port;
    }
    QHostAddress serverAddress() const { return m_serverAddress; }
    quint16 serverPort() const { return m_serverPort; }
    // The newest bytes in and out, for an inspector. Thread-safe on its own; its
    // capacity may be changed from any thread (for example while a client is watched).
    CaptureBuffer *capture() const { return m_capture.get(); }

    // Writer side: only the thread that owns the session.
    void addBytesIn(qint64 bytes, qint64 nowMs);
    void addBytesOut(qint64 bytes, qint64 nowMs);
    void addMessageIn(qint64 payloadBytes);
    void addMessageOut();
    void setUnsentBytes(qint64 bytes)
    {
        if (bytes == m_unsentBytes.load(std::memory_order_relaxed))
            return;
        store(m_unsentBytes, bytes);
        if (bytes > m_peakUnsentBytes.load(std::memory_order_relaxed))
            store(m_peakUnsentBytes, bytes);
        touch();
    }
    void setState(ClientState state)
    {
        m_state.store(int(state), std::memory_order_release);
        touch();
    }
    // Not on the echo path: only when faults are set or cleared.
    void setFaults(const FaultConfig &faults, bool perClient);
    // Once per connection, when its TLS handshake completes.
    void setTlsSession(const QString &protocol, const QString &cipher, int cipherBits);
    // WebSocket clients: the upgrade request and the frames; nullptr for the others.
    WebSocketLog *webSocket() const { return m_webSocket.get(); }

    // Change tracking, for a reader whose work should follow change rather than the
    // number of clients (TrafficMonitor). Set once, from any thread; from then on the
    // first update after takeChanged() puts the id in the feed (one relaxed load per
    // update otherwise). nullptr: no feed.
    void setChangeFeed(std::shared_ptr<ChangeFeed> feed);
    // True if anything moved since the last call (or since the feed was set), and
    // marks the client unchanged: the next update goes to the feed again. Call it
    // before snapshot(). One reader only.
    bool takeChanged() const { return m_changed.exchange(false, std::memory_order_acq_rel); }

    // Reader side: any thread.
    ClientSnapshot snapshot() const;
    ClientState state() const { return ClientState(m_state.load(std::memory_order_acquire)); }
    qint64 bytesIn() const { return m_bytesIn.load(std::memory_order_relaxed); }
    qint64 bytesOut() const { return m_bytesOut.load(std::memory_order_relaxed); }
    qint64 messagesIn() const { return m_messagesIn.load(std::memory_order_relaxed); }
    qint64 messagesOut() const { return m_messagesOut.load(std::memory_order_relaxed); }
    FaultConfig faults(bool *perClient = nullptr) const;

private:
    using Counter = std::atomic<qint64>;
    static void store(Counter &counter, qint64 value)
    {
        counter.store(value, std::memory_order_relaxed);
    }
    static void add(Counter &counter, qint64 delta)
    {
        // Single writer: a load and a store, no read-modify-write bus lock.
        counter.store(counter.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
    }
    // After an update: tells the feed the first time since the reader last looked.
    void touch()
    {
        if (!m_changed.load(std::memory_order_relaxed))
            reportChange();
    }
    void reportChange();

    const quint64 m_id;
    const IpProtocol m_transport;
    const QHostAddress m_peerAddress;
    const quint16 m_peerPort;
    const qint64 m_connectedAtMs;
    QHostAddress m_serverAddress = nullHostAddress(); // written once before the stats are shared
    quint16 m_serverPort = 0;
    const std::unique_ptr<CaptureBuffer> m_capture;
    const std::unique_ptr<WebSocketLog> m_webSocket;

    Counter m_lastActivityMs;
    Counter m_bytesIn{0};
    Counter m_bytesOut{0};
    Counter m_messagesIn{0};
    Counter m_messagesOut{0};
    Counter m_messageBytesIn{0};
    Counter m_lastMessageBytes{-1};
    Counter m_minMessageBytes{-1};
    Counter m_maxMessageBytes{-1};
    Counter m_unsentBytes{0};
    Counter m_peakUnsentBytes{0};
    std::atomic<int> m_state{int(ClientState::Connected)};
    // Written once, before m_tlsKnown is set (release); never changed after.
    QString m_tlsProtocol;
    QString m_tlsCipher;
    int m_tlsCipherBits = 0;
    std::atomic<bool> m_tlsKnown{false};
    std::array<Counter, SizeHistogram::kBuckets> m_histogram{};
    // Faults: rarely written, so a lock; m_hasFaults spares readers it when there are none.
    std::atomic<bool> m_hasFaults{false};
    mutable std::mutex m_faultsMutex;
    FaultConfig m_faults;
    bool m_faultsPerClient = false;
    // Change tracking: m_feed is published (release) after m_feedOwner is set.
    mutable std::atomic<bool> m_changed{true};
    std::atomic<ChangeFeed *> m_feed{nullptr};
    std::shared_ptr<ChangeFeed> m_feedOwner;
};

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::ClientSnapshot)
