#include "clientstats.h"

#include <limits>

namespace Echoscope {

int SizeHistogram::bucketFor(qint64 bytes)
{
    if (bytes <= 0)
        return 0;
    int bucket = 1;
    while (bucket < kBuckets - 1 && (bytes >> bucket) != 0)
        ++bucket;
    return bucket;
}

qint64 SizeHistogram::bucketLow(int bucket)
{
    return bucket <= 0 ? 0 : qint64(1) << (bucket - 1);
}

qint64 SizeHistogram::bucketHigh(int bucket)
{
    if (bucket <= 0)
        return 0;
    if (bucket >= kBuckets - 1)
        return std::numeric_limits<qint64>::max();
    return (qint64(1) << bucket) - 1;
}

static QString sizeLabel(qint64 bytes)
{
    if (bytes >= (qint64(1) << 30) && bytes % (qint64(1) << 30) == 0)
        return QString::number(bytes >> 30) + QLatin1Char('G');
    if (bytes >= (qint64(1) << 20) && bytes % (qint64(1) << 20) == 0)
        return QString::number(bytes >> 20) + QLatin1Char('M');
    if (bytes >= 1024 && bytes % 1024 == 0)
        return QString::number(bytes >> 10) + QLatin1Char('K');
    return QString::number(bytes);
}

QString SizeHistogram::bucketLabel(int bucket)
{
    const qint64 low = bucketLow(bucket);
    if (bucket >= kBuckets - 1)
        return sizeLabel(low) + QLatin1Char('+');
    const qint64 high = bucketHigh(bucket);
    if (low == high)
        return sizeLabel(low);
    // Upper bound shown as the next power of two, exclusive: "1K-2K" reads better than
    // "1024-2047".
    return sizeLabel(low) + QLatin1Char('-') + sizeLabel(high + 1);
}

qint64 SizeHistogram::total() const
{
    qint64 sum = 0;
    for (qint64 count : counts)
        sum += count;
    return sum;
}

void SizeHistogram::add(const SizeHistogram &other)
{
    for (int i = 0; i < kBuckets; ++i)
        counts[size_t(i)] += other.counts[size_t(i)];
}

ClientStats::ClientStats(quint64 id, const QHostAddress &peerAddress, quint16 peerPort,
                         qint64 connectedAtMs, qint64 captureBytes, IpProtocol transport,
                         CaptureBuffer::Policy capturePolicy)
    : m_id(id)
    , m_transport(transport)
    , m_peerAddress(peerAddress)
    , m_peerPort(peerPort)
    , m_connectedAtMs(connectedAtMs)
    , m_capture(std::make_unique<CaptureBuffer>(captureBytes, capturePolicy))
    , m_webSocket(transport == IpProtocol::WebSocket ? std::make_unique<WebSocketLog>() : nullptr)
    , m_lastActivityMs(connectedAtMs)
{
    for (Counter &bucket : m_histogram)
        bucket.store(0, std::memory_order_relaxed);
    // One chunk per datagram, or per WebSocket message (per read for one over 64 KiB).
    m_capture->setKeepsBoundaries(transport != IpProtocol::Tcp);
}

void ClientStats::addBytesIn(qint64 bytes, qint64 nowMs)
{
    add(m_bytesIn, bytes);
    store(m_lastActivityMs, nowMs);
    touch();
}

void ClientStats::addBytesOut(qint64 bytes, qint64 nowMs)
{
    add(m_bytesOut, bytes);
    store(m_lastActivityMs, nowMs);
    touch();
}

void ClientStats::setChangeFeed(std::shared_ptr<ChangeFeed> feed)
{
    if (m_feed.load(std::memory_order_acquire))
        return; // once
    m_feedOwner = std::move(feed);
    m_feed.store(m_feedOwner.get(), std::memory_order_release);
}

void ClientStats::reportChange()
{
    m_changed.store(true, std::memory_order_relaxed);
    if (ChangeFeed *feed = m_feed.load(std::memory_order_acquire))
        feed->mark(m_id);
}

void ClientStats::addMessageIn(qint64 payloadBytes)
{
    add(m_messagesIn, 1);
    add(m_messageBytesIn, payloadBytes);
    store(m_lastMessageBytes, payloadBytes);
    const qint64 minimum = m_minMessageBytes.load(std::memory_order_relaxed);
    if (minimum < 0 || payloadBytes < minimum)
        store(m_minMessageBytes, payloadBytes);
    if (payloadBytes > m_maxMessageBytes.load(std::memory_order_relaxed))
        store(m_maxMessageBytes, payloadBytes);
    add(m_histogram[size_t(SizeHistogram::bucketFor(payloadBytes))], 1);
    touch();
}

void ClientStats::addMessageOut()
{
    add(m_messagesOut, 1);
    touch();
}

void ClientStats::setTlsSession(const QString &protocol, const QString &cipher, int cipherBits)
{
    if (m_tlsKnown.load(std::memory_order_relaxed))
        return;
    m_tlsProtocol = protocol;
    m_tlsCipher = cipher;
    m_tlsCipherBits = cipherBits;
    m_tlsKnown.store(true, std::memory_order_release);
    touch();
}

ClientSnapshot ClientStats::snapshot() const
{
    ClientSnapshot s;
    s.id = m_id;
    s.transport = m_transport;
    s.peerAddress = m_peerAddress;
    s.peerPort = m_peerPort;
    s.connectedAtMs = m_connectedAtMs;
    s.state = state(); // acquire: counters written before a state change are visible
    s.lastActivityMs = m_lastActivityMs.load(std::memory_order_relaxed);
    s.bytesIn = bytesIn();
    s.bytesOut = bytesOut();
    s.messagesIn = messagesIn();
    s.messagesOut = messagesOut();
    s.messageBytesIn = m_messageBytesIn.load(std::memory_order_relaxed);
    s.lastMessageBytes = m_lastMessageBytes.load(std::memory_order_relaxed);
    s.minMessageBytes = m_minMessageBytes.load(std::memory_order_relaxed);
    s.maxMessageBytes = m_maxMessageBytes.load(std::memory_order_relaxed);
    s.unsentBytes = m_unsentBytes.load(std::memory_order_relaxed);
    s.peakUnsentBytes = m_peakUnsentBytes.load(std::memory_order_relaxed);
    for (int i = 0; i < SizeHistogram::kBuckets; ++i)
        s.histogram.counts[size_t(i)] = m_histogram[size_t(i)].load(std::memory_order_relaxed);
    s.faults = faults(&s.faultsPerClient);
    if (m_tlsKnown.load(std::memory_order_acquire)) {
        s.tlsProtocol = m_tlsProtocol;
        s.tlsCipher = m_tlsCipher;
        s.tlsCipherBits = m_tlsCipherBits;
    }
    if (m_webSocket && m_webSocket->hasRequest()) {
        s.webSocketResource = m_webSocket->request().resource;
        s.webSocketPings = m_webSocket->pingsReceived();
    }
    return s;
}

void ClientStats::setFaults(const FaultConfig &faults, bool perClient)
{
    std::lock_guard<std::mutex> lock(m_faultsMutex);
    m_faults = faults;
    m_faultsPerClient = perClient;
    m_hasFaults.store(!faults.isEmpty() || perClient, std::memory_order_release);
    touch();
}

FaultConfig ClientStats::faults(bool *perClient) const
{
    if (!m_hasFaults.load(std::memory_order_acquire)) {
        if (perClient)
            *perClient = false;
        return FaultConfig();
    }
    std::lock_guard<std::mutex> lock(m_faultsMutex);
    if (perClient)
        *perClient = m_faultsPerClient;
    return m_faults;
}

} // namespace Echoscope
