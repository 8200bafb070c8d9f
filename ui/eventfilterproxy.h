#pragma once

#include <QList>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QString>

namespace Echoscope {

// Filters an EventLogModel by kind (one by one or in groups), by client and by text,
// keeping the log's order (it never sorts). Filtering is dynamic: appended rows are
// filtered as they come.
class EventFilterProxy : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    enum Group {
        NoGroup = 0,
        Connections = 0x1, // connected, disconnected, refused, refusals aggregated, faults
        Messages = 0x2,    // message, messages summary, messages aggregated
        Errors = 0x4,      // error, warning, notice
        Server = 0x8,      // listening, stopped
        AllGroups = Connections | Messages | Errors | Server,
    };
    Q_DECLARE_FLAGS(Groups, Group)
    Q_FLAG(Groups)

    explicit EventFilterProxy(QObject *parent = nullptr);

    // The group of a KindRole value (a TrafficEvent::Kind or an EventLogModel::RowKind).
    static Group groupOf(int kind);
    // The KindRole values in a group.
    static QList<int> kindsOf(Group group);

    bool isKindVisible(int kind) const { return !m_hiddenKinds.contains(kind); }
    void setKindVisible(int kind, bool visible);
    // A group is visible when all its kinds are.
    Groups visibleGroups() const;
    void setVisibleGroups(Groups groups);
    void setGroupVisible(Group group, bool visible);

    quint64 clientFilter() const { return m_clientId; }
    // Only rows about this client (and notices of lost events, which may have been
    // about it); 0: all clients.
    void setClientFilter(quint64 clientId);

    QString filterText() const { return m_filterText; }
    // Case-insensitive substring of any column's text; empty: all.
    void setFilterText(const QString &text);
    // Searches run: changes of the filter text to a non-empty one (each goes over every
    // row). For tests.
    int searchesRun() const { return m_searchesRun; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    void setHiddenKinds(const QSet<int> &hidden);

    QSet<int> m_hiddenKinds;
    quint64 m_clientId = 0;
    QString m_filterText;
    QString m_foldedFilterText; // m_filterText.toCaseFolded()
    int m_searchesRun = 0;
};

Q_DECLARE_OPERATORS_FOR_FLAGS(EventFilterProxy::Groups)

} // namespace Echoscope
