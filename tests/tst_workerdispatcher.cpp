#include "workerdispatcher.h"

#include <QAbstractEventDispatcher>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSemaphore>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#ifdef Q_OS_LINUX
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

using namespace Echoscope;

// The worker threads' event dispatcher (core/net/workerdispatcher.h) as Qt code sees it:
// timers of every kind, posted events from other threads, socket notifiers, quitting. The
// SocketPoller inside it is tested by tst_socketpoller_workerdispatcher (tst_socketpoller
// with the main thread on this dispatcher); the engine with it by every integration test
// with threads > 1, and its idleness by tst_echoserver's per-thread wake-up count.

namespace {

constexpr int kTimeoutMs = 5000;

// A thread on the worker dispatcher, with an object living there to run code in it.
class DispatcherThread
{
public:
    DispatcherThread()
    {
        if (QAbstractEventDispatcher *dispatcher = WorkerDispatcher::create())
            m_thread.setEventDispatcher(dispatcher);
        m_context = new QObject;
        m_context->moveToThread(&m_thread);
        m_thread.start();
    }
    ~DispatcherThread()
    {
        QObject *context = m_context;
        QMetaObject::invokeMethod(
            context, [context] { delete context; }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }
    DispatcherThread(const DispatcherThread &) = delete;
    DispatcherThread &operator=(const DispatcherThread &) = delete;

    // Runs f in the thread and returns when it has.
    template<typename F>
    void run(F f)
    {
        QMetaObject::invokeMethod(m_context, f, Qt::BlockingQueuedConnection);
    }
    QObject *context() const { return m_context; }
    QThread &thread() { return m_thread; }

private:
    QThread m_thread;
    QObject *m_context = nullptr;
};

} // namespace

class tst_WorkerDispatcher : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void isTheThreadsDispatcher();
    void postedEventsFromAnotherThread();
    void eventsPostedToItselfNeedNoWakeUp();
    void preciseTimerNeverFiresEarly();
    void repeatingTimerKeepsItsInterval();
    void zeroTimerFiresEveryPassUntilStopped();
    void timerKilledInItsOwnHandler();
    void remainingTimeAndMovingTimersToAnotherThread();
    void socketNotifierActivated();
    void notifierUnregisteredInTheSameTurnIsNotActivated();
    void exclusiveWakeUpNotifier();
    void quitsWhileIdle();
};

void tst_WorkerDispatcher::initTestCase()
{
    if (!WorkerDispatcher::isEnabled())
        QSKIP("no worker dispatcher here (not Linux, the portable build, or "
              "ECHOSCOPE_WORKER_DISPATCHER=qt): worker threads use Qt's");
}

void tst_WorkerDispatcher::isTheThreadsDispatcher()
{
    DispatcherThread worker;
    QAbstractEventDispatcher *seen = nullptr;
    worker.run([&seen] { seen = QAbstractEventDispatcher::instance(); });
    QVERIFY(seen);
    QCOMPARE(seen, worker.thread().eventDispatcher());
    QVERIFY(seen != QAbstractEventDispatcher::instance()); // not the main thread's
    QCOMPARE(seen->metaObject()->className(), "Echoscope::EpollDispatcher"); // not Qt's
    // ECHOSCOPE_WORKER_DISPATCHER=epoll_wait (ctest's tst_workerdispatcher_epollwait) runs
    // every test here with the millisecond waits of kernels without epoll_pwait2.
    if (qgetenv("ECHOSCOPE_WORKER_DISPATCHER") == "epoll_wait")
        QVERIFY(WorkerDispatcher::waitsInMilliseconds());
}

void tst_WorkerDispatcher::postedEventsFromAnotherThread()
{
    DispatcherThread worker;
    std::atomic<int> received{0};
    constexpr int kPosted = 2000;
    for (int i = 0; i < kPosted; ++i)
        QMetaObject::invokeMethod(
            worker.context(), [&received] { received.fetch_add(1); }, Qt::QueuedConnection);
    QTRY_COMPARE_WITH_TIMEOUT(received.load(), kPosted, kTimeoutMs);
    // And from the thread to itself, posted while a posted event is being handled.
    int chained = 0;
    worker.run([&chained, &worker] {
        QMetaObject::invokeMethod(
            worker.context(),
            [&chained, &worker] {
                ++chained;
                QMetaObject::invokeMethod(
                    worker.context(), [&chained] { ++chained; }, Qt::QueuedConnection);
            },
            Qt::QueuedConnection);
    });
    int seen = 0;
    QTRY_VERIFY_WITH_TIMEOUT((worker.run([&] { seen = chained; }), seen == 2), kTimeoutMs);
}

// A thread that posts to itself is awake: the next pass sends the event without blocking,
// and no eventfd write is needed (a worker's deleteLater() per connection used to cost a
// write, a read and one more epoll_pwait2()). Another thread's post still writes.
void tst_WorkerDispatcher::eventsPostedToItselfNeedNoWakeUp()
{
    DispatcherThread worker;
    QAbstractEventDispatcher *dispatcher = worker.thread().eventDispatcher();
    constexpr int kChain = 200;
    std::atomic<int> handled{0};
    std::atomic<qint64> writesDuringChain{-1};
    quint64 writesAtStart = 0;
    // Each handler posts the next one from the worker's own thread; nothing else posts to
    // it until the last has run (the test thread only reads `handled`).
    std::function<void()> step = [&] {
        if (handled.fetch_add(1) + 1 == kChain) {
            writesDuringChain.store(
                qint64(WorkerDispatcher::wakeUpWrites(dispatcher) - writesAtStart));
            return;
        }
        QMetaObject::invokeMethod(worker.context(), step, Qt::QueuedConnection);
    };
    worker.run([&] {
        writesAtStart = WorkerDispatcher::wakeUpWrites(dispatcher);
        QMetaObject::invokeMethod(worker.context(), step, Qt::QueuedConnection);
    });
    QTRY_COMPARE_WITH_TIMEOUT(handled.load(), kChain, kTimeoutMs);
    QCOMPARE(writesDuringChain.load(), qint64(0));

    const quint64 before = WorkerDispatcher::wakeUpWrites(dispatcher);
    std::atomic<bool> ran{false};
    QMetaObject::invokeMethod(
        worker.context(), [&ran] { ran = true; }, Qt::QueuedConnection);
    QTRY_VERIFY_WITH_TIMEOUT(ran.load(), kTimeoutMs);
    QVERIFY(WorkerDispatcher::wakeUpWrites(dispatcher) > before);
}

void tst_WorkerDispatcher::preciseTimerNeverFiresEarly()
{
    DispatcherThread worker;
    std::atomic<qint64> elapsedNs{-1};
    QElapsedTimer clock;
    worker.run([&] {
        clock.start();
        QTimer::singleShot(30, Qt::PreciseTimer, worker.context(),
                           [&] { elapsedNs = clock.nsecsElapsed(); });
    });
    QTRY_VERIFY_WITH_TIMEOUT(elapsedNs.load() >= 0, kTimeoutMs);
    QVERIFY2(elapsedNs.load() >= 30 * 1000000LL, qPrintable(QString::number(elapsedNs.load())));
}

void tst_WorkerDispatcher::repeatingTimerKeepsItsInterval()
{
    DispatcherThread worker;
    std::atomic<int> fired{0};
    std::atomic<qint64> elapsedAtFifthNs{-1};
    QElapsedTimer clock;
    QTimer *timer = nullptr;
    worker.run([&] {
        timer = new QTimer(worker.context());
        timer->setTimerType(Qt::CoarseTimer);
        timer->setInterval(10);
        QObject::connect(timer, &QTimer::timeout, timer, [&] {
            if (++fired == 5) {
                elapsedAtFifthNs = clock.nsecsElapsed();
                timer->stop();
            }
        });
        clock.start();
        timer->start();
    });
    QTRY_COMPARE_WITH_TIMEOUT(fired.load(), 5, kTimeoutMs);
    // Never early: the fifth is due 50 ms after the start.
    QVERIFY2(elapsedAtFifthNs.load() >= 50 * 1000000LL,
             qPrintable(QString::number(elapsedAtFifthNs.load())));
    bool active = true;
    worker.run([&] { active = timer->isActive(); });
    QVERIFY(!active);
}

void tst_WorkerDispatcher::zeroTimerFiresEveryPassUntilStopped()
{
    DispatcherThread worker;
    std::atomic<int> zeroFired{0};
    std::atomic<int> postedSeen{0};
    QTimer *zero = nullptr;
    worker.run([&] {
        zero = new QTimer(worker.context());
        zero->setInterval(0);
        QObject::connect(zero, &QTimer::timeout, zero, [&] { ++zeroFired; });
        zero->start();
    });
    // It fires again and again, and posted events still get through between its firings.
    QTRY_VERIFY_WITH_TIMEOUT(zeroFired.load() > 100, kTimeoutMs);
    QMetaObject::invokeMethod(
        worker.context(), [&] { ++postedSeen; }, Qt::QueuedConnection);
    QTRY_COMPARE_WITH_TIMEOUT(postedSeen.load(), 1, kTimeoutMs);
    int atStop = 0;
    worker.run([&] {
        zero->stop();
        atStop = zeroFired;
    });
    // A later timer's firing shows the loop went on turning without it.
    std::atomic<bool> later{false};
    worker.run([&] { QTimer::singleShot(20, worker.context(), [&] { later = true; }); });
    QTRY_VERIFY_WITH_TIMEOUT(later.load(), kTimeoutMs);
    QCOMPARE(zeroFired.load(), atStop);
}

void tst_WorkerDispatcher::timerKilledInItsOwnHandler()
{
    DispatcherThread worker;
    std::atomic<int> fired{0};
    std::atomic<bool> later{false};
    worker.run([&] {
        auto *timer = new QTimer(worker.context());
        timer->setTimerType(Qt::PreciseTimer);
        timer->setInterval(5);
        QObject::connect(timer, &QTimer::timeout, timer, [&fired, timer] {
            if (++fired == 3)
                delete timer; // killed, and its object gone, inside its own timer event
        });
        timer->start();
        QTimer::singleShot(100, worker.context(), [&] { later = true; });
    });
    QTRY_VERIFY_WITH_TIMEOUT(later.load(), kTimeoutMs);
    QCOMPARE(fired.load(), 3);
}

void tst_WorkerDispatcher::remainingTimeAndMovingTimersToAnotherThread()
{
    DispatcherThread worker;
    QTimer *timer = nullptr;
    int remaining = -2;
    worker.run([&] {
        timer = new QTimer; // no parent: it moves to the main thread below
        timer->setTimerType(Qt::PreciseTimer);
        timer->start(10000);
        remaining = timer->remainingTime();
    });
    QVERIFY2(remaining > 9000 && remaining <= 10000, qPrintable(QString::number(remaining)));
    // Moving it asks this dispatcher for the object's timers (registeredTimers) and drops
    // them here (unregisterTimers); the main thread's dispatcher takes them on by an
    // event posted to the object there.
    QThread *mainThread = QThread::currentThread();
    worker.run([&] { timer->moveToThread(mainThread); });
    QVERIFY(timer->isActive());
    QTRY_VERIFY_WITH_TIMEOUT(timer->remainingTime() >= 0, kTimeoutMs);
    remaining = timer->remainingTime();
    QVERIFY2(remaining > 9000 && remaining <= 10000, qPrintable(QString::number(remaining)));
    QCOMPARE(timer->interval(), 10000);
    delete timer;
}

#ifdef Q_OS_LINUX

namespace {
struct SocketPair
{
    SocketPair()
    {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd) != 0)
            fd[0] = fd[1] = -1;
    }
    ~SocketPair()
    {
        for (int f : fd)
            if (f >= 0)
                ::close(f);
    }
    SocketPair(const SocketPair &) = delete;
    SocketPair &operator=(const SocketPair &) = delete;
    int fd[2] = {-1, -1};
};
} // namespace

void tst_WorkerDispatcher::socketNotifierActivated()
{
    SocketPair pair;
    QVERIFY(pair.fd[0] >= 0);
    DispatcherThread worker;
    std::atomic<int> reads{0};
    std::atomic<int> writes{0};
    QSocketNotifier *reader = nullptr;
    QSocketNotifier *writer = nullptr;
    worker.run([&] {
        reader = new QSocketNotifier(pair.fd[0], QSocketNotifier::Read, worker.context());
        QObject::connect(reader, &QSocketNotifier::activated, reader, [&] {
            char buffer[64];
            while (::read(pair.fd[0], buffer, sizeof buffer) > 0) {
            }
            ++reads;
        });
        // A write notifier on the same descriptor: writable at once; it turns itself off.
        writer = new QSocketNotifier(pair.fd[0], QSocketNotifier::Write, worker.context());
        QObject::connect(writer, &QSocketNotifier::activated, writer, [&] {
            ++writes;
            writer->setEnabled(false);
        });
    });
    QTRY_COMPARE_WITH_TIMEOUT(writes.load(), 1, kTimeoutMs);
    QCOMPARE(reads.load(), 0); // nothing to read yet
    QVERIFY(::write(pair.fd[1], "x", 1) == 1);
    QTRY_COMPARE_WITH_TIMEOUT(reads.load(), 1, kTimeoutMs);
    QVERIFY(::write(pair.fd[1], "y", 1) == 1);
    QTRY_COMPARE_WITH_TIMEOUT(reads.load(), 2, kTimeoutMs);
    // Disabled, it is not activated however much is ready.
    worker.run([&] { reader->setEnabled(false); });
    QVERIFY(::write(pair.fd[1], "z", 1) == 1);
    std::atomic<bool> later{false};
    worker.run([&] { QTimer::singleShot(50, worker.context(), [&] { later = true; }); });
    QTRY_VERIFY_WITH_TIMEOUT(later.load(), kTimeoutMs);
    QCOMPARE(reads.load(), 2);
    QCOMPARE(writes.load(), 1);
    worker.run([&] { reader->setEnabled(true); }); // the byte waiting is reported now
    QTRY_COMPARE_WITH_TIMEOUT(reads.load(), 3, kTimeoutMs);
}

void tst_WorkerDispatcher::notifierUnregisteredInTheSameTurnIsNotActivated()
{
    SocketPair first;
    SocketPair second;
    QVERIFY(first.fd[0] >= 0 && second.fd[0] >= 0);
    DispatcherThread worker;
    std::atomic<int> activations{0};
    worker.run([&] {
        // Whichever is activated first deletes the other, which is ready in the same turn.
        auto *a = new QSocketNotifier(first.fd[0], QSocketNotifier::Read, worker.context());
        auto *b = new QSocketNotifier(second.fd[0], QSocketNotifier::Read, worker.context());
        auto other = std::make_shared<std::pair<QSocketNotifier *, QSocketNotifier *>>(a, b);
        QObject::connect(a, &QSocketNotifier::activated, a, [&activations, other] {
            ++activations;
            delete other->second;
            other->second = nullptr;
            other->first->setEnabled(false);
        });
        QObject::connect(b, &QSocketNotifier::activated, b, [&activations, other] {
            ++activations;
            delete other->first;
            other->first = nullptr;
            other->second->setEnabled(false);
        });
    });
    // Both become readable while the thread is held, so one wait reports both.
    QSemaphore held;
    QSemaphore release;
    QMetaObject::invokeMethod(
        worker.context(),
        [&] {
            held.release();
            release.acquire();
        },
        Qt::QueuedConnection);
    QVERIFY(held.tryAcquire(1, kTimeoutMs));
    QVERIFY(::write(first.fd[1], "a", 1) == 1);
    QVERIFY(::write(second.fd[1], "b", 1) == 1);
    release.release();
    QTRY_COMPARE_WITH_TIMEOUT(activations.load(), 1, kTimeoutMs);
    std::atomic<bool> later{false};
    worker.run([&] { QTimer::singleShot(50, worker.context(), [&] { later = true; }); });
    QTRY_VERIFY_WITH_TIMEOUT(later.load(), kTimeoutMs);
    QCOMPARE(activations.load(), 1);
}

namespace {
// The epoll events the calling process's epoll sets hold for `descriptor`, from
// /proc/self/fdinfo ("tfd: <fd> events: <hex> ..."): one entry per set that holds it.
QList<quint32> epollEventsOf(int descriptor)
{
    QList<quint32> found;
    const QDir fds(QStringLiteral("/proc/self/fd"));
    for (const QString &name : fds.entryList(QDir::NoDotAndDotDot | QDir::System)) {
        char target[64] = {};
        const ssize_t n = ::readlink(QFile::encodeName(fds.filePath(name)).constData(), target,
                                     sizeof target - 1);
        if (n <= 0 || !QByteArray(target, int(n)).contains("eventpoll"))
            continue;
        QFile info(QStringLiteral("/proc/self/fdinfo/") + name);
        if (!info.open(QIODevice::ReadOnly))
            continue;
        for (const QByteArray &line : info.readAll().split('\n')) {
            const QList<QByteArray> fields = line.simplified().split(' ');
            if (fields.size() >= 4 && fields.at(0) == "tfd:" &&
                fields.at(1).toInt() == descriptor && fields.at(2) == "events:")
                found.append(fields.at(3).toUInt(nullptr, 16));
        }
    }
    return found;
}
} // namespace

// A listening socket every worker watches is in each worker's epoll set with
// EPOLLEXCLUSIVE (one connection wakes one worker), asked for by the notifier's property;
// still so after the notifier was disabled and enabled again (taken out and added back:
// epoll cannot modify an exclusive entry), and it is still activated.
void tst_WorkerDispatcher::exclusiveWakeUpNotifier()
{
    QTcpServer listener;
    QVERIFY(listener.listen(QHostAddress::LocalHost, 0));
    listener.pauseAccepting();
    const int descriptor = int(listener.socketDescriptor());
    DispatcherThread worker;
    std::atomic<int> activations{0};
    QSocketNotifier *notifier = nullptr;
    worker.run([&] {
        notifier = new QSocketNotifier(QSocketNotifier::Read, worker.context());
        notifier->setProperty(WorkerDispatcher::kExclusiveWakeUp, true);
        notifier->setSocket(descriptor);
        QObject::connect(notifier, &QSocketNotifier::activated, notifier, [&activations, notifier] {
            ++activations;
            notifier->setEnabled(false); // the connection stays pending: level-triggered
        });
        notifier->setEnabled(true);
    });
    QList<quint32> events = epollEventsOf(descriptor);
    QCOMPARE(events.size(), 1);
    QVERIFY2(events.at(0) & EPOLLEXCLUSIVE, qPrintable(QString::number(events.at(0), 16)));
    QVERIFY(events.at(0) & EPOLLIN);

    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, listener.serverPort());
    QVERIFY(client.waitForConnected(kTimeoutMs));
    QTRY_COMPARE_WITH_TIMEOUT(activations.load(), 1, kTimeoutMs);
    QVERIFY(epollEventsOf(descriptor).isEmpty());                // disabled: out of the set
    const int accepted = ::accept(descriptor, nullptr, nullptr); // nothing pending now
    QVERIFY(accepted >= 0);
    ::close(accepted);
    worker.run([&] { notifier->setEnabled(true); });
    events = epollEventsOf(descriptor);
    QCOMPARE(events.size(), 1);
    QVERIFY(events.at(0) & EPOLLEXCLUSIVE);
    QTcpSocket second;
    second.connectToHost(QHostAddress::LocalHost, listener.serverPort());
    QVERIFY(second.waitForConnected(kTimeoutMs));
    QTRY_COMPARE_WITH_TIMEOUT(activations.load(), 2, kTimeoutMs);

    // Without the property: an ordinary entry.
    worker.run([&] { delete notifier; });
    QVERIFY(epollEventsOf(descriptor).isEmpty());
    worker.run([&] {
        notifier = new QSocketNotifier(descriptor, QSocketNotifier::Read, worker.context());
    });
    events = epollEventsOf(descriptor);
    QCOMPARE(events.size(), 1);
    QVERIFY(!(events.at(0) & EPOLLEXCLUSIVE));
    worker.run([&] { delete notifier; });
}

#else

void tst_WorkerDispatcher::socketNotifierActivated() {}
void tst_WorkerDispatcher::notifierUnregisteredInTheSameTurnIsNotActivated() {}
void tst_WorkerDispatcher::exclusiveWakeUpNotifier() {}

#endif

void tst_WorkerDispatcher::quitsWhileIdle()
{
    auto worker = std::make_unique<DispatcherThread>();
    worker->run([] {});
    QVERIFY(worker->thread().isRunning());
    worker.reset(); // quit() interrupts the wait; wait() returns
}

QTEST_GUILESS_MAIN(tst_WorkerDispatcher)
#include "tst_workerdispatcher.moc"
