#include "acceptor.h"

#include "clock.h"
#include "hostaddress.h"
#include "nativesocket.h"
#include "workerdispatcher.h"

#include <QSocketNotifier>
#include <QTcpServer>
#include <QTimer>

namespace Echoscope {

namespace {
constexpr int kListenBacklog = 1024;
// Connections accepted (or refused) per wake-up before the event loop gets a turn.
constexpr int kMaxAcceptsPerWakeup = 64;
} // namespace

QTcpServer *Acceptor::listen(const QHostAddress &address, quint16 port, QString *reason,
                             QObject *parent)
{
    auto *listener = new QTcpServer(parent);
    listener->setListenBacklogSize(kListenBacklog);
    if (!listener->listen(address, port)) {
        if (reason)
            *reason = listener->errorString();
        delete listener;
        return nullptr;
    }
    listener->pauseAccepting(); // it only listens; see the class comment
    return listener;
}

AcceptEpisode::~AcceptEpisode()
{
    closeSpare();
}

void AcceptEpisode::closeSpare()
{
    const std::lock_guard<std::mutex> locker(mutex);
    NativeSocket::closeSpareDescriptor(spare);
    spare = -1;
}

Acceptor::Acceptor(const std::atomic<int> *liveClients, std::shared_ptr<AcceptEpisode> episode,
                   QObject *parent)
    : QObject(parent), m_liveClients(liveClients), m_episode(std::move(episode))
{
    m_retryTimer = new QTimer(this);
    m_retryTimer->setSingleShot(true);
    m_retryTimer->setInterval(kAcceptRetryMs);
    connect(m_retryTimer, &QTimer::timeout, this, [this] {
        if (m_notifier)
            m_notifier->setEnabled(true);
    });
}

Acceptor::~Acceptor()
{
    close();
}

void Acceptor::startAccepting(qintptr listener)
{
    Q_ASSERT(!m_notifier);
    m_listener = listener;
    {
        const std::lock_guard<std::mutex> locker(m_episode->mutex);
        if (m_episode->spare < 0)
            m_episode->spare = NativeSocket::openSpareDescriptor();
    }
    // The property is read when the notifier is registered, so it is set before.
    m_notifier = new QSocketNotifier(QSocketNotifier::Read, this);
    m_notifier->setProperty(WorkerDispatcher::kExclusiveWakeUp, true);
    m_notifier->setSocket(listener);
    connect(m_notifier, &QSocketNotifier::activated, this, &Acceptor::acceptPending);
    m_notifier->setEnabled(true);
}

void Acceptor::close()
{
    delete m_notifier; // stop accepting first
    m_notifier = nullptr;
    m_listener = -1;
    m_retryTimer->stop();
}

// Accepts what is pending, at most kMaxAcceptsPerWakeup; more pending makes the notifier
// fire again on the next pass of the event loop.
void Acceptor::acceptPending()
{
    if (!m_notifier)
        return;
    for (int round = 0; round < kMaxAcceptsPerWakeup; ++round) {
        std::unique_lock<std::mutex> lock(m_episode->mutex, std::defer_lock);
        if (m_episode->reported.load(std::memory_order_acquire))
            lock.lock(); // in an episode: one worker at a time
        qintptr descriptor = -1;
        QHostAddress peer = nullHostAddress(); // allocates only for a connection accepted
        quint16 peerPort = 0;
        const NativeSocket::Result result =
            NativeSocket::accept(m_listener, &descriptor, &peer, &peerPort);
        if (result == NativeSocket::Result::Done) {
            const std::optional<TrafficEvent> end =
                lock.owns_lock() ? endEpisodeLocked() : std::nullopt;
            if (lock.owns_lock())
                lock.unlock();
            if (!deliver(descriptor, peer, peerPort, end))
                return; // closed by a receiver
            continue;
        }
        if (result == NativeSocket::Result::WouldBlock)
            return; // nothing left, or another worker took it
        if (result == NativeSocket::Result::Reset)
            continue; // gone before it was accepted: only that one
        const int error = NativeSocket::lastError();
        const QString errorText = NativeSocket::errorString();
        if (!lock.owns_lock())
            lock.lock();
        const std::optional<TrafficEvent> start = startEpisodeLocked(error, errorText);
        const Shed shed =
            NativeSocket::isDescriptorLimit(error) ? shedOneConnectionLocked() : Shed();
        const std::optional<TrafficEvent> end =
            shed.delivered >= 0 ? endEpisodeLocked() : std::nullopt;
        lock.unlock();

        if (start)
            emit eventOccurred(*start);
        if (shed.delivered >= 0) {
            if (!m_notifier) {
                NativeSocket::close(shed.delivered);
                return; // closed by a receiver
            }
            if (!deliver(shed.delivered, shed.peer, shed.peerPort, end))
                return;
        } else if (shed.refused && m_notifier) {
            emit connectionShed(shed.peer, shed.peerPort, shed.reason);
        }
        if (!m_notifier)
            return; // closed by a receiver
        if (!shed.ok) {
            m_notifier->setEnabled(false);
            m_retryTimer->start();
            return;
        }
    }
}

// Out of descriptors: gives up the spare so that the oldest pending connection can be
// accepted, and closes that at once as refused, then takes the spare back. ok is false if
// that cannot be done (no spare, or it cannot be taken back).
Acceptor::Shed Acceptor::shedOneConnectionLocked()
{
    Shed shed;
    qintptr &spare = m_episode->spare;
    if (spare < 0) {
        spare = NativeSocket::openSpareDescriptor();
        if (spare < 0)
            return shed;
    }
    NativeSocket::closeSpareDescriptor(spare);
    qintptr descriptor = -1;
    const NativeSocket::Result result =
        NativeSocket::accept(m_listener, &descriptor, &shed.peer, &shed.peerPort);
    spare = NativeSocket::openSpareDescriptor();
    if (result != NativeSocket::Result::Done) {
        shed.ok = result != NativeSocket::Result::Error && spare >= 0;
        return shed;
    }
    if (spare >= 0) { // room for both: descriptors were freed
        shed.delivered = descriptor;
        shed.ok = true;
        return shed;
    }
    const qint64 limit = NativeSocket::openFileLimit();
    shed.reason = limit > 0 ? tr("out of file descriptors (open-file limit %1)").arg(limit)
                            : tr("out of file descriptors");
    shed.refused = true;
    ++m_episode->refused;
    NativeSocket::close(descriptor); // frees the spare's slot again
    spare = NativeSocket::openSpareDescriptor();
    shed.ok = spare >= 0;
    return shed;
}

// Hands an accepted connection over, after the end of an accept-error episode if one
// ended. Returns false if a receiver closed the acceptor (a connection accepted after that
// is closed here, not handed over).
bool Acceptor::deliver(qintptr descriptor, const QHostAddress &peer, quint16 peerPort,
                       const std::optional<TrafficEvent> &episodeEnd)
{
    if (episodeEnd) {
        emit eventOccurred(*episodeEnd);
        if (!m_notifier) {
            NativeSocket::close(descriptor);
            return false;
        }
    }
    emit connectionAccepted(descriptor, peer, peerPort);
    return m_notifier != nullptr;
}

// The episode ends when a connection was accepted and a descriptor is free beside it (a
// probe, kept as the spare if that is missing): a connection that only got the slot
// another worker's spare freed for a moment does not end it.
std::optional<TrafficEvent> Acceptor::endEpisodeLocked()
{
    if (!m_episode->reported.load(std::memory_order_relaxed))
        return std::nullopt;
    const qintptr probe = NativeSocket::openSpareDescriptor();
    if (probe < 0)
        return std::nullopt; // still at the limit
    if (m_episode->spare < 0)
        m_episode->spare = probe;
    else
        NativeSocket::closeSpareDescriptor(probe);
    m_episode->reported.store(0, std::memory_order_relaxed);
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Warning;
    event.timestampMs = Clock::wallMs();
    event.count = m_episode->refused;
    event.text = tr("accepting connections again after %1 s (%2 refused meanwhile)")
                     .arg(double(event.timestampMs - m_episode->sinceMs) / 1000.0, 0, 'f', 1)
                     .arg(m_episode->refused);
    return event;
}

std::optional<TrafficEvent> Acceptor::startEpisodeLocked(int error, const QString &errorText)
{
    if (m_episode->reported.load(std::memory_order_relaxed))
        return std::nullopt;
    m_episode->reported.store(1, std::memory_order_release);
    m_episode->sinceMs = Clock::wallMs();
    m_episode->refused = 0;
    const bool shedding = NativeSocket::isDescriptorLimit(error) && m_episode->spare >= 0;
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Error;
    event.timestampMs = m_episode->sinceMs;
    const int liveClients = m_liveClients->load(std::memory_order_relaxed);
    event.text = tr("cannot accept connections: %1 (open-file limit %2, %3 client(s) connected); "
                    "%4",
                    nullptr, liveClients)
                     .arg(errorText)
                     .arg(NativeSocket::openFileLimit())
                     .arg(liveClients)
                     .arg(shedding ? tr("new connections are refused at once until descriptors "
                                        "are free")
                                   : tr("retrying every %1 ms").arg(kAcceptRetryMs));
    return event;
}

} // namespace Echoscope
