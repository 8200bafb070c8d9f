#include "clientfilterproxy.h"
#include "clienttablemodel.h"
#include "echoserver.h"
#include "eventfilterproxy.h"
#include "eventlog.h"
#include "eventlogmodel.h"
#include "eventlogpanel.h"
#include "translations.h"
#include "units.h"
#include "websocketframemodel.h"
#include "wsframescanner.h"
#include "serverconfig.h"
#include "textescape.h"
#include "trafficevent.h"
#include "trafficmonitor.h"

#include <QAbstractItemModelTester>
#include <QBrush>
#include <QBuffer>
#include <QFont>
#include <QGuiApplication>
#include <QItemSelectionModel>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QPalette>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QTcpSocket>
#include <QTemporaryFile>
#include <QTest>

#include <algorithm>
#include <initializer_list>

using namespace Echoscope;

namespace {

// 2023-11-14T22:13:20.000Z: a fixed "now" for hand-made snapshots and events.
constexpr qint64 kT0 = 1700000000000;

void attachTester(QAbstractItemModel *model)
{
    new QAbstractItemModelTester(model, QAbstractItemModelTester::FailureReportingMode::QtTest,
                                 model);
}

ClientView makeClient(quint64 id, qint64 bytesIn = 0, bool connected = true)
{
    ClientView view;
    view.counters.id = id;
    view.counters.peerAddress = QHostAddress(QStringLiteral("10.0.0.%1").arg(id % 250 + 1));
    view.counters.peerPort = quint16(40000 + id);
    view.counters.connectedAtMs = kT0 - 1000;
    view.counters.bytesIn = bytesIn;
    view.counters.bytesOut = bytesIn;
    view.connected = connected;
    if (!connected) {
        view.counters.state = ClientState::Closed;
        view.disconnectedAtMs = kT0;
        view.disconnect.reason = DisconnectReason::ResetByPeer;
        view.disconnect.durationMs = 12000;
        view.disconnect.bytesIn = bytesIn;
        view.disconnect.bytesOut = bytesIn;
    }
    return view;
}

QList<ClientView> makeClients(std::initializer_list<quint64> ids)
{
    QList<ClientView> clients;
    for (quint64 id : ids)
        clients.append(makeClient(id));
    return clients;
}

// Consecutive snapshots with addedIds/removedIds as TrafficMonitor makes them.
class SnapshotBuilder
{
public:
    TrafficSnapshot next(const QList<ClientView> &clients, qint64 timestampMs = kT0)
    {
        TrafficSnapshot snapshot;
        snapshot.timestampMs = timestampMs;
        snapshot.clients = clients;
        QSet<quint64> ids;
        for (const ClientView &client : clients) {
            ids.insert(client.counters.id);
            if (!m_ids.contains(client.counters.id))
                snapshot.addedIds.append(client.counters.id);
        }
        for (quint64 id : std::as_const(m_ids)) {
            if (!ids.contains(id))
                snapshot.removedIds.append(id);
        }
        std::sort(snapshot.addedIds.begin(), snapshot.addedIds.end());
        std::sort(snapshot.removedIds.begin(), snapshot.removedIds.end());
        m_ids = ids;
        return snapshot;
    }

private:
    QSet<quint64> m_ids;
};

QList<quint64> modelIds(const ClientTableModel &model)
{
    QList<quint64> ids;
    for (int row = 0; row < model.rowCount(); ++row)
        ids.append(model.clientId(row));
    return ids;
}

QList<quint64> proxyIds(const QAbstractItemModel &proxy)
{
    QList<quint64> ids;
    for (int row = 0; row < proxy.rowCount(); ++row)
        ids.append(proxy.index(row, 0).data(ClientTableModel::ClientIdRole).toULongLong());
    return ids;
}

// rowsInserted / rowsRemoved spies as (first, last) pairs.
QList<QPair<int, int>> ranges(const QSignalSpy &spy)
{
    QList<QPair<int, int>> list;
    for (const QList<QVariant> &arguments : spy)
        list.append({arguments.at(1).toInt(), arguments.at(2).toInt()});
    return list;
}

TrafficEvent makeEvent(TrafficEvent::Kind kind, qint64 timestampMs, quint64 clientId = 0)
{
    TrafficEvent event;
    event.kind = kind;
    event.timestampMs = timestampMs;
    event.clientId = clientId;
    if (clientId != 0) {
        event.address = QHostAddress(QHostAddress::LocalHost);
        event.port = quint16(40000 + clientId);
    }
    return event;
}

TrafficEvent makeMessage(quint64 clientId, qint64 timestampMs, qint64 bytes = 100)
{
    TrafficEvent event = makeEvent(TrafficEvent::Kind::MessageEchoed, timestampMs, clientId);
    event.bytes = bytes;
    event.payload = QByteArray(int(qMin<qint64>(bytes, TrafficEvent::kPayloadPreviewBytes)), 'x');
    return event;
}

TrafficEvent makeText(TrafficEvent::Kind kind, qint64 timestampMs, const QString &text)
{
    TrafficEvent event = makeEvent(kind, timestampMs);
    event.text = text;
    return event;
}

int countRows(const QAbstractItemModel &model, int kind, quint64 clientId = 0)
{
    int count = 0;
    for (int row = 0; row < model.rowCount(); ++row) {
        const QModelIndex index = model.index(row, 0);
        if (index.data(EventLogModel::KindRole).toInt() == kind &&
            (clientId == 0 || index.data(EventLogModel::ClientIdRole).toULongLong() == clientId))
            ++count;
    }
    return count;
}

int rowOfKind(const QAbstractItemModel &model, int kind, quint64 clientId = 0, int from = 0)
{
    for (int row = from; row < model.rowCount(); ++row) {
        const QModelIndex index = model.index(row, 0);
        if (index.data(EventLogModel::KindRole).toInt() == kind &&
            (clientId == 0 || index.data(EventLogModel::ClientIdRole).toULongLong() == clientId))
            return row;
    }
    return -1;
}

QString details(const QAbstractItemModel &model, int row)
{
    return model.index(row, EventLogModel::DetailsColumn).data().toString();
}

// A character that could move a cursor, change colours or reorder text.
bool isUnsafe(QChar c)
{
    const char16_t u = c.unicode();
    return u < 0x20 || (u >= 0x7f && u <= 0x9f) || (u >= 0x202a && u <= 0x202e) ||
           (u >= 0x2066 && u <= 0x2069) || u == 0x200e || u == 0x200f;
}

// Accepts nothing: a device whose writes fail.
class FailingDevice : public QIODevice
{
public:
protected:
    qint64 readData(char *, qint64) override { return -1; }
    qint64 writeData(const char *, qint64) override
    {
        setErrorString(QStringLiteral("disk full"));
        return -1;
    }
};

} // namespace

class tst_UiModels : public QObject
{
    Q_OBJECT

private slots:
    void logSearchWaitsForTypingAndReadsCachedText();
    void logModelSharesTheEventLogsEvents();
    void initTestCase();
    void init();
    void webSocketFramesFollowTheRing();

    // ClientTableModel
    void tableInsertsAndRemovesInRuns();
    void tableDataChangedCoversRowsThatMayChange();
    void tableAppliesOnlyWhatChanged();
    void tableSurvivesInconsistentSnapshots();
    void formatsBytes_data();
    void formatsBytes();
    void formatsBytesInTheLocale();
    void formatsDuration_data();
    void formatsDuration();
    void tableShowsConnectedClient();
    void tableShowsStoppedClient();
    void tableGreysDisconnectedClient();
    void tableShowsTlsSession();
    // ClientFilterProxy
    void proxySortsNumerically();
    void proxyFiltersText();
    void proxyHidesDisconnected();
    void proxyKeepsSelectionAcrossTicks();
    // Both with a real server
    void modelsFollowRealServer();

    // EventLogModel
    void logShowsEvents();
    void logEscapesClientBytes();
    void logIsBoundedUnderFlood();
    void logAggregatesMessageFlood();
    void logWindowsFollowTheEngines();
    void logFoldsManyClientsPastBudget();
    void logNeverFoldsConnections();
    void logFoldsRefusalFlood();
    void logReportsMissedEvents();
    void csvQuotingIsExact();
    void jsonLinesParse();
    void exportThroughProxyIsFiltered();
    void exportReportsWriteFailure();
    // EventFilterProxy
    void eventProxyFilters();
};

namespace {
WebSocketFrameRecord frameRecord(qint64 length, bool received, quint8 opcode = 0x1)
{
    WebSocketFrameRecord frame;
    frame.timestampMs = 1700000000000 + length;
    frame.received = received;
    frame.opcode = opcode;
    frame.fin = true;
    frame.masked = received;
    frame.length = length;
    return frame;
}
} // namespace

// The frame list appends what is new and drops what the log's ring dropped (no reset, so
// the view keeps its place); a jump past the ring starts over. Rows show each field.
void tst_UiModels::webSocketFramesFollowTheRing()
{
    WebSocketFrameModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

    QList<WebSocketFrameRecord> ring = {frameRecord(1, true), frameRecord(2, false),
                                        frameRecord(3, true)};
    model.setFrames(ring, 3);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(reset.size(), 0);

    // Two more went by and the ring (of four here) dropped the oldest.
    ring = {frameRecord(2, false), frameRecord(3, true), frameRecord(4, false),
            frameRecord(5, true, WsFrameHeader::Close)};
    ring.last().closeCode = 4001;
    ring.last().closeReason = "bye\n";
    model.setFrames(ring, 5);
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(removed.size(), 1);
    QCOMPARE(removed.at(0).at(1).toInt(), 0);
    QCOMPARE(removed.at(0).at(2).toInt(), 0);
    QCOMPARE(inserted.size(), 2);
    QCOMPARE(inserted.at(1).at(1).toInt(), 2);
    QCOMPARE(inserted.at(1).at(2).toInt(), 3);
    QCOMPARE(reset.size(), 0);
    for (int row = 0; row < 4; ++row)
        QCOMPARE(model.frameAt(row)->length, ring.at(row).length);

    const auto text = [&model](int row, int column) {
        return model.index(row, column).data().toString();
    };
    QCOMPARE(text(0, WebSocketFrameModel::DirectionColumn), QStringLiteral("out"));
    QCOMPARE(text(1, WebSocketFrameModel::DirectionColumn), QStringLiteral("in"));
    QCOMPARE(text(1, WebSocketFrameModel::OpcodeColumn), QStringLiteral("text"));
    QCOMPARE(text(1, WebSocketFrameModel::MaskedColumn), QStringLiteral("yes"));
    QCOMPARE(text(0, WebSocketFrameModel::MaskedColumn), QStringLiteral("no"));
    QCOMPARE(text(3, WebSocketFrameModel::OpcodeColumn), QStringLiteral("close"));
    QCOMPARE(text(3, WebSocketFrameModel::CloseColumn), QStringLiteral("4001 \"bye\\n\""));
    QCOMPARE(text(2, WebSocketFrameModel::CloseColumn), QString());
    QCOMPARE(text(3, WebSocketFrameModel::TimeColumn), Units::timeOfDay(ring.at(3).timestampMs));

    // Nothing new: nothing moves.
    model.setFrames(ring, 5);
    QCOMPARE(inserted.size(), 2);
    QCOMPARE(removed.size(), 1);

    // More went by than the ring holds: start over.
    ring = {frameRecord(100, true), frameRecord(101, false)};
    model.setFrames(ring, 200);
    QCOMPARE(reset.size(), 1);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.frameAt(1)->length, 101);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void tst_UiModels::initTestCase()
{
    // Thousands separators and decimal points as the expected strings write them, and the
    // texts in English (with the English plural forms) in every locale, CI's German run too.
    QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates));
    Translations::install(QCoreApplication::instance(), QLocale(QLocale::English));
}

void tst_UiModels::init()
{
    // Every message a model or a tester prints is a failure (a bad arg(), a bad index).
    QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
}

void tst_UiModels::tableInsertsAndRemovesInRuns()
{
    ClientTableModel model;
    attachTester(&model);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    SnapshotBuilder builder;

    model.applySnapshot(builder.next(makeClients({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})));
    QCOMPARE(ranges(inserted), (QList<QPair<int, int>>{{0, 9}}));
    QCOMPARE(changed.count(), 0); // new rows need no dataChanged
    QCOMPARE(model.rowCount(), 10);

    // 2, 3 and 7 go (two runs), 11 and 12 come (one run).
    inserted.clear();
    model.applySnapshot(builder.next(makeClients({1, 4, 5, 6, 8, 9, 10, 11, 12})));
    QCOMPARE(ranges(removed), (QList<QPair<int, int>>{{6, 6}, {1, 2}}));
    QCOMPARE(ranges(inserted), (QList<QPair<int, int>>{{7, 8}}));
    QCOMPARE(modelIds(model), (QList<quint64>{1, 4, 5, 6, 8, 9, 10, 11, 12}));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).toModelIndex(), model.index(0, 0));
    QCOMPARE(changed.at(0).at(1).toModelIndex(), model.index(6, ClientTableModel::ColumnCount - 1));

    // Same clients: no rows move, one dataChanged over all of them.
    inserted.clear();
    removed.clear();
    changed.clear();
    model.applySnapshot(builder.next(makeClients({1, 4, 5, 6, 8, 9, 10, 11, 12})));
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(removed.count(), 0);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(1).toModelIndex(), model.index(8, ClientTableModel::ColumnCount - 1));

    // Many runs at once, and a run inserted in the middle.
    removed.clear();
    model.applySnapshot(builder.next(makeClients({1, 2, 3, 5, 8, 10, 12})));
    QCOMPARE(ranges(removed), (QList<QPair<int, int>>{{7, 7}, {5, 5}, {3, 3}, {1, 1}}));
    QCOMPARE(ranges(inserted), (QList<QPair<int, int>>{{1, 2}}));
    QCOMPARE(modelIds(model), (QList<quint64>{1, 2, 3, 5, 8, 10, 12}));
    QCOMPARE(model.rowOfClient(8), 4);
    QCOMPARE(model.rowOfClient(7), -1);
    QCOMPARE(model.clientAt(4)->counters.id, quint64(8));
    QVERIFY(!model.clientAt(7));
    QCOMPARE(model.clientId(-1), quint64(0));

    model.applySnapshot(builder.next({}));
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(reset.count(), 0);
    model.applySnapshot(builder.next(makeClients({20, 21})));
    model.clear();
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(reset.count(), 1);
}

void tst_UiModels::tableDataChangedCoversRowsThatMayChange()
{
    ClientTableModel model;
    attachTester(&model);
    SnapshotBuilder builder;
    QList<ClientView> clients;
    for (quint64 id = 1; id <= 5; ++id)
        clients.append(makeClient(id, 10, id == 3));
    model.applySnapshot(builder.next(clients));

    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.applySnapshot(builder.next(clients, kT0 + 50));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 2);
    QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 2);
    // Its duration moved with the snapshot's time.
    model.applySnapshot(builder.next(clients, kT0 + 5000));
    QCOMPARE(model.index(2, ClientTableModel::DurationColumn).data().toString(),
             QStringLiteral("6 s"));

    // Client 3 goes: its row changes once more, then nothing does.
    clients[2] = makeClient(3, 10, false);
    changed.clear();
    model.applySnapshot(builder.next(clients, kT0 + 5050));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 2);
    QCOMPARE(model.index(2, 0).data(ClientTableModel::ConnectedRole), QVariant(false));
    changed.clear();
    model.applySnapshot(builder.next(clients, kT0 + 5100));
    QCOMPARE(changed.count(), 0);
}

// A monitor's consecutive snapshots (sequence + 1) are applied from their lists of
// changes alone: only the rows named change, each contiguous run in one dataChanged(),
// and the rows hold the snapshot's own views, not copies. A snapshot out of sequence
// falls back to the diff by id and still ends up right.
void tst_UiModels::tableAppliesOnlyWhatChanged()
{
    ClientTableModel model;
    attachTester(&model);
    QList<ClientView> views;
    for (quint64 id = 1; id <= 1000; ++id)
        views.append(makeClient(id, 100));
    TrafficSnapshot snapshot;
    snapshot.sequence = 1;
    snapshot.timestampMs = kT0;
    snapshot.clients = views;
    for (quint64 id = 1; id <= 1000; ++id)
        snapshot.addedIds.append(id);
    model.applySnapshot(snapshot);
    QCOMPARE(model.rowCount(), 1000);
    QCOMPARE(model.appliedSequence(), quint64(1));
    QCOMPARE(model.clientAt(499), snapshot.clients.shared(499).get()); // shared, not copied

    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

    // Nothing changed: nothing to say, whatever the number of rows.
    snapshot.sequence = 2;
    snapshot.addedIds.clear();
    model.applySnapshot(snapshot);
    QCOMPARE(changed.count(), 0);

    // Two clients changed (rows 9 and 700), one left (row 0), one came: one signal each.
    QList<ClientViewList::Pointer> &pointers = snapshot.clients.pointers();
    pointers[9] = std::make_shared<const ClientView>(makeClient(10, 555));
    pointers[700] = std::make_shared<const ClientView>(makeClient(701, 777));
    pointers.removeFirst();
    snapshot.clients.append(makeClient(1001, 1));
    snapshot.sequence = 3;
    snapshot.changedIds = {10, 701};
    snapshot.removedIds = {1};
    snapshot.addedIds = {1001};
    model.applySnapshot(snapshot);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(changed.count(), 2);
    QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 8);
    QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 8);
    QCOMPARE(changed.at(1).at(0).toModelIndex().row(), 699);
    QCOMPARE(model.rowCount(), 1000);
    QCOMPARE(model.clientId(0), quint64(2));
    QCOMPARE(model.clientId(999), quint64(1001));
    QCOMPARE(model.index(8, ClientTableModel::BytesInColumn).data(ClientTableModel::SortRole),
             QVariant(qint64(555)));
    QCOMPARE(model.index(699, ClientTableModel::BytesInColumn).data(ClientTableModel::SortRole),
             QVariant(qint64(777)));

    // A snapshot skipped: the next one is diffed, and the rows match it all the same.
    changed.clear();
    pointers[0] = std::make_shared<const ClientView>(makeClient(2, 999));
    snapshot.sequence = 5;
    snapshot.changedIds.clear();
    snapshot.removedIds.clear();
    snapshot.addedIds.clear();
    model.applySnapshot(snapshot);
    QCOMPARE(model.rowCount(), 1000);
    QCOMPARE(model.index(0, ClientTableModel::BytesInColumn).data(ClientTableModel::SortRole),
             QVariant(qint64(999)));
    QCOMPARE(reset.count(), 0);
}

void tst_UiModels::tableSurvivesInconsistentSnapshots()
{
    ClientTableModel model;
    attachTester(&model);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);

    // Attached late: the first snapshot it sees does not list its clients as added.
    TrafficSnapshot late;
    late.timestampMs = kT0;
    late.clients = makeClients({1, 2, 3, 4, 5});
    model.applySnapshot(late);
    QCOMPARE(modelIds(model), (QList<quint64>{1, 2, 3, 4, 5}));
    QCOMPARE(ranges(inserted), (QList<QPair<int, int>>{{0, 4}}));

    // Lists that contradict the rows held: the rows still end up as the clients.
    inserted.clear();
    TrafficSnapshot wrong;
    wrong.timestampMs = kT0;
    wrong.clients = makeClients({1, 2, 3, 6});
    wrong.addedIds = {3};
    wrong.removedIds = {9};
    model.applySnapshot(wrong);
    QCOMPARE(modelIds(model), (QList<quint64>{1, 2, 3, 6}));
    QCOMPARE(ranges(removed), (QList<QPair<int, int>>{{3, 4}}));
    QCOMPARE(ranges(inserted), (QList<QPair<int, int>>{{3, 3}}));

    // Unsorted, with a duplicate: shown sorted, once.
    TrafficSnapshot unsorted;
    unsorted.timestampMs = kT0;
    unsorted.clients = makeClients({6, 2, 1, 2});
    model.applySnapshot(unsorted);
    QCOMPARE(modelIds(model), (QList<quint64>{1, 2, 6}));
    QCOMPARE(reset.count(), 0);
}

void tst_UiModels::formatsBytes_data()
{
    QTest::addColumn<qint64>("bytes");
    QTest::addColumn<QString>("text");
    QTest::newRow("zero") << qint64(0) << QStringLiteral("0 bytes");
    QTest::newRow("one") << qint64(1) << QStringLiteral("1 byte");
    QTest::newRow("bytes") << qint64(1023) << QStringLiteral("1,023 bytes");
    QTest::newRow("KiB") << qint64(1024) << QStringLiteral("1.0 KiB");
    QTest::newRow("KiB.5") << qint64(1536) << QStringLiteral("1.5 KiB");
    QTest::newRow("almost MiB") << qint64(1024 * 1024 - 1) << QStringLiteral("1.0 MiB");
    QTest::newRow("MiB") << qint64(1258291) << QStringLiteral("1.2 MiB");
    QTest::newRow("GiB") << (qint64(3) << 30) << QStringLiteral("3.0 GiB");
    QTest::newRow("almost GiB") << (qint64(1) << 30) - 1 << QStringLiteral("1.0 GiB");
    QTest::newRow("EiB") << (qint64(3) << 60) << QStringLiteral("3.0 EiB");
}

void tst_UiModels::formatsBytes()
{
    QFETCH(qint64, bytes);
    QFETCH(QString, text);
    QCOMPARE(Units::bytes(bytes), text);
    QCOMPARE(Units::bytesPerSecond(double(bytes)), text + QStringLiteral("/s"));
}

// Byte sizes are QLocale::formattedDataSize(): the locale's decimal point and unit names.
void tst_UiModels::formatsBytesInTheLocale()
{
    const QLocale english;
    QLocale::setDefault(QLocale(QLocale::German, QLocale::Germany));
    const QString kib = Units::bytes(1536);
    const QString exact = Units::exactBytes(1234567);
    QLocale::setDefault(english);
    QCOMPARE(kib, QStringLiteral("1,5 KiB"));
    QCOMPARE(exact, QStringLiteral("1.234.567 bytes")); // the words: English, as installed
}

void tst_UiModels::formatsDuration_data()
{
    QTest::addColumn<qint64>("ms");
    QTest::addColumn<QString>("text");
    QTest::newRow("zero") << qint64(0) << QStringLiteral("0 s");
    QTest::newRow("seconds") << qint64(12999) << QStringLiteral("12 s");
    QTest::newRow("minutes") << qint64(184000) << QStringLiteral("3 min 04 s");
    QTest::newRow("hours") << qint64(3720000) << QStringLiteral("1 h 02 min");
    QTest::newRow("days") << qint64(2 * 86400000 + 3 * 3600000) << QStringLiteral("2 d 03 h");
    QTest::newRow("negative") << qint64(-5) << QStringLiteral("0 s");
}

void tst_UiModels::formatsDuration()
{
    QFETCH(qint64, ms);
    QFETCH(QString, text);
    QCOMPARE(Units::duration(ms), text);
}

// The stop-reading fault is a state of its own (the session reads nothing), not "connected".
void tst_UiModels::tableShowsStoppedClient()
{
    ClientTableModel model;
    attachTester(&model);
    ClientView view = makeClient(3, 2);
    view.counters.state = ClientState::Stopped;
    model.applySnapshot(SnapshotBuilder().next({view}));
    QCOMPARE(model.index(0, ClientTableModel::StateColumn).data().toString(),
             QStringLiteral("not reading (fault)"));
}

void tst_UiModels::tableShowsConnectedClient()
{
    ClientTableModel model;
    attachTester(&model);
    ClientView view = makeClient(7, 1258291);
    view.counters.peerAddress = QHostAddress(QHostAddress::LocalHostIPv6);
    view.counters.peerPort = 5000;
    view.counters.bytesOut = 1024;
    view.counters.messagesIn = 4812;
    view.counters.lastMessageBytes = -1;
    view.counters.state = ClientState::Paused;
    view.counters.unsentBytes = 300 * 1024;
    view.bytesInPerSecond = 12.3 * 1024;
    TrafficSnapshot snapshot = SnapshotBuilder().next({view});
    snapshot.timestampMs = view.counters.connectedAtMs + 184000;
    model.applySnapshot(snapshot);

    const auto cell = [&](int column, int role = Qt::DisplayRole) {
        return model.index(0, column).data(role);
    };
    QCOMPARE(cell(ClientTableModel::IdColumn).toString(), QStringLiteral("7"));
    QCOMPARE(cell(ClientTableModel::PeerColumn).toString(), QStringLiteral("[::1]:5000"));
    QCOMPARE(cell(ClientTableModel::ConnectedColumn).toString(),
             QDateTime::fromMSecsSinceEpoch(view.counters.connectedAtMs).toString("hh:mm:ss"));
    QCOMPARE(cell(ClientTableModel::DurationColumn).toString(), QStringLiteral("3 min 04 s"));
    QCOMPARE(cell(ClientTableModel::BytesInColumn).toString(), QStringLiteral("1.2 MiB"));
    QVERIFY2(cell(ClientTableModel::BytesInColumn, Qt::ToolTipRole)
                 .toString()
                 .contains(QStringLiteral("1,258,291 bytes")),
             qPrintable(cell(ClientTableModel::BytesInColumn, Qt::ToolTipRole).toString()));
    QCOMPARE(cell(ClientTableModel::BytesOutColumn).toString(), QStringLiteral("1.0 KiB"));
    QCOMPARE(cell(ClientTableModel::MessagesInColumn).toString(), QStringLiteral("4,812"));
    QCOMPARE(cell(ClientTableModel::LastMessageColumn).toString(), QString(QChar(0x2014)));
    QCOMPARE(cell(ClientTableModel::RateColumn).toString(), QStringLiteral("12.3 KiB/s"));
    QCOMPARE(cell(ClientTableModel::StateColumn).toString(),
             QStringLiteral("paused (backpressure: 300.0 KiB unsent)"));
    QCOMPARE(cell(ClientTableModel::BytesInColumn, Qt::TextAlignmentRole).toInt(),
             int(Qt::AlignRight | Qt::AlignVCenter));
    QCOMPARE(cell(ClientTableModel::PeerColumn, Qt::TextAlignmentRole).toInt() & Qt::AlignRight, 0);
    QVERIFY(!cell(ClientTableModel::IdColumn, Qt::ForegroundRole).isValid());
    QCOMPARE(cell(ClientTableModel::IdColumn, ClientTableModel::ClientIdRole).toULongLong(),
             quint64(7));
    QCOMPARE(cell(ClientTableModel::IdColumn, ClientTableModel::ConnectedRole), QVariant(true));
    QCOMPARE(cell(ClientTableModel::BytesInColumn, ClientTableModel::SortRole),
             QVariant(qint64(1258291)));
    const QString rowTip = cell(ClientTableModel::PeerColumn, Qt::ToolTipRole).toString();
    QVERIFY2(rowTip.contains(QStringLiteral("[::1]:5000")) &&
                 rowTip.contains(QStringLiteral("Peak unsent")),
             qPrintable(rowTip));

    const QStringList headers = {"ID",        "Peer",    "Connected", "Duration", "Bytes in",
                                 "Bytes out", "Msgs in", "Msgs out",  "Last msg", "Rate in",
                                 "Faults",    "State",   "TLS",       "Proto"};
    QCOMPARE(headers.size(), int(ClientTableModel::ColumnCount));
    QCOMPARE(cell(ClientTableModel::TransportColumn, Qt::DisplayRole),
             QVariant(QStringLiteral("TCP")));
    for (int column = 0; column < ClientTableModel::ColumnCount; ++column) {
        QCOMPARE(model.headerData(column, Qt::Horizontal).toString(), headers.at(column));
        QVERIFY(!model.headerData(column, Qt::Horizontal, Qt::ToolTipRole).toString().isEmpty());
    }
}

void tst_UiModels::tableShowsTlsSession()
{
    ClientTableModel model;
    attachTester(&model);
    ClientView secured = makeClient(1);
    secured.counters.tlsProtocol = QStringLiteral("TLSv1.3");
    secured.counters.tlsCipher = QStringLiteral("TLS_AES_256_GCM_SHA384");
    secured.counters.tlsCipherBits = 256;
    ClientView handshaking = makeClient(2);
    handshaking.counters.state = ClientState::Handshaking;
    ClientView failed = makeClient(3, 0, false);
    failed.disconnect.reason = DisconnectReason::TlsHandshakeFailed;
    failed.disconnect.detail = QStringLiteral("no TLS handshake within 10 s");
    model.applySnapshot(SnapshotBuilder().next({secured, handshaking, failed}, kT0));

    const auto cell = [&model](int row, int column, int role = Qt::DisplayRole) {
        return model.index(row, column).data(role).toString();
    };
    QCOMPARE(cell(0, ClientTableModel::TlsColumn),
             QStringLiteral("TLSv1.3, TLS_AES_256_GCM_SHA384"));
    QVERIFY(cell(0, ClientTableModel::TlsColumn, Qt::ToolTipRole).contains(u"256-bit"));
    QCOMPARE(cell(1, ClientTableModel::TlsColumn), QStringLiteral("handshaking…"));
    QCOMPARE(cell(1, ClientTableModel::StateColumn), QStringLiteral("TLS handshake"));
    QCOMPARE(cell(2, ClientTableModel::TlsColumn), QStringLiteral("—"));
    QCOMPARE(cell(2, ClientTableModel::StateColumn),
             QStringLiteral("closed: TLS handshake failed: no TLS handshake within 10 s"));
}

void tst_UiModels::tableGreysDisconnectedClient()
{
    ClientTableModel model;
    attachTester(&model);
    ClientView gone = makeClient(3, 20, false);
    gone.counters.bytesOut = 15;
    gone.disconnect.bytesOut = 15;
    gone.disconnect.detail = QStringLiteral("<b>\x1b[31m");
    model.applySnapshot(SnapshotBuilder().next({gone}, kT0 + 3600000));

    const QModelIndex state = model.index(0, ClientTableModel::StateColumn);
    QCOMPARE(state.data().toString(), QStringLiteral("closed: reset by peer: <b>\\u{1b}[31m"));
    // Fixed at the disconnect, not counted on to the snapshot's time.
    QCOMPARE(model.index(0, ClientTableModel::DurationColumn).data().toString(),
             QStringLiteral("12 s"));
    const QColor grey = QGuiApplication::palette().color(QPalette::Disabled, QPalette::WindowText);
    for (int column = 0; column < ClientTableModel::ColumnCount; ++column) {
        const QVariant foreground = model.index(0, column).data(Qt::ForegroundRole);
        QVERIFY(foreground.canConvert<QBrush>());
        QCOMPARE(foreground.value<QBrush>().color(), grey);
    }
    QVERIFY(state.data(Qt::FontRole).value<QFont>().italic());
    const QString tip = model.index(0, ClientTableModel::IdColumn).data(Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(QStringLiteral("reset by peer")), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("Not echoed: 5 bytes")), qPrintable(tip));
    // Text from outside cannot turn into markup.
    QVERIFY2(tip.contains(QStringLiteral("&lt;b&gt;")) && !tip.contains(QStringLiteral("<b>")),
             qPrintable(tip));
}

void tst_UiModels::proxySortsNumerically()
{
    ClientTableModel model;
    ClientFilterProxy proxy;
    proxy.setSourceModel(&model);
    attachTester(&model);
    attachTester(&proxy);
    SnapshotBuilder builder;
    QList<ClientView> clients = {makeClient(1, 9), makeClient(2, 10), makeClient(3, 100),
                                 makeClient(4, 2)};
    model.applySnapshot(builder.next(clients));

    proxy.sort(ClientTableModel::BytesInColumn, Qt::AscendingOrder);
    QCOMPARE(proxyIds(proxy), (QList<quint64>{4, 1, 2, 3}));
    QCOMPARE(proxy.index(1, ClientTableModel::BytesInColumn).data().toString(),
             QStringLiteral("9 bytes"));
    QCOMPARE(proxy.index(2, ClientTableModel::BytesInColumn).data().toString(),
             QStringLiteral("10 bytes"));
    proxy.sort(ClientTableModel::BytesInColumn, Qt::DescendingOrder);
    QCOMPARE(proxyIds(proxy), (QList<quint64>{3, 2, 1, 4}));

    // A tick that changes the order re-sorts in place.
    clients[3].counters.bytesIn = 1000;
    model.applySnapshot(builder.next(clients));
    QCOMPARE(proxyIds(proxy), (QList<quint64>{4, 3, 2, 1}));

    // Peers: by address as numbers, then port.
    const auto at = [](const char *address, quint16 port) {
        static quint64 id = 10;
        ClientView view = makeClient(++id);
        view.counters.peerAddress = QHostAddress(QLatin1String(address));
        view.counters.peerPort = port;
        return view;
    };
    model.applySnapshot(builder.next(
        {at("10.0.0.1", 80), at("9.0.0.1", 80), at("9.0.0.1", 1000), at("9.0.0.1", 9)}));
    proxy.sort(ClientTableModel::PeerColumn, Qt::AscendingOrder);
    QStringList peers;
    for (int row = 0; row < proxy.rowCount(); ++row)
        peers << proxy.index(row, ClientTableModel::PeerColumn).data().toString();
    QCOMPARE(peers, (QStringList{"9.0.0.1:9", "9.0.0.1:80", "9.0.0.1:1000", "10.0.0.1:80"}));
}

void tst_UiModels::proxyFiltersText()
{
    ClientTableModel model;
    ClientFilterProxy proxy;
    proxy.setSourceModel(&model);
    attachTester(&model);
    attachTester(&proxy);
    // Peers 10.0.0.2:40001, 10.0.0.13:40012, 10.0.0.4:40003.
    model.applySnapshot(
        SnapshotBuilder().next({makeClient(1), makeClient(12), makeClient(3, 0, false)}));
    QCOMPARE(proxy.rowCount(), 3);

    proxy.setFilterText(QStringLiteral("RESET"));
    QCOMPARE(proxyIds(proxy), (QList<quint64>{3}));
    proxy.setFilterText(QStringLiteral("10.0.0.13:"));
    QCOMPARE(proxyIds(proxy), (QList<quint64>{12}));
    proxy.setFilterText(QStringLiteral(" connected "));
    QCOMPARE(proxyIds(proxy), (QList<quint64>{1, 12}));
    proxy.setFilterText(QStringLiteral("12"));
    QCOMPARE(proxyIds(proxy), (QList<quint64>{12}));
    QCOMPARE(proxy.filterText(), QStringLiteral("12"));
    proxy.setFilterText(QStringLiteral("no such client"));
    QCOMPARE(proxy.rowCount(), 0);
    proxy.setFilterText(QString());
    QCOMPARE(proxy.rowCount(), 3);
}

void tst_UiModels::proxyHidesDisconnected()
{
    ClientTableModel model;
    ClientFilterProxy proxy;
    proxy.setSourceModel(&model);
    attachTester(&model);
    attachTester(&proxy);
    SnapshotBuilder builder;
    QList<ClientView> clients = {makeClient(1), makeClient(2, 0, false), makeClient(3)};
    model.applySnapshot(builder.next(clients));

    QVERIFY(proxy.showDisconnected());
    proxy.setShowDisconnected(false);
    QCOMPARE(proxyIds(proxy), (QList<quint64>{1, 3}));
    // Client 1 goes on the next tick: it leaves the view as it is updated.
    clients[0] = makeClient(1, 0, false);
    model.applySnapshot(builder.next(clients));
    QCOMPARE(proxyIds(proxy), (QList<quint64>{3}));
    proxy.setShowDisconnected(true);
    QCOMPARE(proxyIds(proxy), (QList<quint64>{1, 2, 3}));
}

void tst_UiModels::proxyKeepsSelectionAcrossTicks()
{
    ClientTableModel model;
    ClientFilterProxy proxy;
    proxy.setSourceModel(&model);
    attachTester(&model);
    attachTester(&proxy);
    QSignalSpy proxyReset(&proxy, &QAbstractItemModel::modelReset);
    SnapshotBuilder builder;
    QList<ClientView> clients = {makeClient(1, 300), makeClient(2, 200), makeClient(3, 100)};
    model.applySnapshot(builder.next(clients));
    proxy.sort(ClientTableModel::BytesInColumn, Qt::DescendingOrder);

    QItemSelectionModel selection(&proxy);
    const QModelIndex two = proxy.index(1, 0);
    QCOMPARE(two.data(ClientTableModel::ClientIdRole).toULongLong(), quint64(2));
    selection.setCurrentIndex(two, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);

    const auto selectedIds = [&] {
        QList<quint64> ids;
        for (const QModelIndex &index : selection.selectedRows())
            ids.append(index.data(ClientTableModel::ClientIdRole).toULongLong());
        return ids;
    };
    // Values change, nothing moves.
    for (ClientView &client : clients)
        client.counters.bytesIn += 1;
    model.applySnapshot(builder.next(clients));
    QCOMPARE(selectedIds(), QList<quint64>{2});
    // Client 2 overtakes the others, a client comes and one goes: the selection follows.
    clients[1].counters.bytesIn = 5000;
    clients.removeAt(0);
    clients.append(makeClient(4, 4000));
    model.applySnapshot(builder.next(clients));
    QCOMPARE(proxyIds(proxy), (QList<quint64>{2, 4, 3}));
    QCOMPARE(selectedIds(), QList<quint64>{2});
    QCOMPARE(selection.currentIndex().data(ClientTableModel::ClientIdRole).toULongLong(),
             quint64(2));
    QCOMPARE(proxyReset.count(), 0);
}

void tst_UiModels::modelsFollowRealServer()
{
    EchoServer server;
    TrafficMonitor monitor(&server);
    ClientTableModel table;
    ClientFilterProxy proxy;
    proxy.setSourceModel(&table);
    EventLogModel log;
    EventFilterProxy logProxy;
    logProxy.setSourceModel(&log);
    for (QAbstractItemModel *model :
         std::initializer_list<QAbstractItemModel *>{&table, &proxy, &log, &logProxy})
        attachTester(model);
    connect(&monitor, &TrafficMonitor::snapshotReady, &table, &ClientTableModel::applySnapshot);
    connect(&monitor, &TrafficMonitor::eventsAppended, &log,
            [&log, &monitor] { log.appendFrom(monitor.eventLog()); });
    QSignalSpy reset(&table, &QAbstractItemModel::modelReset);

    ServerConfig config;
    config.bindAddress = QStringLiteral("127.0.0.1");
    config.port = 0;
    config.threads = 1;
    QVERIFY2(server.start(config), qPrintable(server.errorString()));

    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QTRY_COMPARE(connected.count(), 1);
    QTRY_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
    const quint64 id = connected.at(0).at(0).value<quint64>();
    const auto cell = [&](int column, int role = Qt::DisplayRole) {
        const int row = table.rowOfClient(id);
        return row < 0 ? QVariant() : table.index(row, column).data(role);
    };

    QTRY_VERIFY(table.rowOfClient(id) >= 0);
    QCOMPARE(cell(ClientTableModel::PeerColumn).toString(),
             QStringLiteral("127.0.0.1:%1").arg(socket.localPort()));
    QCOMPARE(cell(ClientTableModel::StateColumn).toString(), QStringLiteral("connected"));
    QCOMPARE(proxyIds(proxy), QList<quint64>{id});

    socket.write("hello");
    QByteArray echoed;
    QTRY_COMPARE(echoed += socket.readAll(), QByteArray("hello")); // nothing left unread
    QTRY_COMPARE(cell(ClientTableModel::BytesInColumn).toString(), QStringLiteral("5 bytes"));
    QTRY_COMPARE(cell(ClientTableModel::BytesOutColumn).toString(), QStringLiteral("5 bytes"));

    socket.disconnectFromHost();
    QTRY_COMPARE(cell(ClientTableModel::IdColumn, ClientTableModel::ConnectedRole),
                 QVariant(false));
    QCOMPARE(cell(ClientTableModel::StateColumn).toString(),
             QStringLiteral("closed: closed by peer"));
    QCOMPARE(cell(ClientTableModel::IdColumn, Qt::ForegroundRole).value<QBrush>().color(),
             QGuiApplication::palette().color(QPalette::Disabled, QPalette::WindowText));
    QCOMPARE(reset.count(), 0);

    // The log saw it come and go.
    const int disconnected = int(TrafficEvent::Kind::Disconnected);
    QTRY_COMPARE(countRows(log, disconnected, id), 1);
    QCOMPARE(countRows(log, int(TrafficEvent::Kind::Connected), id), 1);
    QCOMPARE(countRows(log, int(TrafficEvent::Kind::Listening)), 1);
    const int row = rowOfKind(log, disconnected, id);
    QVERIFY2(details(log, row).startsWith(QStringLiteral("closed by peer")),
             qPrintable(details(log, row)));
    QVERIFY(log.index(row, 0).data(EventLogModel::SequenceRole).toULongLong() > 0);
    server.stop();
}

void tst_UiModels::logShowsEvents()
{
    EventLogModel model;
    attachTester(&model);
    TrafficEvent listening = makeEvent(TrafficEvent::Kind::Listening, kT0);
    listening.address = QHostAddress(QHostAddress::LocalHost);
    listening.port = 5000;
    TrafficEvent disconnected = makeEvent(TrafficEvent::Kind::Disconnected, kT0 + 3, 7);
    disconnected.disconnect.reason = DisconnectReason::ResetByPeer;
    disconnected.disconnect.bytesIn = 2048;
    disconnected.disconnect.bytesOut = 1024;
    model.appendEvents({listening, makeEvent(TrafficEvent::Kind::Connected, kT0 + 1, 7),
                        makeMessage(7, kT0 + 2, 5), disconnected,
                        makeText(TrafficEvent::Kind::Error, kT0 + 4, QStringLiteral("boom"))},
                       0, 100);
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.columnCount(), int(EventLogModel::ColumnCount));
    QCOMPARE(model.headerData(EventLogModel::DetailsColumn, Qt::Horizontal).toString(),
             QStringLiteral("Details"));

    const QRegularExpression time(QStringLiteral("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}$"));
    for (int row = 0; row < model.rowCount(); ++row) {
        const QModelIndex first = model.index(row, 0);
        QVERIFY(time.match(first.data().toString()).hasMatch());
        QCOMPARE(first.data().toString(),
                 QDateTime::fromMSecsSinceEpoch(kT0 + row).toString("hh:mm:ss.zzz"));
        QCOMPARE(first.data(EventLogModel::TimestampRole).toLongLong(), kT0 + row);
        QCOMPARE(first.data(EventLogModel::SequenceRole).toULongLong(), quint64(100 + row));
    }
    const auto text = [&](int row, int column) {
        return model.index(row, column).data().toString();
    };
    QCOMPARE(text(0, EventLogModel::EventColumn), QStringLiteral("listening"));
    QCOMPARE(text(0, EventLogModel::ClientColumn), QString(QChar(0x2014)));
    QCOMPARE(text(0, EventLogModel::DetailsColumn), QStringLiteral("on 127.0.0.1:5000"));
    QCOMPARE(text(1, EventLogModel::EventColumn), QStringLiteral("connected"));
    QCOMPARE(text(1, EventLogModel::ClientColumn), QStringLiteral("7 (127.0.0.1:40007)"));
    QCOMPARE(model.index(1, 0).data(EventLogModel::PeerRole).toString(),
             QStringLiteral("127.0.0.1:40007"));
    QCOMPARE(model.index(1, 0).data(EventLogModel::ClientIdRole).toULongLong(), quint64(7));
    QCOMPARE(text(2, EventLogModel::DetailsColumn), QStringLiteral("5 bytes: \"xxxxx\""));
    QVERIFY2(text(3, EventLogModel::DetailsColumn)
                 .startsWith(QStringLiteral("reset by peer; in 2.0 KiB, out 1.0 KiB")),
             qPrintable(text(3, EventLogModel::DetailsColumn)));
    QVERIFY(text(3, EventLogModel::DetailsColumn).endsWith(QStringLiteral("; 1.0 KiB not echoed")));
    QCOMPARE(text(4, EventLogModel::DetailsColumn), QStringLiteral("boom"));
    QCOMPARE(model.index(4, 0).data(EventLogModel::KindRole).toInt(),
             int(TrafficEvent::Kind::Error));
    QCOMPARE(model.eventAt(4).text, QStringLiteral("boom"));
    QCOMPARE(model.aggregatedCount(4), qint64(0));
    QCOMPARE(model.rowKind(5), -1);

    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void tst_UiModels::logEscapesClientBytes()
{
    EventLogModel model;
    attachTester(&model);
    TrafficEvent message = makeMessage(1, kT0);
    message.payload = QByteArray("\x1b[2J\0\xff\n<b>\xe2\x80\xae", 13);
    message.bytes = 100;
    TrafficEvent refused = makeText(TrafficEvent::Kind::Refused, kT0, QStringLiteral("x\x1b[1m"));
    refused.address = QHostAddress(QHostAddress::LocalHost);
    TrafficEvent disconnected = makeEvent(TrafficEvent::Kind::Disconnected, kT0, 1);
    disconnected.disconnect.reason = DisconnectReason::SocketError;
    disconnected.disconnect.detail = QStringLiteral("bad\r\n\x07");
    model.appendEvents({message, refused, disconnected,
                        makeText(TrafficEvent::Kind::Warning, kT0,
                                 QStringLiteral("a\tb\x7f") + QChar(0x202e) + QChar(0x85))});

    for (int row = 0; row < model.rowCount(); ++row) {
        for (int column = 0; column < model.columnCount(); ++column) {
            const QString text = model.index(row, column).data().toString();
            QVERIFY2(std::none_of(text.cbegin(), text.cend(), isUnsafe),
                     qPrintable(QStringLiteral("row %1 column %2: %3")
                                    .arg(row)
                                    .arg(column)
                                    .arg(QString::fromLatin1(text.toUtf8().toHex()))));
        }
    }
    const QString shown = details(model, 0);
    QVERIFY2(shown.contains(TextEscape::escapeBytes(message.payload)), qPrintable(shown));
    QVERIFY2(shown.endsWith(QString(QChar(0x2026)) + QLatin1Char('"')), qPrintable(shown));
    // The tooltip dumps the bytes in hex, as text that cannot become markup.
    const QString tip =
        model.index(0, EventLogModel::DetailsColumn).data(Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(QStringLiteral("1b 5b 32 4a 00 ff 0a 3c")), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("100 bytes")), qPrintable(tip));
    QVERIFY2(!tip.contains(QStringLiteral("<b>")), qPrintable(tip));
}

void tst_UiModels::logIsBoundedUnderFlood()
{
    EventLogModel model;
    attachTester(&model);
    QCOMPARE(model.capacity(), EventLogModel::kDefaultCapacity);
    model.setCapacity(5);
    QCOMPARE(model.capacity(), EventLogModel::kMinimumCapacity);
    model.setCapacity(1000);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

    // 100,000 events in appends of 500: at most one removal per append, of the
    // oldest rows, with a tenth of the capacity to spare.
    constexpr int kEvents = 100000;
    constexpr int kChunk = 500;
    int appends = 0;
    for (int first = 0; first < kEvents; first += kChunk) {
        QList<TrafficEvent> chunk;
        for (int n = first; n < first + kChunk; ++n)
            chunk.append(makeText(TrafficEvent::Kind::Warning, kT0 + n, QString::number(n)));
        model.appendEvents(chunk);
        ++appends;
        QVERIFY2(model.rowCount() <= 1000, qPrintable(QString::number(model.rowCount())));
    }
    QVERIFY(model.rowCount() >= 900);
    QCOMPARE(model.eventAt(model.rowCount() - 1).text, QString::number(kEvents - 1));
    QVERIFY(!removed.isEmpty());
    QVERIFY(removed.count() <= appends);
    for (const QPair<int, int> &range : ranges(removed)) {
        QCOMPARE(range.first, 0);
        QVERIFY(range.second + 1 >= kChunk);
    }
    // One event at a time: a removal every hundred appends or so, not one per append.
    removed.clear();
    for (int n = 0; n < 300; ++n) {
        model.appendEvents({makeText(TrafficEvent::Kind::Warning, kT0 + kEvents, QString())});
        QVERIFY(model.rowCount() <= 1000);
    }
    QVERIFY2(removed.count() <= 3, qPrintable(QString::number(removed.count())));
    for (const QPair<int, int> &range : ranges(removed))
        QVERIFY(range.second + 1 >= 100);
    QCOMPARE(reset.count(), 0);

    // Rows are numbered on: an aggregate updated after its older neighbours went
    // still updates the right row.
    model.setCapacity(100);
    QCOMPARE(model.rowCount(), 100);
    QCOMPARE(model.rowKind(99), int(TrafficEvent::Kind::Warning));
    model.setMessageRowsPerClientPerSecond(0);
    const qint64 later = kT0 + kEvents;
    model.appendEvents({makeMessage(5, later)});
    const int aggregate = model.rowCount() - 1;
    QCOMPARE(model.rowKind(aggregate), int(EventLogModel::AggregatedMessagesKind));
    QList<TrafficEvent> warnings;
    for (int n = 0; n < 50; ++n)
        warnings.append(makeText(TrafficEvent::Kind::Warning, later, QStringLiteral("w")));
    model.appendEvents(warnings); // pushes out older rows
    model.appendEvents({makeMessage(5, later + 1)});
    const int moved = rowOfKind(model, EventLogModel::AggregatedMessagesKind, 5);
    QVERIFY(moved >= 0 && moved < aggregate);
    QCOMPARE(model.aggregatedCount(moved), qint64(2));
    QCOMPARE(countRows(model, EventLogModel::AggregatedMessagesKind), 1);
}

void tst_UiModels::logAggregatesMessageFlood()
{
    EventLogModel model;
    attachTester(&model);
    const int k = model.messageRowsPerClientPerSecond();
    QCOMPARE(k, EventLogModel::kDefaultMessageRowsPerClientPerSecond);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

    // Client 7 sends 5,000 messages of 10 bytes within one second, in ten appends;
    // client 8 sends three.
    constexpr int kMessages = 5000;
    for (int chunk = 0; chunk < 10; ++chunk) {
        QList<TrafficEvent> events;
        for (int i = chunk * 500; i < (chunk + 1) * 500; ++i)
            events.append(makeMessage(7, kT0 + i / 6, 10));
        if (chunk == 0) {
            for (int i = 0; i < 3; ++i)
                events.append(makeMessage(8, kT0 + i, 10));
        }
        model.appendEvents(events);
    }
    QCOMPARE(countRows(model, int(TrafficEvent::Kind::MessageEchoed), 7), k);
    QCOMPARE(countRows(model, int(TrafficEvent::Kind::MessageEchoed), 8), 3);
    QCOMPARE(countRows(model, EventLogModel::AggregatedMessagesKind), 1);
    QCOMPARE(model.rowCount(), k + 1 + 3);
    const int aggregate = rowOfKind(model, EventLogModel::AggregatedMessagesKind, 7);
    QCOMPARE(model.aggregatedCount(aggregate), qint64(kMessages - k));
    QCOMPARE(model.index(aggregate, 0).data(EventLogModel::AggregatedCountRole).toLongLong(),
             qint64(kMessages - k));
    QCOMPARE(model.index(aggregate, 0).data(EventLogModel::AggregatedBytesRole).toLongLong(),
             qint64(kMessages - k) * 10);
    QCOMPARE(details(model, aggregate),
             QStringLiteral("+4,995 messages (48.8 KiB) from 127.0.0.1:40007 in the last second"));
    QCOMPARE(model.index(aggregate, EventLogModel::EventColumn).data().toString(),
             QStringLiteral("messages aggregated"));
    // Rows came with the first append only; later ones updated the aggregate in place.
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(changed.count(), 9);
    for (const QList<QVariant> &arguments : std::as_const(changed)) {
        QCOMPARE(arguments.at(0).toModelIndex().row(), aggregate);
        QCOMPARE(arguments.at(1).toModelIndex().row(), aggregate);
    }

    // The next second starts a new window: k rows again, then a new aggregate, which
    // also takes the engine's own summary.
    QList<TrafficEvent> next;
    for (int i = 0; i < 100; ++i)
        next.append(makeMessage(7, kT0 + 1000 + i, 10));
    TrafficEvent summary = makeEvent(TrafficEvent::Kind::MessagesSummarised, kT0 + 1900, 7);
    summary.count = 1000;
    summary.bytes = 10000;
    next.append(summary);
    model.appendEvents(next);
    QCOMPARE(countRows(model, int(TrafficEvent::Kind::MessageEchoed), 7), 2 * k);
    QCOMPARE(countRows(model, EventLogModel::AggregatedMessagesKind, 7), 2);
    const int second = rowOfKind(model, EventLogModel::AggregatedMessagesKind, 7, aggregate + 1);
    QCOMPARE(model.aggregatedCount(aggregate), qint64(kMessages - k));
    QCOMPARE(model.aggregatedCount(second), qint64(100 - k + 1000));
    QCOMPARE(model.eventAt(second).bytes, qint64(100 - k) * 10 + 10000);
    QCOMPARE(model.eventAt(second).timestampMs, kT0 + 1000 + k);
}

// The engine's windows run on the monotonic clock, its stamps on the wall clock, each
// rounded to whole ms: its next second's samples may be stamped 999 ms after the last
// window began, and a wall clock set back stamps them before it. Either way they are the
// next second's rows, not folded into the last one's.
void tst_UiModels::logWindowsFollowTheEngines()
{
    EventLogModel model;
    const int k = model.messageRowsPerClientPerSecond();
    const auto window = [&](qint64 at) {
        QList<TrafficEvent> events;
        for (int i = 0; i < k; ++i)
            events.append(makeMessage(7, at, 10));
        model.appendEvents(events);
    };
    window(kT0);
    window(kT0 + EventLogModel::kWindowMs - 1);
    QCOMPARE(countRows(model, int(TrafficEvent::Kind::MessageEchoed), 7), 2 * k);
    window(kT0 - 5000); // the wall clock set back
    QCOMPARE(countRows(model, int(TrafficEvent::Kind::MessageEchoed), 7), 3 * k);
    QCOMPARE(countRows(model, EventLogModel::AggregatedMessagesKind), 0);
    // Within a window, past k they fold.
    window(kT0 - 5000 + 1);
    QCOMPARE(countRows(model, int(TrafficEvent::Kind::MessageEchoed), 7), 3 * k);
    QCOMPARE(countRows(model, EventLogModel::AggregatedMessagesKind), 1);
}

void tst_UiModels::logFoldsManyClientsPastBudget()
{
    EventLogModel model;
    attachTester(&model);
    model.setRowsPerAppend(200);
    QCOMPARE(model.rowsPerAppend(), 200);
    // 100 clients, 50 messages each, in one append: per client alone that would be
    // 5 rows and an aggregate each (600 rows); the budget allows 200 message rows.
    QList<TrafficEvent> events;
    for (quint64 client = 1; client <= 100; ++client) {
        for (int i = 0; i < 50; ++i)
            events.append(makeMessage(client, kT0 + i, 1));
    }
    model.appendEvents(events);
    QCOMPARE(countRows(model, int(TrafficEvent::Kind::MessageEchoed)), 200);
    QCOMPARE(countRows(model, EventLogModel::AggregatedMessagesKind), 100);
    qint64 messages = 0;
    for (int row = 0; row < model.rowCount(); ++row)
        messages += model.rowKind(row) == int(TrafficEvent::Kind::MessageEchoed)
                        ? 1
                        : model.aggregatedCount(row);
    QCOMPARE(messages, qint64(5000)); // every message accounted for
    for (quint64 client = 1; client <= 100; ++client)
        QCOMPARE(countRows(model, EventLogModel::AggregatedMessagesKind, client), 1);

    // The budget is per append: a new client's messages get rows in the next one.
    model.appendEvents({makeMessage(101, kT0 + 60), makeMessage(101, kT0 + 61)});
    QCOMPARE(countRows(model, int(TrafficEvent::Kind::MessageEchoed), 101), 2);
}

void tst_UiModels::logNeverFoldsConnections()
{
    EventLogModel model;
    attachTester(&model);
    model.setCapacity(100000);
    QList<TrafficEvent> events;
    for (quint64 client = 1; client <= 1000; ++client) {
        events.append(makeEvent(TrafficEvent::Kind::Connected, kT0, client));
        for (int i = 0; i < 10; ++i)
            events.append(makeMessage(client, kT0 + i));
        events.append(makeEvent(TrafficEvent::Kind::Disconnected, kT0 + 20, client));
        events.append(makeText(TrafficEvent::Kind::Error, kT0 + 20, QStringLiteral("e")));
    }
    model.appendEvents(events);
    QCOMPARE(countRows(model, int(TrafficEvent::Kind::Connected)), 1000);
    QCOMPARE(countRows(model, int(TrafficEvent::Kind::Disconnected)), 1000);
    QCOMPARE(countRows(model, int(TrafficEvent::Kind::Error)), 1000);
    QCOMPARE(countRows(model, int(TrafficEvent::Kind::MessageEchoed)), model.rowsPerAppend());
    QVERIFY(model.rowCount() < events.size());
    // In order: each client's disconnect comes after its connect.
    QVERIFY(rowOfKind(model, int(TrafficEvent::Kind::Connected), 500) <
            rowOfKind(model, int(TrafficEvent::Kind::Disconnected), 500));
}

void tst_UiModels::logFoldsRefusalFlood()
{
    EventLogModel model;
    attachTester(&model);
    QList<TrafficEvent> events;
    for (int i = 0; i < 500; ++i) {
        TrafficEvent refused =
            makeText(TrafficEvent::Kind::Refused, kT0 + i, QStringLiteral("too many clients"));
        refused.address = QHostAddress(QHostAddress::LocalHost);
        refused.port = quint16(30000 + i);
        events.append(refused);
    }
    model.appendEvents(events);
    QCOMPARE(countRows(model, int(TrafficEvent::Kind::Refused)), model.rowsPerAppend());
    QCOMPARE(countRows(model, EventLogModel::AggregatedRefusalsKind), 1);
    const int aggregate = rowOfKind(model, EventLogModel::AggregatedRefusalsKind);
    QCOMPARE(model.aggregatedCount(aggregate), qint64(500 - model.rowsPerAppend()));
    QCOMPARE(details(model, aggregate),
             QStringLiteral("+300 connections refused in the last second (too many clients)"));
}

void tst_UiModels::logReportsMissedEvents()
{
    EventLogModel model;
    attachTester(&model);
    model.appendEvents({makeText(TrafficEvent::Kind::Warning, kT0, QStringLiteral("w"))}, 42);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.rowKind(0), int(EventLogModel::NoticeKind));
    QCOMPARE(details(model, 0), QStringLiteral("42 events not shown: the log fell behind"));
    QCOMPARE(model.index(0, EventLogModel::EventColumn).data().toString(),
             QStringLiteral("notice"));
    QCOMPARE(model.eventAt(0).count, qint64(42));
    QCOMPARE(model.rowKind(1), int(TrafficEvent::Kind::Warning));

    // From an EventLog that overwrote events before the model took them.
    EventLogModel fromLog;
    attachTester(&fromLog);
    EventLog log(10);
    for (int n = 1; n <= 5; ++n)
        log.append(makeText(TrafficEvent::Kind::Warning, kT0 + n, QString::number(n)));
    fromLog.appendFrom(log);
    QCOMPARE(fromLog.rowCount(), 5);
    QCOMPARE(countRows(fromLog, EventLogModel::NoticeKind), 0);
    QCOMPARE(fromLog.index(0, 0).data(EventLogModel::SequenceRole).toULongLong(), quint64(1));
    for (int n = 6; n <= 30; ++n)
        log.append(makeText(TrafficEvent::Kind::Warning, kT0 + n, QString::number(n)));
    fromLog.appendFrom(log);
    QCOMPARE(fromLog.rowCount(), 5 + 1 + 10);
    QCOMPARE(fromLog.rowKind(5), int(EventLogModel::NoticeKind));
    QCOMPARE(details(fromLog, 5), QStringLiteral("15 events not shown: the log fell behind"));
    QCOMPARE(fromLog.eventAt(6).text, QStringLiteral("21"));
    QCOMPARE(fromLog.index(6, 0).data(EventLogModel::SequenceRole).toULongLong(), quint64(21));
    fromLog.appendFrom(log); // nothing new
    QCOMPARE(fromLog.rowCount(), 16);
}

void tst_UiModels::csvQuotingIsExact()
{
    EventLogModel model;
    attachTester(&model);
    model.appendEvents(
        {makeEvent(TrafficEvent::Kind::Connected, kT0, 7),
         makeText(TrafficEvent::Kind::Warning, kT0 + 5, QStringLiteral("say \"hi\", then\nbye"))});
    QBuffer buffer;
    QVERIFY(buffer.open(QIODevice::WriteOnly));
    QString error;
    QVERIFY2(EventLogModel::writeCsv(&model, &buffer, &error), qPrintable(error));
    // Details are escaped for display (\" and \n as two characters), then quoted.
    QCOMPARE(
        buffer.data(),
        QByteArray("time,event,client,peer,details\r\n"
                   "2023-11-14T22:13:20.000Z,connected,7,127.0.0.1:40007,"
                   "from 127.0.0.1:40007\r\n"
                   "2023-11-14T22:13:20.005Z,warning,,,\"say \\\"\"hi\\\"\", then\\nbye\"\r\n"));

    // Any model with the roles exports; a real line break in a field is quoted too.
    QStandardItemModel other(1, EventLogModel::ColumnCount);
    attachTester(&other);
    other.setData(other.index(0, 0), kT0, EventLogModel::TimestampRole);
    other.setData(other.index(0, 0), QVariant::fromValue<quint64>(3), EventLogModel::ClientIdRole);
    other.setData(other.index(0, 0), QStringLiteral("[::1]:5"), EventLogModel::PeerRole);
    other.setData(other.index(0, EventLogModel::EventColumn), QStringLiteral("warning"));
    other.setData(other.index(0, EventLogModel::DetailsColumn), QStringLiteral("a\nb,\"c\""));
    QBuffer raw;
    QVERIFY(raw.open(QIODevice::WriteOnly));
    QVERIFY(EventLogModel::writeCsv(&other, &raw, &error));
    QCOMPARE(raw.data(), QByteArray("time,event,client,peer,details\r\n"
                                    "2023-11-14T22:13:20.000Z,warning,3,[::1]:5,"
                                    "\"a\nb,\"\"c\"\"\"\r\n"));
}

void tst_UiModels::jsonLinesParse()
{
    EventLogModel model;
    attachTester(&model);
    model.setMessageRowsPerClientPerSecond(1);
    TrafficEvent listening = makeEvent(TrafficEvent::Kind::Listening, kT0);
    listening.address = QHostAddress(QHostAddress::LocalHost);
    listening.port = 5000;
    TrafficEvent message = makeMessage(7, kT0 + 2, 3);
    message.payload = QByteArray("\x00\x1b\xff", 3);
    model.appendEvents({listening, makeEvent(TrafficEvent::Kind::Connected, kT0 + 1, 7), message,
                        makeMessage(7, kT0 + 3, 20), makeMessage(7, kT0 + 4, 30),
                        makeEvent(TrafficEvent::Kind::Disconnected, kT0 + 5, 7)},
                       3);
    QBuffer buffer;
    QVERIFY(buffer.open(QIODevice::WriteOnly));
    QString error;
    QVERIFY2(EventLogModel::writeJsonLines(&model, &buffer, &error), qPrintable(error));
    QVERIFY(buffer.data().endsWith('\n'));
    const QList<QByteArray> lines = buffer.data().chopped(1).split('\n');
    QCOMPARE(lines.size(), model.rowCount());
    QStringList kinds;
    QList<QJsonObject> objects;
    for (const QByteArray &line : lines) {
        QJsonParseError parseError;
        const QJsonDocument document = QJsonDocument::fromJson(line, &parseError);
        QVERIFY2(parseError.error == QJsonParseError::NoError && document.isObject(),
                 line.constData());
        objects.append(document.object());
        kinds.append(document.object().value(QStringLiteral("event")).toString());
    }
    QCOMPARE(kinds, (QStringList{"notice", "listening", "connected", "message",
                                 "messages aggregated", "disconnected"}));
    QCOMPARE(objects.at(0).value(QStringLiteral("missed")).toInteger(), qint64(3));
    QCOMPARE(objects.at(1).value(QStringLiteral("port")).toInt(), 5000);
    QCOMPARE(QByteArray::fromBase64(
                 objects.at(3).value(QStringLiteral("payload_base64")).toString().toLatin1()),
             message.payload);
    const QJsonObject aggregate = objects.at(4);
    QCOMPARE(aggregate.value(QStringLiteral("count")).toInteger(), qint64(2));
    QCOMPARE(aggregate.value(QStringLiteral("bytes")).toInteger(), qint64(50));
    QCOMPARE(aggregate.value(QStringLiteral("client")).toInteger(), qint64(7));
    QCOMPARE(aggregate.value(QStringLiteral("peer")).toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(aggregate.value(QStringLiteral("time")).toString(),
             QStringLiteral("2023-11-14T22:13:20.003Z"));
}

void tst_UiModels::exportThroughProxyIsFiltered()
{
    EventLogModel model;
    EventFilterProxy proxy;
    proxy.setSourceModel(&model);
    attachTester(&model);
    attachTester(&proxy);
    QList<TrafficEvent> events;
    for (quint64 client = 1; client <= 3; ++client) {
        events.append(makeEvent(TrafficEvent::Kind::Connected, kT0, client));
        events.append(makeMessage(client, kT0 + 1));
        events.append(makeEvent(TrafficEvent::Kind::Disconnected, kT0 + 2, client));
    }
    model.appendEvents(events);
    proxy.setClientFilter(2);
    proxy.setGroupVisible(EventFilterProxy::Messages, false);
    QCOMPARE(proxy.rowCount(), 2);

    QBuffer csv;
    QVERIFY(csv.open(QIODevice::WriteOnly));
    QVERIFY(EventLogModel::writeCsv(&proxy, &csv));
    const QList<QByteArray> lines = csv.data().split('\n');
    QCOMPARE(lines.size(), 1 + proxy.rowCount() + 1); // header, rows, "" after the last
    QVERIFY(lines.at(1).startsWith("2023-11-14T22:13:20.000Z,connected,2,127.0.0.1:40002,"));
    QVERIFY(lines.at(2).contains(",disconnected,2,"));

    QBuffer jsonl;
    QVERIFY(jsonl.open(QIODevice::WriteOnly));
    QVERIFY(EventLogModel::writeJsonLines(&proxy, &jsonl));
    const QList<QByteArray> objects = jsonl.data().chopped(1).split('\n');
    QCOMPARE(objects.size(), proxy.rowCount());
    for (const QByteArray &line : objects)
        QCOMPARE(QJsonDocument::fromJson(line).object().value("client").toInteger(), qint64(2));
}

void tst_UiModels::exportReportsWriteFailure()
{
    EventLogModel model;
    attachTester(&model);
    model.appendEvents({makeText(TrafficEvent::Kind::Warning, kT0, QStringLiteral("w"))});
    QString error;

    QBuffer closed;
    QVERIFY(!EventLogModel::writeCsv(&model, &closed, &error));
    QVERIFY(!error.isEmpty());
    error.clear();
    QVERIFY(!EventLogModel::writeJsonLines(&model, &closed, &error));
    QVERIFY(!error.isEmpty());

    QTemporaryFile file;
    QVERIFY(file.open());
    file.close();
    QFile readOnly(file.fileName());
    QVERIFY(readOnly.open(QIODevice::ReadOnly));
    error.clear();
    QVERIFY(!EventLogModel::writeCsv(&model, &readOnly, &error));
    QVERIFY(!error.isEmpty());
    QCOMPARE(readOnly.size(), qint64(0));

    FailingDevice failing;
    QVERIFY(failing.open(QIODevice::WriteOnly));
    error.clear();
    QVERIFY(!EventLogModel::writeJsonLines(&model, &failing, &error));
    QVERIFY2(error.contains(QStringLiteral("disk full")), qPrintable(error));
    error.clear();
    QVERIFY(!EventLogModel::writeCsv(&model, &failing, &error));
    QVERIFY(!error.isEmpty());

    QVERIFY(!EventLogModel::writeCsv(nullptr, &failing, &error));

    // A text-mode device would turn the CSV's \r\n into \r\r\n on Windows: refused.
    QBuffer text;
    QVERIFY(text.open(QIODevice::WriteOnly | QIODevice::Text));
    error.clear();
    QVERIFY(!EventLogModel::writeCsv(&model, &text, &error));
    QVERIFY2(error.contains(u"text mode"), qPrintable(error));
    QCOMPARE(text.size(), qint64(0));
}

void tst_UiModels::eventProxyFilters()
{
    EventLogModel model;
    EventFilterProxy proxy;
    proxy.setSourceModel(&model);
    attachTester(&model);
    attachTester(&proxy);
    model.setMessageRowsPerClientPerSecond(1);
    TrafficEvent refused = makeText(TrafficEvent::Kind::Refused, kT0, QStringLiteral("full"));
    refused.address = QHostAddress(QHostAddress::LocalHost);
    model.appendEvents({makeEvent(TrafficEvent::Kind::Listening, kT0),
                        makeEvent(TrafficEvent::Kind::Connected, kT0, 1), makeMessage(1, kT0),
                        makeMessage(2, kT0), makeMessage(2, kT0 + 1), refused,
                        makeText(TrafficEvent::Kind::Error, kT0, QStringLiteral("Boom")),
                        makeText(TrafficEvent::Kind::Warning, kT0, QStringLiteral("careful")),
                        makeEvent(TrafficEvent::Kind::Stopped, kT0)},
                       7);
    const int all = model.rowCount();
    QCOMPARE(all, 10); // notice + 9 rows, client 2's second message aggregated
    const int aggregate = rowOfKind(model, EventLogModel::AggregatedMessagesKind, 2);
    QCOMPARE(details(model, aggregate),
             QStringLiteral("+1 message (100 bytes) from 127.0.0.1:40002 in the last second"));
    QCOMPARE(proxy.rowCount(), all);
    QCOMPARE(proxy.visibleGroups(), EventFilterProxy::Groups(EventFilterProxy::AllGroups));

    const auto groupsShown = [&] {
        QSet<int> groups;
        for (int row = 0; row < proxy.rowCount(); ++row)
            groups.insert(EventFilterProxy::groupOf(
                proxy.index(row, 0).data(EventLogModel::KindRole).toInt()));
        return groups;
    };
    proxy.setGroupVisible(EventFilterProxy::Messages, false);
    QCOMPARE(proxy.rowCount(), all - 3);
    QVERIFY(!groupsShown().contains(EventFilterProxy::Messages));
    QCOMPARE(proxy.visibleGroups(),
             EventFilterProxy::Groups(EventFilterProxy::AllGroups) & ~EventFilterProxy::Messages);

    proxy.setKindVisible(int(TrafficEvent::Kind::Error), false);
    QCOMPARE(proxy.rowCount(), all - 4);
    QVERIFY(!proxy.visibleGroups().testFlag(EventFilterProxy::Errors));
    QCOMPARE(countRows(proxy, int(TrafficEvent::Kind::Warning)), 1);
    proxy.setVisibleGroups(EventFilterProxy::Server);
    QCOMPARE(groupsShown(), QSet<int>{EventFilterProxy::Server});
    QCOMPARE(proxy.rowCount(), 2);
    proxy.setVisibleGroups(EventFilterProxy::AllGroups);
    QCOMPARE(proxy.rowCount(), all);

    // One client (and the notice about events lost, which may have been its).
    proxy.setClientFilter(2);
    QCOMPARE(proxy.rowCount(), 3);
    QCOMPARE(countRows(proxy, EventLogModel::AggregatedMessagesKind, 2), 1);
    QCOMPARE(countRows(proxy, EventLogModel::NoticeKind), 1);
    proxy.setClientFilter(0);

    proxy.setFilterText(QStringLiteral("boom"));
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(proxy.index(0, EventLogModel::EventColumn).data().toString(), QStringLiteral("error"));
    // Rows appended later are filtered as they come.
    model.appendEvents({makeText(TrafficEvent::Kind::Warning, kT0 + 5, QStringLiteral("BOOM 2")),
                        makeText(TrafficEvent::Kind::Warning, kT0 + 5, QStringLiteral("quiet"))});
    QCOMPARE(proxy.rowCount(), 2);
    proxy.setFilterText(QStringLiteral("127.0.0.1:40001")); // the Client column
    QCOMPARE(proxy.rowCount(), 2);
}

// The log's search runs once typing pauses, not per key (each search goes over every
// row), at once on Return or when cleared; it reads each row's text made once, which
// follows an aggregate row as it grows.
void tst_UiModels::logSearchWaitsForTypingAndReadsCachedText()
{
    EventLogPanel panel;
    EventLogModel *model = panel.model();
    EventFilterProxy *proxy = panel.proxy();
    model->setMessageRowsPerClientPerSecond(0); // every message folds into one row
    model->appendEvents({makeText(TrafficEvent::Kind::Warning, kT0, QStringLiteral("alpha")),
                         makeText(TrafficEvent::Kind::Warning, kT0, QStringLiteral("beta")),
                         makeMessage(7, kT0, 10)});
    QCOMPARE(proxy->rowCount(), 3);
    const QString aggregate = model->index(2, 0).data(EventLogModel::SearchTextRole).toString();
    QVERIFY2(aggregate.contains(QStringLiteral("127.0.0.1:40007")), qPrintable(aggregate));

    int filterChanges = 0;
    QString applied;
    const auto watch = [&] {
        if (proxy->filterText() != applied) {
            applied = proxy->filterText();
            ++filterChanges;
        }
    };
    QObject::connect(proxy, &QAbstractItemModel::rowsRemoved, proxy, watch);
    QObject::connect(proxy, &QAbstractItemModel::rowsInserted, proxy, watch);
    QObject::connect(proxy, &QAbstractItemModel::layoutChanged, proxy, watch);
    QObject::connect(proxy, &QAbstractItemModel::modelReset, proxy, watch);

    QTest::keyClicks(panel.searchField(), QStringLiteral("alph"));
    QCOMPARE(proxy->filterText(), QString()); // not searched per key
    QCOMPARE(proxy->rowCount(), 3);
    QTRY_COMPARE(proxy->filterText(), QStringLiteral("alph"));
    QCOMPARE(proxy->rowCount(), 1);
    QCOMPARE(filterChanges, 1);
    QCOMPARE(proxy->searchesRun(), 1); // four keys, one search

    // Return searches at once; so does clearing.
    QTest::keyClicks(panel.searchField(), QStringLiteral("x"));
    QTest::keyClick(panel.searchField(), Qt::Key_Return);
    QCOMPARE(proxy->filterText(), QStringLiteral("alphx"));
    QCOMPARE(proxy->rowCount(), 0);
    QCOMPARE(proxy->searchesRun(), 2);
    // The cached text is case-folded: any case matches, without folding each row per search.
    panel.searchField()->setText(QStringLiteral("BETA"));
    QTest::keyClick(panel.searchField(), Qt::Key_Return);
    QCOMPARE(proxy->rowCount(), 1);
    QCOMPARE(proxy->searchesRun(), 3);
    panel.searchField()->clear();
    QCOMPARE(proxy->filterText(), QString());
    QCOMPARE(proxy->rowCount(), 3);

    // The aggregate row's cached text follows its count.
    model->appendEvents({makeMessage(7, kT0 + 1, 10), makeMessage(7, kT0 + 2, 10)});
    QCOMPARE(model->rowCount(), 3);
    const QString grown = model->index(2, 0).data(EventLogModel::SearchTextRole).toString();
    QVERIFY2(grown != aggregate, qPrintable(grown));
    QCOMPARE(
        grown,
        QStringList({model->index(2, 0).data().toString(), model->index(2, 1).data().toString(),
                     model->index(2, 2).data().toString(), model->index(2, 3).data().toString()})
            .join(QLatin1Char('\n'))
            .toCaseFolded());
}

// The dashboard's log holds the monitor's events, not copies of them: a row of one event
// reads the EventLog's own event, which outlives the log's slot (the log overwrote it).
// Aggregate rows are the model's own.
void tst_UiModels::logModelSharesTheEventLogsEvents()
{
    EventLog log(100);
    for (int i = 0; i < 100; ++i)
        log.append(makeEvent(TrafficEvent::Kind::Connected, kT0 + i, quint64(i + 1)));
    EventLogModel model;
    model.appendFrom(log);
    QCOMPARE(model.rowCount(), 100);
    for (int row = 0; row < model.rowCount(); ++row)
        QCOMPARE(model.eventData(row), log.at(log.firstSequence() + quint64(row)));

    // The panel's path (the main window's): shared events from the log.
    EventLogPanel panel;
    qint64 missed = 0;
    const QList<SharedTrafficEvent> shared = log.sharedEventsSince(1, -1, &missed);
    panel.appendEvents(shared, missed, 1);
    QCOMPARE(panel.model()->eventData(0), log.at(1));
    QCOMPARE(shared.first().use_count(), 4L); // the log, the two models and this list

    // Overwritten in the log, the rows keep their events (and what they said).
    const TrafficEvent *first = model.eventData(0);
    for (int i = 0; i < 100; ++i)
        log.append(makeEvent(TrafficEvent::Kind::Disconnected, kT0 + 200 + i, quint64(i + 1)));
    QVERIFY(!log.at(1));
    QCOMPARE(model.eventData(0), first);
    QCOMPARE(model.eventAt(0).kind, TrafficEvent::Kind::Connected);
    QCOMPARE(model.eventAt(0).clientId, quint64(1));

    // Folded messages make a row of the model's own, which counts in place.
    EventLog messages(100);
    EventLogModel folding;
    folding.setMessageRowsPerClientPerSecond(0);
    messages.append(makeMessage(7, kT0, 10));
    folding.appendFrom(messages);
    messages.append(makeMessage(7, kT0 + 1, 10));
    folding.appendFrom(messages);
    QCOMPARE(folding.rowCount(), 1);
    QCOMPARE(folding.aggregatedCount(0), qint64(2));
    QVERIFY(folding.eventData(0) != messages.at(1));
    QCOMPARE(messages.at(1)->count, qint64(0)); // the log's events are unchanged
}

QTEST_MAIN(tst_UiModels)
#include "tst_uimodels.moc"
