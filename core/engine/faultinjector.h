#pragma once

#include "faultconfig.h"
#include "trafficevent.h"

#include <QObject>

#include <deque>
#include <memory>
#include <random>
#include <utility>

QT_BEGIN_NAMESPACE
class QTimer;
QT_END_NAMESPACE

namespace Echoscope {

class ClientStats;

// Which faults a client has: the server's, for all clients, or its own.
enum class FaultScope { AllClients, ThisClient };

// Decides, for one ClientSession, what of its queued echo may be written when, under a
// FaultConfig. The session keeps the echo (one queue, bounded by its high-water mark);
// this keeps only positions in that stream: where each delayed message's hold ends
// and when it is due, the bandwidth tokens, the current slice, the byte limits.
//
// Event-driven: it arms one single-shot timer only while held echo is waiting for its
// time, and wake() says when to try again. Each fault it injects is a TrafficEvent:
// set/cleared and triggers (close, reset) one by one, the repetitive ones (messages
// delayed, slices, throttled bytes) as one summary per second per client.
class FaultInjector : public QObject
{
    Q_OBJECT

public:
    enum class Trigger { None, CloseAfter, ResetAfter, ResetDrawn, Timeout };
    // Delayed messages held at once; past it the session stops reading, as above its
    // high-water mark (messages due in the same millisecond share one entry).
    static constexpr int kMaxHeldMessages = 16384;

    FaultInjector(std::shared_ptr<ClientStats> stats, QObject *parent = nullptr);
    ~FaultInjector() override;

    const FaultConfig &config() const { return m_config; }
    FaultScope scope() const { return m_scope; }
    bool isActive() const { return m_active; }
    // Not reading: the stop-reading fault, or the timeout's hold.
    bool stopsReading() const { return m_active && (m_config.stopReading || timesOut()); }
    // The timeout fault holds everything (no reading, no echo) until it closes.
    bool timesOut() const { return m_active && m_config.timeoutMs >= 0; }
    // The blackhole fault: messages read are discarded, not echoed.
    bool blackholes() const { return m_active && m_config.blackhole; }
    // How long the session's close waits (the slow close fault); 0: not at all.
    int slowCloseMs() const { return m_active ? m_config.slowCloseMs : 0; }
    // The hold drawn for the last delayed message (delay ± jitter, before a hold already
    // queued ahead of it could lengthen it), in ms; -1 before any. What tests check the
    // draws against: bounded by the jitter, and the same sequence for the same seed.
    qint64 lastDrawnDelayMs() const { return m_lastDrawnDelayMs; }
    // Too many delayed messages held: stop reading until some are echoed.
    bool isQueueFull() const { return m_gates.size() >= size_t(kMaxHeldMessages); }
    // Holding echo back on purpose or not reading: the idle clock should not run.
    bool isHolding() const;
    // How many messages the toxicity draw spared (the delay, bandwidth and slice faults
    // did not apply to them) under the current config.
    qint64 sparedMessages() const { return m_sparedTotal; }

    // Applies `config` from now on; `echoWritten` is the stream position now, from
    // which the byte limits count. Logs the change when it is about this client.
    // source: who sets it ("the control API"), named in the event; empty: nobody named.
    void setConfig(const FaultConfig &config, FaultScope scope, qint64 echoWritten,
                   const QString &source = QString());

    // A message of `bytes` was framed; its echo ends at stream offset `endOffset`.
    // Returns true when the reset probability strikes: reset instead of echoing it.
    bool messageQueued(qint64 endOffset, qint64 bytes);
    // The blackhole discarded a message of `bytes` (counted in the per-second summary).
    void messageDiscarded(qint64 bytes);
    // The session's close waits slowCloseMs(): logs it ("close delayed 200 ms").
    void slowCloseStarted(const QString &why);
    // How many of the `unsent` bytes from stream offset `echoWritten` may be written now.
    qint64 writableBytes(qint64 echoWritten, qint64 unsent);
    // `bytes` were written; the stream position is now `echoWritten`.
    void bytesWritten(qint64 echoWritten, qint64 bytes);
    // Whether a byte limit is reached at stream position `echoWritten`.
    Trigger limitReached(qint64 echoWritten) const;
    // With echo held back (writableBytes() == 0): arms the timer for when some is due.
    void scheduleWake(qint64 echoWritten, qint64 unsent);
    // Logs the trigger ("reset after 1,024 echoed bytes") and returns the disconnect
    // detail ("after 1,024 echoed bytes", for the reason "reset by fault").
    QString trigger(Trigger trigger);
    // Sends the pending summary now.
    void flushSummary();
    // The session ended: sends the summary, then never wakes it again.
    void stop();

signals:
    void wake();
    // The timeout fault's time is up: the session closes (trigger(Trigger::Timeout)).
    void timedOut();
    void eventOccurred(const Echoscope::TrafficEvent &event);

private:
    struct Gate
    {
        qint64 endOffset; // the held bytes end here (exclusive)
        qint64 dueMs;     // and may be written from then on
    };

    static qint64 nowMs(); // monotonic
    void releaseDueGates(qint64 now);
    void refillTokens(qint64 now);
    double tokenCapacity() const;
    void countSummary(qint64 now);
    TrafficEvent faultEvent(const QString &text) const;

    std::shared_ptr<ClientStats> m_stats;
    FaultConfig m_config;
    FaultScope m_scope = FaultScope::AllClients;
    bool m_active = false;
    std::mt19937 m_random;
    QTimer *m_timer = nullptr;
    QTimer *m_summaryTimer = nullptr;
    QTimer *m_timeoutTimer = nullptr;

    // Delay: held stretches of the stream, in order, due times never decreasing.
    std::deque<Gate> m_gates;
    qint64 m_gateStart = 0; // where the first gate's bytes begin
    qint64 m_lastDrawnDelayMs = -1;
    // Toxicity: stretches of the stream [first, second) of messages the draw spared, which
    // the bandwidth and slice faults let through untouched; in order.
    std::deque<std::pair<qint64, qint64>> m_spared;
    bool m_lastWriteSpared = false; // writableBytes() answered for a spared stretch
    // Bandwidth: a token bucket of bytes.
    double m_tokens = 0;
    qint64 m_tokensAtMs = 0;
    // Slicing: bytes left in the current slice, and when the next may start.
    qint64 m_sliceLeft = 0;
    qint64 m_nextSliceMs = 0;
    // Byte limits count from here.
    qint64 m_limitBase = 0;
    qint64 m_messages = 0; // messages framed under the current config
    qint64 m_sparedTotal = 0;

    // The per-second summary of the repetitive faults.
    qint64 m_delayedMessages = 0;
    qint64 m_delayTotalMs = 0;
    qint64 m_slices = 0;
    qint64 m_throttledMs = 0;
    qint64 m_discardedMessages = 0;
    qint64 m_discardedBytes = 0;
    qint64 m_sparedMessages = 0;
};

} // namespace Echoscope
