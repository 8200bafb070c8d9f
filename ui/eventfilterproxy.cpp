#include "eventfilterproxy.h"

#include "eventlogmodel.h"
#include "trafficevent.h"

#include <algorithm>

namespace Echoscope {

namespace {

constexpr EventFilterProxy::Group kGroups[] = {
    EventFilterProxy::Connections,
    EventFilterProxy::Messages,
    EventFilterProxy::Errors,
    EventFilterProxy::Server,
};

} // namespace

EventFilterProxy::EventFilterProxy(QObject *parent) : QSortFilterProxyModel(parent)
{
    setDynamicSortFilter(true);
}

EventFilterProxy::Group EventFilterProxy::groupOf(int kind)
{
    using Kind = TrafficEvent::Kind;
    switch (kind) {
    case int(Kind::Connected):
    case int(Kind::TlsEstablished):
    case int(Kind::WebSocketEstablished):
    case int(Kind::Disconnected):
    case int(Kind::Refused):
    case int(Kind::FaultInjected):
    case EventLogModel::AggregatedRefusalsKind:
        return Connections;
    case int(Kind::MessageEchoed):
    case int(Kind::MessagesSummarised):
    case EventLogModel::AggregatedMessagesKind:
        return Messages;
    case int(Kind::Error):
    case int(Kind::Warning):
    case EventLogModel::NoticeKind:
        return Errors;
    case int(Kind::Listening):
    case int(Kind::Stopped):
        return Server;
    default:
        return NoGroup;
    }
}

QList<int> EventFilterProxy::kindsOf(Group group)
{
    using Kind = TrafficEvent::Kind;
    switch (group) {
    case Connections:
        return {int(Kind::Connected),
                int(Kind::TlsEstablished),
                int(Kind::WebSocketEstablished),
                int(Kind::Disconnected),
                int(Kind::Refused),
                int(Kind::FaultInjected),
                EventLogModel::AggregatedRefusalsKind};
    case Messages:
        return {int(Kind::MessageEchoed), int(Kind::MessagesSummarised),
                EventLogModel::AggregatedMessagesKind};
    case Errors:
        return {int(Kind::Error), int(Kind::Warning), EventLogModel::NoticeKind};
    case Server:
        return {int(Kind::Listening), int(Kind::Stopped)};
    default:
        return {};
    }
}

void EventFilterProxy::setKindVisible(int kind, bool visible)
{
    if (visible == isKindVisible(kind))
        return;
    if (visible)
        m_hiddenKinds.remove(kind);
    else
        m_hiddenKinds.insert(kind);
    invalidateRowsFilter();
}

EventFilterProxy::Groups EventFilterProxy::visibleGroups() const
{
    Groups groups;
    for (Group group : kGroups) {
        const QList<int> kinds = kindsOf(group);
        if (std::all_of(kinds.cbegin(), kinds.cend(),
                        [this](int kind) { return isKindVisible(kind); }))
            groups |= group;
    }
    return groups;
}

void EventFilterProxy::setVisibleGroups(Groups groups)
{
    QSet<int> hidden = m_hiddenKinds;
    for (Group group : kGroups) {
        for (int kind : kindsOf(group)) {
            if (groups.testFlag(group))
                hidden.remove(kind);
            else
                hidden.insert(kind);
        }
    }
    setHiddenKinds(hidden);
}

void EventFilterProxy::setHiddenKinds(const QSet<int> &hidden)
{
    if (hidden == m_hiddenKinds)
        return;
    m_hiddenKinds = hidden;
    invalidateRowsFilter();
}

void EventFilterProxy::setGroupVisible(Group group, bool visible)
{
    // Kinds hidden one by one in the other groups stay hidden.
    QSet<int> hidden = m_hiddenKinds;
    for (int kind : kindsOf(group)) {
        if (visible)
            hidden.remove(kind);
        else
            hidden.insert(kind);
    }
    setHiddenKinds(hidden);
}

void EventFilterProxy::setClientFilter(quint64 clientId)
{
    if (clientId == m_clientId)
        return;
    m_clientId = clientId;
    invalidateRowsFilter();
}

void EventFilterProxy::setFilterText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_filterText)
        return;
    m_filterText = trimmed;
    m_foldedFilterText = trimmed.toCaseFolded();
    if (!trimmed.isEmpty())
        ++m_searchesRun;
    invalidateRowsFilter();
}

bool EventFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QAbstractItemModel *model = sourceModel();
    const QModelIndex first = model->index(sourceRow, 0, sourceParent);
    const int kind = first.data(EventLogModel::KindRole).toInt();
    if (!isKindVisible(kind))
        return false;
    if (m_clientId != 0 && kind != EventLogModel::NoticeKind &&
        first.data(EventLogModel::ClientIdRole).toULongLong() != m_clientId)
        return false;
    if (m_filterText.isEmpty())
        return true;
    // The log model keeps each row's text case-folded for searching, so a search is a
    // plain substring match; another model is read per column.
    const QVariant searchText = first.data(EventLogModel::SearchTextRole);
    if (searchText.isValid())
        return searchText.toString().contains(m_foldedFilterText, Qt::CaseSensitive);
    const int columns = model->columnCount(sourceParent);
    for (int column = 0; column < columns; ++column) {
        const QString text = model->index(sourceRow, column, sourceParent).data().toString();
        if (text.contains(m_filterText, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace Echoscope
