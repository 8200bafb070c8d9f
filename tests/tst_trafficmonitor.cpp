#include "echoserver.h"
#include "eventlog.h"
#include "serverconfig.h"
#include "trafficevent.h"
#include "trafficmonitor.h"

#include <QElapsedTimer>
#include <QSet>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

using namespace Echoscope;

namespace {

TrafficEvent warningEvent(int n)
{
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Warning;
    event.timestampMs = n;
    event.text = QString::number(n);
    return event;
}

// Appends events "1" .. "count" (their text is their number).
void appendNumbered(EventLog *log, int count)
{
    for (int n = 1; n <= count; ++n)
        log->append(warningEvent(n));
}

QStringList texts(const QList<TrafficEvent> &events)
{
    QStringList list;
    for (const TrafficEvent &event : events)
        list.append(event.text);
    return list;
}

QStringList numbers(int first, int last)
{
    QStringList list;
    for (int n = first; n <= last; ++n)
        list.append(QString::number(n));
    return list;
}

QList<qint64> counts(const SizeHistogram &histogram)
{
    return QList<qint64>(histogram.counts.begin(), histogram.counts.end());
}

std::optional<ClientView> clientIn(const TrafficSnapshot &snapshot, quint64 id)
{
    for (const ClientView &view : snapshot.clients) {
        if (view.counters.id == id)
            return view;
    }
    return std::nullopt;
}

// Records every snapshot a monitor publishes and checks the contract a table model
// relies on: clients sorted by id, and each snapshot's clients are exactly the
// previous ones minus removedIds plus addedIds.
class SnapshotRecorder
{
public:
    explicit SnapshotRecorder(TrafficMonitor *monitor)
    {
        QObject::connect(monitor, &TrafficMonitor::snapshotReady, monitor,
                         [this](const TrafficSnapshot &snapshot) { record(snapshot); });
    }

    const QList<TrafficSnapshot> &snapshots() const { return m_snapshots; }
    // Empty unless a snapshot broke the contract.
    QString error() const { return m_error; }

    int timesAdded(quint64 id) const { return count(id, &TrafficSnapshot::addedIds); }
    int timesRemoved(quint64 id) const { return count(id, &TrafficSnapshot::removedIds); }
    // The sum of ClientView::messageEvents for this client over all its views: a view is
    // shared by the snapshots that follow until the client's next view, so each counts once.
    qint64 messageEvents(quint64 id) const
    {
        qint64 sum = 0;
        const ClientView *last = nullptr;
        for (const TrafficSnapshot &snapshot : m_snapshots) {
            for (const ClientViewList::Pointer &view : snapshot.clients.pointers()) {
                if (view->counters.id == id && view.get() != last) {
                    sum += view->messageEvents;
                    last = view.get();
                }
            }
        }
        return sum;
    }
    // Whether some snapshot showed this client disconnected.
    bool sawDisconnected(quint64 id) const
    {
        for (const TrafficSnapshot &snapshot : m_snapshots) {
            const auto view = clientIn(snapshot, id);
            if (view && !view->connected)
                return true;
        }
        return false;
    }

private:
    int count(quint64 id, QList<quint64> TrafficSnapshot::*list) const
    {
        int n = 0;
        for (const TrafficSnapshot &snapshot : m_snapshots)
            n += int((snapshot.*list).count(id));
        return n;
    }

    void fail(const QString &message)
    {
        if (m_error.isEmpty())
            m_error = QStringLiteral("snapshot %1: %2").arg(m_snapshots.size()).arg(message);
    }

    void record(const TrafficSnapshot &snapshot)
    {
        QSet<quint64> expected = m_ids;
        for (quint64 id : snapshot.removedIds) {
            if (!expected.remove(id))
                fail(QStringLiteral("removed %1, which was not there").arg(id));
        }
        for (quint64 id : snapshot.addedIds) {
            if (expected.contains(id))
                fail(QStringLiteral("added %1, which was there already").arg(id));
            expected.insert(id);
        }
        QSet<quint64> actual;
        quint64 previous = 0;
        for (const ClientView &view : snapshot.clients) {
            if (view.counters.id <= previous)
                fail(QStringLiteral("clients not sorted by id at %1").arg(view.counters.id));
            previous = view.counters.id;
            actual.insert(view.counters.id);
        }
        if (actual != expected)
            fail(QStringLiteral("clients do not match added/removed ids"));
        m_ids = actual;
        m_snapshots.append(snapshot);
    }

    QList<TrafficSnapshot> m_snapshots;
    QSet<quint64> m_ids;
    QString m_error;
};

constexpr int kTimeoutMs = 20000; // a bound on a wait for an event, not a figure

ServerConfig testConfig(int threads, FramingMode mode = FramingMode::Stream)
{
    ServerConfig config;
    config.bindAddress = QStringLiteral("127.0.0.1");
    config.port = 0;
    config.threads = threads;
    config.framing.mode = mode;
    return config;
}

} // namespace

class tst_TrafficMonitor : public QObject
{
    Q_OBJECT

private slots:
    // EventLog
    void eventLogNumbersFromOne();
    void eventLogIsBounded();
    void eventLogEventsSince_data();
    void eventLogEventsSince();
    void eventLogSetCapacityKeepsNewest();
    void eventLogClearKeepsCounting();

    // TrafficMonitor with a real server
    void defaults();
    void clientAppearsInSnapshot_data() { threadRows(); }
    void clientAppearsInSnapshot();
    void countersAndHistogram_data() { threadRows(); }
    void countersAndHistogram();
    void ratesWhileTrafficFlows_data() { threadRows(); }
    void ratesWhileTrafficFlows();
    void disconnectedClientIsRetained_data() { threadRows(); }
    void disconnectedClientIsRetained();
    void retainZeroDropsAtOnce();
    void retainedCountIsCapped();
    void clientBetweenTwoSnapshots_data();
    void clientBetweenTwoSnapshots();
    void eventsLoggedInOrder_data() { threadRows(); }
    void eventsLoggedInOrder();
    void eventsAppendedIsCoalesced_data() { threadRows(); }
    void eventsAppendedIsCoalesced();
    void eventLogOverflowIsReported();
    void messageEventsCountedPerTick();
    void timerStopsWhenIdle_data();
    void timerStopsWhenIdle();
    void adoptsClientsOfRunningServer();
    void costFollowsChange_data();
    void costFollowsChange();
    void totalsAreRunningSums();

private:
    static void threadRows()
    {
        QTest::addColumn<int>("threads");
        QTest::newRow("threads=1") << 1;
        QTest::newRow("threads=2") << 2;
    }
};

// --- EventLog -------------------------------------------------------------------

void tst_TrafficMonitor::eventLogNumbersFromOne()
{
    EventLog log;
    QCOMPARE(log.capacity(), EventLog::kDefaultCapacity);
    QCOMPARE(log.capacity(), 10000);
    QVERIFY(log.isEmpty());
    QCOMPARE(log.firstSequence(), quint64(1));
    QCOMPARE(log.nextSequence(), quint64(1));
    QVERIFY(!log.at(0));
    QVERIFY(!log.at(1));

    QCOMPARE(log.append(warningEvent(1)), quint64(1));
    QCOMPARE(log.append(warningEvent(2)), quint64(2));
    QCOMPARE(log.append(warningEvent(3)), quint64(3));
    QCOMPARE(log.size(), 3);
    QCOMPARE(log.firstSequence(), quint64(1));
    QCOMPARE(log.nextSequence(), quint64(4));
    QVERIFY(log.at(2));
    QCOMPARE(log.at(2)->text, QStringLiteral("2"));
    QVERIFY(!log.at(0));
    QVERIFY(!log.at(4));
}

void tst_TrafficMonitor::eventLogIsBounded()
{
    EventLog log(5);
    QCOMPARE(log.capacity(), 5);
    appendNumbered(&log, 12);
    QCOMPARE(log.size(), 5);
    QCOMPARE(log.firstSequence(), quint64(8));
    QCOMPARE(log.nextSequence(), quint64(13));
    QVERIFY(!log.at(7));
    for (quint64 sequence = 8; sequence <= 12; ++sequence) {
        QVERIFY(log.at(sequence));
        QCOMPARE(log.at(sequence)->text, QString::number(sequence));
    }
    QCOMPARE(texts(log.eventsSince(0)), numbers(8, 12));

    // Many times round the ring: still the newest five, in order.
    for (int n = 13; n <= 1000; ++n)
        QCOMPARE(log.append(warningEvent(n)), quint64(n));
    QCOMPARE(log.size(), 5);
    QCOMPARE(texts(log.eventsSince(1)), numbers(996, 1000));

    EventLog tiny(0); // at least one
    QCOMPARE(tiny.capacity(), 1);
    appendNumbered(&tiny, 3);
    QCOMPARE(texts(tiny.eventsSince(1)), numbers(3, 3));
}

void tst_TrafficMonitor::eventLogEventsSince_data()
{
    QTest::addColumn<quint64>("since");
    QTest::addColumn<int>("maxCount");
    QTest::addColumn<QStringList>("expected");
    QTest::addColumn<qint64>("expectedMissed");

    // Capacity 5, events 1..12 appended: 8..12 held.
    QTest::newRow("from the start, fell behind") << quint64(1) << -1 << numbers(8, 12) << qint64(7);
    QTest::newRow("sequence 0 is not an event") << quint64(0) << -1 << numbers(8, 12) << qint64(7);
    QTest::newRow("just overwritten") << quint64(7) << -1 << numbers(8, 12) << qint64(1);
    QTest::newRow("oldest held") << quint64(8) << -1 << numbers(8, 12) << qint64(0);
    QTest::newRow("middle") << quint64(10) << -1 << numbers(10, 12) << qint64(0);
    QTest::newRow("newest") << quint64(12) << -1 << numbers(12, 12) << qint64(0);
    QTest::newRow("up to date") << quint64(13) << -1 << QStringList() << qint64(0);
    QTest::newRow("from the future") << quint64(99) << -1 << QStringList() << qint64(0);
    QTest::newRow("behind, limited") << quint64(3) << 2 << numbers(8, 9) << qint64(5);
    QTest::newRow("limited") << quint64(9) << 3 << numbers(9, 11) << qint64(0);
    QTest::newRow("limit above size") << quint64(9) << 100 << numbers(9, 12) << qint64(0);
    QTest::newRow("limit 0") << quint64(9) << 0 << QStringList() << qint64(0);
}

void tst_TrafficMonitor::eventLogEventsSince()
{
    QFETCH(quint64, since);
    QFETCH(int, maxCount);
    QFETCH(QStringList, expected);
    QFETCH(qint64, expectedMissed);

    EventLog log(5);
    appendNumbered(&log, 12);
    qint64 missed = -1;
    QCOMPARE(texts(log.eventsSince(since, maxCount, &missed)), expected);
    QCOMPARE(missed, expectedMissed);
    QCOMPARE(texts(log.eventsSince(since, maxCount)), expected); // missed is optional
}

void tst_TrafficMonitor::eventLogSetCapacityKeepsNewest()
{
    EventLog log(10);
    appendNumbered(&log, 10);
    log.setCapacity(3);
    QCOMPARE(log.capacity(), 3);
    QCOMPARE(log.size(), 3);
    QCOMPARE(log.firstSequence(), quint64(8));
    QCOMPARE(log.nextSequence(), quint64(11));
    QCOMPARE(texts(log.eventsSince(1)), numbers(8, 10));
    QCOMPARE(log.append(warningEvent(11)), quint64(11));
    QCOMPARE(texts(log.eventsSince(1)), numbers(9, 11));

    // Shrinking a ring that has wrapped keeps the newest, in order.
    EventLog ring(4);
    appendNumbered(&ring, 6); // holds 3..6, the oldest not at the front
    ring.setCapacity(3);
    QCOMPARE(texts(ring.eventsSince(1)), numbers(4, 6));

    // Growing keeps everything and then holds more.
    ring.setCapacity(6);
    QCOMPARE(ring.capacity(), 6);
    QCOMPARE(texts(ring.eventsSince(1)), numbers(4, 6));
    for (int n = 7; n <= 10; ++n)
        QCOMPARE(ring.append(warningEvent(n)), quint64(n));
    QCOMPARE(ring.size(), 6);
    QCOMPARE(ring.firstSequence(), quint64(5));
    QCOMPARE(texts(ring.eventsSince(1)), numbers(5, 10));
    QCOMPARE(ring.at(5)->text, QStringLiteral("5"));
    QCOMPARE(ring.at(10)->text, QStringLiteral("10"));
}

void tst_TrafficMonitor::eventLogClearKeepsCounting()
{
    EventLog log(5);
    appendNumbered(&log, 7);
    log.clear();
    QCOMPARE(log.size(), 0);
    QVERIFY(log.isEmpty());
    QCOMPARE(log.firstSequence(), quint64(8));
    QCOMPARE(log.nextSequence(), quint64(8));
    QVERIFY(!log.at(7));
    qint64 missed = -1;
    QVERIFY(log.eventsSince(3, -1, &missed).isEmpty());
    QCOMPARE(missed, qint64(5)); // 3..7 are gone: the reader is told

    QCOMPARE(log.append(warningEvent(8)), quint64(8));
    QCOMPARE(texts(log.eventsSince(1, -1, &missed)), numbers(8, 8));
    QCOMPARE(missed, qint64(7));
}

// --- TrafficMonitor -------------------------------------------------------------

void tst_TrafficMonitor::defaults()
{
    EchoServer server;
    TrafficMonitor monitor(&server);
    QCOMPARE(monitor.snapshotIntervalMs(), 50);
    QCOMPARE(monitor.retainDisconnectedMs(), 30000);
    QCOMPARE(monitor.eventLogCapacity(), 10000);
    QVERIFY(!monitor.isTicking()); // a stopped server costs nothing
    QVERIFY(!monitor.snapshot().listening);
    QVERIFY(monitor.snapshot().clients.isEmpty());
    QCOMPARE(monitor.eventLog().size(), 0);

    monitor.setSnapshotIntervalMs(0);
    QCOMPARE(monitor.snapshotIntervalMs(), 1);
    monitor.setEventLogCapacity(7);
    QCOMPARE(monitor.eventLogCapacity(), 7);
    QCOMPARE(monitor.eventLog().capacity(), 7);

    // refresh() publishes now, even when idle, and the timer stays off.
    QSignalSpy spy(&monitor, &TrafficMonitor::snapshotReady);
    monitor.refresh();
    QCOMPARE(spy.count(), 1);
    QVERIFY(!monitor.isTicking());
}

void tst_TrafficMonitor::clientAppearsInSnapshot()
{
    QFETCH(int, threads);
    EchoServer server;
    TrafficMonitor monitor(&server);
    SnapshotRecorder recorder(&monitor);
    QVERIFY2(server.start(testConfig(threads)), qPrintable(server.errorString()));
    QVERIFY(monitor.isTicking());
    QTRY_VERIFY(monitor.snapshot().listening);
    QCOMPARE(monitor.snapshot().port, server.serverPort());
    QCOMPARE(monitor.snapshot().address, QHostAddress(QHostAddress::LocalHost));
    QVERIFY(monitor.snapshot().clients.isEmpty());

    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_COMPARE(connected.count(), 1);
    QTRY_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
    const quint64 id = connected.at(0).at(0).value<quint64>();

    QTRY_VERIFY(clientIn(monitor.snapshot(), id).has_value());
    const TrafficSnapshot snapshot = monitor.snapshot();
    const ClientView view = *clientIn(snapshot, id);
    QVERIFY(view.connected);
    QCOMPARE(view.counters.id, id);
    QCOMPARE(view.counters.peerAddress, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(view.counters.peerPort, socket.localPort());
    QCOMPARE(view.counters.bytesIn, qint64(0));
    QCOMPARE(view.disconnectedAtMs, qint64(0));
    QVERIFY(view.counters.connectedAtMs > 0);
    QCOMPARE(snapshot.totals.clientsNow, 1);
    QCOMPARE(snapshot.totals.clientsTotal, qint64(1));
    // Uptime counts from the server's start, whenever the monitor was made.
    QVERIFY(snapshot.uptimeMs >= view.counters.connectedAtMs - server.startedAtMs());
    QCOMPARE(snapshot.uptimeMs, snapshot.timestampMs - server.startedAtMs());
    QVERIFY(snapshot.timestampMs >= view.counters.connectedAtMs);

    QCOMPARE(recorder.timesAdded(id), 1);
    QCOMPARE(recorder.timesRemoved(id), 0);
    QVERIFY2(recorder.error().isEmpty(), qPrintable(recorder.error()));
}

void tst_TrafficMonitor::countersAndHistogram()
{
    QFETCH(int, threads);
    EchoServer server;
    TrafficMonitor monitor(&server);
    SnapshotRecorder recorder(&monitor);
    QVERIFY2(server.start(testConfig(threads, FramingMode::Line)),
             qPrintable(server.errorString()));

    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_COMPARE(connected.count(), 1);
    const quint64 id = connected.at(0).at(0).value<quint64>();

    // Payloads of 1, 5, 0 and 16 bytes: buckets 1 ([1,2)), 3 ([4,8)), 0 and 5 ([16,32)).
    const QByteArray lines = QByteArrayLiteral("a\nhello\n\n0123456789abcdef\n");
    QCOMPARE(lines.size(), 26);
    socket.write(lines);
    QByteArray echoed;
    QTRY_VERIFY((echoed += socket.readAll()).size() >= lines.size());
    QCOMPARE(echoed, lines);

    auto view = [&] { return clientIn(monitor.snapshot(), id); };
    QTRY_VERIFY(view() && view()->counters.messagesOut == 4 && view()->counters.bytesOut == 26);
    const ClientSnapshot counters = view()->counters;
    QCOMPARE(counters.bytesIn, qint64(26));
    QCOMPARE(counters.bytesOut, qint64(26));
    QCOMPARE(counters.messagesIn, qint64(4));
    QCOMPARE(counters.messagesOut, qint64(4));
    QCOMPARE(counters.lastMessageBytes, qint64(16));
    QCOMPARE(counters.minMessageBytes, qint64(0));
    QCOMPARE(counters.maxMessageBytes, qint64(16));
    QCOMPARE(counters.unsentBytes, qint64(0));

    SizeHistogram expected;
    expected.counts[0] = 1;
    expected.counts[1] = 1;
    expected.counts[3] = 1;
    expected.counts[5] = 1;
    QCOMPARE(counts(counters.histogram), counts(expected));
    QCOMPARE(counts(monitor.clientHistogram(id)), counts(expected));
    QCOMPARE(counts(monitor.histogram()), counts(expected));
    QCOMPARE(monitor.clientHistogram(id + 1000).total(), qint64(0));

    const ServerTotals totals = monitor.snapshot().totals;
    QCOMPARE(totals.bytesIn, qint64(26));
    QCOMPARE(totals.bytesOut, qint64(26));
    QCOMPARE(totals.messagesIn, qint64(4));
    QCOMPARE(totals.messagesOut, qint64(4));

    // Once the client is gone its counters stay: in its retained view, in the totals
    // and in the server's histogram.
    socket.disconnectFromHost();
    QTRY_VERIFY(view() && !view()->connected);
    QCOMPARE(view()->counters.bytesIn, qint64(26));
    QCOMPARE(view()->counters.messagesOut, qint64(4));
    QCOMPARE(view()->disconnect.bytesIn, qint64(26));
    QCOMPARE(counts(monitor.clientHistogram(id)), counts(expected));
    QTRY_COMPARE(monitor.snapshot().totals.clientsNow, 0);
    QCOMPARE(monitor.snapshot().totals.bytesIn, qint64(26));
    QCOMPARE(counts(monitor.histogram()), counts(expected));
    QVERIFY2(recorder.error().isEmpty(), qPrintable(recorder.error()));
}

void tst_TrafficMonitor::ratesWhileTrafficFlows()
{
    QFETCH(int, threads);
    EchoServer server;
    TrafficMonitor monitor(&server);
    QVERIFY2(server.start(testConfig(threads)), qPrintable(server.errorString()));

    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_COMPARE(connected.count(), 1);
    QTRY_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
    const quint64 id = connected.at(0).at(0).value<quint64>();
    auto view = [&] { return clientIn(monitor.snapshot(), id); };
    QTRY_VERIFY(view().has_value());
    QCOMPARE(view()->bytesInPerSecond, 0.0);
    QCOMPARE(monitor.snapshot().bytesInPerSecond, 0.0);

    // 1 KiB every 10 ms while we watch; the echo is read as it comes.
    const QByteArray chunk(1024, 'x');
    qint64 sent = 0;
    QTimer sender;
    sender.setInterval(10);
    QObject::connect(&sender, &QTimer::timeout, &socket, [&] {
        socket.write(chunk);
        sent += chunk.size();
    });
    QObject::connect(&socket, &QTcpSocket::readyRead, &socket, [&] { socket.readAll(); });
    sender.start();

    QTRY_VERIFY_WITH_TIMEOUT(view() && view()->bytesInPerSecond > 0 &&
                                 view()->bytesOutPerSecond > 0 && view()->messagesInPerSecond > 0,
                             10000);
    QTRY_VERIFY_WITH_TIMEOUT(monitor.snapshot().bytesInPerSecond > 0 &&
                                 monitor.snapshot().bytesOutPerSecond > 0 &&
                                 monitor.snapshot().messagesInPerSecond > 0 &&
                                 monitor.snapshot().messagesOutPerSecond > 0,
                             10000);
    // Once traffic has flowed for more than a second, the rate is taken over a window of
    // at least a second, so it cannot exceed everything sent so far.
    QTRY_VERIFY_WITH_TIMEOUT(sent > 150 * 1024, 10000);
    QVERIFY2(
        view()->bytesInPerSecond <= double(sent),
        qPrintable(QStringLiteral("%1 B/s after %2 B").arg(view()->bytesInPerSecond).arg(sent)));
    QVERIFY(monitor.snapshot().bytesInPerSecond <= double(sent));

    // Traffic stops: within about a second the rates fall to zero, counters stay.
    sender.stop();
    QTRY_VERIFY_WITH_TIMEOUT(
        view() && view()->bytesInPerSecond == 0 && view()->bytesOutPerSecond == 0 &&
            view()->messagesInPerSecond == 0 && monitor.snapshot().bytesInPerSecond == 0 &&
            monitor.snapshot().bytesOutPerSecond == 0,
        10000);
    QCOMPARE(view()->counters.bytesIn, sent);
    QCOMPARE(monitor.snapshot().totals.bytesIn, sent);
}

void tst_TrafficMonitor::disconnectedClientIsRetained()
{
    QFETCH(int, threads);
    constexpr int kRetainMs = 200;
    EchoServer server;
    TrafficMonitor monitor(&server);
    monitor.setRetainDisconnectedMs(kRetainMs);
    QCOMPARE(monitor.retainDisconnectedMs(), kRetainMs);
    SnapshotRecorder recorder(&monitor);
    QVERIFY2(server.start(testConfig(threads)), qPrintable(server.errorString()));

    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_COMPARE(connected.count(), 1);
    const quint64 id = connected.at(0).at(0).value<quint64>();
    socket.write("hello");
    QByteArray echoed;
    QTRY_COMPARE(echoed += socket.readAll(), QByteArray("hello")); // nothing left unread
    auto view = [&] { return clientIn(monitor.snapshot(), id); };
    QTRY_VERIFY(view() && view()->connected && view()->counters.bytesOut == 5);

    socket.disconnectFromHost();
    QTRY_VERIFY(view() && !view()->connected);
    QElapsedTimer sinceSeen;
    sinceSeen.start();
    const ClientView gone = *view();
    QCOMPARE(gone.disconnect.reason, DisconnectReason::ClosedByPeer);
    QCOMPARE(gone.disconnect.bytesIn, qint64(5));
    QCOMPARE(gone.disconnect.bytesOut, qint64(5));
    QCOMPARE(gone.counters.bytesIn, qint64(5));
    QCOMPARE(gone.counters.state, ClientState::Closed);
    QCOMPARE(gone.bytesInPerSecond, 0.0);
    QVERIFY(gone.disconnectedAtMs >= gone.counters.connectedAtMs);
    QCOMPARE(recorder.timesRemoved(id), 0);

    QTRY_VERIFY_WITH_TIMEOUT(!view(), 5000);
    // It stayed about kRetainMs (it was first seen up to one tick after it went).
    QVERIFY2(sinceSeen.elapsed() >= kRetainMs - 2 * monitor.snapshotIntervalMs(),
             qPrintable(QString::number(sinceSeen.elapsed())));
    QCOMPARE(recorder.timesRemoved(id), 1);
    QCOMPARE(recorder.timesAdded(id), 1);
    QVERIFY2(recorder.error().isEmpty(), qPrintable(recorder.error()));
}

void tst_TrafficMonitor::retainedCountIsCapped()
{
    EchoServer server;
    TrafficMonitor monitor(&server);
    monitor.setMaxRetainedDisconnected(3);
    QCOMPARE(monitor.maxRetainedDisconnected(), 3);
    SnapshotRecorder recorder(&monitor);
    QVERIFY2(server.start(testConfig(1)), qPrintable(server.errorString()));

    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QSignalSpy disconnected(&server, &EchoServer::clientDisconnected);
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    for (int i = 0; i < 6; ++i) {
        sockets.push_back(std::make_unique<QTcpSocket>());
        sockets.back()->connectToHost(QHostAddress::LocalHost, server.serverPort());
    }
    QTRY_COMPARE(connected.count(), 6);
    for (const auto &socket : sockets)
        QTRY_COMPARE(socket->state(), QAbstractSocket::ConnectedState);
    // Each socket's id, by its port as the server sees it.
    QList<quint64> ids;
    for (const auto &socket : sockets) {
        for (const QList<QVariant> &arguments : std::as_const(connected)) {
            if (arguments.at(2).value<quint16>() == socket->localPort())
                ids.append(arguments.at(0).value<quint64>());
        }
    }
    QCOMPARE(ids.size(), 6);
    monitor.refresh();
    // They leave one at a time, in socket order.
    for (int i = 0; i < 6; ++i) {
        sockets[size_t(i)]->disconnectFromHost();
        QTRY_COMPARE(disconnected.count(), i + 1);
    }
    monitor.refresh();
    QList<quint64> retained;
    for (const ClientView &view : monitor.snapshot().clients) {
        QVERIFY(!view.connected);
        retained.append(view.counters.id);
    }
    std::sort(retained.begin(), retained.end());
    QList<quint64> newest = ids.mid(3);
    std::sort(newest.begin(), newest.end());
    QCOMPARE(retained, newest);
    QCOMPARE(recorder.timesRemoved(ids.at(0)), 1);
}

void tst_TrafficMonitor::retainZeroDropsAtOnce()
{
    EchoServer server;
    TrafficMonitor monitor(&server);
    monitor.setRetainDisconnectedMs(0);
    SnapshotRecorder recorder(&monitor);
    QVERIFY2(server.start(testConfig(1)), qPrintable(server.errorString()));

    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QSignalSpy disconnected(&server, &EchoServer::clientDisconnected);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_COMPARE(connected.count(), 1);
    const quint64 id = connected.at(0).at(0).value<quint64>();
    QTRY_VERIFY(clientIn(monitor.snapshot(), id).has_value());

    socket.disconnectFromHost();
    QTRY_COMPARE(disconnected.count(), 1);
    // The next snapshot no longer has it; no snapshot ever showed it disconnected.
    QTRY_COMPARE(recorder.timesRemoved(id), 1);
    QVERIFY(!clientIn(monitor.snapshot(), id));
    QVERIFY(!recorder.sawDisconnected(id));
    QVERIFY2(recorder.error().isEmpty(), qPrintable(recorder.error()));
}

void tst_TrafficMonitor::clientBetweenTwoSnapshots_data()
{
    QTest::addColumn<int>("retainMs");
    QTest::newRow("retained: shown once, disconnected") << 30000;
    QTest::newRow("retain 0: never shown") << 0;
}

void tst_TrafficMonitor::clientBetweenTwoSnapshots()
{
    QFETCH(int, retainMs);
    EchoServer server;
    TrafficMonitor monitor(&server);
    monitor.setSnapshotIntervalMs(600000); // snapshots only when refresh() is called
    monitor.setRetainDisconnectedMs(retainMs);
    SnapshotRecorder recorder(&monitor);
    QVERIFY2(server.start(testConfig(1)), qPrintable(server.errorString()));
    monitor.refresh();
    QCOMPARE(recorder.snapshots().size(), 1);

    // A client connects and disconnects between two snapshots.
    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QSignalSpy disconnected(&server, &EchoServer::clientDisconnected);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_COMPARE(connected.count(), 1);
    const quint64 id = connected.at(0).at(0).value<quint64>();
    socket.disconnectFromHost();
    QTRY_COMPARE(disconnected.count(), 1);
    QCOMPARE(recorder.snapshots().size(), 1);

    monitor.refresh();
    QCOMPARE(recorder.snapshots().size(), 2);
    const TrafficSnapshot &snapshot = recorder.snapshots().last();
    QVERIFY(snapshot.removedIds.isEmpty());
    if (retainMs > 0) {
        // Retained: a short-lived client is still seen, already disconnected.
        QCOMPARE(snapshot.addedIds, QList<quint64>{id});
        const auto view = clientIn(snapshot, id);
        QVERIFY(view && !view->connected);
        QCOMPARE(view->disconnect.reason, DisconnectReason::ClosedByPeer);
    } else {
        // Not retained: it is in neither list, so a model never sees it.
        QVERIFY(snapshot.addedIds.isEmpty());
        QVERIFY(snapshot.clients.isEmpty());
    }
    QVERIFY2(recorder.error().isEmpty(), qPrintable(recorder.error()));
}

void tst_TrafficMonitor::eventsLoggedInOrder()
{
    QFETCH(int, threads);
    EchoServer server;
    TrafficMonitor monitor(&server);
    QVERIFY2(server.start(testConfig(threads)), qPrintable(server.errorString()));

    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QSignalSpy disconnected(&server, &EchoServer::clientDisconnected);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_COMPARE(connected.count(), 1);
    const quint64 id = connected.at(0).at(0).value<quint64>();
    const quint16 peerPort = connected.at(0).at(2).value<quint16>();
    socket.disconnectFromHost();
    QTRY_COMPARE(disconnected.count(), 1);
    server.stop();

    const EventLog &log = monitor.eventLog();
    QCOMPARE(log.firstSequence(), quint64(1));
    QCOMPARE(log.size(), 4);
    qint64 missed = -1;
    const QList<TrafficEvent> events = log.eventsSince(1, -1, &missed);
    QCOMPARE(missed, qint64(0));
    QList<TrafficEvent::Kind> kinds;
    for (const TrafficEvent &event : events)
        kinds.append(event.kind);
    const QList<TrafficEvent::Kind> expected{
        TrafficEvent::Kind::Listening, TrafficEvent::Kind::Connected,
        TrafficEvent::Kind::Disconnected, TrafficEvent::Kind::Stopped};
    QCOMPARE(kinds, expected);

    QCOMPARE(events[0].port, server.serverPort());
    QCOMPARE(events[1].clientId, id);
    QCOMPARE(events[1].port, peerPort);
    QCOMPARE(events[2].clientId, id);
    QCOMPARE(events[2].disconnect.reason, DisconnectReason::ClosedByPeer);
    for (quint64 sequence = 1; sequence <= 4; ++sequence)
        QCOMPARE(log.at(sequence)->kind, expected[int(sequence - 1)]);
    for (int i = 1; i < events.size(); ++i)
        QVERIFY(events[i].timestampMs >= events[i - 1].timestampMs);
}

void tst_TrafficMonitor::eventsAppendedIsCoalesced()
{
    QFETCH(int, threads);
    constexpr int kClients = 50;
    EchoServer server;
    TrafficMonitor monitor(&server);
    QSignalSpy appended(&monitor, &TrafficMonitor::eventsAppended);
    QSignalSpy snapshots(&monitor, &TrafficMonitor::snapshotReady);
    QVERIFY2(server.start(testConfig(threads)), qPrintable(server.errorString()));
    QTRY_COMPARE(appended.count(), 1); // the listening event
    QCOMPARE(appended.at(0).at(0).value<quint64>(), quint64(1));
    QCOMPARE(appended.at(0).at(1).toInt(), 1);

    // Ticks every 50 ms: however the connects spread over time on a loaded machine, there
    // is at most one emission per tick (each right after that tick's snapshot), and the
    // ranges are contiguous.
    appended.clear();
    snapshots.clear();
    QSignalSpy connected(&server, &EchoServer::clientConnected);
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    const auto connectClients = [&] {
        for (int i = 0; i < kClients; ++i) {
            sockets.push_back(std::make_unique<QTcpSocket>());
            sockets.back()->connectToHost(QHostAddress::LocalHost, server.serverPort());
        }
    };
    connectClients();
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), kClients, kTimeoutMs);
    QCOMPARE(monitor.eventLog().nextSequence(), quint64(kClients + 2));
    auto announcedUpTo = [&](quint64 next) {
        for (const QList<QVariant> &args : std::as_const(appended)) {
            if (args.at(0).value<quint64>() != next)
                return quint64(0); // a gap or an overlap
            next += quint64(args.at(1).toInt());
        }
        return next;
    };
    QTRY_COMPARE_WITH_TIMEOUT(announcedUpTo(2), monitor.eventLog().nextSequence(), kTimeoutMs);
    QVERIFY2(appended.count() <= snapshots.count(),
             qPrintable(QStringLiteral("%1 eventsAppended signals in %2 ticks")
                            .arg(appended.count())
                            .arg(snapshots.count())));
    QList<TrafficEvent> events = monitor.eventLog().eventsSince(2);
    QCOMPARE(events.size(), kClients);
    for (const TrafficEvent &event : events)
        QCOMPARE(event.kind, TrafficEvent::Kind::Connected);

    // With no tick in between, everything logged meanwhile is one emission, whatever the
    // machine's speed: 50 more connects with the timer at an hour, then one refresh().
    monitor.setSnapshotIntervalMs(3600 * 1000);
    QTest::qWait(0); // a tick already queued runs now, before the spies are cleared
    appended.clear();
    snapshots.clear();
    const quint64 first = monitor.eventLog().nextSequence();
    connectClients();
    QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 2 * kClients, kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(monitor.eventLog().nextSequence(), first + kClients, kTimeoutMs);
    QCOMPARE(snapshots.count(), 0);
    QCOMPARE(appended.count(), 0);
    monitor.refresh();
    QCOMPARE(appended.count(), 1);
    QCOMPARE(appended.at(0).at(0).value<quint64>(), first);
    QCOMPARE(appended.at(0).at(1).toInt(), kClients);
    events = monitor.eventLog().eventsSince(first);
    QCOMPARE(events.size(), kClients);
}

void tst_TrafficMonitor::eventLogOverflowIsReported()
{
    constexpr int kClients = 12;
    EchoServer server;
    TrafficMonitor monitor(&server);
    monitor.setEventLogCapacity(5);
    QSignalSpy appended(&monitor, &TrafficMonitor::eventsAppended);
    QVERIFY2(server.start(testConfig(1)), qPrintable(server.errorString()));
    QTRY_COMPARE(appended.count(), 1);

    QSignalSpy connected(&server, &EchoServer::clientConnected);
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    for (int i = 0; i < kClients; ++i) {
        sockets.push_back(std::make_unique<QTcpSocket>());
        sockets.back()->connectToHost(QHostAddress::LocalHost, server.serverPort());
    }
    QTRY_COMPARE(connected.count(), kClients);
    const EventLog &log = monitor.eventLog();
    QCOMPARE(log.nextSequence(), quint64(kClients + 2));
    QCOMPARE(log.size(), 5);

    // A reader that last saw event 1 learns that it missed all but the newest five.
    qint64 missed = 0;
    const QList<TrafficEvent> events = log.eventsSince(2, -1, &missed);
    QCOMPARE(missed, qint64(kClients - 5));
    QCOMPARE(events.size(), 5);
    QCOMPARE(events.last().clientId, connected.last().at(0).value<quint64>());
    QTRY_VERIFY(!appended.isEmpty() &&
                appended.last().at(0).value<quint64>() + quint64(appended.last().at(1).toInt()) ==
                    log.nextSequence());
}

void tst_TrafficMonitor::messageEventsCountedPerTick()
{
    EchoServer server;
    TrafficMonitor monitor(&server);
    SnapshotRecorder recorder(&monitor);
    ServerConfig config = testConfig(1, FramingMode::Line);
    config.messageEventsPerSecond = 100;
    QVERIFY2(server.start(config), qPrintable(server.errorString()));

    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_COMPARE(connected.count(), 1);
    const quint64 id = connected.at(0).at(0).value<quint64>();
    socket.write("a\nb\nc\nd\ne\n");

    QTRY_COMPARE(recorder.messageEvents(id), qint64(5));
    // Counted once: later snapshots do not count them again.
    QSignalSpy snapshots(&monitor, &TrafficMonitor::snapshotReady);
    QTRY_VERIFY(snapshots.count() >= 3);
    QCOMPARE(recorder.messageEvents(id), qint64(5));

    int logged = 0;
    for (const TrafficEvent &event : monitor.eventLog().eventsSince(1)) {
        if (event.kind == TrafficEvent::Kind::MessageEchoed && event.clientId == id)
            ++logged;
    }
    QCOMPARE(logged, 5);
}

void tst_TrafficMonitor::timerStopsWhenIdle_data()
{
    QTest::addColumn<int>("threads");
    QTest::addColumn<int>("retainMs");
    QTest::newRow("threads=1, retain 300 ms") << 1 << 300;
    QTest::newRow("threads=2, retain 300 ms") << 2 << 300;
    QTest::newRow("threads=1, retain 0") << 1 << 0;
    QTest::newRow("threads=2, retain 0") << 2 << 0;
}

void tst_TrafficMonitor::timerStopsWhenIdle()
{
    QFETCH(int, threads);
    QFETCH(int, retainMs);
    EchoServer server;
    TrafficMonitor monitor(&server);
    monitor.setRetainDisconnectedMs(retainMs);
    SnapshotRecorder recorder(&monitor);
    QVERIFY(!monitor.isTicking());
    QVERIFY2(server.start(testConfig(threads)), qPrintable(server.errorString()));
    QVERIFY(monitor.isTicking());

    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_COMPARE(connected.count(), 1);
    const quint64 id = connected.at(0).at(0).value<quint64>();
    QTRY_VERIFY(clientIn(monitor.snapshot(), id).has_value());

    server.stop();
    // stop() publishes a final snapshot at once.
    QVERIFY(!monitor.snapshot().listening);
    QCOMPARE(monitor.snapshot().port, quint16(0));
    QCOMPARE(monitor.snapshot().bytesInPerSecond, 0.0);
    QCOMPARE(monitor.eventLog().at(monitor.eventLog().nextSequence() - 1)->kind,
             TrafficEvent::Kind::Stopped);
    if (retainMs > 0) {
        // Still ticking while the stopped client is retained.
        QVERIFY(monitor.isTicking());
        const auto view = clientIn(monitor.snapshot(), id);
        QVERIFY(view && !view->connected);
        QCOMPARE(view->disconnect.reason, DisconnectReason::ServerStopped);
    } else {
        // Dropped at once, and with nothing left to show the timer stops right away.
        QVERIFY(!clientIn(monitor.snapshot(), id));
        QVERIFY(!monitor.isTicking());
    }
    QTRY_VERIFY_WITH_TIMEOUT(!monitor.isTicking(), 5000);
    QVERIFY(monitor.snapshot().clients.isEmpty());
    QCOMPARE(recorder.timesRemoved(id), 1);

    // Idle: nothing more is published.
    QSignalSpy snapshots(&monitor, &TrafficMonitor::snapshotReady);
    QVERIFY(!snapshots.wait(300));
    QVERIFY(!monitor.isTicking());
    QVERIFY2(recorder.error().isEmpty(), qPrintable(recorder.error()));
}

void tst_TrafficMonitor::adoptsClientsOfRunningServer()
{
    EchoServer server;
    QVERIFY2(server.start(testConfig(1)), qPrintable(server.errorString()));
    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_COMPARE(connected.count(), 1);
    const quint64 id = connected.at(0).at(0).value<quint64>();

    TrafficMonitor monitor(&server);
    SnapshotRecorder recorder(&monitor);
    QVERIFY(monitor.isTicking());
    QTRY_VERIFY(clientIn(monitor.snapshot(), id).has_value());
    QVERIFY(monitor.snapshot().listening);
    QCOMPARE(clientIn(monitor.snapshot(), id)->counters.peerPort, socket.localPort());
    QCOMPARE(recorder.timesAdded(id), 1);
    QVERIFY2(recorder.error().isEmpty(), qPrintable(recorder.error()));
}

namespace {

// Connects `count` clients and waits until the monitor shows them all and has settled
// (no timer: nothing left to publish). Returns the client id of each socket.
QList<quint64> connectIdle(EchoServer &server, TrafficMonitor &monitor,
                           std::vector<std::unique_ptr<QTcpSocket>> &sockets, int count)
{
    for (int i = 0; i < count; ++i) {
        sockets.push_back(std::make_unique<QTcpSocket>());
        sockets.back()->connectToHost(QHostAddress::LocalHost, server.serverPort());
    }
    QList<quint64> ids;
    const bool shown = QTest::qWaitFor(
        [&] { return monitor.snapshot().clients.size() >= qsizetype(sockets.size()); }, 20000);
    if (!shown)
        return ids;
    for (const auto &socket : sockets) {
        quint64 id = 0;
        for (const ClientView &view : monitor.snapshot().clients) {
            if (view.counters.peerPort == socket->localPort())
                id = view.counters.id;
        }
        ids.append(id);
    }
    return ids;
}

} // namespace

void tst_TrafficMonitor::costFollowsChange_data()
{
    QTest::addColumn<int>("threads");
    QTest::newRow("threads=1") << 1;
    QTest::newRow("threads=2") << 2;
}

// The monitor's work follows what changed, not how many clients there are. With N idle
// clients nothing is published and no view is built (no timer runs, with the idle
// snapshot off); a forced snapshot builds none either. With one of them sending, the
// snapshots build that client's view alone, name it alone in changedIds, and every other
// view stays the very same object; the totals are the bytes the client sent.
void tst_TrafficMonitor::costFollowsChange()
{
    QFETCH(int, threads);
    constexpr int kClients = 300;
    EchoServer server;
    TrafficMonitor monitor(&server);
    monitor.setIdleIntervalMs(0);
    monitor.setRetainDisconnectedMs(0);
    QVERIFY2(server.start(testConfig(threads)), qPrintable(server.errorString()));
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    const QList<quint64> ids = connectIdle(server, monitor, sockets, kClients);
    QCOMPARE(ids.size(), kClients);
    QVERIFY(!ids.contains(0));
    QTRY_VERIFY_WITH_TIMEOUT(!monitor.isTicking(), 10000);

    // Idle: nothing published, nothing built.
    const quint64 builtIdle = monitor.viewsBuilt();
    QSignalSpy snapshots(&monitor, &TrafficMonitor::snapshotReady);
    QVERIFY(!snapshots.wait(300));
    QVERIFY(!monitor.isTicking());
    monitor.refresh();
    QCOMPARE(monitor.viewsBuilt(), builtIdle);
    QVERIFY(monitor.snapshot().changedIds.isEmpty());
    QVERIFY(monitor.snapshot().addedIds.isEmpty());
    QVERIFY(!monitor.isTicking());
    const ClientViewList before = monitor.snapshot().clients; // shares the views

    // One client of kClients sends; its echo comes back.
    snapshots.clear();
    const int active = kClients / 2;
    const quint64 activeId = ids.at(active);
    const QByteArray payload(1000, 'x');
    sockets[size_t(active)]->write(payload);
    QTRY_COMPARE(sockets[size_t(active)]->bytesAvailable(), qint64(payload.size()));
    QTRY_VERIFY(monitor.clientView(activeId) &&
                monitor.clientView(activeId)->counters.bytesOut == payload.size());
    // Its rate falls back to zero, then nothing is left to publish.
    QTRY_VERIFY_WITH_TIMEOUT(!monitor.isTicking(), 10000);

    qint64 changedViews = 0;
    for (const QList<QVariant> &arguments : std::as_const(snapshots)) {
        const auto snapshot = arguments.at(0).value<TrafficSnapshot>();
        QVERIFY(snapshot.addedIds.isEmpty());
        QVERIFY(snapshot.removedIds.isEmpty());
        for (quint64 id : snapshot.changedIds)
            QCOMPARE(id, activeId);
        changedViews += snapshot.changedIds.size();
    }
    QVERIFY(changedViews >= 1);
    // Every view built was that client's, and each was published once.
    QCOMPARE(qint64(monitor.viewsBuilt() - builtIdle), changedViews);
    const ClientViewList &after = monitor.snapshot().clients;
    QCOMPARE(after.size(), before.size());
    for (qsizetype i = 0; i < after.size(); ++i) {
        if (after.at(i).counters.id != activeId)
            QCOMPARE(after.shared(i).get(), before.shared(i).get());
    }
    const ServerTotals &totals = monitor.snapshot().totals;
    QCOMPARE(totals.bytesIn, qint64(payload.size()));
    QCOMPARE(totals.bytesOut, qint64(payload.size()));
    QCOMPARE(totals.clientsNow, kClients);
}

// The totals are running sums, not a walk over the clients: they equal the bytes the
// clients themselves sent, live and gone, and the server's own totals; a restart starts
// them from zero.
void tst_TrafficMonitor::totalsAreRunningSums()
{
    EchoServer server;
    TrafficMonitor monitor(&server);
    QVERIFY2(server.start(testConfig(2)), qPrintable(server.errorString()));
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    const QList<quint64> ids = connectIdle(server, monitor, sockets, 8);
    QCOMPARE(ids.size(), 8);
    qint64 sent = 0;
    for (size_t i = 0; i < sockets.size(); ++i) {
        const QByteArray payload(int(100 * (i + 1)), char('a' + i));
        sockets[i]->write(payload);
        sent += payload.size();
    }
    for (size_t i = 0; i < sockets.size(); ++i)
        QTRY_COMPARE(sockets[i]->bytesAvailable(), qint64(100 * (i + 1)));
    QTRY_COMPARE(monitor.snapshot().totals.bytesIn, sent);
    QTRY_COMPARE(monitor.snapshot().totals.bytesOut, sent);

    // Half of them go: their bytes stay in the totals, now as the server's retired ones.
    for (size_t i = 0; i < sockets.size(); i += 2)
        sockets[i]->disconnectFromHost();
    QTRY_COMPARE(monitor.snapshot().totals.clientsNow, 4);
    // And the others send more.
    for (size_t i = 1; i < sockets.size(); i += 2) {
        sockets[i]->write("0123456789");
        sent += 10;
    }
    QTRY_COMPARE(monitor.snapshot().totals.bytesOut, sent);
    monitor.refresh();
    const ServerTotals totals = monitor.snapshot().totals;
    const ServerTotals serverTotals = server.totals();
    QCOMPARE(totals.bytesIn, sent);
    QCOMPARE(totals.bytesIn, serverTotals.bytesIn);
    QCOMPARE(totals.bytesOut, serverTotals.bytesOut);
    QCOMPARE(totals.clientsTotal, qint64(8));

    server.stop();
    QVERIFY2(server.start(testConfig(1)), qPrintable(server.errorString()));
    QTRY_VERIFY(monitor.snapshot().listening);
    QCOMPARE(monitor.snapshot().totals.bytesIn, qint64(0));
    QCOMPARE(monitor.snapshot().totals.bytesOut, qint64(0));
}

QTEST_GUILESS_MAIN(tst_TrafficMonitor)
#include "tst_trafficmonitor.moc"
