#include "udpechoservice.h"

#include "clock.h"
#include "translations.h"

#include <QLoggingCategory>
#include <QSocketNotifier>
#include <QTimer>

#include <utility>

Q_LOGGING_CATEGORY(lcUdp, "echoscope.udp", QtWarningMsg)

namespace Echoscope {

namespace {
qint64 nowMs()
{
    return Clock::wallMs(); // timestamps only; windows and expiry use Clock::monotonicMs()
}

QString secondsText(int milliseconds)
{
    return QString::number(double(milliseconds) / 1000.0, 'g', 4);
}
} // namespace

UdpEchoService::UdpEchoService(qintptr descriptor, const ServerConfig &config,
                               IdAllocator allocateId, PeerCallback peerSeen,
                               EventCallback postEvent, QObject *parent)
    : QObject(parent)
    , m_descriptor(descriptor)
    , m_config(config)
    , m_filter(config.allowNetworks, config.denyNetworks)
    , m_allocateId(std::move(allocateId))
    , m_peerSeen(std::move(peerSeen))
    , m_postEvent(std::move(postEvent))
    // One byte more than the largest datagram, so that a larger one shows as truncated.
    , m_buffer(NativeUdpSocket::kMaxDatagramBytes + 1, Qt::Uninitialized)
{
    // The address and port each peer's datagrams went to (unspecified on every address).
    NativeUdpSocket::localAddress(m_descriptor, &m_localAddress, &m_localPort);
}

UdpEchoService::~UdpEchoService()
{
    // shutdown() normally ran in the service's thread; this is the safety net.
    delete m_readNotifier;
    if (m_descriptor >= 0)
        NativeUdpSocket::close(m_descriptor);
}

void UdpEchoService::start()
{
    m_readNotifier = new QSocketNotifier(m_descriptor, QSocketNotifier::Read, this);
    connect(m_readNotifier, &QSocketNotifier::activated, this, &UdpEchoService::readPending);
    m_expiryTimer = new QTimer(this);
    m_expiryTimer->setSingleShot(true);
    m_expiryTimer->setTimerType(Qt::CoarseTimer);
    connect(m_expiryTimer, &QTimer::timeout, this, &UdpEchoService::expireIdle);
    m_summaryTimer = new QTimer(this);
    m_summaryTimer->setSingleShot(true);
    connect(m_summaryTimer, &QTimer::timeout, this, &UdpEchoService::flushSummaries);
    m_faultSummaryTimer = new QTimer(this);
    m_faultSummaryTimer->setSingleShot(true);
    m_faultSummaryTimer->setTimerType(Qt::CoarseTimer);
    connect(m_faultSummaryTimer, &QTimer::timeout, this, &UdpEchoService::flushFaultSummaries);
    // Datagrams that came between the bind and now are pending: the notifier reports them.
}

UdpTotals UdpEchoService::totals() const
{
    UdpTotals totals;
    totals.datagramsIn = m_datagramsIn.load(std::memory_order_relaxed);
    totals.oversized = m_oversized.load(std::memory_order_relaxed);
    totals.echoesDropped = m_echoesDropped.load(std::memory_order_relaxed);
    totals.icmpErrors = m_icmpErrors.load(std::memory_order_relaxed);
    totals.refused = m_refused.load(std::memory_order_relaxed);
    return totals;
}

void UdpEchoService::bump(std::atomic<qint64> &counter)
{
    // Single writer: a load and a store, as ClientStats does.
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

qint64 UdpEchoService::monoMs() const
{
    return Clock::monotonicMs();
}

// Reads what is pending, a bounded number per wake-up so that the TCP sessions of this
// thread get their turn; the notifier fires again while more is pending.
void UdpEchoService::readPending()
{
    if (m_descriptor < 0)
        return;
    char *buffer = m_buffer.data();
    const qint64 capacity = NativeUdpSocket::kMaxDatagramBytes;
    for (int round = 0; round < kMaxDatagramsPerWakeup; ++round) {
        qint64 bytes = 0;
        bool truncated = false;
        NativeUdpSocket::Endpoint from;
        const auto result =
            NativeUdpSocket::receive(m_descriptor, buffer, capacity, &bytes, &truncated, &from);
        if (result == NativeUdpSocket::Result::Done) {
            handleDatagram(buffer, bytes, truncated, from);
            continue;
        }
        if (result == NativeUdpSocket::Result::WouldBlock) {
            // Woken with nothing to read: most likely an error in the queue (POLLERR).
            if (round == 0)
                drainErrors();
            forgetUnreachable();
            return;
        }
        if (result == NativeUdpSocket::Result::PendingError) {
            drainErrors(); // an ICMP error took this call's place; the datagrams wait
            continue;
        }
        const QString reason = NativeUdpSocket::errorString();
        drainErrors();
        forgetUnreachable();
        warn(m_receiveErrorReports, tr("UDP receive failed: %1; still listening").arg(reason));
        return;
    }
    forgetUnreachable();
}

void UdpEchoService::handleDatagram(const char *data, qint64 bytes, bool truncated,
                                    const NativeUdpSocket::Endpoint &from)
{
    bump(m_datagramsIn);
    const qint64 now = nowMs();
    const NativeUdpSocket::Key key = NativeUdpSocket::Key::of(from);
    auto found = m_byKey.constFind(key);
    PeerList::iterator peer;
    if (found != m_byKey.constEnd()) {
        peer = *found;
        peer->lastActivityMono = monoMs();
        m_peers.splice(m_peers.end(), m_peers, peer); // now the newest; iterators stay valid
    } else {
        const QHostAddress address = from.address();
        if (!m_filter.isEmpty()) {
            const QString reason = m_filter.refusalReason(address);
            if (!reason.isEmpty()) {
                refuse(from, bytes, m_filter.refusalKind(address), reason,
                       m_filter.refusalCategory(address));
                return;
            }
        }
        if (int(m_peers.size()) >= m_config.maxUdpPeers) {
            const QString reason =
                tr("max UDP peers reached (%1 tracked)").arg(m_config.maxUdpPeers);
            refuse(from, bytes, RefusalReason::MaxClients, reason, reason);
            return;
        }
        peer = addPeer(from, key, now);
    }

    ClientStats &stats = *peer->stats;
    const qint64 kept = qMin(bytes, NativeUdpSocket::kMaxDatagramBytes);
    stats.addBytesIn(bytes, now);
    stats.capture()->append(CaptureChunk::Direction::Received, data, kept, now);
    if (m_transfers.isOpen())
        emit bytesReceived(stats.id(), bytes);

    if (truncated || bytes > m_config.maxMessageBytes) {
        bump(m_oversized);
        if (admit(m_oversizedReports)) {
            TrafficEvent event = peerEvent(*peer, TrafficEvent::Kind::Warning);
            event.bytes = bytes;
            event.text =
                truncated
                    ? tr("oversized datagram of more than %1 bytes from %2: not echoed")
                          .arg(NativeUdpSocket::kMaxDatagramBytes)
                          .arg(TrafficEvent::endpoint(event.address, event.port))
                    : tr("oversized datagram of %1 byte(s) from %2: over the limit of %3 bytes, "
                         "not echoed",
                         nullptr, Translations::pluralCount(bytes))
                          .arg(bytes)
                          .arg(TrafficEvent::endpoint(event.address, event.port))
                          .arg(m_config.maxMessageBytes);
            m_postEvent(event);
        }
        return;
    }
    stats.addMessageIn(bytes);
    if (m_config.messageEventsPerSecond > 0)
        sampleMessage(*peer, data, bytes, now);
    if (peer->faults.isEmpty())
        echo(peer, data, bytes);
    else
        echoWithFaults(peer, data, bytes);
}

void UdpEchoService::echoWithFaults(PeerList::iterator peer, const char *data, qint64 bytes)
{
    Peer &p = *peer;
    const FaultConfig &faults = p.faults;
    if (faults.blackhole) {
        countFault(p, &Peer::discarded);
        return;
    }
    // One draw per rate that is set, in a fixed order, so that a seed repeats them all.
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    const auto strikes = [&p, &uniform](double rate) {
        return rate > 0.0 && (rate >= 1.0 || uniform(p.random) < rate);
    };
    const bool lose = faults.udpLoss > 0.0 && strikes(faults.udpLoss);
    const bool corrupt = faults.udpCorrupt > 0.0 && strikes(faults.udpCorrupt);
    const bool duplicate = faults.udpDuplicate > 0.0 && strikes(faults.udpDuplicate);
    const bool reorder = faults.udpReorder > 0.0 && strikes(faults.udpReorder);
    if (lose) {
        countFault(p, &Peer::lost);
        return;
    }
    QByteArray corrupted;
    if (corrupt && bytes > 0) {
        corrupted = QByteArray(data, qsizetype(bytes));
        std::uniform_int_distribution<qint64> bit(0, bytes * 8 - 1);
        const qint64 flipped = bit(p.random);
        corrupted[qsizetype(flipped / 8)] =
            char(corrupted.at(qsizetype(flipped / 8)) ^ char(1 << (flipped % 8)));
        data = corrupted.constData();
        countFault(p, &Peer::corrupted);
    }
    if (reorder && !p.holding) {
        // Held until the next echo to this peer has gone.
        p.held = QByteArray(data, qsizetype(bytes));
        p.holding = true;
        countFault(p, &Peer::reordered);
        return;
    }
    echo(peer, data, bytes);
    if (duplicate) {
        echo(peer, data, bytes);
        countFault(p, &Peer::duplicated);
    }
    if (p.holding) {
        const QByteArray held = std::exchange(p.held, QByteArray());
        p.holding = false;
        echo(peer, held.constData(), held.size());
    }
}

void UdpEchoService::countFault(Peer &peer, qint64 Peer::*counter)
{
    if (peer.discarded + peer.lost + peer.duplicated + peer.reordered + peer.corrupted == 0)
        m_pendingFaultSummaries.append(peer.stats->id());
    ++(peer.*counter);
    if (m_faultSummaryTimer && !m_faultSummaryTimer->isActive())
        m_faultSummaryTimer->start(1000);
}

void UdpEchoService::flushFaultSummary(Peer &peer)
{
    const qint64 total =
        peer.discarded + peer.lost + peer.duplicated + peer.reordered + peer.corrupted;
    if (total == 0)
        return;
    QStringList parts;
    const auto part = [&parts](qint64 count, const QString &text) {
        if (count > 0)
            parts << text.arg(count);
    };
    part(peer.discarded, tr("%1 discarded by the blackhole"));
    part(peer.lost, tr("%1 lost"));
    part(peer.duplicated, tr("%1 duplicated"));
    part(peer.reordered, tr("%1 reordered"));
    part(peer.corrupted, tr("%1 corrupted"));
    TrafficEvent event = peerEvent(peer, TrafficEvent::Kind::FaultInjected);
    event.count = total;
    event.text = tr("UDP echoes: %1 in the last second").arg(parts.join(QStringLiteral(", ")));
    peer.discarded = peer.lost = peer.duplicated = peer.reordered = peer.corrupted = 0;
    m_pendingFaultSummaries.removeOne(peer.stats->id());
    m_postEvent(event);
}

void UdpEchoService::flushFaultSummaries()
{
    if (m_faultSummaryTimer)
        m_faultSummaryTimer->stop();
    const QList<quint64> peers = std::exchange(m_pendingFaultSummaries, {});
    for (quint64 id : peers) {
        const auto found = m_byId.constFind(id);
        if (found != m_byId.constEnd())
            flushFaultSummary(**found);
    }
}

void UdpEchoService::applyFaults(Peer &peer, const FaultConfig &given, bool own,
                                 const QString &source)
{
    // What a datagram's echo can take: the blackhole and the UDP rates (echoWithFaults).
    const FaultConfig faults = given.forTransport(IpProtocol::Udp);
    const FaultConfig old = peer.faults;
    const bool wasOwn = peer.ownFaults;
    if (!peer.seeded || faults.seed != old.seed) {
        // Each peer its own sequence, repeatable for a given seed (as ClientSession's).
        const quint32 seed = faults.seed != 0
                                 ? faults.seed ^ quint32(peer.stats->id() * 0x9e3779b9u)
                                 : std::random_device()();
        peer.random.seed(seed);
        peer.seeded = true;
    }
    peer.faults = faults;
    peer.ownFaults = own;
    peer.stats->setFaults(faults, own);
    if (peer.holding && (faults.udpReorder <= 0.0 || faults.blackhole)) {
        // The reorder fault lifted: what it held goes now, late but not lost.
        const QByteArray held = std::exchange(peer.held, QByteArray());
        peer.holding = false;
        if (!faults.blackhole)
            echo(m_byId.value(peer.stats->id()), held.constData(), held.size());
    }
    if (faults == old && own == wasOwn)
        return;
    flushFaultSummary(peer);
    TrafficEvent event = peerEvent(peer, TrafficEvent::Kind::FaultInjected);
    if (own)
        event.text = faults.isEmpty() ? tr("faults cleared for this client")
                                      : tr("faults set: %1").arg(faults.describe());
    else if (wasOwn)
        event.text = tr("faults: back to those for all clients (%1)").arg(faults.describe());
    else
        return; // the server logs the faults for all clients once
    if (!source.isEmpty())
        event.text += QLatin1Char(' ') + tr("(by %1)").arg(source);
    m_postEvent(event);
}

void UdpEchoService::setDefaultFaults(const FaultConfig &faults)
{
    m_defaultFaults = faults;
    for (Peer &peer : m_peers) {
        if (!peer.ownFaults)
            applyFaults(peer, faults, false);
    }
}

bool UdpEchoService::setPeerFaults(quint64 clientId, const FaultConfig &faults,
                                   const QString &source)
{
    const auto found = m_byId.constFind(clientId);
    if (found == m_byId.constEnd())
        return false;
    applyFaults(**found, faults, true, source);
    return true;
}

bool UdpEchoService::followDefaultFaults(quint64 clientId, const QString &source)
{
    const auto found = m_byId.constFind(clientId);
    if (found == m_byId.constEnd())
        return false;
    applyFaults(**found, m_defaultFaults, false, source);
    return true;
}

UdpEchoService::PeerList::iterator UdpEchoService::addPeer(const NativeUdpSocket::Endpoint &from,
                                                           const NativeUdpSocket::Key &key,
                                                           qint64 now)
{
    Peer peer;
    peer.endpoint = from;
    peer.key = key;
    peer.sampleWindow.setLimit(m_config.messageEventsPerSecond);
    peer.lastActivityMono = monoMs();
    peer.stats = std::make_shared<ClientStats>(m_allocateId(), from.address(), from.port(), now,
                                               m_config.captureBytesPerClient, IpProtocol::Udp);
    peer.stats->setServerEndpoint(m_localAddress, m_localPort);
    const auto it = m_peers.insert(m_peers.end(), std::move(peer));
    m_byKey.insert(key, it);
    m_byId.insert(it->stats->id(), it);
    if (!m_defaultFaults.isEmpty())
        applyFaults(*it, m_defaultFaults, false);
    m_livePeers.fetch_add(1, std::memory_order_relaxed);

    TrafficEvent event = peerEvent(*it, TrafficEvent::Kind::Connected);
    event.timestampMs = now;
    m_peerSeen(it->stats, event);
    if (!m_expiryTimer->isActive())
        scheduleExpiry();
    return it;
}

void UdpEchoService::echo(PeerList::iterator peer, const char *data, qint64 bytes)
{
    ClientStats &stats = *peer->stats;
    auto result = NativeUdpSocket::send(m_descriptor, data, bytes, peer->endpoint);
    if (result == NativeUdpSocket::Result::PendingError) {
        // An earlier echo's ICMP error failed this send in its place: read it, try again.
        drainErrors();
        result = NativeUdpSocket::send(m_descriptor, data, bytes, peer->endpoint);
    }
    if (result == NativeUdpSocket::Result::Done) {
        const qint64 now = nowMs();
        stats.addBytesOut(bytes, now);
        stats.capture()->append(CaptureChunk::Direction::Echoed, data, bytes, now);
        stats.addMessageOut();
        if (m_transfers.isOpen()) {
            emit bytesEchoed(stats.id(), bytes);
            emit messageEchoed(stats.id(), bytes);
        }
        return;
    }
    bump(m_echoesDropped);
    const QString reason = result == NativeUdpSocket::Result::WouldBlock
                               ? tr("the socket's send buffer is full")
                               : NativeUdpSocket::errorString();
    if (admit(m_dropReports)) {
        TrafficEvent event = peerEvent(*peer, TrafficEvent::Kind::Warning);
        event.bytes = bytes;
        event.text =
            tr("echo of %1 byte(s) to %2 dropped: %3", nullptr, Translations::pluralCount(bytes))
                .arg(bytes)
                .arg(TrafficEvent::endpoint(event.address, event.port), reason);
        m_postEvent(event);
    }
}

// Reads the socket's error queue: each entry is an ICMP error about an echo, with the
// address it was sent to. A port unreachable marks that peer as gone.
void UdpEchoService::drainErrors()
{
    // Bounded like the reads: the queue is limited by the socket's receive buffer anyway.
    for (int round = 0; round < kMaxDatagramsPerWakeup; ++round) {
        NativeUdpSocket::QueuedError error;
        if (!NativeUdpSocket::readError(m_descriptor, &error))
            return;
        bump(m_icmpErrors);
        const NativeUdpSocket::Key key = NativeUdpSocket::Key::of(error.to);
        const auto found = m_byKey.constFind(key);
        if (error.portUnreachable && found != m_byKey.constEnd()) {
            if (m_unreachable.contains(key))
                continue; // said once per peer: the rest of its echoes bounce the same way
            m_unreachable.append(key);
        }
        if (!admit(m_icmpReports))
            continue;
        TrafficEvent event;
        if (found != m_byKey.constEnd()) {
            event = peerEvent(**found, TrafficEvent::Kind::Warning);
        } else {
            event.kind = TrafficEvent::Kind::Warning;
            event.timestampMs = nowMs();
            event.transport = IpProtocol::Udp;
            event.address = error.to.address();
            event.port = error.to.port();
        }
        const QString what = error.portUnreachable
                                 ? tr("port unreachable")
                                 : error.text.left(1).toLower() + error.text.mid(1);
        const QString endpoint = TrafficEvent::endpoint(event.address, event.port);
        if (error.fromIcmp && !error.reportedBy.isNull())
            event.text = tr("echo to %1 bounced: %2 (ICMP from %3)")
                             .arg(endpoint, what, error.reportedBy.toString());
        else if (error.fromIcmp)
            event.text = tr("echo to %1 bounced: %2 (ICMP)").arg(endpoint, what);
        else
            event.text = tr("echo to %1 bounced: %2").arg(endpoint, what);
        m_postEvent(event);
    }
}

void UdpEchoService::forgetUnreachable()
{
    while (!m_unreachable.isEmpty()) {
        const auto found = m_byKey.constFind(m_unreachable.takeFirst());
        if (found != m_byKey.constEnd())
            forget(*found, DisconnectReason::Unreachable,
                   tr("an echo came back as ICMP port unreachable: the peer's socket is "
                      "closed"));
    }
}

void UdpEchoService::forget(PeerList::iterator peer, DisconnectReason reason, const QString &detail)
{
    flushPeerSummary(*peer);
    flushFaultSummary(*peer);
    if (peer->holding) {
        // The datagram the reorder fault held back for after the next echo: there is none.
        const int held = 1; // a peer holds at most one
        TrafficEvent dropped = peerEvent(*peer, TrafficEvent::Kind::FaultInjected);
        dropped.count = held;
        dropped.bytes = peer->held.size();
        dropped.text = tr("%n held datagram(s) dropped: the peer was forgotten (%1)", nullptr, held)
                           .arg(DisconnectInfo::reasonText(reason));
        peer->held.clear();
        peer->holding = false;
        m_postEvent(dropped);
    }
    ClientStats &stats = *peer->stats;
    stats.setState(ClientState::Closed);
    TrafficEvent event = peerEvent(*peer, TrafficEvent::Kind::Disconnected);
    DisconnectInfo &info = event.disconnect;
    info.reason = reason;
    info.detail = detail;
    info.bytesIn = stats.bytesIn();
    info.bytesOut = stats.bytesOut();
    info.messagesIn = stats.messagesIn();
    info.messagesOut = stats.messagesOut();
    info.durationMs = qMax<qint64>(0, event.timestampMs - stats.connectedAtMs());
    m_byKey.remove(peer->key);
    m_byId.remove(stats.id());
    m_pendingPeerSummaries.removeOne(stats.id());
    m_peers.erase(peer);
    m_livePeers.fetch_sub(1, std::memory_order_relaxed);
    m_postEvent(event);
}

bool UdpEchoService::disconnectPeer(quint64 clientId, const QString &detail)
{
    const auto found = m_byId.constFind(clientId);
    if (found == m_byId.constEnd())
        return false;
    forget(*found, DisconnectReason::Kicked, detail);
    if (m_peers.empty() && m_expiryTimer)
        m_expiryTimer->stop();
    return true;
}

void UdpEchoService::expireIdle()
{
    const qint64 now = monoMs();
    while (!m_peers.empty() &&
           now - m_peers.front().lastActivityMono >= m_config.udpIdleTimeoutMs) {
        forget(m_peers.begin(), DisconnectReason::IdleTimeout,
               tr("no datagram for %1 s").arg(secondsText(m_config.udpIdleTimeoutMs)));
    }
    scheduleExpiry();
}

void UdpEchoService::scheduleExpiry()
{
    if (m_peers.empty()) {
        m_expiryTimer->stop();
        return;
    }
    const qint64 due = m_peers.front().lastActivityMono + m_config.udpIdleTimeoutMs;
    m_expiryTimer->start(int(qBound(qint64(0), due - monoMs(), qint64(m_config.udpIdleTimeoutMs))));
}

void UdpEchoService::shutdown(DisconnectReason reason)
{
    delete m_readNotifier; // the notifier goes before its descriptor
    m_readNotifier = nullptr;
    if (m_descriptor >= 0) {
        drainErrors();
        m_unreachable.clear(); // every peer ends with `reason` now
    }
    while (!m_peers.empty())
        forget(m_peers.begin(), reason, QString());
    flushSummaries();
    delete m_faultSummaryTimer;
    m_faultSummaryTimer = nullptr;
    delete m_expiryTimer;
    m_expiryTimer = nullptr;
    delete m_summaryTimer;
    m_summaryTimer = nullptr;
    if (m_descriptor >= 0)
        NativeUdpSocket::close(m_descriptor);
    m_descriptor = -1;
}

TrafficEvent UdpEchoService::peerEvent(const Peer &peer, TrafficEvent::Kind kind) const
{
    TrafficEvent event;
    event.kind = kind;
    event.timestampMs = nowMs();
    event.clientId = peer.stats->id();
    event.transport = IpProtocol::Udp;
    event.address = peer.stats->peerAddress();
    event.port = peer.stats->peerPort();
    return event;
}

void UdpEchoService::sampleMessage(Peer &peer, const char *data, qint64 bytes, qint64 now)
{
    const qint64 mono = Clock::monotonicMs();
    if (peer.sampleWindow.admit(mono, [this, &peer] { flushPeerSummary(peer); })) {
        TrafficEvent event = peerEvent(peer, TrafficEvent::Kind::MessageEchoed);
        event.timestampMs = now;
        event.bytes = bytes;
        event.payload =
            QByteArray(data, qsizetype(qMin<qint64>(bytes, TrafficEvent::kPayloadPreviewBytes)));
        m_postEvent(event);
        return;
    }
    if (peer.suppressedMessages == 0)
        m_pendingPeerSummaries.append(peer.stats->id());
    ++peer.suppressedMessages;
    peer.suppressedBytes += bytes;
    if (!m_summaryTimer->isActive())
        m_summaryTimer->start(peer.sampleWindow.msLeft(mono));
}

void UdpEchoService::flushPeerSummary(Peer &peer)
{
    if (peer.suppressedMessages == 0)
        return;
    TrafficEvent event = peerEvent(peer, TrafficEvent::Kind::MessagesSummarised);
    event.count = std::exchange(peer.suppressedMessages, 0);
    event.bytes = std::exchange(peer.suppressedBytes, 0);
    m_pendingPeerSummaries.removeOne(peer.stats->id());
    m_postEvent(event);
}

void UdpEchoService::refuse(const NativeUdpSocket::Endpoint &from, qint64 bytes, RefusalReason kind,
                            const QString &reason, const QString &category)
{
    bump(m_refused);
    if (admit(m_refusals)) {
        TrafficEvent event;
        event.kind = TrafficEvent::Kind::Refused;
        event.timestampMs = nowMs();
        event.transport = IpProtocol::Udp;
        event.address = from.address();
        event.port = from.port();
        event.bytes = bytes;
        event.refusal = kind;
        event.text =
            tr("%1; UDP datagram of %2 byte(s) dropped", nullptr, Translations::pluralCount(bytes))
                .arg(reason)
                .arg(bytes);
        m_postEvent(event);
        return;
    }
    m_suppressedRefusals[category].add(kind);
}

// True if a report of this kind may be shown now; otherwise it is counted for the
// summary, which the summary timer writes at the end of the window.
bool UdpEchoService::admit(Throttle &throttle)
{
    const qint64 now = Clock::monotonicMs();
    if (throttle.window.admit(now, [this, &throttle] {
            if (throttle.suppressed > 0)
                flushSummaries();
        }))
        return true;
    ++throttle.suppressed;
    if (m_summaryTimer && !m_summaryTimer->isActive())
        m_summaryTimer->start(throttle.window.msLeft(now));
    return false;
}

void UdpEchoService::warn(Throttle &throttle, const QString &text)
{
    if (!admit(throttle))
        return;
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Warning;
    event.timestampMs = nowMs();
    event.transport = IpProtocol::Udp;
    event.text = text;
    m_postEvent(event);
}

void UdpEchoService::flushSummaries()
{
    if (m_summaryTimer)
        m_summaryTimer->stop();
    const QList<quint64> peers = std::exchange(m_pendingPeerSummaries, {});
    for (quint64 id : peers) {
        const auto found = m_byId.constFind(id);
        if (found != m_byId.constEnd())
            flushPeerSummary(**found);
    }
    if (m_refusals.suppressed > 0) {
        m_refusals.suppressed = 0;
        const auto suppressed = std::exchange(m_suppressedRefusals, {});
        for (auto it = suppressed.cbegin(); it != suppressed.cend(); ++it) {
            TrafficEvent event;
            event.kind = TrafficEvent::Kind::Refused;
            event.timestampMs = nowMs();
            event.transport = IpProtocol::Udp;
            event.count = it->count;
            event.refusal = it->kind;
            event.text = tr("+%1 UDP datagram(s) refused in the last second: %2", nullptr,
                            Translations::pluralCount(it->count))
                             .arg(it->count)
                             .arg(it.key());
            m_postEvent(event);
        }
    }
    for (Throttle *throttle :
         {&m_oversizedReports, &m_dropReports, &m_icmpReports, &m_receiveErrorReports}) {
        if (throttle->suppressed == 0)
            continue;
        TrafficEvent event;
        event.kind = TrafficEvent::Kind::Warning;
        event.timestampMs = nowMs();
        event.transport = IpProtocol::Udp;
        event.count = std::exchange(throttle->suppressed, 0);
        event.text =
            tr(throttle->summary, nullptr, Translations::pluralCount(event.count)).arg(event.count);
        m_postEvent(event);
    }
}

} // namespace Echoscope
