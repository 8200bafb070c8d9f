#pragma once

#include "trafficmonitor.h"

#include <QAbstractTableModel>
#include <QString>

#include <memory>
#include <vector>

namespace Echoscope {

// The clients of the last TrafficSnapshot, one row each, in id order.
//
// Each snapshot is applied as one batch: rows removed per contiguous run, rows
// inserted per contiguous run, then one dataChanged() over the rows whose values may
// have changed. There is never a reset per tick, so selections and scroll positions
// survive; the cost is O(rows) per snapshot.
class ClientTableModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        IdColumn,
        PeerColumn,
        ConnectedColumn,
        DurationColumn,
        BytesInColumn,
        BytesOutColumn,
        MessagesInColumn,
        MessagesOutColumn,
        LastMessageColumn,
        RateColumn,
        FaultsColumn, // the faults injected into its echo, if any
        StateColumn,
        TlsColumn,       // TLS listener only: protocol and cipher
        TransportColumn, // TCP or UDP
        ColumnCount
    };
    Q_ENUM(Column)

    enum Role {
        // Raw values to sort by: numbers as qint64/quint64/double, the peer as a key
        // that orders by address, then port.
        SortRole = Qt::UserRole,
        ClientIdRole,  // quint64
        ConnectedRole, // bool
    };
    Q_ENUM(Role)

    explicit ClientTableModel(QObject *parent = nullptr);
    ~ClientTableModel() override;

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    // Makes the rows the snapshot's clients. The rows are diffed against the clients
    // by id (both sorted), so a snapshot whose addedIds/removedIds do not match the
    // rows held (a skipped snapshot, a model attached late) still ends up right,
    // with batched inserts and removals rather than a reset.
    // Rows come and go, and change state, with every snapshot; the counters of connected
    // clients are refreshed at most every valueRefreshMs() (0, the default: every
    // snapshot).
    void applySnapshot(const TrafficSnapshot &snapshot);
    // Counters that change 20 times a second cannot be read, and repainting every cell
    // of the table that often is most of what the UI thread does under load (see
    // benchmarks/README.md); a dashboard refreshes them a few times a second instead.
    int valueRefreshMs() const { return m_valueRefreshMs; }
    // The timestamp of the snapshot whose live counters the rows show.
    qint64 liveValuesTimestampMs() const { return m_valuesRefreshedAtMs; }
    void setValueRefreshMs(int intervalMs) { m_valueRefreshMs = qMax(0, intervalMs); }
    // Removes every row (one reset).
    void clear();

    quint64 clientId(int row) const;   // 0 if there is no such row
    int rowOfClient(quint64 id) const; // -1 if absent; O(log rows)
    // nullptr if there is no such row; valid until the client's row is removed.
    const ClientView *clientAt(int row) const;
    // "Now" for durations: the timestamp of the last snapshot applied.
    qint64 nowMs() const { return m_nowMs; }

    static QString stateText(const ClientView &client); // "connected", "closed: reset by peer"
    static QString faultsText(const ClientSnapshot &counters); // "" or "delay 200 ms · ..."
    static QString tlsText(const ClientView &client);          // "TLSv1.3, TLS_AES_256_GCM_SHA384"
    static QString peerSortKey(const QHostAddress &address, quint16 port);

private:
    QVariant displayData(const ClientView &client, int column) const;
    QVariant sortData(const ClientView &client, int column) const;
    qint64 durationMs(const ClientView &client) const;
    QString toolTip(const ClientView &client, int column) const;
    void resetTo(const QList<ClientView> &clients);

    // Pointers, so that removing a run of rows moves pointers, not whole views.
    std::vector<std::unique_ptr<ClientView>> m_rows;
    qint64 m_nowMs = 0;
    int m_valueRefreshMs = 0;
    qint64 m_valuesRefreshedAtMs = 0; // snapshot time of the last refresh of live counters
};

} // namespace Echoscope
