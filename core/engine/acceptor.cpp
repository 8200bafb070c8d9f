#include "acceptor.h"

#include "clock.h"
#include "nativesocket.h"

#include <QSocketNotifier>
#include <QTcpServer>
#include <QTimer>

namespace Echoscope {

namespace {
constexpr int kListenBacklog = 1024;
// Connections accepted (or refused) per wake-up before the event loop gets a turn.
constexpr int kMaxAcceptsPerWakeup = 64;
} // namespace

Acceptor::Acceptor(const std::atomic<int> *liveClients, QObject *parent)
    : QObject(parent), m_liveClients(liveClients)
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

bool Acceptor::listen(const QHostAddress &address, quint16 port, QString *reason)
{
    Q_ASSERT(!m_listener);
    auto *listener = new QTcpServer(this);
    listener->setListenBacklogSize(kListenBacklog);
    if (!listener->listen(address, port)) {
        if (reason)
            *reason = listener->errorString();
        delete listener;
        return false;
    }
    listener->pauseAccepting(); // it only listens; see the class comment
    m_listener = listener;
    return true;
}

void Acceptor::startAccepting()
{
    Q_ASSERT(m_listener && !m_notifier);
    m_notifier = new QSocketNotifier(m_listener->socketDescriptor(), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &Acceptor::acceptPending);
    m_spareDescriptor = NativeSocket::openSpareDescriptor();
    m_acceptErrorReported = false;
}

void Acceptor::close()
{
    delete m_notifier; // stop accepting first; the notifier goes before its descriptor
    m_notifier = nullptr;
    delete m_listener;
    m_listener = nullptr;
    m_retryTimer->stop();
    NativeSocket::closeSpareDescriptor(m_spareDescriptor);
    m_spareDescriptor = -1;
    m_acceptErrorReported = false;
}

QHostAddress Acceptor::serverAddress() const
{
    return m_listener ? m_listener->serverAddress() : QHostAddress();
}

quint16 Acceptor::serverPort() const
{
    return m_listener ? m_listener->serverPort() : 0;
}

// Accepts what is pending, at most kMaxAcceptsPerWakeup; more pending makes the notifier
// fire again on the next pass of the event loop.
void Acceptor::acceptPending()
{
    if (!m_notifier)
        return;
    const qintptr listener = m_listener->socketDescriptor();
    for (int round = 0; round < kMaxAcceptsPerWakeup; ++round) {
        qintptr descriptor = -1;
        QHostAddress peer;
        quint16 peerPort = 0;
        const NativeSocket::Result result =
            NativeSocket::accept(listener, &descriptor, &peer, &peerPort);
        if (result == NativeSocket::Result::Done) {
            if (!deliver(descriptor, peer, peerPort))
                return; // closed by a receiver
            continue;
        }
        if (result == NativeSocket::Result::WouldBlock)
            return;
        if (result == NativeSocket::Result::Reset)
            continue; // gone before it was accepted: only that one
        const int error = NativeSocket::lastError();
        reportAcceptError(error, NativeSocket::errorString());
        if (!m_notifier)
            return; // closed by a receiver of the error event
        const bool shed = NativeSocket::isDescriptorLimit(error) && shedOneConnection(listener);
        if (!m_notifier)
            return; // closed by a receiver
        if (!shed) {
            m_notifier->setEnabled(false);
            m_retryTimer->start();
            return;
        }
    }
}

// Out of descriptors: gives up the spare so that the oldest pending connection can be
// accepted, and closes that at once as refused, then takes the spare back. Returns
// false if that cannot be done (no spare, or it cannot be taken back).
bool Acceptor::shedOneConnection(qintptr listener)
{
    if (m_spareDescriptor < 0) {
        m_spareDescriptor = NativeSocket::openSpareDescriptor();
        if (m_spareDescriptor < 0)
            return false;
    }
    NativeSocket::closeSpareDescriptor(m_spareDescriptor);
    qintptr descriptor = -1;
    QHostAddress peer;
    quint16 peerPort = 0;
    const NativeSocket::Result result =
        NativeSocket::accept(listener, &descriptor, &peer, &peerPort);
    m_spareDescriptor = NativeSocket::openSpareDescriptor();
    if (result != NativeSocket::Result::Done)
        return result != NativeSocket::Result::Error && m_spareDescriptor >= 0;
    if (m_spareDescriptor >= 0) {
        deliver(descriptor, peer, peerPort); // room for both: descriptors were freed
        return true;
    }
    const qint64 limit = NativeSocket::openFileLimit();
    const QString reason = limit > 0 ? tr("out of file descriptors (open-file limit %1)").arg(limit)
                                     : tr("out of file descriptors");
    ++m_refusedSinceAcceptError;
    NativeSocket::close(descriptor); // frees the spare's slot again
    emit connectionShed(peer, peerPort, reason);
    if (!m_notifier)
        return false; // closed by a receiver: no spare to take back
    m_spareDescriptor = NativeSocket::openSpareDescriptor();
    return m_spareDescriptor >= 0;
}

// Hands an accepted connection over, after the end of an accept-error episode if one was
// reported. Returns false if a receiver closed the acceptor (a connection accepted after
// that is closed here, not handed over).
bool Acceptor::deliver(qintptr descriptor, const QHostAddress &peer, quint16 peerPort)
{
    if (m_acceptErrorReported) {
        m_acceptErrorReported = false;
        TrafficEvent event;
        event.kind = TrafficEvent::Kind::Warning;
        event.timestampMs = Clock::wallMs();
        event.count = m_refusedSinceAcceptError;
        event.text = tr("accepting connections again after %1 s (%2 refused meanwhile)")
                         .arg(double(event.timestampMs - m_acceptErrorSinceMs) / 1000.0, 0, 'f', 1)
                         .arg(m_refusedSinceAcceptError);
        emit eventOccurred(event);
        if (!m_notifier) {
            NativeSocket::close(descriptor);
            return false;
        }
    }
    emit connectionAccepted(descriptor, peer, peerPort);
    return m_notifier != nullptr;
}

void Acceptor::reportAcceptError(int error, const QString &errorText)
{
    if (m_acceptErrorReported)
        return;
    m_acceptErrorReported = true;
    m_acceptErrorSinceMs = Clock::wallMs();
    m_refusedSinceAcceptError = 0;
    const bool shedding = NativeSocket::isDescriptorLimit(error) && m_spareDescriptor >= 0;
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Error;
    event.timestampMs = m_acceptErrorSinceMs;
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
    emit eventOccurred(event);
}

} // namespace Echoscope
