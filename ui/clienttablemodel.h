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
// inserted per contiguous run, then dataChanged() over the rows whose values changed.
// There is never a reset per tick, so selections and scroll positions survive. A
// connected row's duration moves with time without a dataChanged(): a view repaints
// it (the monitor's idle snapshot says when).
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

    // Makes the rows the snapshot's clients. A monitor's next snapshot (sequence one
    // more than the last applied) is applied from its addedIds, removedIds and
    // changedIds alone: rows inserted and removed per contiguous run, one dataChanged()
    // per contiguous run of changed rows, and the views shared with the snapshot, not
    // copied: the cost follows what changed. Any other snapshot (one skipped, a model
    // attached late, one made by hand) is diffed against the rows by id (both sorted),
    // still with batched inserts and removals rather than a reset.
    // The model keeps no clock of its own: the monitor decides how often values change.
    void applySnapshot(const TrafficSnapshot &snapshot);
    // Removes every row (one reset).
    void clear();

    quint64 clientId(int row) const;   // 0 if there is no such row
    int rowOfClient(quint64 id) const; // -1 if absent; O(log rows)
    // nullptr if there is no such row; valid until the client's row changes.
    const ClientView *clientAt(int row) const;
    // The snapshot sequence last applied; 0 for none or one made by hand.
    quint64 appliedSequence() const { return m_appliedSequence; }
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
    void resetTo(const ClientViewList &clients);
    // From the snapshot's lists of changes; false if they do not fit the rows held.
    bool applyChanges(const TrafficSnapshot &snapshot);
    void applyByDiff(const TrafficSnapshot &snapshot);
    void emitChanged(std::vector<int> rows);

    // The snapshot's own views, shared: removing a run of rows moves pointers.
    std::vector<ClientViewList::Pointer> m_rows;
    qint64 m_nowMs = 0;
    quint64 m_appliedSequence = 0;
};

} // namespace Echoscope
