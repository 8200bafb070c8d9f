#include "clientsession.h"

#include "clock.h"
#include "transportmessageframer.h"
#include "translations.h"

#include <QLoggingCategory>
#include <QTimer>

Q_LOGGING_CATEGORY(lcSession, "echoscope.session", QtWarningMsg)

namespace Echoscope {

namespace {
// How many reads one readiness notification may do before other sessions get a turn.
constexpr int kMaxReadsPerWakeup = 4;
// Release the echo queue's memory once it has drained, if it grew past this.
constexpr qsizetype kKeepPendingCapacity = 64 * 1024;

qint64 nowMs()
{
    return Clock::wallMs(); // timestamps only; windows use Clock::monotonicMs()
}
} // namespace

ClientSession::ClientSession(std::unique_ptr<Transport> transport,
                             std::shared_ptr<ClientStats> stats, const ServerConfig &config,
                             QByteArray *readBuffer, SessionOwner *owner, QObject *parent)
    : QObject(parent)
    , m_transport(std::move(transport))
    , m_stats(std::move(stats))
    , m_config(config)
    , m_readBuffer(readBuffer)
    , m_owner(owner)
    , m_lastActivityMs(Clock::monotonicMs())
{
    if (m_transport->preservesMessages()) {
        // The transport's messages are the messages, whatever the framing setting says.
        auto framer = std::make_unique<TransportMessageFramer>(config.maxMessageBytes);
        m_messageFramer = framer.get();
        m_framer = std::move(framer);
    } else {
        m_framer = Framer::create(config.framing, config.maxMessageBytes);
    }
    Q_ASSERT(m_framer); // the server validated the config before starting
}

// Destroyed without close(), the transport releases the descriptor all the same.
ClientSession::~ClientSession() = default;

void ClientSession::start()
{
    if (m_transport->hasHandshake()) {
        enterState(State::Handshaking);
        m_handshakeTimer = new QTimer(this);
        m_handshakeTimer->setSingleShot(true);
        connect(m_handshakeTimer, &QTimer::timeout, this, &ClientSession::handshakeTimedOut);
        m_handshakeTimer->start(handshakeTimeoutMs());
    }
    m_transport->start(this, this);
    if (isFinished())
        return; // the transport could not start
    if (m_config.idleTimeoutMs > 0) {
        m_idleTimer = new QTimer(this);
        m_idleTimer->setSingleShot(true);
        m_idleTimer->setTimerType(Qt::CoarseTimer);
        connect(m_idleTimer, &QTimer::timeout, this, &ClientSession::idleTimerFired);
        m_idleTimer->start(m_config.idleTimeoutMs);
    }
    if (m_config.messageEventsPerSecond > 0) {
        m_sampleWindow.setLimit(m_config.messageEventsPerSecond);
        m_summaryTimer = new QTimer(this);
        m_summaryTimer->setSingleShot(true);
        connect(m_summaryTimer, &QTimer::timeout, this, &ClientSession::flushMessageSummary);
    }
}

void ClientSession::close(DisconnectReason reason, const QString &detail)
{
    finish(reason, detail);
}

void ClientSession::touch()
{
    if (m_idleTimer)
        m_lastActivityMs = Clock::monotonicMs();
}

void ClientSession::readReady()
{
    if (m_state != State::Reading || m_slowClosing)
        return; // a readiness report that crossed a change of state: nothing to do
    char *buffer = m_readBuffer->data();
    const qint64 capacity = m_readBuffer->size();
    for (int round = 0; round < kMaxReadsPerWakeup; ++round) {
        qint64 received = 0;
        const auto result = m_transport->read(buffer, capacity, &received);
        if (result == Transport::Result::Done) {
            bytesRead(buffer, received);
            const QByteArrayView data(buffer, received);
            const Framer::Status status = m_messageFramer && m_transport->lastReadEndedMessage()
                                              ? m_messageFramer->feedEnd(data, *this)
                                              : m_framer->feed(data, *this);
            if (status == Framer::Status::MessageTooLarge) {
                finish(DisconnectReason::MessageTooLarge, tooLargeDetail());
                return;
            }
            if (m_state != State::Reading)
                return; // the echo failed, backpressure, or a fault: stop reading
            if (received < capacity)
                return; // most likely drained; readiness is reported again if not
            continue;
        }
        if (result == Transport::Result::EndOfFile)
            endOfInput();
        else if (result != Transport::Result::WouldBlock)
            handleIoResult(int(result), "read");
        return;
    }
}

// Every byte taken from the transport is counted, captured and signalled, whether it
// is framed and echoed or drained at a close.
void ClientSession::bytesRead(const char *data, qint64 bytes)
{
    const qint64 now = nowMs();
    m_stats->addBytesIn(bytes, now);
    quint8 flags = 0; // a message transport's reads keep their messages in the capture
    if (m_messageFramer) {
        if (m_transport->lastReadEndedMessage())
            flags |= CaptureChunk::EndsMessage;
        if (m_transport->lastReadWasText())
            flags |= CaptureChunk::TextMessage;
    }
    m_stats->capture()->append(CaptureChunk::Direction::Received, data, bytes, now, flags);
    touch();
    m_owner->sessionBytesReceived(id(), bytes);
}

void ClientSession::messageFramed(QByteArrayView wire, qint64 payloadBytes)
{
    if (isFinished())
        return;
    m_stats->addMessageIn(payloadBytes);
    if (m_summaryTimer)
        sampleMessage(wire, payloadBytes);

    const bool faulted = m_faults && m_faults->isActive();
    if (faulted && m_faults->blackholes()) {
        m_faults->messageDiscarded(wire.size()); // read and counted in, never echoed
        return;
    }
    m_echoCommitted += wire.size();
    if (faulted && m_faults->messageQueued(m_echoCommitted, wire.size())) {
        finish(DisconnectReason::FaultReset, m_faults->trigger(FaultInjector::Trigger::ResetDrawn));
        return;
    }
    qsizetype written = 0;
    if (unsentBytes() == 0 && (!faulted || wire.isEmpty())) {
        // The common case: nothing queued, so echo straight from the read buffer.
        if (!wire.isEmpty()) {
            qint64 n = 0;
            const auto result = m_transport->write(wire.data(), wire.size(), &n);
            if (result == Transport::Result::Done) {
                written = qsizetype(n);
                echoWritten(wire.data(), n);
            } else if (result != Transport::Result::WouldBlock) {
                handleIoResult(int(result), "write");
                return;
            }
        }
        if (written == wire.size()) {
            m_stats->addMessageOut();
            m_owner->sessionMessageEchoed(id(), payloadBytes);
            return;
        }
    }
    m_pending.append(wire.data() + written, wire.size() - written);
    m_queuedMessages.push_back({m_echoCommitted, payloadBytes});
    m_stats->setUnsentBytes(unsentBytes());
    reconsider();
}

void ClientSession::echoWritten(const char *data, qint64 bytes)
{
    if (bytes <= 0)
        return;
    m_echoWritten += bytes;
    const qint64 now = nowMs();
    m_stats->addBytesOut(bytes, now);
    m_stats->capture()->append(CaptureChunk::Direction::Echoed, data, bytes, now);
    touch();
    m_owner->sessionBytesEchoed(id(), bytes);
}

bool ClientSession::flushPending()
{
    while (unsentBytes() > 0) {
        qint64 n = 0;
        const qint64 size = writableBytes(); // less than unsent while a fault holds some back
        if (size == 0)
            break;
        const auto result = m_transport->write(m_pending.constData() + m_pendingStart, size, &n);
        if (result == Transport::Result::WouldBlock)
            break;
        if (result != Transport::Result::Done) {
            handleIoResult(int(result), "write");
            return false;
        }
        echoWritten(m_pending.constData() + m_pendingStart, n);
        m_pendingStart += qsizetype(n);
        if (m_faults)
            m_faults->bytesWritten(m_echoWritten, n);
        while (!m_queuedMessages.empty() && m_queuedMessages.front().endOffset <= m_echoWritten) {
            const qint64 payloadBytes = m_queuedMessages.front().payloadBytes;
            m_queuedMessages.pop_front();
            m_stats->addMessageOut();
            m_owner->sessionMessageEchoed(id(), payloadBytes);
            if (isFinished())
                return false;
        }
        if (!checkFaultLimit())
            return false;
        if (n < size)
            break; // the kernel's buffer is full
    }
    if (unsentBytes() == 0) {
        if (m_pending.capacity() > kKeepPendingCapacity)
            m_pending = QByteArray();
        else
            m_pending.clear();
        m_pendingStart = 0;
    } else if (m_pendingStart > m_pending.size() / 2) {
        m_pending.remove(0, m_pendingStart);
        m_pendingStart = 0;
    }
    m_stats->setUnsentBytes(unsentBytes());
    return true;
}

void ClientSession::writeReady()
{
    if (isFinished() || m_slowClosing)
        return;
    if (!flushPending())
        return;
    reconsider();
}

void ClientSession::enterState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    switch (state) {
    case State::Handshaking:
        m_stats->setState(ClientState::Handshaking);
        break;
    case State::Reading:
        m_stats->setState(ClientState::Connected);
        break;
    case State::Paused:
        m_stats->setState(ClientState::Paused);
        qCDebug(lcSession) << "client" << id() << "paused with" << unsentBytes() << "bytes unsent";
        break;
    case State::Stopped:
        m_stats->setState(ClientState::Stopped);
        break;
    case State::Draining:
        m_stats->setState(ClientState::Draining);
        break;
    case State::Closed:
        break; // finish() publishes it once the counters are final
    }
}

void ClientSession::reconsider()
{
    if (m_state == State::Closed || m_state == State::Handshaking || m_slowClosing)
        return;
    if (m_peerClosed && !m_transport->canWriteAfterPeerClose()) {
        // TLS: the peer's close ended the connection both ways; nothing can follow.
        const qint64 drained = drainInput();
        finishSlowly(DisconnectReason::ClosedByPeer, lostOnCloseDetail(drained),
                     QT_TR_NOOP("after the client's close"));
        return;
    }
    if (m_state == State::Draining) {
        updateWriting();
        if (unsentBytes() == 0) {
            const qint64 incomplete = m_framer->bufferedBytes();
            finishSlowly(DisconnectReason::ClosedByPeer,
                         incomplete > 0 ? incompleteDetail(incomplete) : QString(),
                         QT_TR_NOOP("after the client's end and the last echo"));
        }
        return;
    }
    // Backpressure, with hysteresis between the high- and low-water marks.
    const qint64 unsent = unsentBytes();
    const bool faultQueueFull = m_faults && m_faults->isQueueFull();
    if (!m_backpressure && (unsent > m_config.highWaterBytes || faultQueueFull))
        m_backpressure = true;
    else if (m_backpressure && unsent < m_config.lowWaterBytes && !faultQueueFull)
        m_backpressure = false;
    if (m_faults && m_faults->stopsReading())
        enterState(State::Stopped);
    else
        enterState(m_backpressure ? State::Paused : State::Reading);
    updateWriting();
    // Turning reading on reports what is waiting, the remembered end of the stream too
    // (a level-triggered plain transport reports it as readable; TLS re-posts it).
    setReadWanted(m_state == State::Reading);
}

void ClientSession::setReadWanted(bool wanted)
{
    if (m_readWanted == wanted)
        return;
    m_readWanted = wanted;
    m_transport->setReadEnabled(wanted);
}

void ClientSession::setWriteWanted(bool wanted)
{
    if (m_writeWanted == wanted)
        return;
    m_writeWanted = wanted;
    m_transport->setWriteNotificationEnabled(wanted);
}

// The write notifier is on only while there is echo the kernel may take now; echo a
// fault holds back waits for the injector's timer instead (no busy notifier).
void ClientSession::updateWriting()
{
    if (isFinished())
        return;
    const qint64 unsent = unsentBytes();
    if (unsent == 0 || !m_faults) {
        setWriteWanted(unsent > 0);
        return;
    }
    const bool writable = m_faults->writableBytes(m_echoWritten, unsent) > 0;
    setWriteWanted(writable);
    if (!writable)
        m_faults->scheduleWake(m_echoWritten, unsent);
}

qint64 ClientSession::writableBytes()
{
    const qint64 unsent = unsentBytes();
    return m_faults ? m_faults->writableBytes(m_echoWritten, unsent) : unsent;
}

// Ends the connection if a fault's byte limit is reached; false if it did.
bool ClientSession::checkFaultLimit()
{
    if (!m_faults)
        return true;
    const FaultInjector::Trigger trigger = m_faults->limitReached(m_echoWritten);
    if (trigger == FaultInjector::Trigger::None)
        return true;
    if (trigger == FaultInjector::Trigger::CloseAfter) {
        const QString detail = m_faults->trigger(trigger);
        finishSlowly(DisconnectReason::FaultClose, detail,
                     QT_TR_NOOP("after the close fault's limit"));
        return false; // closed, or closing once the slow close's wait is over
    }
    finish(DisconnectReason::FaultReset, m_faults->trigger(trigger));
    return false;
}

void ClientSession::setFaults(const FaultConfig &given, FaultScope scope, const QString &source)
{
    if (isFinished())
        return;
    const FaultConfig faults = given.forTransport(m_stats->transport()); // no UDP rates
    if (!m_faults) {
        if (faults.isEmpty() && scope == FaultScope::AllClients)
            return; // none now, none before
        m_faults = new FaultInjector(m_stats, this);
        connect(m_faults, &FaultInjector::wake, this, &ClientSession::writeReady);
        connect(m_faults, &FaultInjector::timedOut, this, &ClientSession::faultTimedOut);
        connect(m_faults, &FaultInjector::eventOccurred, this,
                [this](const TrafficEvent &event) { m_owner->sessionEvent(event); });
    }
    m_faults->setConfig(faults, scope, m_echoWritten, source);
    if (!checkFaultLimit())
        return;
    // Held echo may go now, or must wait differently; reading may start or stop.
    writeReady();
}

FaultScope ClientSession::faultScope() const
{
    return m_faults ? m_faults->scope() : FaultScope::AllClients;
}

// Reads and drops what the transport already holds, counted and captured like every
// read (not echoed): before an orderly close on a fault, so that the kernel sends a FIN
// after the echo rather than a reset for unread data, and when a TLS peer's close ends a
// session whose reading was off. Bounded: at most kMaxReadsPerWakeup reads. Returns the
// bytes drained.
qint64 ClientSession::drainInput()
{
    char *buffer = m_readBuffer->data();
    const qint64 capacity = m_readBuffer->size();
    qint64 drained = 0;
    for (int round = 0; round < kMaxReadsPerWakeup; ++round) {
        qint64 received = 0;
        if (m_transport->read(buffer, capacity, &received) != Transport::Result::Done)
            break;
        bytesRead(buffer, received);
        drained += received;
    }
    return drained;
}

// What a close that nothing can follow leaves behind, as a sentence (empty: nothing).
QString ClientSession::lostOnCloseDetail(qint64 drainedBytes) const
{
    QStringList lost;
    if (const qint64 unsent = unsentBytes(); unsent > 0)
        lost.append(
            tr("%1 byte(s) of echo could not be sent", nullptr, Translations::pluralCount(unsent))
                .arg(unsent));
    if (const qint64 incomplete = m_framer->bufferedBytes(); incomplete > 0)
        lost.append(incompleteDetail(incomplete));
    if (drainedBytes > 0)
        lost.append(tr("%1 byte(s) that arrived while reading was off were not echoed", nullptr,
                       Translations::pluralCount(drainedBytes))
                        .arg(drainedBytes));
    return lost.join(QStringLiteral("; "));
}

// The transport says the peer closed. With reading on, read what is left (the end of
// the stream comes after it, as EndOfFile); with reading off, remember it:
// reconsider() closes at once where nothing can follow (TLS), otherwise the end is
// acted on when reading resumes.
void ClientSession::peerClosed()
{
    if (isFinished() || m_peerClosed)
        return;
    m_peerClosed = true;
    if (m_state == State::Reading)
        readReady(); // ends in endOfInput(), or leaves Reading having called reconsider()
    else
        reconsider();
}

// read() returned EndOfFile: every byte the client sent has been read.
void ClientSession::endOfInput()
{
    m_peerClosed = true;
    m_stats->capture()->markReceivedEnd(nowMs());
    if (m_framer->finish(*this) == Framer::Status::MessageTooLarge) {
        finish(DisconnectReason::MessageTooLarge, tooLargeDetail());
        return;
    }
    if (isFinished())
        return;
    if (!m_transport->canWriteAfterPeerClose()) {
        finishSlowly(DisconnectReason::ClosedByPeer, lostOnCloseDetail(0),
                     QT_TR_NOOP("after the client's close"));
        return;
    }
    setReadWanted(false);
    enterState(State::Draining);
    reconsider(); // nothing left to echo: close now
}

QString ClientSession::tooLargeDetail() const
{
    // Length mode knows the size from the header, before any payload arrives; the
    // other modes only know how much had arrived when the limit was crossed.
    if (m_config.framing.mode == FramingMode::Length)
        return tr("its length header declares %1 bytes, over the limit of %2 bytes; "
                  "closed without reading the payload")
            .arg(m_framer->oversizeBytes())
            .arg(m_config.maxMessageBytes);
    return tr("a message of %1 bytes or more exceeds the limit of %2 bytes")
        .arg(m_framer->oversizeBytes())
        .arg(m_config.maxMessageBytes);
}

QString ClientSession::incompleteDetail(qint64 bytes)
{
    return tr("an incomplete message of %1 byte(s) was not echoed", nullptr,
              Translations::pluralCount(bytes))
        .arg(bytes);
}

void ClientSession::transportEstablished()
{
    if (isFinished())
        return;
    delete m_handshakeTimer;
    m_handshakeTimer = nullptr;
    touch();
    const QList<TrafficEvent> events = m_transport->establishedEvents(m_stats.get());
    for (const TrafficEvent &said : events) {
        TrafficEvent event = clientEvent(said.kind);
        event.text = said.text;
        m_owner->sessionEvent(event);
    }
    enterState(State::Reading);
    reconsider(); // faults set during the handshake (stop reading) apply now
}

void ClientSession::transportFailed(DisconnectReason reason, const QString &detail)
{
    finish(reason, detail);
}

int ClientSession::handshakeTimeoutMs() const
{
    return m_transport->handshakeFailure() == DisconnectReason::WebSocketHandshakeFailed
               ? m_config.webSocketHandshakeTimeoutMs
               : m_config.tlsHandshakeTimeoutMs;
}

void ClientSession::handshakeTimedOut()
{
    if (isFinished())
        return;
    finish(m_transport->handshakeFailure(),
           tr("no %1 handshake within %2 s")
               .arg(m_transport->handshakeName())
               .arg(double(handshakeTimeoutMs()) / 1000.0, 0, 'g', 4));
}

void ClientSession::idleTimerFired()
{
    if (isFinished())
        return;
    const qint64 remainingMs = m_config.idleTimeoutMs - (Clock::monotonicMs() - m_lastActivityMs);
    if (m_slowClosing || (m_faults && m_faults->isHolding())) {
        // The stall is the server's own doing (a delay, a throttle, not reading): the
        // client is not idle, the idle clock starts again when the fault lets go.
        touch();
        m_idleTimer->start(m_config.idleTimeoutMs);
        return;
    }
    if (remainingMs > 0) {
        m_idleTimer->start(int(remainingMs));
        return;
    }
    finish(DisconnectReason::IdleTimeout,
           tr("nothing sent or received for %1 s")
               .arg(double(m_config.idleTimeoutMs) / 1000.0, 0, 'g', 4));
}

bool ClientSession::handleIoResult(int result, const char *operation)
{
    switch (NativeSocket::Result(result)) {
    case NativeSocket::Result::Done:
    case NativeSocket::Result::WouldBlock:
        return true;
    case NativeSocket::Result::EndOfFile:
    case NativeSocket::Result::Reset:
        finish(DisconnectReason::ResetByPeer, QString());
        return false;
    case NativeSocket::Result::Error:
        break;
    }
    finish(
        DisconnectReason::SocketError,
        QStringLiteral("%1 failed: %2").arg(QLatin1String(operation), m_transport->errorString()));
    return false;
}

TrafficEvent ClientSession::clientEvent(TrafficEvent::Kind kind) const
{
    TrafficEvent event;
    event.kind = kind;
    event.timestampMs = nowMs();
    event.clientId = id();
    event.transport = m_stats->transport();
    event.address = m_stats->peerAddress();
    event.port = m_stats->peerPort();
    return event;
}

void ClientSession::sampleMessage(QByteArrayView wire, qint64 payloadBytes)
{
    const qint64 now = Clock::monotonicMs();
    if (m_sampleWindow.admit(now, [this] { flushMessageSummary(); })) {
        TrafficEvent event = clientEvent(TrafficEvent::Kind::MessageEchoed);
        event.bytes = payloadBytes;
        const qsizetype headerBytes =
            m_config.framing.mode == FramingMode::Length ? m_config.framing.lengthBytes : 0;
        const qint64 previewBytes =
            qMin<qint64>(qMin<qint64>(payloadBytes, TrafficEvent::kPayloadPreviewBytes),
                         wire.size() - headerBytes);
        event.payload = QByteArray(wire.data() + headerBytes, qsizetype(previewBytes));
        m_owner->sessionEvent(event);
        return;
    }
    ++m_suppressedMessages;
    m_suppressedBytes += payloadBytes;
    if (!m_summaryTimer->isActive())
        m_summaryTimer->start(m_sampleWindow.msLeft(now));
}

void ClientSession::flushMessageSummary()
{
    if (m_summaryTimer)
        m_summaryTimer->stop();
    if (m_suppressedMessages == 0)
        return;
    TrafficEvent event = clientEvent(TrafficEvent::Kind::MessagesSummarised);
    event.count = m_suppressedMessages;
    event.bytes = m_suppressedBytes;
    m_suppressedMessages = 0;
    m_suppressedBytes = 0;
    m_owner->sessionEvent(event);
}

void ClientSession::finishSlowly(DisconnectReason reason, const QString &detail, const char *why)
{
    if (isFinished() || m_slowClosing)
        return;
    const int waitMs = m_faults ? m_faults->slowCloseMs() : 0;
    if (waitMs <= 0) {
        finish(reason, detail);
        return;
    }
    // Nothing more is read or written; the close comes when the wait is over (or sooner,
    // if the session is kicked or the server stops meanwhile).
    m_slowClosing = true;
    setReadWanted(false);
    setWriteWanted(false);
    m_faults->slowCloseStarted(tr(why));
    QTimer::singleShot(waitMs, Qt::PreciseTimer, this,
                       [this, reason, detail] { finish(reason, detail); });
}

void ClientSession::faultTimedOut()
{
    if (isFinished() || m_slowClosing || !m_faults)
        return;
    finish(DisconnectReason::FaultClose, m_faults->trigger(FaultInjector::Trigger::Timeout));
}

void ClientSession::finish(DisconnectReason reason, const QString &detail)
{
    if (isFinished())
        return;
    m_state = State::Closed; // the client's ClientState follows once the counters are final
    if (m_summaryTimer)
        flushMessageSummary();

    // Best effort: hand the kernel whatever echo is still queued before closing,
    // unless the peer is gone, or a fault ends it (its limit was exact).
    if (m_faults)
        m_faults->flushSummary();
    const bool byFault =
        reason == DisconnectReason::FaultClose || reason == DisconnectReason::FaultReset;
    if (reason != DisconnectReason::ResetByPeer && reason != DisconnectReason::SocketError &&
        !byFault && reason != DisconnectReason::TlsHandshakeFailed &&
        reason != DisconnectReason::WebSocketHandshakeFailed && unsentBytes() > 0) {
        qint64 n = 0;
        if (m_transport->write(m_pending.constData() + m_pendingStart, unsentBytes(), &n) ==
            Transport::Result::Done) {
            echoWritten(m_pending.constData() + m_pendingStart, n);
            m_pendingStart += qsizetype(n);
        }
    }

    delete m_idleTimer;
    m_idleTimer = nullptr;
    if (m_faults)
        m_faults->stop(); // its timers must not wake a closed session
    delete m_handshakeTimer;
    m_handshakeTimer = nullptr;
    if (reason == DisconnectReason::FaultClose) {
        drainInput(); // unread input would turn the close into a reset
        if (m_faults)
            m_transport->setFaultCloseCode(m_faults->config().closeCode);
    }
    m_transport->close(reason);

    DisconnectInfo info;
    info.reason = reason;
    info.detail = detail;
    if (reason == DisconnectReason::ClosedByPeer) {
        // How the peer ended it (a WebSocket close frame), before what it left behind.
        const QString how = m_transport->peerCloseDetail();
        if (!how.isEmpty())
            info.detail = detail.isEmpty() ? how : how + QStringLiteral("; ") + detail;
    }
    info.bytesIn = m_stats->bytesIn();
    info.bytesOut = m_stats->bytesOut();
    info.messagesIn = m_stats->messagesIn();
    info.messagesOut = m_stats->messagesOut();
    info.durationMs = qMax<qint64>(0, nowMs() - m_stats->connectedAtMs());
    info.oversizeBytes = reason == DisconnectReason::MessageTooLarge
                             ? qMax(m_framer->oversizeBytes(), m_transport->oversizeBytes())
                             : 0;
    info.incompleteBytes =
        reason == DisconnectReason::MessageTooLarge ? 0 : m_framer->bufferedBytes();
    m_stats->setUnsentBytes(unsentBytes());
    m_stats->setState(ClientState::Closed);
    m_pending = QByteArray();
    m_pendingStart = 0;
    m_queuedMessages.clear();
    m_owner->sessionFinished(this, info);
}

} // namespace Echoscope
