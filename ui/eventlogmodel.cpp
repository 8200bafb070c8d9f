#include "eventlogmodel.h"

#include "clock.h"
#include "palettes.h"

#include "eventlog.h"
#include "textescape.h"
#include "translations.h"
#include "units.h"

#include <QColor>
#include <QGuiApplication>
#include <QDateTime>
#include <QFont>
#include <QIODevice>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>

#include <algorithm>
#include <climits>
#include <vector>

namespace Echoscope {

namespace {

const QChar kNone(0x2014);     // "—"
const QChar kEllipsis(0x2026); // "…"

QString isoTime(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

QString richToolTip(const QString &text, bool monospace = false)
{
    return monospace
               ? QStringLiteral("<pre>%1</pre>").arg(text.toHtmlEscaped())
               : QStringLiteral("<p style='white-space:pre'>%1</p>").arg(text.toHtmlEscaped());
}

// RFC 4180: a field with a comma, a quote or a line break is quoted, quotes doubled.
QString csvField(const QString &field)
{
    static const QString special = QStringLiteral(",\"\r\n");
    const bool quote =
        std::any_of(field.cbegin(), field.cend(), [](QChar c) { return special.contains(c); });
    if (!quote)
        return field;
    QString quoted = field;
    quoted.replace(QLatin1Char('"'), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

// Writes the lines `lineFor` makes for each row, in blocks; false on the first failure.
template<typename LineFor>
bool writeLines(const QAbstractItemModel *model, QIODevice *device, QString *error,
                const QByteArray &header, LineFor lineFor)
{
    if (!model)
        return fail(error, EventLogModel::tr("There is no log to export."));
    if (!device || !device->isOpen() || !device->isWritable())
        return fail(error, EventLogModel::tr("The export file is not open for writing."));
    // The lines end as the format says (CSV: \r\n); a text-mode device would make that
    // \r\r\n on Windows.
    if (device->isTextModeEnabled())
        return fail(error, EventLogModel::tr("The export file is open in text mode, which "
                                             "would change its line ends."));
    QByteArray block = header;
    const auto flush = [&]() {
        const qint64 written = device->write(block);
        if (written != block.size()) {
            const QString reason = device->errorString();
            return fail(error,
                        reason.isEmpty() || reason == QLatin1String("Unknown error")
                            ? EventLogModel::tr("Writing the export failed.")
                            : EventLogModel::tr("Writing the export failed: %1").arg(reason));
        }
        block.clear();
        return true;
    };
    const int rows = model->rowCount();
    for (int row = 0; row < rows; ++row) {
        block += lineFor(row);
        if (block.size() >= 64 * 1024 && !flush())
            return false;
    }
    return block.isEmpty() || flush();
}

} // namespace

EventLogModel::EventLogModel(QObject *parent) : QAbstractTableModel(parent) {}

EventLogModel::~EventLogModel() = default;

int EventLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int EventLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant EventLogModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.model() != this || index.row() >= int(m_rows.size()) ||
        index.column() >= ColumnCount)
        return {};
    const Row &row = m_rows[size_t(index.row())];
    const TrafficEvent &event = *row.event;
    switch (role) {
    case Qt::DisplayRole:
        switch (Column(index.column())) {
        case TimeColumn:
            return Clock::timeOfDayText(event.timestampMs);
        case EventColumn:
            if (row.kind == AggregatedMessagesKind)
                return tr("messages aggregated");
            if (row.kind == AggregatedRefusalsKind)
                return tr("refusals aggregated");
            if (row.kind == NoticeKind)
                return tr("notice");
            return TrafficEvent::kindName(event.kind);
        case ClientColumn:
            return clientText(row);
        case DetailsColumn:
            return detailsText(row);
        case ColumnCount:
            break;
        }
        return {};
    case Qt::ToolTipRole:
        return toolTip(row, index.column());
    case Qt::ForegroundRole:
        // From the application's palette: a view repaints when it changes.
        if (row.kind == int(TrafficEvent::Kind::Error))
            return Palettes::toneText(Palettes::Tone::Negative, QGuiApplication::palette());
        if (row.kind == int(TrafficEvent::Kind::Warning) || row.kind == NoticeKind)
            return Palettes::toneText(Palettes::Tone::Neutral, QGuiApplication::palette());
        if (row.kind == int(TrafficEvent::Kind::FaultInjected))
            return Palettes::toneText(Palettes::Tone::Fault, QGuiApplication::palette());
        return {};
    case Qt::FontRole:
        if (row.kind >= AggregatedMessagesKind) {
            QFont font;
            font.setItalic(true);
            return font;
        }
        return {};
    case KindRole:
        return row.kind;
    case ClientIdRole:
        return QVariant::fromValue<quint64>(event.clientId);
    case PeerRole:
        return peerText(row);
    case TimestampRole:
        return event.timestampMs;
    case SequenceRole:
        return QVariant::fromValue<quint64>(row.sequence);
    case AggregatedCountRole:
        return row.kind >= AggregatedMessagesKind && row.kind != NoticeKind ? event.count
                                                                            : qint64(0);
    case AggregatedBytesRole:
        return row.kind == AggregatedMessagesKind ? event.bytes : qint64(0);
    case EventJsonRole:
        return json(row);
    case SearchTextRole:
        // A search goes over every row for every change of its text: each row's columns
        // are formatted once, not once per search.
        if (row.searchText.isEmpty()) {
            QStringList columns;
            for (int column = 0; column < ColumnCount; ++column)
                columns.append(index.siblingAtColumn(column).data().toString());
            row.searchText = columns.join(QLatin1Char('\n')).toCaseFolded();
        }
        return row.searchText;
    default:
        return {};
    }
}

QVariant EventLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        switch (Column(section)) {
        case TimeColumn:
            return tr("Time");
        case EventColumn:
            return tr("Event");
        case ClientColumn:
            return tr("Client");
        case DetailsColumn:
            return tr("Details");
        case ColumnCount:
            break;
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (Column(section)) {
        case TimeColumn:
            return tr("When it happened (local time)");
        case EventColumn:
            return tr("What happened");
        case ClientColumn:
            return tr("The client's id and address");
        case DetailsColumn:
            return tr("Client bytes are shown escaped; aggregate rows count what was too "
                      "much to show one by one");
        case ColumnCount:
            break;
        }
    }
    return QAbstractTableModel::headerData(section, orientation, role);
}

void EventLogModel::appendEvents(const QList<TrafficEvent> &events, qint64 missed,
                                 quint64 firstSequence)
{
    QList<SharedTrafficEvent> shared;
    shared.reserve(events.size());
    for (const TrafficEvent &event : events)
        shared.append(std::make_shared<const TrafficEvent>(event));
    appendEvents(shared, missed, firstSequence);
}

TrafficEvent &EventLogModel::madeEvent(Row &row)
{
    // Aggregate and notice rows hold an event this model made with make_shared of a
    // non-const TrafficEvent and never hands out: changing it is changing our own.
    return const_cast<TrafficEvent &>(*row.event);
}

void EventLogModel::appendEvents(const QList<SharedTrafficEvent> &events, qint64 missed,
                                 quint64 firstSequence)
{
    if (events.isEmpty() && missed <= 0)
        return;
    // New rows collect here first; folded events may also update rows held already.
    std::vector<Row> pending;
    const qint64 pendingBase = m_firstRowNumber + qint64(m_rows.size());
    int firstUpdated = INT_MAX;
    int lastUpdated = -1;
    const auto rowAt = [&](qint64 number) -> Row * {
        if (number < m_firstRowNumber)
            return nullptr; // gone already
        if (number < pendingBase) {
            const int row = int(number - m_firstRowNumber);
            firstUpdated = qMin(firstUpdated, row);
            lastUpdated = qMax(lastUpdated, row);
            return &m_rows[size_t(row)];
        }
        return &pending[size_t(number - pendingBase)];
    };
    // Folds into the window's aggregate row, making one if it has none (or it is gone).
    const auto fold = [&](Window &window, const TrafficEvent &event, quint64 sequence, int kind,
                          qint64 count, qint64 bytes) {
        Row *aggregate = window.aggregateRow >= 0 ? rowAt(window.aggregateRow) : nullptr;
        if (!aggregate) {
            window.aggregateRow = pendingBase + qint64(pending.size());
            auto made = std::make_shared<TrafficEvent>();
            made->kind = kind == AggregatedMessagesKind ? TrafficEvent::Kind::MessagesSummarised
                                                        : TrafficEvent::Kind::Refused;
            made->timestampMs = event.timestampMs;
            if (kind == AggregatedMessagesKind) {
                made->clientId = event.clientId;
                made->address = event.address;
                made->port = event.port;
            } else {
                made->text = event.text;
            }
            pending.push_back(Row{kind, sequence, std::move(made), {}});
            aggregate = &pending.back();
        }
        TrafficEvent &totals = madeEvent(*aggregate);
        totals.count += count;
        totals.bytes += bytes;
        aggregate->searchText.clear();
    };

    if (missed > 0) {
        auto made = std::make_shared<TrafficEvent>();
        made->kind = TrafficEvent::Kind::Warning;
        made->timestampMs =
            events.isEmpty() ? QDateTime::currentMSecsSinceEpoch() : events.first()->timestampMs;
        made->count = missed;
        pending.push_back(Row{NoticeKind,
                              firstSequence > quint64(missed) ? firstSequence - quint64(missed) : 0,
                              std::move(made),
                              {}});
    }

    int messageRows = 0;
    int refusalRows = 0;
    qint64 newestMs = m_prunedAtMs;
    for (qsizetype i = 0; i < events.size(); ++i) {
        const SharedTrafficEvent &shared = events.at(i);
        const TrafficEvent &event = *shared;
        const quint64 sequence = firstSequence ? firstSequence + quint64(i) : 0;
        newestMs = qMax(newestMs, event.timestampMs);
        switch (event.kind) {
        case TrafficEvent::Kind::MessageEchoed:
        case TrafficEvent::Kind::MessagesSummarised: {
            const bool echoed = event.kind == TrafficEvent::Kind::MessageEchoed;
            auto it = m_messageWindows.find(event.clientId);
            // A summary reports the window that just ended, so it may come up to a
            // window late. The engine times its windows on the monotonic clock and stamps
            // events with the wall clock, each rounded to whole ms: its next window may
            // start 999 ms after the last by these stamps, so 1 ms less is a new window
            // here too. A stamp before the window's start (the wall clock was set back)
            // starts a new one.
            const qint64 reach = echoed ? kWindowMs - 1 : 2 * kWindowMs;
            if (it == m_messageWindows.end() || event.timestampMs - it->startMs >= reach ||
                event.timestampMs < it->startMs)
                it = m_messageWindows.insert(event.clientId, Window{event.timestampMs, 0, -1});
            Window &window = *it;
            if (echoed && window.shownRows < m_messageRowsPerClientPerSecond &&
                messageRows < m_rowsPerAppend) {
                ++window.shownRows;
                ++messageRows;
                pending.push_back(Row{int(event.kind), sequence, shared, {}});
            } else if (echoed) {
                fold(window, event, sequence, AggregatedMessagesKind, 1, event.bytes);
            } else {
                fold(window, event, sequence, AggregatedMessagesKind, event.count, event.bytes);
            }
            break;
        }
        case TrafficEvent::Kind::Refused: {
            if (refusalRows < m_rowsPerAppend) {
                ++refusalRows;
                pending.push_back(Row{int(event.kind), sequence, shared, {}});
                break;
            }
            auto it = m_refusalWindows.find(event.text);
            if (it == m_refusalWindows.end() || event.timestampMs - it->startMs >= kWindowMs)
                it = m_refusalWindows.insert(event.text, Window{event.timestampMs, 0, -1});
            // An engine summary of refusals carries how many it stands for.
            fold(*it, event, sequence, AggregatedRefusalsKind, qMax<qint64>(1, event.count), 0);
            break;
        }
        default:
            pending.push_back(Row{int(event.kind), sequence, shared, {}});
            break;
        }
    }

    // The bound: drop the oldest rows in one go, with a tenth to spare.
    const qint64 total = qint64(m_rows.size()) + qint64(pending.size());
    if (total > m_capacity) {
        const qint64 excess = total - m_capacity;
        const int removed = int(qMin<qint64>(qint64(m_rows.size()), excess + dropBlockRows()));
        if (removed > 0) {
            beginRemoveRows(QModelIndex(), 0, removed - 1);
            m_rows.erase(m_rows.begin(), m_rows.begin() + removed);
            m_firstRowNumber += removed;
            endRemoveRows();
            firstUpdated = qMax(0, firstUpdated - removed);
            lastUpdated -= removed;
        }
        if (pending.size() > size_t(m_capacity)) {
            // Everything held went already; the oldest new rows would go at once.
            const size_t dropped = pending.size() - size_t(m_capacity);
            pending.erase(pending.begin(), pending.begin() + qsizetype(dropped));
            m_firstRowNumber += qint64(dropped);
        }
    }
    if (lastUpdated >= firstUpdated) {
        emit dataChanged(index(firstUpdated, 0), index(lastUpdated, ColumnCount - 1),
                         {Qt::DisplayRole, Qt::ToolTipRole, AggregatedCountRole,
                          AggregatedBytesRole, EventJsonRole, SearchTextRole});
    }
    if (!pending.empty()) {
        const int first = int(m_rows.size());
        beginInsertRows(QModelIndex(), first, first + int(pending.size()) - 1);
        std::move(pending.begin(), pending.end(), std::back_inserter(m_rows));
        endInsertRows();
    }
    pruneWindows(newestMs);
}

void EventLogModel::appendFrom(const EventLog &log)
{
    if (m_nextLogSequence == 0)
        m_nextLogSequence = log.firstSequence();
    qint64 missed = 0;
    const QList<SharedTrafficEvent> events = log.sharedEventsSince(m_nextLogSequence, -1, &missed);
    const quint64 first = m_nextLogSequence + quint64(missed);
    appendEvents(events, missed, first);
    m_nextLogSequence = first + quint64(events.size());
}

void EventLogModel::clear()
{
    beginResetModel();
    m_rows.clear();
    m_firstRowNumber = 0;
    m_messageWindows.clear();
    m_refusalWindows.clear();
    endResetModel();
}

void EventLogModel::setCapacity(int rows)
{
    m_capacity = qMax(kMinimumCapacity, rows);
    trimTo(m_capacity);
}

void EventLogModel::setMessageRowsPerClientPerSecond(int rows)
{
    m_messageRowsPerClientPerSecond = qMax(0, rows);
}

void EventLogModel::setRowsPerAppend(int rows)
{
    m_rowsPerAppend = qMax(1, rows);
}

void EventLogModel::trimTo(int rows)
{
    const int removed = int(m_rows.size()) - rows;
    if (removed <= 0)
        return;
    beginRemoveRows(QModelIndex(), 0, removed - 1);
    m_rows.erase(m_rows.begin(), m_rows.begin() + removed);
    m_firstRowNumber += removed;
    endRemoveRows();
}

// Windows that ended a while ago cannot take events any more: forget them, so that
// the maps hold about the clients active in the last seconds, not every client ever.
void EventLogModel::pruneWindows(qint64 newestMs)
{
    if (newestMs - m_prunedAtMs < kWindowMs)
        return;
    m_prunedAtMs = newestMs;
    const qint64 horizon = newestMs - 3 * kWindowMs;
    m_messageWindows.removeIf([horizon](const auto &it) { return it.value().startMs < horizon; });
    m_refusalWindows.removeIf([horizon](const auto &it) { return it.value().startMs < horizon; });
}

int EventLogModel::rowKind(int row) const
{
    if (row < 0 || row >= int(m_rows.size()))
        return -1;
    return m_rows[size_t(row)].kind;
}

TrafficEvent EventLogModel::eventAt(int row) const
{
    if (row < 0 || row >= int(m_rows.size()))
        return {};
    return *m_rows[size_t(row)].event;
}

const TrafficEvent *EventLogModel::eventData(int row) const
{
    if (row < 0 || row >= int(m_rows.size()))
        return nullptr;
    return m_rows[size_t(row)].event.get();
}

qint64 EventLogModel::aggregatedCount(int row) const
{
    const int kind = rowKind(row);
    if (kind != AggregatedMessagesKind && kind != AggregatedRefusalsKind)
        return 0;
    return m_rows[size_t(row)].event->count;
}

QString EventLogModel::peerText(const Row &row) const
{
    const TrafficEvent &event = *row.event;
    if (row.kind == int(TrafficEvent::Kind::Listening) || event.address.isNull())
        return {};
    return TrafficEvent::endpoint(event.address, event.port);
}

QString EventLogModel::clientText(const Row &row) const
{
    const QString peer = peerText(row);
    if (row.event->clientId == 0)
        return peer.isEmpty() ? QString(kNone) : peer;
    if (peer.isEmpty())
        return QString::number(row.event->clientId);
    return QStringLiteral("%1 (%2)").arg(row.event->clientId).arg(peer);
}

QString EventLogModel::detailsText(const Row &row) const
{
    const TrafficEvent &event = *row.event;
    const QLocale locale = Units::locale();
    switch (row.kind) {
    case AggregatedMessagesKind: {
        const QString peer = peerText(row);
        return tr("+%Ln message(s) (%1) from %2 in the last second", nullptr,
                  Translations::pluralCount(event.count))
            .arg(Units::bytes(event.bytes),
                 peer.isEmpty() ? tr("client %1").arg(event.clientId) : peer);
    }
    case AggregatedRefusalsKind: {
        return tr("+%Ln connection(s) refused in the last second (%1)", nullptr,
                  Translations::pluralCount(event.count))
            .arg(TextEscape::escapeText(event.text));
    }
    case NoticeKind:
        return tr("%Ln event(s) not shown: the log fell behind", nullptr,
                  Translations::pluralCount(event.count));
    default:
        break;
    }
    switch (event.kind) {
    case TrafficEvent::Kind::Listening:
        if (event.transport == IpProtocol::WebSocket)
            return tr("WebSocket on %1").arg(TrafficEvent::endpoint(event.address, event.port)) +
                   (event.text.isEmpty() ? QString()
                                         : tr("; %1").arg(TextEscape::escapeText(event.text)));
        if (event.transport == IpProtocol::Udp)
            return tr("UDP on %1").arg(TrafficEvent::endpoint(event.address, event.port)) +
                   (event.text.isEmpty() ? QString()
                                         : tr("; %1").arg(TextEscape::escapeText(event.text)));
        if (!event.text.isEmpty()) // TLS, an exposed address
            return tr("on %1; %2")
                .arg(TrafficEvent::endpoint(event.address, event.port),
                     TextEscape::escapeText(event.text));
        return tr("on %1").arg(TrafficEvent::endpoint(event.address, event.port));
    case TrafficEvent::Kind::TlsEstablished:
        return tr("TLS established: %1").arg(TextEscape::escapeText(event.text));
    case TrafficEvent::Kind::WebSocketEstablished:
        return tr("WebSocket established: %1").arg(TextEscape::escapeText(event.text));
    case TrafficEvent::Kind::Connected:
        return (event.transport == IpProtocol::Udp         ? tr("UDP peer %1: its first datagram")
                : event.transport == IpProtocol::WebSocket ? tr("WebSocket from %1")
                                                           : tr("from %1"))
            .arg(TrafficEvent::endpoint(event.address, event.port));
    case TrafficEvent::Kind::Disconnected: {
        const DisconnectInfo &info = event.disconnect;
        QString text =
            (event.transport == IpProtocol::Udp ? tr("UDP peer forgotten: ") : QString()) +
            tr("%1; in %2, out %3, %4 in, %5 out, lasted %6")
                .arg(TextEscape::escapeText(info.describe()), Units::bytes(info.bytesIn),
                     Units::bytes(info.bytesOut), Units::messages(info.messagesIn),
                     locale.toString(info.messagesOut), Units::duration(info.durationMs));
        if (info.unechoedBytes() > 0)
            text += tr("; %1 not echoed").arg(Units::bytes(info.unechoedBytes()));
        return text;
    }
    case TrafficEvent::Kind::MessageEchoed: {
        const bool truncated = event.bytes > event.payload.size();
        return tr("%1: \"%2\"")
            .arg(Units::bytes(event.bytes), TextEscape::escapeBytes(event.payload) +
                                                (truncated ? QString(kEllipsis) : QString()));
    }
    case TrafficEvent::Kind::MessagesSummarised:
        return tr("+%1 (%2)").arg(Units::messages(event.count), Units::bytes(event.bytes));
    case TrafficEvent::Kind::Stopped:
    case TrafficEvent::Kind::Refused:
    case TrafficEvent::Kind::Error:
    case TrafficEvent::Kind::Warning:
    case TrafficEvent::Kind::FaultInjected:
        return TextEscape::escapeText(event.text);
    }
    return TextEscape::escapeText(event.text);
}

QString EventLogModel::toolTip(const Row &row, int column) const
{
    const TrafficEvent &event = *row.event;
    if (column == TimeColumn) {
        return QDateTime::fromMSecsSinceEpoch(event.timestampMs)
            .toString(QStringLiteral("yyyy-MM-dd hh:mm:ss.zzz t"));
    }
    if (column == DetailsColumn && row.kind == int(TrafficEvent::Kind::MessageEchoed)) {
        const QString size = Units::exactBytes(event.bytes);
        const QString heading =
            event.bytes > event.payload.size()
                ? tr("%1, the first %2 shown:").arg(size, Units::exactBytes(event.payload.size()))
                : size + QLatin1Char(':');
        return richToolTip(heading + QLatin1Char('\n') + TextEscape::hexDump(event.payload), true);
    }
    if (column == DetailsColumn && row.kind == AggregatedMessagesKind) {
        return richToolTip(tr("%1, %2, from client %3 within one second, counted "
                              "rather than shown one by one")
                               .arg(Units::messages(event.count), Units::exactBytes(event.bytes),
                                    clientText(row)));
    }
    return richToolTip(detailsText(row));
}

QJsonObject EventLogModel::json(const Row &row) const
{
    const TrafficEvent &event = *row.event;
    QJsonObject object;
    switch (row.kind) {
    case AggregatedMessagesKind:
        object.insert(QStringLiteral("event"), QStringLiteral("messages aggregated"));
        object.insert(QStringLiteral("time"), isoTime(event.timestampMs));
        object.insert(QStringLiteral("client"), qint64(event.clientId));
        if (!event.address.isNull()) {
            object.insert(QStringLiteral("peer"), event.address.toString());
            object.insert(QStringLiteral("peer_port"), event.port);
        }
        object.insert(QStringLiteral("count"), event.count);
        object.insert(QStringLiteral("bytes"), event.bytes);
        return object;
    case AggregatedRefusalsKind:
        object.insert(QStringLiteral("event"), QStringLiteral("refusals aggregated"));
        object.insert(QStringLiteral("time"), isoTime(event.timestampMs));
        object.insert(QStringLiteral("count"), event.count);
        object.insert(QStringLiteral("reason"), event.text);
        return object;
    case NoticeKind:
        object.insert(QStringLiteral("event"), QStringLiteral("notice"));
        object.insert(QStringLiteral("time"), isoTime(event.timestampMs));
        object.insert(QStringLiteral("text"), detailsText(row));
        object.insert(QStringLiteral("missed"), event.count);
        return object;
    default:
        return event.toJson();
    }
}

bool EventLogModel::writeCsv(const QAbstractItemModel *model, QIODevice *device, QString *error)
{
    const auto line = [model](int row) {
        const QModelIndex first = model->index(row, 0);
        const quint64 clientId = first.data(ClientIdRole).toULongLong();
        const QStringList fields = {
            isoTime(first.data(TimestampRole).toLongLong()),
            model->index(row, EventColumn).data().toString(),
            clientId ? QString::number(clientId) : QString(),
            first.data(PeerRole).toString(),
            model->index(row, DetailsColumn).data().toString(),
        };
        QStringList quoted;
        quoted.reserve(fields.size());
        for (const QString &field : fields)
            quoted.append(csvField(field));
        return quoted.join(QLatin1Char(',')).toUtf8() + "\r\n";
    };
    return writeLines(model, device, error, "time,event,client,peer,details\r\n", line);
}

bool EventLogModel::writeJsonLines(const QAbstractItemModel *model, QIODevice *device,
                                   QString *error)
{
    const auto line = [model](int row) {
        const QJsonObject object = model->index(row, 0).data(EventJsonRole).toJsonObject();
        return QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
    };
    return writeLines(model, device, error, QByteArray(), line);
}

} // namespace Echoscope
