#include "clientfilterproxy.h"

#include "clienttablemodel.h"

namespace Echoscope {

ClientFilterProxy::ClientFilterProxy(QObject *parent) : QSortFilterProxyModel(parent)
{
    setSortRole(ClientTableModel::SortRole);
    setDynamicSortFilter(true);
}

void ClientFilterProxy::setFilterText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_filterText)
        return;
    m_filterText = trimmed;
    invalidateRowsFilter();
}

void ClientFilterProxy::setShowDisconnected(bool show)
{
    if (show == m_showDisconnected)
        return;
    m_showDisconnected = show;
    invalidateRowsFilter();
}

bool ClientFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QAbstractItemModel *model = sourceModel();
    if (!m_showDisconnected) {
        const QVariant connected =
            model->index(sourceRow, 0, sourceParent).data(ClientTableModel::ConnectedRole);
        if (connected.isValid() && !connected.toBool())
            return false;
    }
    if (m_filterText.isEmpty())
        return true;
    for (int column : {ClientTableModel::IdColumn, ClientTableModel::PeerColumn,
                       ClientTableModel::StateColumn, ClientTableModel::TransportColumn}) {
        const QModelIndex index = model->index(sourceRow, column, sourceParent);
        if (index.data().toString().contains(m_filterText, Qt::CaseInsensitive))
            return true;
        // The transport's full name ("WebSocket") where the cell abbreviates it ("WS").
        if (column == ClientTableModel::TransportColumn &&
            index.data(ClientTableModel::SortRole)
                .toString()
                .contains(m_filterText, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace Echoscope
