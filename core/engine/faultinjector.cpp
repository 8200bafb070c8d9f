#include "faultinjector.h"

#include "clientstats.h"
#include "clock.h"
#include "numbertext.h"
#include "translations.h"

#include <QLocale>
#include <QStringList>
#include <QTimer>

#include <cmath>

namespace Echoscope {

namespace {
constexpr int kSummaryIntervalMs = 1000;

// "1,024": C-locale digits with thousands separators.
QString countText(qint64 value)
{
    QLocale locale = QLocale::c();
    locale.setNumberOptions(QLocale::DefaultNumberOptions);
    return locale.toString(value);
}

// " (by the control API)" after a fault event's text; nothing without a source.
QString bySource(const QString &source)
{
    return source.isEmpty() ? QString()
                            : QLatin1Char(' ') + FaultInjector::tr("(by %1)").arg(source);
}
} // namespace

FaultInjector::FaultInjector(std::shared_ptr<ClientStats> stats, QObject *parent)
    : QObject(parent), m_stats(std::move(stats))
{
    m_timer = new QTimer(this);
    m_timer->setSingleShot(true);
    m_timer->setTimerType(Qt::PreciseTimer); // a 5 ms gap should not become 20
    connect(m_timer, &QTimer::timeout, this, &FaultInjector::wake);
    m_summaryTimer = new QTimer(this);
    m_summaryTimer->setSingleShot(true);
    m_summaryTimer->setTimerType(Qt::CoarseTimer);
    connect(m_summaryTimer, &QTimer::timeout, this, &FaultInjector::flushSummary);
    m_timeoutTimer = new QTimer(this);
    m_timeoutTimer->setSingleShot(true);
    m_timeoutTimer->setTimerType(Qt::PreciseTimer);
    connect(m_timeoutTimer, &QTimer::timeout, this, &FaultInjector::timedOut);
}

FaultInjector::~FaultInjector() = default;

qint64 FaultInjector::nowMs()
{
    return Clock::monotonicMs();
}

bool FaultInjector::isHolding() const
{
    return m_active &&
           (m_config.stopReading || timesOut() || !m_gates.empty() || m_timer->isActive());
}

void FaultInjector::setConfig(const FaultConfig &config, FaultScope scope, qint64 echoWritten,
                              const QString &source)
{
    const FaultConfig old = m_config;
    const FaultScope oldScope = m_scope;
    const bool wasActive = m_active;
    const qint64 now = nowMs();
    m_config = config;
    m_scope = scope;
    m_active = !config.isEmpty();

    if (!wasActive || config.seed != old.seed) {
        // Each client its own sequence, repeatable for a given seed.
        const quint32 seed = config.seed != 0 ? config.seed ^ quint32(m_stats->id() * 0x9e3779b9u)
                                              : std::random_device()();
        m_random.seed(seed);
    }
    if (config.delayMs == 0)
        m_gates.clear(); // what was held goes out now
    if (!m_active || !config.hasMessageFaults())
        m_spared.clear();
    if (!wasActive || config.toxicity != old.toxicity || !config.hasMessageFaults())
        m_sparedTotal = 0;
    // The timeout counts from when it is set (or changed); cleared, it lets go.
    if (!m_active || config.timeoutMs <= 0)
        m_timeoutTimer->stop();
    else if (!wasActive || config.timeoutMs != old.timeoutMs || !m_timeoutTimer->isActive())
        m_timeoutTimer->start(config.timeoutMs);
    if (!wasActive || config.bandwidthBytesPerSecond != old.bandwidthBytesPerSecond) {
        m_tokens = tokenCapacity();
        m_tokensAtMs = now;
    }
    if (!wasActive || config.sliceBytes != old.sliceBytes || config.sliceGapMs != old.sliceGapMs) {
        m_sliceLeft = 0;
        m_nextSliceMs = 0;
    }
    if (!wasActive || config.closeAfterBytes != old.closeAfterBytes ||
        config.resetAfterBytes != old.resetAfterBytes)
        m_limitBase = echoWritten;
    m_timer->stop(); // the session asks again
    m_stats->setFaults(config, scope == FaultScope::ThisClient);

    if (scope == FaultScope::ThisClient && (config != old || oldScope != scope || !wasActive)) {
        emit eventOccurred(
            faultEvent((config.isEmpty() ? tr("faults cleared for this client")
                                         : tr("faults set: %1").arg(config.describe())) +
                       bySource(source)));
    } else if (scope == FaultScope::AllClients && oldScope == FaultScope::ThisClient) {
        emit eventOccurred(
            faultEvent(tr("faults: back to those for all clients (%1)").arg(config.describe()) +
                       bySource(source)));
    }
    if (!m_active)
        flushSummary();
}

bool FaultInjector::messageQueued(qint64 endOffset, qint64 bytes)
{
    if (!m_active)
        return false;
    ++m_messages;
    if (m_config.resetProbability > 0.0) {
        std::uniform_real_distribution<double> draw(0.0, 1.0);
        if (m_config.resetProbability >= 1.0 || draw(m_random) < m_config.resetProbability)
            return true;
    }
    if (bytes > 0 && m_config.toxicity < 1.0 && m_config.hasMessageFaults()) {
        std::uniform_real_distribution<double> draw(0.0, 1.0);
        if (!(draw(m_random) < m_config.toxicity)) {
            // Spared: no delay of its own, and no throttle or slicing for its bytes. It
            // still never overtakes echo held before it (one stream).
            const qint64 start = endOffset - bytes;
            if (!m_gates.empty())
                m_gates.back().endOffset = endOffset; // goes out with the one before it
            if (!m_spared.empty() && m_spared.back().second == start)
                m_spared.back().second = endOffset;
            else
                m_spared.emplace_back(start, endOffset);
            ++m_sparedTotal;
            ++m_sparedMessages;
            countSummary(nowMs());
            return false;
        }
    }
    if (m_config.delayMs > 0 && bytes > 0) {
        const qint64 now = nowMs();
        qint64 delay = m_config.delayMs;
        if (m_config.jitterMs > 0) {
            std::uniform_int_distribution<int> jitter(-m_config.jitterMs, m_config.jitterMs);
            delay += jitter(m_random);
        }
        m_lastDrawnDelayMs = delay;
        qint64 due = now + delay;
        if (m_gates.empty()) {
            m_gateStart = endOffset - bytes;
            m_gates.push_back({endOffset, due});
        } else if (m_gates.back().dueMs >= due) {
            m_gates.back().endOffset = endOffset; // never overtakes the one before it
            due = m_gates.back().dueMs;
        } else {
            m_gates.push_back({endOffset, due});
        }
        ++m_delayedMessages;
        m_delayTotalMs += due - now;
        countSummary(now);
    }
    return false;
}

void FaultInjector::releaseDueGates(qint64 now)
{
    while (!m_gates.empty() && m_gates.front().dueMs <= now) {
        m_gateStart = m_gates.front().endOffset;
        m_gates.pop_front();
    }
}

double FaultInjector::tokenCapacity() const
{
    return qMax(1.0, double(m_config.bandwidthBytesPerSecond) / 10.0);
}

void FaultInjector::refillTokens(qint64 now)
{
    if (now <= m_tokensAtMs)
        return;
    m_tokens = qMin(tokenCapacity(), m_tokens + double(m_config.bandwidthBytesPerSecond) *
                                                    double(now - m_tokensAtMs) / 1000.0);
    m_tokensAtMs = now;
}

void FaultInjector::messageDiscarded(qint64 bytes)
{
    ++m_discardedMessages;
    m_discardedBytes += bytes;
    countSummary(nowMs());
}

void FaultInjector::slowCloseStarted(const QString &why)
{
    flushSummary();
    emit eventOccurred(faultEvent(
        tr("slow close: closing in %1 ms, %2").arg(countText(m_config.slowCloseMs), why)));
}

qint64 FaultInjector::writableBytes(qint64 echoWritten, qint64 unsent)
{
    m_lastWriteSpared = false;
    if (!m_active || unsent <= 0)
        return qMax<qint64>(0, unsent);
    if (timesOut())
        return 0; // held until the close
    const qint64 now = nowMs();
    qint64 allowed = unsent;
    releaseDueGates(now);
    if (!m_gates.empty())
        allowed = qMin(allowed, qMax<qint64>(0, m_gateStart - echoWritten));
    const qint64 echoed = echoWritten - m_limitBase;
    for (const qint64 limit : {m_config.closeAfterBytes, m_config.resetAfterBytes}) {
        if (limit >= 0)
            allowed = qMin(allowed, qMax<qint64>(0, limit - echoed));
    }
    while (!m_spared.empty() && m_spared.front().second <= echoWritten)
        m_spared.pop_front();
    if (!m_spared.empty()) {
        if (m_spared.front().first <= echoWritten) {
            m_lastWriteSpared = allowed > 0;
            return qMin(allowed, m_spared.front().second - echoWritten);
        }
        allowed = qMin(allowed, m_spared.front().first - echoWritten);
    }
    if (allowed > 0 && m_config.sliceBytes > 0) {
        if (m_sliceLeft == 0) {
            if (now < m_nextSliceMs)
                return 0;
            m_sliceLeft = m_config.sliceBytes;
        }
        allowed = qMin(allowed, m_sliceLeft);
    }
    if (allowed > 0 && m_config.bandwidthBytesPerSecond > 0) {
        refillTokens(now);
        allowed = qMin(allowed, qint64(m_tokens));
    }
    return allowed;
}

void FaultInjector::bytesWritten(qint64 echoWritten, qint64 bytes)
{
    Q_UNUSED(echoWritten);
    if (!m_active || bytes <= 0 || m_lastWriteSpared)
        return;
    if (m_config.bandwidthBytesPerSecond > 0)
        m_tokens = qMax(0.0, m_tokens - double(bytes));
    if (m_config.sliceBytes > 0) {
        m_sliceLeft = qMax<qint64>(0, m_sliceLeft - bytes);
        if (m_sliceLeft == 0) {
            const qint64 now = nowMs();
            m_nextSliceMs = now + m_config.sliceGapMs;
            ++m_slices;
            countSummary(now);
        }
    }
}

FaultInjector::Trigger FaultInjector::limitReached(qint64 echoWritten) const
{
    if (!m_active)
        return Trigger::None;
    const qint64 echoed = echoWritten - m_limitBase;
    const bool reset = m_config.resetAfterBytes >= 0 && echoed >= m_config.resetAfterBytes;
    const bool close = m_config.closeAfterBytes >= 0 && echoed >= m_config.closeAfterBytes;
    if (reset && close) // the smaller limit is the one reached
        return m_config.resetAfterBytes <= m_config.closeAfterBytes ? Trigger::ResetAfter
                                                                    : Trigger::CloseAfter;
    return reset ? Trigger::ResetAfter : close ? Trigger::CloseAfter : Trigger::None;
}

void FaultInjector::scheduleWake(qint64 echoWritten, qint64 unsent)
{
    if (!m_active || unsent <= 0 || timesOut() || limitReached(echoWritten) != Trigger::None)
        return;
    const qint64 now = nowMs();
    qint64 readyAt = now;
    qint64 want = unsent;
    if (!m_gates.empty()) {
        if (m_gateStart <= echoWritten) {
            readyAt = qMax(readyAt, m_gates.front().dueMs);
            want = qMin(want, m_gates.front().endOffset - echoWritten);
        } else {
            want = qMin(want, m_gateStart - echoWritten);
        }
    }
    const bool spared = !m_spared.empty() && m_spared.front().first <= echoWritten;
    if (spared) {
        // Only a gate holds it: no throttle or slicing to wait for.
    } else if (m_config.sliceBytes > 0) {
        if (m_sliceLeft == 0)
            readyAt = qMax(readyAt, m_nextSliceMs);
        want = qMin(want, m_sliceLeft > 0 ? m_sliceLeft : m_config.sliceBytes);
    }
    if (!spared && m_config.bandwidthBytesPerSecond > 0) {
        // Wait until a whole piece can go, not byte by byte.
        const double rate = double(m_config.bandwidthBytesPerSecond);
        const double needed = qMin(tokenCapacity(), double(qMax<qint64>(1, want)));
        const double tokensThen =
            qMin(tokenCapacity(), m_tokens + rate * double(readyAt - m_tokensAtMs) / 1000.0);
        if (tokensThen < needed) {
            const qint64 waitMs = qint64(std::ceil((needed - tokensThen) * 1000.0 / rate));
            readyAt += waitMs;
            m_throttledMs += waitMs;
            countSummary(now);
        }
    }
    m_timer->start(int(qBound<qint64>(1, readyAt - now, qint64(FaultConfig::kMaxDelayMs) * 2)));
}

QString FaultInjector::trigger(Trigger trigger)
{
    QString detail;
    QString text;
    switch (trigger) {
    case Trigger::None:
        return QString();
    case Trigger::CloseAfter:
        detail = tr("after %1 echoed bytes").arg(countText(m_config.closeAfterBytes));
        text = tr("closed after %1 echoed bytes").arg(countText(m_config.closeAfterBytes));
        break;
    case Trigger::ResetAfter:
        detail = tr("after %1 echoed bytes").arg(countText(m_config.resetAfterBytes));
        text = tr("reset after %1 echoed bytes").arg(countText(m_config.resetAfterBytes));
        break;
    case Trigger::ResetDrawn: {
        const QString probability = QLocale::c().toString(m_config.resetProbability, 'g', 4);
        detail = tr("at message %1 (probability %2)").arg(countText(m_messages), probability);
        text = tr("reset at message %1 (probability %2)").arg(countText(m_messages), probability);
        break;
    }
    case Trigger::Timeout:
        detail = tr("after the timeout fault's %1 ms").arg(countText(m_config.timeoutMs));
        text = tr("closed after the timeout fault's %1 ms").arg(countText(m_config.timeoutMs));
        break;
    }
    flushSummary();
    emit eventOccurred(faultEvent(text));
    return detail;
}

void FaultInjector::stop()
{
    flushSummary();
    m_timer->stop();
    m_timeoutTimer->stop();
    m_active = false;
}

void FaultInjector::countSummary(qint64 now)
{
    Q_UNUSED(now);
    if (!m_summaryTimer->isActive())
        m_summaryTimer->start(kSummaryIntervalMs);
}

void FaultInjector::flushSummary()
{
    m_summaryTimer->stop();
    if (m_delayedMessages == 0 && m_slices == 0 && m_throttledMs == 0 && m_discardedMessages == 0 &&
        m_sparedMessages == 0)
        return;
    QStringList parts;
    if (m_discardedMessages > 0)
        parts << tr("%1 message(s) discarded by the blackhole (%2)", nullptr,
                    Translations::pluralCount(m_discardedMessages))
                     .arg(countText(m_discardedMessages),
                          NumberText::dataSizeText(m_discardedBytes));
    if (m_sparedMessages > 0)
        parts << tr("%1 message(s) spared by the toxicity draw", nullptr,
                    Translations::pluralCount(m_sparedMessages))
                     .arg(countText(m_sparedMessages));
    if (m_delayedMessages > 0)
        parts << tr("%1 message(s) delayed (%2 ms on average)", nullptr,
                    Translations::pluralCount(m_delayedMessages))
                     .arg(countText(m_delayedMessages))
                     .arg(m_delayTotalMs / m_delayedMessages);
    if (m_slices > 0)
        parts << tr("%1 slice(s) written", nullptr, Translations::pluralCount(m_slices))
                     .arg(countText(m_slices));
    if (m_throttledMs > 0)
        parts << tr("throttled for %1 ms").arg(countText(m_throttledMs));
    TrafficEvent summary =
        faultEvent(tr("%1 in the last second").arg(parts.join(QStringLiteral(", "))));
    summary.count = m_delayedMessages + m_slices + (m_throttledMs > 0 ? 1 : 0) +
                    m_discardedMessages + m_sparedMessages;
    m_discardedMessages = 0;
    m_discardedBytes = 0;
    m_sparedMessages = 0;
    m_delayedMessages = 0;
    m_delayTotalMs = 0;
    m_slices = 0;
    m_throttledMs = 0;
    emit eventOccurred(summary);
}

TrafficEvent FaultInjector::faultEvent(const QString &text) const
{
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::FaultInjected;
    event.timestampMs = Clock::wallMs();
    event.clientId = m_stats->id();
    event.address = m_stats->peerAddress();
    event.port = m_stats->peerPort();
    event.text = text;
    return event;
}

} // namespace Echoscope
