#include "eventlogpanel.h"

#include "eventfilterproxy.h"
#include "eventlogmodel.h"
#include "palettes.h"
#include "units.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDataStream>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QSaveFile>
#include <QScrollBar>
#include <QStandardPaths>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <limits>

namespace Echoscope {

namespace {
QToolButton *toolButton(QAction *action)
{
    auto *button = new QToolButton;
    button->setDefaultAction(action);
    button->setToolButtonStyle(Qt::ToolButtonTextOnly);
    if (action->isCheckable())
        Palettes::showCheckedState(button);
    return button;
}
} // namespace

EventLogPanel::EventLogPanel(QWidget *parent) : QWidget(parent)
{
    m_model = new EventLogModel(this);
    m_proxy = new EventFilterProxy(this);
    m_proxy->setSourceModel(m_model);

    m_view = new QTableView(this);
    m_view->setAccessibleName(tr("Echo log"));
    m_view->setAccessibleDescription(tr("The server's events, newest last"));
    m_view->setModel(m_proxy);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setWordWrap(false);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->setVisible(false);
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 4);
    m_view->horizontalHeader()->setStretchLastSection(true);
    const QFontMetrics metrics = m_view->fontMetrics();
    m_view->setColumnWidth(EventLogModel::TimeColumn,
                           metrics.horizontalAdvance(QStringLiteral("00:00:00.000__")));
    m_view->setColumnWidth(EventLogModel::EventColumn,
                           metrics.horizontalAdvance(QStringLiteral("messages summarised_")));
    m_view->setColumnWidth(EventLogModel::ClientColumn,
                           metrics.horizontalAdvance(QStringLiteral("#0000 [::1]:65535___")));

    // Kind filters: one checkable entry per group, in a menu to keep the bar short.
    auto *kinds = new QToolButton(this);
    kinds->setText(tr("Kinds"));
    kinds->setPopupMode(QToolButton::InstantPopup);
    kinds->setToolTip(tr("Which kinds of events to show"));
    auto *kindsMenu = new QMenu(kinds);
    const struct
    {
        EventFilterProxy::Group group;
        QString text;
    } groups[] = {
        {EventFilterProxy::Connections,
         tr("&Connections: connected, disconnected, refused, faults")},
        {EventFilterProxy::Messages, tr("&Messages: echoed, summaries of floods")},
        {EventFilterProxy::Errors, tr("&Errors, warnings and notices")},
        {EventFilterProxy::Server, tr("&Server: listening, stopped")},
    };
    for (const auto &group : groups) {
        QAction *action = kindsMenu->addAction(group.text);
        action->setData(int(group.group));
        m_kindActions.append(action);
        action->setCheckable(true);
        action->setChecked(true);
        const EventFilterProxy::Group id = group.group;
        connect(action, &QAction::toggled, this, [this, id, kinds](bool on) {
            m_proxy->setGroupVisible(id, on);
            const bool all = m_proxy->visibleGroups() == EventFilterProxy::AllGroups;
            kinds->setText(all ? tr("Kinds") : tr("Kinds (filtered)"));
            updateStatus();
        });
    }
    kinds->setMenu(kindsMenu);

    m_clientFilter = new QComboBox(this);
    m_clientFilter->addItem(tr("All clients"));
    m_clientFilter->addItem(tr("Selected client"));
    m_clientFilter->setToolTip(tr("Show the events of every client, or only of the client "
                                  "selected in the table"));
    m_clientFilter->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(m_clientFilter, &QComboBox::currentIndexChanged, this,
            &EventLogPanel::updateClientFilter);

    m_search = new QLineEdit(this);
    m_search->setAccessibleName(tr("Search the log"));
    m_search->setAccessibleDescription(tr("Shows only the events whose text contains this"));
    m_search->setPlaceholderText(tr("Search the log"));
    m_search->setClearButtonEnabled(true);
    m_search->setMinimumWidth(m_search->fontMetrics().horizontalAdvance(QLatin1Char('x')) * 16);
    // Searched once typing pauses (every search goes over every row), at once when the
    // field is cleared or Return is pressed.
    m_searchTimer = new QTimer(this);
    m_searchTimer->setSingleShot(true);
    m_searchTimer->setInterval(kSearchDelayMs);
    connect(m_searchTimer, &QTimer::timeout, this, &EventLogPanel::applySearch);
    connect(m_search, &QLineEdit::textChanged, this, [this](const QString &text) {
        if (text.isEmpty())
            applySearch();
        else
            m_searchTimer->start();
    });
    connect(m_search, &QLineEdit::returnPressed, this, &EventLogPanel::applySearch);

    m_pauseAction = new QAction(tr("&Pause log"), this);
    m_pauseAction->setCheckable(true);
    m_pauseAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P));
    m_pauseAction->setToolTip(tr("Stop adding rows while you read; new events wait and are "
                                 "added on resume"));
    connect(m_pauseAction, &QAction::toggled, this, [this](bool paused) {
        if (!paused)
            m_waiting = 0;
        updateStatus();
        emit pausedChanged(paused);
    });
    m_autoScrollAction = new QAction(tr("&Auto-scroll"), this);
    m_autoScrollAction->setCheckable(true);
    m_autoScrollAction->setChecked(true);
    m_autoScrollAction->setToolTip(tr("Keep the newest row in view (scrolling up holds the "
                                      "view where it is)"));
    connect(m_autoScrollAction, &QAction::toggled, this, [this](bool on) {
        if (on)
            m_view->scrollToBottom();
    });
    m_clearAction = new QAction(tr("C&lear log"), this);
    m_clearAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    connect(m_clearAction, &QAction::triggered, this, &EventLogPanel::clear);
    m_exportCsvAction = new QAction(tr("Export log as &CSV…"), this);
    m_exportCsvAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    connect(m_exportCsvAction, &QAction::triggered, this,
            [this] { exportInteractively(ExportFormat::Csv); });
    m_exportJsonLinesAction = new QAction(tr("Export log as &JSON lines…"), this);
    connect(m_exportJsonLinesAction, &QAction::triggered, this,
            [this] { exportInteractively(ExportFormat::JsonLines); });
    auto *exportButton = new QToolButton(this);
    exportButton->setText(tr("Export"));
    exportButton->setPopupMode(QToolButton::InstantPopup);
    auto *exportMenu = new QMenu(exportButton);
    exportMenu->addAction(m_exportCsvAction);
    exportMenu->addAction(m_exportJsonLinesAction);
    exportButton->setMenu(exportMenu);
    exportButton->setToolTip(tr("Write the rows shown (after the filters) to a file"));

    m_status = new QLabel(this);
    m_status->setForegroundRole(QPalette::PlaceholderText);
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);

    auto *bar = new QHBoxLayout;
    bar->setSpacing(6);
    bar->addWidget(kinds);
    bar->addWidget(m_clientFilter);
    bar->addWidget(m_search, 1);
    bar->addWidget(toolButton(m_pauseAction));
    bar->addWidget(toolButton(m_autoScrollAction));
    bar->addWidget(toolButton(m_clearAction));
    bar->addWidget(exportButton);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    layout->addLayout(bar);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_status);
    updateStatus();
}

void EventLogPanel::appendEvents(const QList<TrafficEvent> &events, qint64 missed,
                                 quint64 firstSequence)
{
    QList<SharedTrafficEvent> shared;
    shared.reserve(events.size());
    for (const TrafficEvent &event : events)
        shared.append(std::make_shared<const TrafficEvent>(event));
    appendEvents(shared, missed, firstSequence);
}

void EventLogPanel::appendEvents(const QList<SharedTrafficEvent> &events, qint64 missed,
                                 quint64 firstSequence)
{
    QScrollBar *scrollBar = m_view->verticalScrollBar();
    const bool atBottom = scrollBar->value() >= scrollBar->maximum() - 1;
    m_model->appendEvents(events, missed, firstSequence);
    if (m_autoScrollAction->isChecked() && atBottom)
        m_view->scrollToBottom();
    updateStatus();
}

void EventLogPanel::setCapacity(int rows)
{
    m_model->setCapacity(rows);
    updateStatus();
}

void EventLogPanel::clear()
{
    m_model->clear();
    updateStatus();
}

bool EventLogPanel::isPaused() const
{
    return m_pauseAction->isChecked();
}

void EventLogPanel::setPaused(bool paused)
{
    m_pauseAction->setChecked(paused);
}

void EventLogPanel::setWaitingEvents(qint64 count)
{
    if (count == m_waiting)
        return;
    m_waiting = count;
    updateStatus();
}

void EventLogPanel::setSelectedClient(quint64 clientId)
{
    m_selectedClient = clientId;
    updateClientFilter();
}

void EventLogPanel::updateClientFilter()
{
    const bool selectedOnly = m_clientFilter->currentIndex() == 1;
    // With nothing selected, "Selected client" shows no client's events, not all.
    m_proxy->setClientFilter(selectedOnly ? (m_selectedClient != 0 ? m_selectedClient : ~quint64(0))
                                          : 0);
    updateStatus();
}

void EventLogPanel::copySelectedRows() const
{
    QModelIndexList rows = m_view->selectionModel()->selectedRows();
    std::sort(rows.begin(), rows.end());
    QStringList lines;
    for (const QModelIndex &row : std::as_const(rows)) {
        QStringList cells;
        for (int column = 0; column < m_proxy->columnCount(); ++column)
            cells.append(m_proxy->index(row.row(), column).data().toString());
        lines.append(cells.join(QLatin1Char('\t')));
    }
    if (!lines.isEmpty())
        QApplication::clipboard()->setText(lines.join(QLatin1Char('\n')));
}

QString EventLogPanel::statusText() const
{
    return m_status->text();
}

void EventLogPanel::updateStatus()
{
    // Every number through Units::count, so they read alike ("9,000 of 9,000"); the model
    // drops its oldest rows in blocks (dropBlockRows()), so it holds fewer than its
    // capacity after a trim: the footer says both.
    const int capacity = m_model->capacity();
    QString text = tr("Rows shown: %1 of %2 · at most %3 kept, the oldest dropped %4 at a time")
                       .arg(Units::count(m_proxy->rowCount()), Units::count(m_model->rowCount()),
                            Units::count(capacity), Units::count(m_model->dropBlockRows()));
    if (isPaused())
        text = tr("Paused, new events waiting: %1").arg(Units::count(m_waiting)) +
               QStringLiteral(" · ") + text;
    m_status->setText(text);
}

namespace {
constexpr quint32 kStateMagic = 0x45534c47; // "ESLG"
constexpr quint32 kStateVersion = 1;
} // namespace

QByteArray EventLogPanel::saveState() const
{
    QByteArray state;
    QDataStream out(&state, QIODevice::WriteOnly);
    out.setVersion(QDataStream::Qt_6_4);
    out << kStateMagic << kStateVersion << m_view->horizontalHeader()->saveState()
        << quint32(m_proxy->visibleGroups().toInt()) << qint32(m_clientFilter->currentIndex())
        << m_autoScrollAction->isChecked();
    return state;
}

bool EventLogPanel::restoreState(const QByteArray &state)
{
    QDataStream in(state);
    in.setVersion(QDataStream::Qt_6_4);
    quint32 magic = 0;
    quint32 version = 0;
    QByteArray header;
    quint32 groups = 0;
    qint32 clientFilter = 0;
    bool autoScroll = true;
    in >> magic >> version >> header >> groups >> clientFilter >> autoScroll;
    if (in.status() != QDataStream::Ok || magic != kStateMagic || version != kStateVersion ||
        clientFilter < 0 || clientFilter >= m_clientFilter->count())
        return false;
    m_view->horizontalHeader()->restoreState(header);
    for (QAction *action : std::as_const(m_kindActions))
        action->setChecked(groups & action->data().toUInt());
    m_clientFilter->setCurrentIndex(clientFilter);
    m_autoScrollAction->setChecked(autoScroll);
    return true;
}

bool EventLogPanel::exportTo(const QString &path, ExportFormat format, QString *error) const
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) { // not Text: the writers end the lines themselves
        *error = tr("cannot write \"%1\": %2").arg(path, file.errorString());
        return false;
    }
    QString reason;
    const bool written = format == ExportFormat::Csv
                             ? EventLogModel::writeCsv(m_proxy, &file, &reason)
                             : EventLogModel::writeJsonLines(m_proxy, &file, &reason);
    if (!written || !file.commit()) {
        *error =
            tr("cannot write \"%1\": %2").arg(path, reason.isEmpty() ? file.errorString() : reason);
        return false;
    }
    return true;
}

void EventLogPanel::exportInteractively(ExportFormat format)
{
    const bool csv = format == ExportFormat::Csv;
    const QString directory = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    const QString path = QFileDialog::getSaveFileName(
        this, csv ? tr("Export the log as CSV") : tr("Export the log as JSON lines"),
        directory +
            (csv ? QStringLiteral("/echoscope-log.csv") : QStringLiteral("/echoscope-log.jsonl")),
        csv ? tr("CSV files (*.csv);;All files (*)")
            : tr("JSON lines (*.jsonl *.ndjson);;All files (*)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportTo(path, format, &error))
        QMessageBox::warning(this, tr("Export failed"), error);
}

void EventLogPanel::applySearch()
{
    m_searchTimer->stop();
    m_proxy->setFilterText(m_search->text());
    updateStatus();
}

} // namespace Echoscope
