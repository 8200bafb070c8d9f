#include "clientspane.h"

#include "clientfilterproxy.h"
#include "clienttablemodel.h"
#include "echoserver.h"
#include "trafficevent.h"
#include "units.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <initializer_list>

namespace Echoscope {

ClientsPane::ClientsPane(EchoServer *server, QWidget *parent) : QWidget(parent), m_server(server)
{
    m_model = new ClientTableModel(this);
    m_proxy = new ClientFilterProxy(this);
    m_proxy->setSourceModel(m_model);
    m_filter = new QLineEdit(this);
    m_filter->setObjectName(QStringLiteral("clientFilter"));
    m_filter->setPlaceholderText(tr("Filter clients (address, port, id, state)"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setAccessibleName(tr("Filter clients"));
    m_filter->setAccessibleDescription(
        tr("Shows only the clients whose address, port, id or state contain this text"));
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &ClientFilterProxy::setFilterText);
    m_showDisconnected = new QCheckBox(tr("Show &disconnected"), this);
    m_showDisconnected->setObjectName(QStringLiteral("showDisconnected"));
    m_showDisconnected->setChecked(true);
    m_showDisconnected->setToolTip(tr("Keep clients that left in the table, greyed, with the "
                                      "reason (for the time set in Preferences)"));
    connect(m_showDisconnected, &QCheckBox::toggled, m_proxy,
            &ClientFilterProxy::setShowDisconnected);
    m_count = new QLabel(this);
    m_count->setForegroundRole(QPalette::PlaceholderText);
    m_count->setMinimumWidth(
        m_count->fontMetrics().horizontalAdvance(tr("%Ln shown", nullptr, 88888)));

    // A row that leaves the view (the filter, Show disconnected, the retention time) moves
    // the table's current index to a neighbour; the inspector does not follow it. This
    // connection comes before the selection model's, which moves the current index.
    connect(m_proxy, &QAbstractItemModel::rowsAboutToBeRemoved, this,
            [this] { m_rowsLeaving = true; });
    m_table = new QTableView(this);
    m_table->setAccessibleName(tr("Clients"));
    m_table->setAccessibleDescription(
        tr("One row per client: select one to inspect it, several to disconnect them"));
    m_table->setModel(m_proxy);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, [this] {
        // The neighbour the selection model made current is not the user's choice: no
        // current row, so that clicking it selects and inspects it.
        const QModelIndex current = m_table->selectionModel()->currentIndex();
        if (current.isValid() &&
            current.data(ClientTableModel::ClientIdRole).value<quint64>() != m_currentClient)
            m_table->selectionModel()->clearCurrentIndex();
        m_rowsLeaving = false;
        emit rowsChanged();
    });
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &ClientsPane::rowsChanged);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(ClientTableModel::IdColumn, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->setVisible(false);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionsMovable(true);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    const QFontMetrics metrics = m_table->fontMetrics();
    // Byte columns: the widest of what Units writes there, in this locale ("1,023 bytes"
    // is wider than "999.9 MiB"); a rate of 1,000 to 1,023 bytes/s may be elided.
    const auto widest = [&metrics](std::initializer_list<QString> samples) {
        int width = 0;
        for (const QString &sample : samples)
            width = std::max(width, metrics.horizontalAdvance(sample));
        return width;
    };
    const int bytesWidth = widest({Units::bytes(1023), Units::bytes(qint64(999.9 * 1048576))});
    const int rateWidth = widest({Units::bytesPerSecond(999), Units::bytesPerSecond(999.9 * 1024)});
    const int widths[ClientTableModel::ColumnCount] = {
        metrics.horizontalAdvance(QStringLiteral("00000")),
        metrics.horizontalAdvance(QStringLiteral("255.255.255.255:65535")), // IPv6: tooltip
        metrics.horizontalAdvance(QStringLiteral("00:00:00__")),
        metrics.horizontalAdvance(QStringLiteral("00 min 00 s_")),
        bytesWidth,
        bytesWidth,
        metrics.horizontalAdvance(QStringLiteral("0,000,000_")),
        metrics.horizontalAdvance(QStringLiteral("0,000,000_")),
        bytesWidth,
        rateWidth,
        metrics.horizontalAdvance(QStringLiteral("delay 200\u00b150 ms_")),
        metrics.horizontalAdvance(QStringLiteral("connected_")),
        metrics.horizontalAdvance(QStringLiteral("TLSv1.3, TLS_AES_256_GCM_SHA384")),
        metrics.horizontalAdvance(QStringLiteral("Proto_"))};
    for (int column = 0; column < ClientTableModel::ColumnCount; ++column)
        m_table->setColumnWidth(column, widths[column] + 12);
    m_table->setColumnHidden(ClientTableModel::TlsColumn, true); // shown for TLS only
    // What a glance needs fits at 1280×800 without scrolling sideways; the rest (also in the
    // inspector) is a right-click on the header away.
    for (int column : {ClientTableModel::ConnectedColumn, ClientTableModel::DurationColumn,
                       ClientTableModel::MessagesInColumn, ClientTableModel::MessagesOutColumn,
                       ClientTableModel::LastMessageColumn, ClientTableModel::FaultsColumn})
        m_table->setColumnHidden(column, true);
    QHeaderView *clientHeader = m_table->horizontalHeader();
    clientHeader->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(clientHeader, &QHeaderView::customContextMenuRequested, this,
            &ClientsPane::showColumnsMenu);
    // TCP, UDP or WS reads best beside the peer; State stays last, where it stretches.
    m_table->horizontalHeader()->moveSection(ClientTableModel::TransportColumn,
                                             ClientTableModel::PeerColumn + 1);
    connect(m_table, &QTableView::customContextMenuRequested, this, [this](const QPoint &position) {
        if (!selectedClientIds().isEmpty())
            emit clientMenuRequested(m_table->viewport()->mapToGlobal(position));
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] {
        if (m_rowsLeaving)
            return; // see the rowsAboutToBeRemoved connection
        const QModelIndex current = m_table->selectionModel()->currentIndex();
        const quint64 id =
            current.isValid() ? current.data(ClientTableModel::ClientIdRole).value<quint64>() : 0;
        if (id == m_currentClient)
            return;
        m_currentClient = id;
        emit currentClientChanged(id);
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { m_disconnectAction->setEnabled(!selectedClientIds().isEmpty()); });

    auto *filterRow = new QHBoxLayout;
    filterRow->addWidget(m_filter, 1);
    filterRow->addWidget(m_showDisconnected);
    filterRow->addWidget(m_count);
    auto *clientsLayout = new QVBoxLayout(this);
    clientsLayout->setContentsMargins(0, 0, 0, 0);
    clientsLayout->setSpacing(4);
    clientsLayout->addLayout(filterRow);
    clientsLayout->addWidget(m_table, 1);

    m_disconnectAction = new QAction(tr("&Disconnect"), this);
    m_disconnectAction->setShortcut(QKeySequence::Delete);
    m_disconnectAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_disconnectAction->setToolTip(tr("Close the selected clients' connections (reason: kicked)"));
    m_disconnectAction->setEnabled(false);
    m_table->addAction(m_disconnectAction);
    // Ctrl+C is Edit > Copy, which copies from whichever view has the focus.
    m_copyAddressAction = new QAction(tr("&Copy address"), this);
    connect(m_copyAddressAction, &QAction::triggered, this, &ClientsPane::copySelectedAddresses);
}

QList<quint64> ClientsPane::selectedClientIds() const
{
    QList<quint64> ids;
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    for (const QModelIndex &index : rows) {
        const quint64 id = index.data(ClientTableModel::ClientIdRole).value<quint64>();
        if (id != 0)
            ids.append(id);
    }
    return ids;
}

int ClientsPane::disconnectSelectedClients()
{
    int kicked = 0;
    for (quint64 id : selectedClientIds()) {
        if (m_server->disconnectClient(id))
            ++kicked;
    }
    return kicked;
}

void ClientsPane::copySelectedAddresses()
{
    QStringList addresses;
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    for (const QModelIndex &index : rows) {
        const int row =
            m_model->rowOfClient(index.data(ClientTableModel::ClientIdRole).value<quint64>());
        if (const ClientView *view = row >= 0 ? m_model->clientAt(row) : nullptr)
            addresses.append(
                TrafficEvent::endpoint(view->counters.peerAddress, view->counters.peerPort));
    }
    if (!addresses.isEmpty())
        QApplication::clipboard()->setText(addresses.join(QLatin1Char('\n')));
}

ClientsPane::Row ClientsPane::rowOf(quint64 clientId) const
{
    const int row = clientId != 0 ? m_model->rowOfClient(clientId) : -1;
    if (row < 0)
        return Row::Gone;
    return m_proxy->mapFromSource(m_model->index(row, 0)).isValid() ? Row::Shown : Row::Hidden;
}

void ClientsPane::setTlsServer(bool tls)
{
    m_table->setColumnHidden(ClientTableModel::TlsColumn, !tls);
}

void ClientsPane::updateShownCount()
{
    m_count->setText(tr("%Ln shown", nullptr, m_proxy->rowCount()));
}

void ClientsPane::refreshDurations()
{
    const QHeaderView *header = m_table->horizontalHeader();
    constexpr int column = ClientTableModel::DurationColumn;
    if (header->isSectionHidden(column))
        return;
    QWidget *viewport = m_table->viewport();
    viewport->update(header->sectionViewportPosition(column), 0, header->sectionSize(column),
                     viewport->height());
}

void ClientsPane::showColumnsMenu(const QPoint &position)
{
    QHeaderView *header = m_table->horizontalHeader();
    QMenu menu(this);
    menu.setToolTipsVisible(true);
    for (int visual = 0; visual < header->count(); ++visual) {
        const int column = header->logicalIndex(visual);
        if (column == ClientTableModel::TlsColumn && !m_server->isTls())
            continue; // shown for TLS servers only
        const QString name = m_model->headerData(column, Qt::Horizontal).toString();
        QAction *action = menu.addAction(name);
        action->setCheckable(true);
        action->setChecked(!header->isSectionHidden(column));
        // The last visible column cannot go: the header would have nothing to click.
        action->setEnabled(header->isSectionHidden(column) ||
                           header->count() - header->hiddenSectionCount() > 1);
        connect(action, &QAction::toggled, this,
                [this, column](bool shown) { m_table->setColumnHidden(column, !shown); });
    }
    menu.exec(header->viewport()->mapToGlobal(position));
}

} // namespace Echoscope
