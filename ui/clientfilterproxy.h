#pragma once

#include <QSortFilterProxyModel>
#include <QString>

namespace Echoscope {

// Sorts a ClientTableModel by its raw values (ClientTableModel::SortRole: "10 B" after
// "9 B", peers by address, then port) and filters it by free text and by whether
// disconnected clients are shown. Sorting and filtering stay dynamic, so per-tick
// updates re-sort in place (persistent indexes, and with them selections, follow their
// rows) instead of resetting.
class ClientFilterProxy : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit ClientFilterProxy(QObject *parent = nullptr);

    QString filterText() const { return m_filterText; }
    // Case-insensitive substring of the id, the peer or the state; empty: all.
    void setFilterText(const QString &text);
    bool showDisconnected() const { return m_showDisconnected; }
    void setShowDisconnected(bool show);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_filterText;
    bool m_showDisconnected = true;
};

} // namespace Echoscope
