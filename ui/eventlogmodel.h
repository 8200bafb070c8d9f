#pragma once

#include "trafficevent.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QList>
#include <QString>

#include <deque>

QT_BEGIN_NAMESPACE
class QIODevice;
QT_END_NAMESPACE

namespace Echoscope {

class EventLog;

// The echo log as a table: bounded, and aggregating what nobody could read.
//
// Per client and per one-second window (starting at the client's first message
// event after the previous window ended, by event timestamp), the first
// messageRowsPerClientPerSecond() MessageEchoed events get rows of their own; the
// rest, and every MessagesSummarised, fold into one aggregate row for that window
// ("+4,812 messages (1.2 MiB) from 127.0.0.1:51422 in the last second") that is
// updated in place. One append call gives at most rowsPerAppend() message rows over
// all clients, and as many refusal rows; past that they fold the same way.
// Connects, disconnects, errors, warnings, listening and stopped are never folded.
//
// At most capacity() rows are held: when an append would pass it, the oldest rows go
// in one removal with a tenth of the capacity to spare, so a flood costs one removal
// every few appends, not one per row.
class EventLogModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { TimeColumn, EventColumn, ClientColumn, DetailsColumn, ColumnCount };
    Q_ENUM(Column)

    enum Role {
        KindRole = Qt::UserRole, // int: a TrafficEvent::Kind, or a RowKind for other rows
        ClientIdRole,            // quint64, 0 if the row is not about one client
        PeerRole,                // QString: "127.0.0.1:5000", empty if none
        TimestampRole,           // qint64 ms since the epoch
        SequenceRole,            // quint64: the EventLog sequence (first folded), 0 if unknown
        AggregatedCountRole,     // qint64: messages or refusals folded into the row; else 0
        AggregatedBytesRole,     // qint64: bytes of the messages folded into the row; else 0
        EventJsonRole,           // QJsonObject: the row as one line of JSON Lines
        SearchTextRole,          // QString: every column's text case-folded, made once per row
                                 // (search)
    };
    Q_ENUM(Role)

    // KindRole of rows that are not one TrafficEvent.
    enum RowKind {
        AggregatedMessagesKind = 0x100,
        AggregatedRefusalsKind,
        NoticeKind, // events the log fell behind on
    };
    Q_ENUM(RowKind)

    static constexpr int kDefaultCapacity = 10000;
    static constexpr int kMinimumCapacity = 100;
    static constexpr int kDefaultMessageRowsPerClientPerSecond = 5;
    static constexpr int kDefaultRowsPerAppend = 200;
    static constexpr qint64 kWindowMs = 1000;

    explicit EventLogModel(QObject *parent = nullptr);
    ~EventLogModel() override;

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    // Adds events, oldest first. If missed > 0, a notice row first says that many
    // events were lost before them. firstSequence is the EventLog sequence of
    // events.first() (0: unknown), for SequenceRole.
    void appendEvents(const QList<TrafficEvent> &events, qint64 missed = 0,
                      quint64 firstSequence = 0);
    // The same for events shared with an EventLog: a row holds the log's event (one
    // copy of each event, not one in the log and one here).
    void appendEvents(const QList<SharedTrafficEvent> &events, qint64 missed = 0,
                      quint64 firstSequence = 0);
    // Appends what the log holds past what this model took from it last time (the
    // first call takes everything it holds), with a notice if some were overwritten.
    void appendFrom(const EventLog &log);
    // Removes every row; appendFrom() carries on after the events already taken.
    void clear();

    int capacity() const { return m_capacity; }
    void setCapacity(int rows); // at least kMinimumCapacity; drops the oldest rows
    // Past its capacity the model drops this many of its oldest rows more than it must,
    // so that it does not trim at every new event.
    int dropBlockRows() const { return m_capacity / 10; }
    int messageRowsPerClientPerSecond() const { return m_messageRowsPerClientPerSecond; }
    void setMessageRowsPerClientPerSecond(int rows); // at least 0
    int rowsPerAppend() const { return m_rowsPerAppend; }
    void setRowsPerAppend(int rows); // at least 1

    // KindRole of the row; -1 if there is no such row.
    int rowKind(int row) const;
    // The row's event; for an aggregate row an event of kind MessagesSummarised
    // (messages) or Refused (refusals) with the totals in count and bytes; for a
    // notice a Warning whose count is the events missed.
    TrafficEvent eventAt(int row) const;
    qint64 aggregatedCount(int row) const; // 0 for rows that are one event
    // The event the row reads (shared with the EventLog it came from, if any); nullptr if
    // there is no such row.
    const TrafficEvent *eventData(int row) const;

    // Write the rows of `model` (this model or a proxy over it, so a filtered view
    // exports what it shows), reading them through the roles above. CSV: a header
    // "time,event,client,peer,details", times in ISO 8601 UTC with milliseconds, RFC
    // 4180 quoting and CRLF line ends. JSON Lines: one compact EventJsonRole object a
    // line. Both return false and set *error if the device cannot be written.
    static bool writeCsv(const QAbstractItemModel *model, QIODevice *device,
                         QString *error = nullptr);
    static bool writeJsonLines(const QAbstractItemModel *model, QIODevice *device,
                               QString *error = nullptr);

private:
    struct Row
    {
        int kind = 0; // KindRole
        quint64 sequence = 0;
        // Shared with the EventLog for a row of one event; made by this model for an
        // aggregate or a notice, which change it in place (madeEvent()).
        SharedTrafficEvent event;
        mutable QString searchText; // SearchTextRole, made when first asked; cleared on change
    };
    // One client's (or one refusal reason's) current one-second window.
    struct Window
    {
        qint64 startMs = 0;
        int shownRows = 0;
        qint64 aggregateRow = -1; // absolute row number, -1: none yet
    };

    static TrafficEvent &madeEvent(Row &row);
    QString clientText(const Row &row) const;
    QString detailsText(const Row &row) const;
    QString toolTip(const Row &row, int column) const;
    QJsonObject json(const Row &row) const;
    QString peerText(const Row &row) const;
    void trimTo(int rows);
    void pruneWindows(qint64 newestMs);

    std::deque<Row> m_rows;
    qint64 m_firstRowNumber = 0; // absolute number of row 0; grows as rows go
    int m_capacity = kDefaultCapacity;
    int m_messageRowsPerClientPerSecond = kDefaultMessageRowsPerClientPerSecond;
    int m_rowsPerAppend = kDefaultRowsPerAppend;
    QHash<quint64, Window> m_messageWindows; // by client id
    QHash<QString, Window> m_refusalWindows; // by reason
    qint64 m_prunedAtMs = 0;
    quint64 m_nextLogSequence = 0; // appendFrom(): 0 before the first call
};

} // namespace Echoscope
