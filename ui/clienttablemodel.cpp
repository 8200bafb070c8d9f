#include "clienttablemodel.h"

#include "textescape.h"
#include "trafficevent.h"
#include "units.h"

#include <QBrush>
#include <QDateTime>
#include <QFont>
#include <QGuiApplication>
#include <QLocale>
#include <QPalette>

#include <algorithm>
#include <climits>

namespace Echoscope {

namespace {

// Tooltips that might carry text from outside are made rich text with everything
// escaped, so that Qt never guesses "rich text" from a peer's '<'.
QString plainToolTip(const QString &text)
{
    return QStringLiteral("<p style='white-space:pre'>%1</p>").arg(text.toHtmlEscaped());
}

bool isNumeric(int column)
{
    switch (column) {
    case ClientTableModel::IdColumn:
    case ClientTableModel::DurationColumn:
    case ClientTableModel::BytesInColumn:
    case ClientTableModel::BytesOutColumn:
    case ClientTableModel::MessagesInColumn:
    case ClientTableModel::MessagesOutColumn:
    case ClientTableModel::LastMessageColumn:
    case ClientTableModel::RateColumn:
        return true;
    default:
        return false;
    }
}

QString localTime(qint64 ms, const QString &format)
{
    return QDateTime::fromMSecsSinceEpoch(ms).toString(format);
}

// The values a disconnected row shows; they no longer change once it is gone.
bool sameValues(const ClientView &a, const ClientView &b)
{
    return a.connected == b.connected && a.counters.bytesIn == b.counters.bytesIn &&
           a.counters.bytesOut == b.counters.bytesOut &&
           a.counters.messagesIn == b.counters.messagesIn &&
           a.counters.messagesOut == b.counters.messagesOut &&
           a.counters.lastMessageBytes == b.counters.lastMessageBytes &&
           a.counters.state == b.counters.state && a.bytesInPerSecond == b.bytesInPerSecond &&
           a.disconnect.durationMs == b.disconnect.durationMs &&
           a.disconnect.reason == b.disconnect.reason && a.disconnect.detail == b.disconnect.detail;
}

bool strictlySortedById(const ClientViewList &clients)
{
    for (qsizetype i = 1; i < clients.size(); ++i) {
        if (clients.at(i - 1).counters.id >= clients.at(i).counters.id)
            return false;
    }
    return true;
}

// The clients sorted by id, one per id (the last wins), for a malformed snapshot.
ClientViewList normalized(const ClientViewList &clients)
{
    QList<ClientViewList::Pointer> views = clients.pointers();
    std::stable_sort(views.begin(), views.end(),
                     [](const ClientViewList::Pointer &a, const ClientViewList::Pointer &b) {
                         return a->counters.id < b->counters.id;
                     });
    ClientViewList unique;
    unique.reserve(views.size());
    for (const ClientViewList::Pointer &view : std::as_const(views)) {
        if (!unique.isEmpty() && unique.last().counters.id == view->counters.id)
            unique.pointers().last() = view;
        else
            unique.append(view);
    }
    return unique;
}

} // namespace

ClientTableModel::ClientTableModel(QObject *parent) : QAbstractTableModel(parent) {}

ClientTableModel::~ClientTableModel() = default;

int ClientTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ClientTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ClientTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.model() != this || index.row() >= int(m_rows.size()) ||
        index.column() >= ColumnCount)
        return {};
    const ClientView &client = *m_rows[size_t(index.row())];
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return displayData(client, column);
    case SortRole:
        return sortData(client, column);
    case ClientIdRole:
        return QVariant::fromValue<quint64>(client.counters.id);
    case ConnectedRole:
        return client.connected;
    case Qt::ToolTipRole:
        return toolTip(client, column);
    case Qt::TextAlignmentRole:
        return isNumeric(column) ? int(Qt::AlignRight | Qt::AlignVCenter)
                                 : int(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        if (!client.connected)
            return QBrush(
                QGuiApplication::palette().color(QPalette::Disabled, QPalette::WindowText));
        return {};
    case Qt::FontRole:
        if (!client.connected && column == StateColumn) {
            QFont font;
            font.setItalic(true);
            return font;
        }
        return {};
    default:
        return {};
    }
}

QVariant ClientTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::TextAlignmentRole)
        return isNumeric(section) ? int(Qt::AlignRight | Qt::AlignVCenter)
                                  : int(Qt::AlignLeft | Qt::AlignVCenter);
    if (role == Qt::DisplayRole) {
        switch (Column(section)) {
        case IdColumn:
            return tr("ID");
        case PeerColumn:
            return tr("Peer");
        case ConnectedColumn:
            return tr("Connected");
        case DurationColumn:
            return tr("Duration");
        case BytesInColumn:
            return tr("Bytes in");
        case BytesOutColumn:
            return tr("Bytes out");
        case MessagesInColumn:
            return tr("Msgs in");
        case MessagesOutColumn:
            return tr("Msgs out");
        case LastMessageColumn:
            return tr("Last msg");
        case RateColumn:
            return tr("Rate in");
        case FaultsColumn:
            return tr("Faults");
        case StateColumn:
            return tr("State");
        case TlsColumn:
            return tr("TLS");
        case TransportColumn:
            return tr("Proto");
        case ColumnCount:
            break;
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (Column(section)) {
        case IdColumn:
            return tr("The server's number for the connection, in order of arrival");
        case PeerColumn:
            return tr("The client's address and port");
        case ConnectedColumn:
            return tr("When the connection was accepted (local time)");
        case DurationColumn:
            return tr("How long the client has been connected; for a closed connection, "
                      "how long it lasted");
        case BytesInColumn:
            return tr("Bytes received from the client");
        case BytesOutColumn:
            return tr("Bytes echoed back to the client (taken by the kernel)");
        case MessagesInColumn:
            return tr("Messages framed from the client's bytes");
        case MessagesOutColumn:
            return tr("Messages whose echo was written whole");
        case LastMessageColumn:
            return tr("The size of the client's most recent message");
        case RateColumn:
            return tr("Bytes received per second, over about the last second");
        case FaultsColumn:
            return tr("The faults injected into the client's echo (delay, bandwidth, slices, "
                      "close, reset, not reading); * marks faults set for this client");
        case StateColumn:
            return tr("Connected, paused by backpressure (the client is not reading its "
                      "echo), draining after a half-close, or closed and why");
        case TlsColumn:
            return tr("The TLS version and cipher suite the client negotiated (TLS listener "
                      "and wss:// only); byte counts are of the plaintext");
        case TransportColumn:
            return tr("TCP: a connection. UDP: the datagrams of one address and port, "
                      "forgotten after the UDP idle timeout. WebSocket: a connection to the "
                      "WebSocket port (ws://, or wss:// with TLS), one message per WebSocket "
                      "message");
        case ColumnCount:
            break;
        }
    }
    return QAbstractTableModel::headerData(section, orientation, role);
}

void ClientTableModel::applySnapshot(const TrafficSnapshot &snapshot)
{
    m_nowMs = snapshot.timestampMs;
    const bool next = snapshot.sequence != 0 && snapshot.sequence == m_appliedSequence + 1;
    m_appliedSequence = snapshot.sequence;
    if (next && applyChanges(snapshot))
        return;
    applyByDiff(snapshot);
}

bool ClientTableModel::applyChanges(const TrafficSnapshot &snapshot)
{
    const ClientViewList &clients = snapshot.clients;
    if (qsizetype(m_rows.size()) - snapshot.removedIds.size() + snapshot.addedIds.size() !=
        clients.size())
        return false;
    std::vector<int> removedRows;
    removedRows.reserve(size_t(snapshot.removedIds.size()));
    for (quint64 id : snapshot.removedIds) {
        const int row = rowOfClient(id);
        if (row < 0)
            return false;
        removedRows.push_back(row);
    }
    const QModelIndex root;

    // Removals, as contiguous runs, the last first so that the others keep their rows.
    std::sort(removedRows.begin(), removedRows.end());
    for (size_t end = removedRows.size(); end > 0;) {
        size_t begin = end - 1;
        while (begin > 0 && removedRows[begin - 1] == removedRows[begin] - 1)
            --begin;
        const int first = removedRows[begin];
        const int last = removedRows[end - 1];
        beginRemoveRows(root, first, last);
        m_rows.erase(m_rows.begin() + first, m_rows.begin() + last + 1);
        endRemoveRows();
        end = begin;
    }

    // Insertions: consecutive new ids that go in at one place are one run.
    const QList<quint64> &added = snapshot.addedIds;
    for (qsizetype i = 0; i < added.size();) {
        const auto at = std::lower_bound(
            m_rows.cbegin(), m_rows.cend(), added.at(i),
            [](const ClientViewList::Pointer &row, quint64 id) { return row->counters.id < id; });
        const int row = int(at - m_rows.cbegin());
        const quint64 nextKept = at == m_rows.cend() ? ULLONG_MAX : (*at)->counters.id;
        std::vector<ClientViewList::Pointer> run;
        for (; i < added.size() && added.at(i) < nextKept; ++i) {
            ClientViewList::Pointer view = clients.find(added.at(i));
            if (!view)
                return false; // the rows stay sorted; the diff sets them right
            run.push_back(std::move(view));
        }
        if (run.empty())
            return false; // an id listed as added that is a row already
        beginInsertRows(root, row, row + int(run.size()) - 1);
        m_rows.insert(m_rows.begin() + row, std::make_move_iterator(run.begin()),
                      std::make_move_iterator(run.end()));
        endInsertRows();
    }

    // Values: only the rows whose views are new.
    std::vector<int> changedRows;
    changedRows.reserve(size_t(snapshot.changedIds.size()));
    for (quint64 id : snapshot.changedIds) {
        const int row = rowOfClient(id);
        ClientViewList::Pointer view = clients.find(id);
        if (row < 0 || !view)
            return false;
        m_rows[size_t(row)] = std::move(view);
        changedRows.push_back(row);
    }
    emitChanged(std::move(changedRows));
    return m_rows.size() == size_t(clients.size());
}

void ClientTableModel::emitChanged(std::vector<int> rows)
{
    std::sort(rows.begin(), rows.end());
    static const QList<int> roles = {Qt::DisplayRole, Qt::ToolTipRole, Qt::ForegroundRole,
                                     Qt::FontRole,    SortRole,        ConnectedRole};
    for (size_t begin = 0; begin < rows.size();) {
        size_t end = begin + 1;
        while (end < rows.size() && rows[end] == rows[end - 1] + 1)
            ++end;
        emit dataChanged(index(rows[begin], 0), index(rows[end - 1], ColumnCount - 1), roles);
        begin = end;
    }
}

void ClientTableModel::applyByDiff(const TrafficSnapshot &snapshot)
{
    const ClientViewList clients =
        strictlySortedById(snapshot.clients) ? snapshot.clients : normalized(snapshot.clients);
    const QModelIndex root;

    // Removals: the rows whose ids the snapshot no longer has, as contiguous runs.
    std::vector<std::pair<int, int>> removeRuns; // first, last
    {
        qsizetype j = 0;
        for (int row = 0; row < int(m_rows.size()); ++row) {
            const quint64 id = m_rows[size_t(row)]->counters.id;
            while (j < clients.size() && clients.at(j).counters.id < id)
                ++j;
            if (j < clients.size() && clients.at(j).counters.id == id)
                continue;
            if (!removeRuns.empty() && removeRuns.back().second == row - 1)
                removeRuns.back().second = row;
            else
                removeRuns.emplace_back(row, row);
        }
    }
    // Last run first, so that the rows of the runs still to go keep their numbers.
    for (auto run = removeRuns.crbegin(); run != removeRuns.crend(); ++run) {
        beginRemoveRows(root, run->first, run->second);
        m_rows.erase(m_rows.begin() + run->first, m_rows.begin() + run->second + 1);
        endRemoveRows();
    }

    // Insertions: the rows are now a subsequence of the clients, in the same order;
    // each run of clients missing from it goes in with one insert.
    std::vector<bool> fresh(size_t(clients.size()), false);
    for (int row = 0; row < int(clients.size());) {
        if (row < int(m_rows.size()) &&
            m_rows[size_t(row)]->counters.id == clients.at(row).counters.id) {
            ++row;
            continue;
        }
        const quint64 nextKept =
            row < int(m_rows.size()) ? m_rows[size_t(row)]->counters.id : ULLONG_MAX;
        int end = row;
        while (end < int(clients.size()) && clients.at(end).counters.id != nextKept)
            ++end;
        beginInsertRows(root, row, end - 1);
        m_rows.insert(m_rows.begin() + row, clients.pointers().cbegin() + row,
                      clients.pointers().cbegin() + end);
        for (int i = row; i < end; ++i)
            fresh[size_t(i)] = true;
        endInsertRows();
        row = end;
    }

    // Cannot happen with the diff above; if it ever does, be right rather than fast.
    bool consistent = m_rows.size() == size_t(clients.size());
    for (size_t i = 0; consistent && i < m_rows.size(); ++i)
        consistent = m_rows[i]->counters.id == clients.at(qsizetype(i)).counters.id;
    if (!consistent) {
        resetTo(clients);
        return;
    }

    // Values: a connected row may have changed (its duration at least); a disconnected
    // one only if its final values differ.
    int first = INT_MAX;
    int last = -1;
    for (size_t i = 0; i < m_rows.size(); ++i) {
        if (fresh[i])
            continue;
        ClientViewList::Pointer &row = m_rows[i];
        const ClientViewList::Pointer &client = clients.shared(qsizetype(i));
        if (row == client)
            continue;
        const bool changed =
            row->connected != client->connected || client->connected || !sameValues(*row, *client);
        row = client;
        if (!changed)
            continue;
        first = qMin(first, int(i));
        last = int(i);
    }
    if (last >= 0) {
        emit dataChanged(index(first, 0), index(last, ColumnCount - 1),
                         {Qt::DisplayRole, Qt::ToolTipRole, Qt::ForegroundRole, Qt::FontRole,
                          SortRole, ConnectedRole});
    }
}

void ClientTableModel::clear()
{
    m_appliedSequence = 0;
    resetTo({});
}

void ClientTableModel::resetTo(const ClientViewList &clients)
{
    beginResetModel();
    m_rows.assign(clients.pointers().cbegin(), clients.pointers().cend());
    endResetModel();
}

quint64 ClientTableModel::clientId(int row) const
{
    const ClientView *client = clientAt(row);
    return client ? client->counters.id : 0;
}

int ClientTableModel::rowOfClient(quint64 id) const
{
    const auto it = std::lower_bound(
        m_rows.cbegin(), m_rows.cend(), id,
        [](const ClientViewList::Pointer &row, quint64 key) { return row->counters.id < key; });
    if (it == m_rows.cend() || (*it)->counters.id != id)
        return -1;
    return int(it - m_rows.cbegin());
}

const ClientView *ClientTableModel::clientAt(int row) const
{
    if (row < 0 || row >= int(m_rows.size()))
        return nullptr;
    return m_rows[size_t(row)].get();
}

QString ClientTableModel::stateText(const ClientView &client)
{
    if (!client.connected)
        return tr("closed: %1").arg(TextEscape::escapeText(client.disconnect.describe()));
    switch (client.counters.state) {
    case ClientState::Connected:
        return client.counters.transport == IpProtocol::Udp ? tr("active") : tr("connected");
    case ClientState::Paused:
        return tr("paused (backpressure: %1 unsent)")
            .arg(Units::bytes(client.counters.unsentBytes));
    case ClientState::Draining:
        return tr("draining");
    case ClientState::Closed:
        return tr("closing");
    case ClientState::Handshaking:
        return client.counters.transport == IpProtocol::WebSocket ? tr("WebSocket handshake")
                                                                  : tr("TLS handshake");
    case ClientState::Stopped:
        return tr("not reading (fault)");
    }
    return {};
}

QString ClientTableModel::tlsText(const ClientView &client)
{
    const ClientSnapshot &counters = client.counters;
    if (!counters.tlsProtocol.isEmpty())
        return QStringLiteral("%1, %2").arg(counters.tlsProtocol, counters.tlsCipher);
    if (client.connected && counters.state == ClientState::Handshaking &&
        counters.transport != IpProtocol::WebSocket)
        return tr("handshaking…");
    return QString(QChar(0x2014));
}

QString ClientTableModel::peerSortKey(const QHostAddress &address, quint16 port)
{
    // IPv4 as its IPv6-mapped form, so both families order by their 16 bytes.
    bool isIPv4 = false;
    const quint32 ipv4 = address.toIPv4Address(&isIPv4);
    const Q_IPV6ADDR ipv6 = isIPv4 ? QHostAddress(ipv4).toIPv6Address() : address.toIPv6Address();
    const QByteArray bytes(reinterpret_cast<const char *>(ipv6.c), 16);
    return QString::fromLatin1(bytes.toHex()) +
           QStringLiteral("%1").arg(port, 5, 10, QLatin1Char('0'));
}

qint64 ClientTableModel::durationMs(const ClientView &client) const
{
    if (!client.connected)
        return client.disconnect.durationMs;
    return qMax<qint64>(0, m_nowMs - client.counters.connectedAtMs);
}

QVariant ClientTableModel::displayData(const ClientView &client, int column) const
{
    const ClientSnapshot &counters = client.counters;
    switch (Column(column)) {
    case IdColumn:
        return QString::number(counters.id);
    case PeerColumn:
        return TrafficEvent::endpoint(counters.peerAddress, counters.peerPort);
    case ConnectedColumn:
        return localTime(counters.connectedAtMs, QStringLiteral("hh:mm:ss"));
    case DurationColumn:
        return Units::duration(durationMs(client));
    case BytesInColumn:
        return Units::bytes(counters.bytesIn);
    case BytesOutColumn:
        return Units::bytes(counters.bytesOut);
    case MessagesInColumn:
        return Units::locale().toString(counters.messagesIn);
    case MessagesOutColumn:
        return Units::locale().toString(counters.messagesOut);
    case LastMessageColumn:
        return counters.lastMessageBytes < 0 ? QString(QChar(0x2014))
                                             : Units::bytes(counters.lastMessageBytes);
    case RateColumn:
        return Units::bytesPerSecond(client.bytesInPerSecond);
    case FaultsColumn:
        return faultsText(counters);
    case StateColumn:
        return stateText(client);
    case TlsColumn:
        return tlsText(client);
    case TransportColumn:
        // "WS" fits the narrow column beside TCP and UDP; the name is in the tooltip, and
        // the filter matches it too (SortRole).
        return counters.transport == IpProtocol::WebSocket ? tr("WS")
                                                           : ipProtocolName(counters.transport);
    case ColumnCount:
        break;
    }
    return {};
}

QString ClientTableModel::faultsText(const ClientSnapshot &counters)
{
    if (counters.faults.isEmpty())
        return counters.faultsPerClient ? tr("none*") : QString();
    return counters.faults.describe() +
           (counters.faultsPerClient ? QStringLiteral("*") : QString());
}

QVariant ClientTableModel::sortData(const ClientView &client, int column) const
{
    const ClientSnapshot &counters = client.counters;
    switch (Column(column)) {
    case IdColumn:
        return QVariant::fromValue<quint64>(counters.id);
    case PeerColumn:
        return peerSortKey(counters.peerAddress, counters.peerPort);
    case ConnectedColumn:
        return counters.connectedAtMs;
    case DurationColumn:
        return durationMs(client);
    case BytesInColumn:
        return counters.bytesIn;
    case BytesOutColumn:
        return counters.bytesOut;
    case MessagesInColumn:
        return counters.messagesIn;
    case MessagesOutColumn:
        return counters.messagesOut;
    case LastMessageColumn:
        return counters.lastMessageBytes;
    case RateColumn:
        return client.bytesInPerSecond;
    case FaultsColumn:
        return faultsText(counters);
    case StateColumn:
        return stateText(client);
    case TlsColumn:
        return tlsText(client);
    case TransportColumn:
        return ipProtocolName(counters.transport);
    case ColumnCount:
        break;
    }
    return {};
}

QString ClientTableModel::toolTip(const ClientView &client, int column) const
{
    const ClientSnapshot &counters = client.counters;
    const QLocale locale = Units::locale();
    switch (Column(column)) {
    case BytesInColumn:
        return plainToolTip(Units::exactBytes(counters.bytesIn));
    case BytesOutColumn:
        return plainToolTip(Units::exactBytes(counters.bytesOut));
    case LastMessageColumn:
        if (counters.lastMessageBytes >= 0) {
            return plainToolTip(tr("Last %1; smallest %2, largest %3")
                                    .arg(Units::exactBytes(counters.lastMessageBytes),
                                         Units::exactBytes(counters.minMessageBytes),
                                         Units::exactBytes(counters.maxMessageBytes)));
        }
        break;
    case RateColumn:
        return plainToolTip(tr("%1 in, %2 out, %3 messages/s in")
                                .arg(Units::bytesPerSecond(client.bytesInPerSecond),
                                     Units::bytesPerSecond(client.bytesOutPerSecond),
                                     locale.toString(client.messagesInPerSecond, 'f', 1)));
    case FaultsColumn:
        if (!counters.faults.isEmpty() || counters.faultsPerClient) {
            return plainToolTip((counters.faultsPerClient ? tr("Faults set for this client: %1")
                                                          : tr("The faults for all clients: %1"))
                                    .arg(counters.faults.describe()));
        }
        break;
    case TransportColumn:
        if (counters.transport == IpProtocol::WebSocket)
            return plainToolTip(tr("WebSocket (ws://, or wss:// with TLS)"));
        break;
    case TlsColumn:
        if (!counters.tlsProtocol.isEmpty())
            return plainToolTip(tr("%1, cipher suite %2 (%3-bit keys)")
                                    .arg(counters.tlsProtocol, counters.tlsCipher)
                                    .arg(counters.tlsCipherBits));
        break;
    default:
        break;
    }

    QStringList lines;
    lines << tr("Client %1, %2 %3")
                 .arg(counters.id)
                 .arg(TrafficEvent::endpoint(counters.peerAddress, counters.peerPort),
                      ipProtocolName(counters.transport));
    lines << tr("Connected %1, for %2")
                 .arg(localTime(counters.connectedAtMs, QStringLiteral("yyyy-MM-dd hh:mm:ss")),
                      Units::duration(durationMs(client)));
    lines << tr("In: %1 in %2")
                 .arg(Units::exactBytes(counters.bytesIn), Units::messages(counters.messagesIn));
    lines << tr("Out: %1 in %2")
                 .arg(Units::exactBytes(counters.bytesOut), Units::messages(counters.messagesOut));
    lines << tr("Peak unsent echo: %1").arg(Units::exactBytes(counters.peakUnsentBytes));
    if (counters.transport == IpProtocol::WebSocket && !counters.webSocketResource.isEmpty())
        lines << tr("WebSocket path: %1, %2 pings")
                     .arg(TextEscape::escapeText(counters.webSocketResource),
                          locale.toString(counters.webSocketPings));
    if (client.connected) {
        lines << tr("State: %1").arg(stateText(client));
    } else {
        lines << tr("Disconnected: %1").arg(TextEscape::escapeText(client.disconnect.describe()));
        lines << tr("Not echoed: %1").arg(Units::exactBytes(client.disconnect.unechoedBytes()));
    }
    return plainToolTip(lines.join(QLatin1Char('\n')));
}

} // namespace Echoscope
