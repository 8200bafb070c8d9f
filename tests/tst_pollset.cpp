// PollSet, the load generator's event loop, in whichever backend this build has (epoll, or
// poll() with ECHOSCOPE_PORTABLE_IO): local socket pairs, so every readiness is exact.

#include "nativesocket.h"
#include "pollset.h"

#include <QElapsedTimer>
#include <QTest>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

using namespace Echoscope;

namespace {

// A connected pair of non-blocking stream sockets: [0] is watched, [1] is the peer.
struct Pair
{
    Pair()
    {
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fd) != 0) {
            fd[0] = fd[1] = -1;
            return;
        }
        for (int end : fd)
            ::fcntl(end, F_SETFL, ::fcntl(end, F_GETFL) | O_NONBLOCK);
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
    bool send(int end, const char *text) const
    {
        const auto size = ssize_t(std::strlen(text));
        return ::write(fd[end], text, size_t(size)) == size;
    }
    int fd[2] = {-1, -1};
};

// One wait: the events of each tag that is ready.
std::map<quint32, quint32> waitOnce(PollSet &set, int timeoutMs = 1000)
{
    std::map<quint32, quint32> ready;
    const int count = set.wait(timeoutMs);
    for (int i = 0; i < count; ++i)
        ready[set.ready(i).tag] |= set.ready(i).events;
    return ready;
}

} // namespace

class tst_PollSet : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void reportsTheReadyWithTheirTags();
    void levelTriggeredUntilDrained();
    void writableOnlyWhenAskedFor();
    void modifyChangesEventsAndTag();
    void removeKeepsTheOthersApart();
    void peerCloseIsReadable();
    void timeoutReturnsNothing();
};

void tst_PollSet::initTestCase()
{
    qInfo("I/O backend: %s", NativeSocket::backendName());
    PollSet set;
    QVERIFY2(set.isValid(), qPrintable(set.errorString()));
}

void tst_PollSet::reportsTheReadyWithTheirTags()
{
    PollSet set;
    std::vector<Pair> pairs(20);
    for (size_t i = 0; i < pairs.size(); ++i)
        QVERIFY(set.add(pairs[i].fd[0], quint32(100 + i), PollSet::Readable));
    QVERIFY(pairs[3].send(1, "three"));
    QVERIFY(pairs[17].send(1, "seventeen"));
    const auto ready = waitOnce(set);
    QCOMPARE(ready.size(), size_t(2));
    QCOMPARE(ready.at(103), quint32(PollSet::Readable));
    QCOMPARE(ready.at(117), quint32(PollSet::Readable));
}

void tst_PollSet::levelTriggeredUntilDrained()
{
    PollSet set;
    Pair pair;
    QVERIFY(set.add(pair.fd[0], 7, PollSet::Readable));
    QVERIFY(pair.send(1, "hello"));
    QCOMPARE(waitOnce(set).count(7), size_t(1));
    QCOMPARE(waitOnce(set).count(7), size_t(1)); // not read: reported again
    char buffer[16];
    QCOMPARE(::read(pair.fd[0], buffer, sizeof buffer), ssize_t(5));
    QVERIFY(waitOnce(set, 50).empty());
}

void tst_PollSet::writableOnlyWhenAskedFor()
{
    PollSet set;
    Pair pair;
    QVERIFY(set.add(pair.fd[0], 1, PollSet::Readable));
    QVERIFY(waitOnce(set, 50).empty()); // writable, but not asked
    set.modify(pair.fd[0], 1, PollSet::Readable | PollSet::Writable);
    const auto ready = waitOnce(set);
    QCOMPARE(ready.at(1), quint32(PollSet::Writable));
}

void tst_PollSet::modifyChangesEventsAndTag()
{
    PollSet set;
    Pair pair;
    QVERIFY(set.add(pair.fd[0], 1, PollSet::Writable));
    QCOMPARE(waitOnce(set).at(1), quint32(PollSet::Writable));
    set.modify(pair.fd[0], 2, PollSet::Readable);
    QVERIFY(pair.send(1, "x"));
    const auto ready = waitOnce(set);
    QCOMPARE(ready.size(), size_t(1));
    QCOMPARE(ready.at(2), quint32(PollSet::Readable));
}

void tst_PollSet::removeKeepsTheOthersApart()
{
    PollSet set;
    std::vector<Pair> pairs(6);
    for (size_t i = 0; i < pairs.size(); ++i)
        QVERIFY(set.add(pairs[i].fd[0], quint32(i), PollSet::Readable));
    for (Pair &pair : pairs)
        QVERIFY(pair.send(1, "data"));
    // Taken out before closing, from the middle and the ends, in an order that moves others.
    for (size_t i : {size_t(2), size_t(0), size_t(5)}) {
        set.remove(pairs[i].fd[0]);
        pairs[i].closeEnd(0);
    }
    const auto ready = waitOnce(set);
    std::vector<quint32> tags;
    for (const auto &[tag, events] : ready) {
        QCOMPARE(events, quint32(PollSet::Readable));
        tags.push_back(tag);
    }
    QCOMPARE(tags, (std::vector<quint32>{1, 3, 4}));
    // A descriptor number used again (a new socket after a close) can be added again.
    Pair again;
    QVERIFY(set.add(again.fd[0], 9, PollSet::Readable));
    QVERIFY(again.send(1, "again"));
    QCOMPARE(waitOnce(set).count(9), size_t(1));
}

void tst_PollSet::peerCloseIsReadable()
{
    PollSet set;
    Pair pair;
    QVERIFY(set.add(pair.fd[0], 4, PollSet::Readable));
    pair.closeEnd(1);
    const auto ready = waitOnce(set);
    QVERIFY(ready.count(4) == 1);
    QVERIFY(ready.at(4) & (PollSet::Readable | PollSet::HangUp));
    char buffer[4];
    QCOMPARE(::read(pair.fd[0], buffer, sizeof buffer), ssize_t(0)); // EOF
}

void tst_PollSet::timeoutReturnsNothing()
{
    PollSet set;
    Pair pair;
    QVERIFY(set.add(pair.fd[0], 1, PollSet::Readable));
    QElapsedTimer timer;
    timer.start();
    QCOMPARE(set.wait(100), 0);
    QVERIFY(timer.elapsed() >= 90);
}

QTEST_GUILESS_MAIN(tst_PollSet)
#include "tst_pollset.moc"
