#pragma once

#include <QWidget>

QT_BEGIN_NAMESPACE
class QAction;
class QCheckBox;
class QLabel;
class QLineEdit;
class QTableView;
QT_END_NAMESPACE

namespace Echoscope {

class ClientFilterProxy;
class ClientTableModel;
class EchoServer;

// The clients pane: a filter row (the filter text, "Show disconnected", how many rows are
// shown) above the client table, with the table's own actions (Disconnect, Copy address)
// and its header's menu of columns. It says which client is current (the one to inspect)
// and when rows came or went; what to do with them is the window's.
class ClientsPane : public QWidget
{
    Q_OBJECT

public:
    // Where a client's row is.
    enum class Row { Shown, Hidden, Gone }; // Hidden: by the filter or "Show disconnected"

    explicit ClientsPane(EchoServer *server, QWidget *parent = nullptr);

    ClientTableModel *model() const { return m_model; }
    ClientFilterProxy *proxy() const { return m_proxy; }
    QTableView *table() const { return m_table; }
    QLineEdit *filterEdit() const { return m_filter; }
    QCheckBox *showDisconnectedBox() const { return m_showDisconnected; }
    // Delete on the table; enabled while rows are selected.
    QAction *disconnectAction() const { return m_disconnectAction; }
    QAction *copyAddressAction() const { return m_copyAddressAction; }

    QList<quint64> selectedClientIds() const;
    // Disconnects the selected clients (reason: kicked); returns how many were connected.
    int disconnectSelectedClients();
    // The selected clients' addresses, one a line, to the clipboard.
    void copySelectedAddresses();
    Row rowOf(quint64 clientId) const;
    // The TLS column is there for TLS servers only.
    void setTlsServer(bool tls);
    // "N shown", after the model or the filter changed.
    void updateShownCount();
    // Paints the durations of the rows in sight again: they move with the clock, not with
    // the rows' values (a row whose values change is painted again by the model's
    // dataChanged). Only their column: an idle table of thousands of clients repaints one
    // column of the rows in sight, not every cell.
    void refreshDurations();

signals:
    // The current row's client changed (0: none), by the user's choice: not when a row
    // that leaves the view moved the current index to a neighbour.
    void currentClientChanged(quint64 clientId);
    // Rows were inserted into or removed from the view.
    void rowsChanged();
    // The context menu of the table, at this global position, over selected rows.
    void clientMenuRequested(const QPoint &globalPosition);

private:
    void showColumnsMenu(const QPoint &position);

    EchoServer *m_server;
    ClientTableModel *m_model;
    ClientFilterProxy *m_proxy;
    QLineEdit *m_filter;
    QCheckBox *m_showDisconnected;
    QLabel *m_count;
    QTableView *m_table;
    QAction *m_disconnectAction;
    QAction *m_copyAddressAction;
    quint64 m_currentClient = 0; // the last currentClientChanged()
    bool m_rowsLeaving = false;  // between the proxy's rowsAboutToBeRemoved and rowsRemoved
};

} // namespace Echoscope
