// EventQueue: the engine's events reach their handler in order, connects and disconnects
// on the owner thread's next pass, sampled messages with the follow-up drain while they
// flow, and a queue without them keeps no timer.
//
// The drain is an event posted to the queue object, so QCoreApplication::sendPostedEvents()
// on it runs exactly what posting scheduled: "delivered on the next pass" and "not woken"
// are counted (events handled, EventQueue::drainCount()), not timed.

#include "eventqueue.h"

#include <QCoreApplication>
#include <QTest>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

using namespace Echoscope;

namespace {

constexpr int kTimeoutMs = 5000;

TrafficEvent eventOf(TrafficEvent::Kind kind, quint64 clientId)
{
    TrafficEvent event;
    event.kind = kind;
    event.clientId = clientId;
    return event;
}

} // namespace

class tst_EventQueue : public QObject
{
    Q_OBJECT

private slots:
    void init();

    void connectsAreDeliveredOnTheNextPass();
    void sampledMessagesWaitForTheFollowUp();
    void otherEventsDoNotWaitForTheFollowUp();
    void followUpsEndWhenNothingWaits();
    void manyWaitingAreDrainedWithoutTheFollowUp();
    void orderIsKeptAcrossThreads();

private:
    // Runs what posting has scheduled for the queue (its drain), nothing else.
    void runScheduled() { QCoreApplication::sendPostedEvents(m_queue.get()); }
    // A sampled message drained: the follow-up window is open. False if it did not open.
    bool openFollowUp();

    std::unique_ptr<EventQueue> m_queue;
    std::vector<TrafficEvent> m_handled;
    // m_handled's size for the posting threads, under m_handledMutex.
    std::mutex m_handledMutex;
    std::condition_variable m_handledChanged;
    size_t m_handledCount = 0;
};

void tst_EventQueue::init()
{
    m_handled.clear();
    m_handledCount = 0;
    m_queue = std::make_unique<EventQueue>([this](const TrafficEvent &event) {
        m_handled.push_back(event);
        {
            const std::lock_guard<std::mutex> lock(m_handledMutex);
            ++m_handledCount;
        }
        m_handledChanged.notify_all();
    });
}

bool tst_EventQueue::openFollowUp()
{
    const size_t handled = m_handled.size();
    m_queue->post(eventOf(TrafficEvent::Kind::MessageEchoed, 1)); // none waits: at once
    runScheduled();
    return m_handled.size() == handled + 1 && m_queue->hasFollowUp();
}

void tst_EventQueue::connectsAreDeliveredOnTheNextPass()
{
    QVERIFY(!m_queue->hasFollowUp()); // idle: no timer
    m_queue->post(eventOf(TrafficEvent::Kind::Connected, 7));
    QVERIFY(m_handled.empty()); // never from inside post()
    runScheduled();
    QCOMPARE(m_handled.size(), size_t(1));
    QCOMPARE(m_handled.front().clientId, quint64(7));
    QCOMPARE(m_queue->drainCount(), quint64(1));
    QVERIFY(!m_queue->hasFollowUp()); // no sampled message: no follow-up, no timer
}

// After a drain, a sampled message does not wake the owner's thread: the follow-up drain,
// kFollowUpMs later, delivers it.
void tst_EventQueue::sampledMessagesWaitForTheFollowUp()
{
    QVERIFY(openFollowUp());
    const quint64 drains = m_queue->drainCount();
    for (TrafficEvent::Kind kind :
         {TrafficEvent::Kind::MessageEchoed, TrafficEvent::Kind::MessagesSummarised}) {
        m_queue->post(eventOf(kind, 1));
    }
    TrafficEvent fault = eventOf(TrafficEvent::Kind::FaultInjected, 1);
    fault.count = 1; // a per-message fault event
    m_queue->post(fault);
    runScheduled();
    QCOMPARE(m_handled.size(), size_t(1)); // nothing was scheduled
    QCOMPARE(m_queue->drainCount(), drains);

    QTRY_COMPARE_WITH_TIMEOUT(m_handled.size(), size_t(4), kTimeoutMs);
    QCOMPARE(m_queue->drainCount(), drains + 1); // one drain took all three
    QCOMPARE(m_handled[1].kind, TrafficEvent::Kind::MessageEchoed);
    QCOMPARE(m_handled[2].kind, TrafficEvent::Kind::MessagesSummarised);
    QCOMPARE(m_handled[3].kind, TrafficEvent::Kind::FaultInjected);
}

// A disconnect (or anything but a sampled message) is not held back by the follow-up, and
// takes the sampled messages queued before it along, in order.
void tst_EventQueue::otherEventsDoNotWaitForTheFollowUp()
{
    QVERIFY(openFollowUp());
    m_queue->post(eventOf(TrafficEvent::Kind::MessageEchoed, 1));
    m_queue->post(eventOf(TrafficEvent::Kind::Disconnected, 1));
    runScheduled();
    QCOMPARE(m_handled.size(), size_t(3));
    QCOMPARE(m_handled[1].kind, TrafficEvent::Kind::MessageEchoed);
    QCOMPARE(m_handled[2].kind, TrafficEvent::Kind::Disconnected);
}

// A follow-up that finds nothing ends them: the queue is idle without a timer, and the next
// sampled message is delivered on the next pass again.
void tst_EventQueue::followUpsEndWhenNothingWaits()
{
    QVERIFY(openFollowUp());
    QTRY_VERIFY_WITH_TIMEOUT(!m_queue->hasFollowUp(), kTimeoutMs);
    const quint64 drains = m_queue->drainCount();
    m_queue->post(eventOf(TrafficEvent::Kind::MessageEchoed, 1));
    runScheduled();
    QCOMPARE(m_handled.size(), size_t(2));
    QCOMPARE(m_queue->drainCount(), drains + 1);
}

// Half of kMaxQueuedEvents sampled messages waiting: the next one does not wait for the
// follow-up (so the cap drops only what a reader that falls behind cannot take).
void tst_EventQueue::manyWaitingAreDrainedWithoutTheFollowUp()
{
    QVERIFY(openFollowUp());
    const quint64 drains = m_queue->drainCount();
    constexpr qsizetype kHalf = EventQueue::kMaxQueuedEvents / 2;
    for (qsizetype i = 0; i < kHalf; ++i)
        m_queue->post(eventOf(TrafficEvent::Kind::MessageEchoed, 1));
    runScheduled();
    QCOMPARE(m_queue->drainCount(), drains); // all waited
    m_queue->post(eventOf(TrafficEvent::Kind::MessageEchoed, 1));
    runScheduled();
    QCOMPARE(m_queue->drainCount(), drains + 1);
    QCOMPARE(m_handled.size(), size_t(1 + kHalf + 1));
}

// Events posted from other threads, in bursts while the owner's thread drains and the
// follow-ups come and go, sampled ones among them, all arrive, each thread's in the order
// it posted them.
void tst_EventQueue::orderIsKeptAcrossThreads()
{
    constexpr int kThreads = 2;
    constexpr int kBursts = 20;
    constexpr int kEventsEach = 100 * kBursts;
    QVERIFY(openFollowUp());
    const size_t before = m_handled.size();
    const size_t expected = before + size_t(kThreads * kEventsEach);
    // One bound for all the threads' waits together, shorter than the owner's.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs / 2);
    bool stop = false; // under m_handledMutex: the owner has stopped waiting
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([this, t, before, deadline, &stop] {
            size_t handledAtBurst = before; // m_handledCount as the threads start
            for (int i = 0; i < kEventsEach; ++i) {
                TrafficEvent event = eventOf(i % 50 == 0 ? TrafficEvent::Kind::Connected
                                                         : TrafficEvent::Kind::MessageEchoed,
                                             quint64(t + 1));
                event.count = i;
                m_queue->post(event);
                // Between bursts, wait for the owner's thread to handle some of them, so
                // that drains and follow-ups fall among the bursts (the checks do not
                // depend on where they fall). Each burst has connects, which wake it.
                if ((i + 1) % (kEventsEach / kBursts) == 0) {
                    std::unique_lock<std::mutex> lock(m_handledMutex);
                    m_handledChanged.wait_until(
                        lock, deadline, [&] { return stop || m_handledCount > handledAtBurst; });
                    handledAtBurst = m_handledCount;
                }
            }
        });
    }
    // The owner's thread drains (and its follow-ups run) while the threads post.
    const bool all = QTest::qWaitFor([&] { return m_handled.size() == expected; }, kTimeoutMs);
    {
        const std::lock_guard<std::mutex> lock(m_handledMutex);
        stop = true;
    }
    m_handledChanged.notify_all();
    for (std::thread &thread : threads)
        thread.join(); // before any check can return
    QVERIFY(all);
    QCOMPARE(m_handled.size(), expected);
    m_handled.erase(m_handled.begin(), m_handled.begin() + qsizetype(before));
    std::vector<qint64> next(kThreads + 1, 0);
    for (const TrafficEvent &event : m_handled) {
        QCOMPARE(event.count, next[size_t(event.clientId)]);
        ++next[size_t(event.clientId)];
    }
}

QTEST_GUILESS_MAIN(tst_EventQueue)
#include "tst_eventqueue.moc"
