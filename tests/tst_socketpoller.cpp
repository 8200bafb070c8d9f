#include "socketpoller.h"
#include "transport.h"
#include "workerdispatcher.h"

#include <QAbstractEventDispatcher>
#include <QTest>

#include <algorithm>
#include <functional>
#include <vector>

#ifdef Q_OS_LINUX
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

using namespace Echoscope;

namespace {

constexpr int kTimeoutMs = 5000;

// ECHOSCOPE_TEST_MAIN_DISPATCHER=worker (ctest's tst_socketpoller_workerdispatcher): the
// main thread runs on the worker threads' dispatcher, where the poller registers in the
// dispatcher's epoll set instead of its own.
bool wantsWorkerDispatcher()
{
    return qEnvironmentVariable("ECHOSCOPE_TEST_MAIN_DISPATCHER") == QLatin1String("worker");
}

// Counts the poller's calls; an optional action runs inside each.
class Recorder final : public TransportHandler
{
public:
    void transportReadable() override
    {
        ++readable;
        if (onReadable)
            onReadable();
    }
    void transportWritable() override
    {
        ++writable;
        if (onWritable)
            onWritable();
    }
    void transportPeerClosed() override {}
    void transportEstablished() override {}
    void transportFailed(DisconnectReason, const QString &) override {}

    int readable = 0;
    int writable = 0;
    std::function<void()> onReadable;
    std::function<void()> onWritable;
};

#ifdef Q_OS_LINUX
// A connected pair of non-blocking stream sockets: [0] is watched, [1] is the peer.
struct Pair
{
    Pair()
    {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd) != 0)
            fd[0] = fd[1] = -1;
    }
    Pair(const Pair &) = delete;
    Pair &operator=(const Pair &) = delete;
    ~Pair()
    {
        closeEnd(0);
        closeEnd(1);
    }
    void closeEnd(int i)
    {
        if (fd[i] >= 0)
            ::close(fd[i]);
        fd[i] = -1;
    }
    int fd[2] = {-1, -1};
};

// Drains what the peer sent to fd; the number of bytes.
qint64 drain(int fd)
{
    qint64 total = 0;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0)
            return total;
        total += n;
    }
}
#endif

} // namespace

class tst_SocketPoller : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void reportsOnlyTheReadyConnections();
    void levelTriggeredUntilDrained();
    void writeReadinessOnlyWhenWanted();
    void pausedReadingIsNotReported();
    void hangUpWithReadingPausedWakesTheWriterOnce();
    void removedInTheSameTurnIsNotCalled();
    void manyMoreReadyThanOneTurnTakes();
};

void tst_SocketPoller::initTestCase()
{
    if (!SocketPoller::isSupported())
        QSKIP("no epoll on this platform: sessions use a QSocketNotifier each");
    if (wantsWorkerDispatcher() && !WorkerDispatcher::isEnabled())
        QSKIP("no worker dispatcher here (ECHOSCOPE_WORKER_DISPATCHER=qt, or not Linux)");
}

#ifdef Q_OS_LINUX

void tst_SocketPoller::reportsOnlyTheReadyConnections()
{
    SocketPoller poller;
    QVERIFY(poller.isValid());
    std::vector<Pair> pairs(50);
    std::vector<Recorder> recorders(pairs.size());
    std::vector<SocketPoller::Watch *> watches;
    for (size_t i = 0; i < pairs.size(); ++i) {
        QVERIFY(pairs[i].fd[0] >= 0);
        recorders[i].onReadable = [fd = pairs[i].fd[0]] { drain(fd); };
        watches.push_back(poller.add(pairs[i].fd[0], &recorders[i]));
        QVERIFY(watches.back());
    }
    QCOMPARE(poller.watchCount(), 50);
    QVERIFY(::write(pairs[7].fd[1], "x", 1) == 1);
    QVERIFY(::write(pairs[42].fd[1], "y", 1) == 1);
    QTRY_VERIFY_WITH_TIMEOUT(recorders[7].readable == 1 && recorders[42].readable == 1, kTimeoutMs);
    QCoreApplication::processEvents(); // nothing more is ready
    for (size_t i = 0; i < recorders.size(); ++i) {
        QCOMPARE(recorders[i].readable, (i == 7 || i == 42) ? 1 : 0);
        QCOMPARE(recorders[i].writable, 0); // write readiness was not asked for
    }
    for (SocketPoller::Watch *watch : watches)
        poller.remove(watch);
    QCOMPARE(poller.watchCount(), 0);
}

void tst_SocketPoller::levelTriggeredUntilDrained()
{
    SocketPoller poller;
    Pair pair;
    Recorder recorder;
    // Reads one byte per call, like a session that stops after its share of reads.
    recorder.onReadable = [&pair] {
        char byte = 0;
        QVERIFY(::read(pair.fd[0], &byte, 1) == 1);
    };
    SocketPoller::Watch *watch = poller.add(pair.fd[0], &recorder);
    QVERIFY(watch);
    QVERIFY(::write(pair.fd[1], "abcde", 5) == 5);
    QTRY_COMPARE_WITH_TIMEOUT(recorder.readable, 5, kTimeoutMs);
    QCoreApplication::processEvents();
    QCOMPARE(recorder.readable, 5); // drained: no more calls
    poller.remove(watch);
}

void tst_SocketPoller::writeReadinessOnlyWhenWanted()
{
    SocketPoller poller;
    Pair pair;
    Recorder recorder;
    SocketPoller::Watch *watch = poller.add(pair.fd[0], &recorder);
    QVERIFY(watch);
    QCoreApplication::processEvents();
    QCOMPARE(recorder.writable, 0);
    // Wanted once, then turned off from the handler, as a session does when its
    // pending echo is written.
    recorder.onWritable = [&] { poller.setWriteWanted(watch, false); };
    poller.setWriteWanted(watch, true);
    QTRY_COMPARE_WITH_TIMEOUT(recorder.writable, 1, kTimeoutMs);
    QCoreApplication::processEvents();
    QCOMPARE(recorder.writable, 1);
    QCOMPARE(recorder.readable, 0);
    poller.remove(watch);
}

void tst_SocketPoller::pausedReadingIsNotReported()
{
    SocketPoller poller;
    Pair pair;
    Recorder recorder;
    recorder.onReadable = [&pair] { drain(pair.fd[0]); };
    SocketPoller::Watch *watch = poller.add(pair.fd[0], &recorder);
    poller.setReadWanted(watch, false); // backpressure
    QVERIFY(::write(pair.fd[1], "queued", 6) == 6);
    // The bytes are there the moment write() returns, so one pass of the event loop
    // would deliver a (wrong) report.
    QCoreApplication::processEvents();
    QCoreApplication::processEvents();
    QCOMPARE(recorder.readable, 0);
    poller.setReadWanted(watch, true);
    QTRY_COMPARE_WITH_TIMEOUT(recorder.readable, 1, kTimeoutMs);
    poller.remove(watch);
}

void tst_SocketPoller::hangUpWithReadingPausedWakesTheWriterOnce()
{
    SocketPoller poller;
    Pair pair;
    Recorder recorder;
    SocketPoller::Watch *watch = poller.add(pair.fd[0], &recorder);
    poller.setReadWanted(watch, false);
    QCoreApplication::processEvents();
    pair.closeEnd(1); // the peer is gone while nothing is wanted: out of the set, no spin
    QCoreApplication::processEvents();
    QCoreApplication::processEvents();
    QCOMPARE(recorder.readable + recorder.writable, 0);
    // A writer that learns of the hang-up stops asking.
    recorder.onWritable = [&] {
        QVERIFY(::send(pair.fd[0], "z", 1, MSG_NOSIGNAL) < 0);
        poller.setWriteWanted(watch, false);
    };
    poller.setWriteWanted(watch, true);
    QTRY_COMPARE_WITH_TIMEOUT(recorder.writable, 1, kTimeoutMs);
    QCoreApplication::processEvents();
    QCoreApplication::processEvents();
    QCOMPARE(recorder.writable, 1);
    QCOMPARE(recorder.readable, 0);
    poller.remove(watch);
}

void tst_SocketPoller::removedInTheSameTurnIsNotCalled()
{
    SocketPoller poller;
    Pair first;
    Pair second;
    Recorder a;
    Recorder b;
    SocketPoller::Watch *watchA = poller.add(first.fd[0], &a);
    SocketPoller::Watch *watchB = poller.add(second.fd[0], &b);
    // Both become ready before the turn; whichever is called first removes both (as a
    // session that kicks another would), so exactly one handler runs.
    bool removed = false;
    auto removeBoth = [&] {
        if (removed)
            return;
        removed = true;
        poller.remove(watchA);
        poller.remove(watchB);
    };
    a.onReadable = removeBoth;
    b.onReadable = removeBoth;
    QVERIFY(::write(first.fd[1], "1", 1) == 1);
    QVERIFY(::write(second.fd[1], "2", 1) == 1);
    QTRY_VERIFY_WITH_TIMEOUT(removed, kTimeoutMs);
    QCoreApplication::processEvents();
    QCOMPARE(a.readable + b.readable, 1);
    QCOMPARE(poller.watchCount(), 0);
}

void tst_SocketPoller::manyMoreReadyThanOneTurnTakes()
{
    SocketPoller poller;
    std::vector<Pair> pairs(300); // more than the 256 one turn takes
    std::vector<Recorder> recorders(pairs.size());
    std::vector<SocketPoller::Watch *> watches;
    for (size_t i = 0; i < pairs.size(); ++i) {
        if (pairs[i].fd[0] < 0)
            QSKIP("out of descriptors for 300 socket pairs");
        recorders[i].onReadable = [fd = pairs[i].fd[0]] { drain(fd); };
        watches.push_back(poller.add(pairs[i].fd[0], &recorders[i]));
        QVERIFY(::write(pairs[i].fd[1], "r", 1) == 1);
    }
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(recorders.begin(), recorders.end(),
                                         [](const Recorder &r) { return r.readable == 1; }),
                             kTimeoutMs);
    for (SocketPoller::Watch *watch : watches)
        poller.remove(watch);
}

#else

void tst_SocketPoller::reportsOnlyTheReadyConnections() {}
void tst_SocketPoller::levelTriggeredUntilDrained() {}
void tst_SocketPoller::writeReadinessOnlyWhenWanted() {}
void tst_SocketPoller::pausedReadingIsNotReported() {}
void tst_SocketPoller::hangUpWithReadingPausedWakesTheWriterOnce() {}
void tst_SocketPoller::removedInTheSameTurnIsNotCalled() {}
void tst_SocketPoller::manyMoreReadyThanOneTurnTakes() {}

#endif

int main(int argc, char *argv[])
{
    if (wantsWorkerDispatcher()) {
        if (QAbstractEventDispatcher *dispatcher = WorkerDispatcher::create())
            QCoreApplication::setEventDispatcher(dispatcher);
    }
    QCoreApplication app(argc, argv);
    tst_SocketPoller test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}
#include "tst_socketpoller.moc"
