#include "mainwindow.h"

#include "palettes.h"
#include "clientfilterproxy.h"
#include "clientinspector.h"
#include "clientspane.h"
#include "clienttablemodel.h"
#include "controlbar.h"
#include "echoserver.h"
#include "eventlogmodel.h"
#include "eventlogpanel.h"
#include "faultsdialog.h"
#include "hexview.h"
#include "histogramwidget.h"
#include "controlapi.h"
#include "controlapicontroller.h"
#include "metricsendpointcontroller.h"
#include "metricsexporter.h"
#include "notificationarea.h"
#include "preferencesdialog.h"
#include "refreshcadence.h"
#include "statuspanel.h"
#include "throughputchart.h"
#include "trafficevent.h"
#include "trafficmonitor.h"
#include "units.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QCloseEvent>
#include <QDataStream>
#include <QDesktopServices>
#include <QDockWidget>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIcon>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabBar>
#include <QTableView>
#include <QToolBar>
#include <QUrl>
#include <QVBoxLayout>

#include <algorithm>
#include <initializer_list>

namespace Echoscope {

namespace {} // namespace

MainWindow::MainWindow(EchoServer *server, QSettings *settings, QWidget *parent)
    : QMainWindow(parent), m_server(server), m_settings(settings)
{
    // The GUI thread only paints: even a single worker serves in a thread of its own.
    m_server->setKeepsThisThreadFree(true);
    setWindowTitle(tr("Echoscope"));
    QIcon icon;
    for (int size : {16, 32, 48, 64, 128, 256})
        icon.addFile(QStringLiteral(":/icons/echoscope-%1.png").arg(size), QSize(size, size));
    setWindowIcon(icon);

    m_monitor = new TrafficMonitor(server, this);
    // Counts from now on; serves only when Preferences (or --metrics-port) turn it on.
    m_metricsEndpoint = new MetricsEndpointController(server, this);
    m_metrics = m_metricsEndpoint->exporter();
    statusBar()->addPermanentWidget(m_metricsEndpoint->label());
    // Listens only when Preferences (or --control-port) turn it on.
    m_controlApi = new ControlApiController(server, this);
    statusBar()->addPermanentWidget(m_controlApi->label());

    // The control bar is the window's toolbar.
    m_controlBar = new ControlBar(this);
    auto *toolBar = new QToolBar(tr("Server settings"), this);
    toolBar->setObjectName(QStringLiteral("controlBar"));
    toolBar->setMovable(false);
    toolBar->addWidget(m_controlBar);
    addToolBar(Qt::TopToolBarArea, toolBar);

    m_notifications = new NotificationArea(this);

    m_statusPanel = new StatusPanel(this);

    // Clients: a filter row above the table.
    m_clients = new ClientsPane(server, this);
    m_clientModel = m_clients->model();
    m_clientProxy = m_clients->proxy();
    m_clientTable = m_clients->table();
    connect(m_clients, &ClientsPane::currentClientChanged, this, &MainWindow::inspectClient);
    connect(m_clients, &ClientsPane::rowsChanged, this, &MainWindow::updateInspectorNote);
    connect(m_clients, &ClientsPane::clientMenuRequested, this, &MainWindow::showClientMenu);

    m_inspector = new ClientInspector(this);
    connect(m_inspector, &ClientInspector::disconnectRequested, this,
            [this](quint64 clientId) { m_server->disconnectClient(clientId); });
    connect(m_inspector, &ClientInspector::faultsRequested, this, &MainWindow::editFaults);
    m_inspector->setRecordingSources(m_server, m_monitor);

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setObjectName(QStringLiteral("clientSplitter"));
    splitter->addWidget(m_clients);
    splitter->addWidget(m_inspector);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setChildrenCollapsible(false);
    splitter->setSizes({600, 660});

    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(6, 4, 6, 0);
    layout->setSpacing(4);
    layout->addWidget(m_notifications);
    layout->addWidget(m_statusPanel);
    layout->addWidget(splitter, 1);
    setCentralWidget(central);

    createDocks();
    // What reaches the panes when: the table every snapshot, the numbers 4 times a second,
    // the log 5 times a second.
    m_cadence = new RefreshCadence(m_monitor, m_eventLog, this);
    m_cadence->setWatchedClient(
        [this] { return m_inspector->showsConnectedClient() ? m_inspector->clientId() : 0; });
    connect(m_cadence, &RefreshCadence::snapshotArrived, m_clientModel,
            &ClientTableModel::applySnapshot);
    connect(m_cadence, &RefreshCadence::valuesDue, this, &MainWindow::refreshValues);
    connect(m_cadence, &RefreshCadence::valuesSampled, m_clients, &ClientsPane::refreshDurations);
    createActions();
    createMenus();
    statusBar()->showMessage(tr("Ready"), 3000);

    connect(m_controlBar, &ControlBar::startRequested, this, &MainWindow::startServer);
    connect(m_controlBar, &ControlBar::stopRequested, this, &MainWindow::stopServer);
    connect(m_controlBar, &ControlBar::settingsChanged, this, &MainWindow::updateExposureWarning);
    connect(m_server, &EchoServer::started, this, &MainWindow::updateServerState);
    connect(m_server, &EchoServer::stopped, this, &MainWindow::updateServerState);

    DashboardSettings loaded;
    loaded.load(*m_settings);
    setDashboardSettings(loaded);
    resize(1280, 800);
    restoreGeometry(m_settings->value(QStringLiteral("window/geometry")).toByteArray());
    if (!restoreState(m_settings->value(QStringLiteral("window/state")).toByteArray(),
                      kWindowStateVersion)) {
        auto *logDock = findChild<QDockWidget *>(QStringLiteral("echoLogDock"));
        auto *chartDock = findChild<QDockWidget *>(QStringLiteral("throughputDock"));
        resizeDocks({logDock, chartDock}, {720, 540}, Qt::Horizontal);
        resizeDocks({logDock}, {230}, Qt::Vertical);
    }
    splitter->restoreState(
        m_settings->value(QStringLiteral("window/clientSplitter")).toByteArray());
    m_clients->showDisconnectedBox()->setChecked(
        m_settings->value(QStringLiteral("view/showDisconnected"), true).toBool());
    restoreViewState(m_settings->value(QStringLiteral("window/views")).toByteArray());
    m_darkAction->setChecked(m_settings->value(QStringLiteral("view/darkPalette"), false).toBool());
    updateServerState();
    m_cadence->apply(m_monitor->snapshot());
}

MainWindow::~MainWindow() = default;

void MainWindow::createDocks()
{
    m_eventLog = new EventLogPanel(this);
    auto *logDock = new QDockWidget(tr("Echo log"), this);
    logDock->setObjectName(QStringLiteral("echoLogDock"));
    logDock->setWidget(m_eventLog);
    addDockWidget(Qt::BottomDockWidgetArea, logDock);

    m_chart = new ThroughputChart(this);
    auto *chartDock = new QDockWidget(tr("Throughput"), this);
    chartDock->setObjectName(QStringLiteral("throughputDock"));
    chartDock->setWidget(m_chart);
    addDockWidget(Qt::BottomDockWidgetArea, chartDock);

    m_serverHistogram = new HistogramWidget(this);
    m_serverHistogram->setTitle(tr("All clients"));
    m_clientHistogram = new HistogramWidget(this);
    m_clientHistogram->setTitle(tr("Selected client"));
    auto *sizes = new QWidget(this);
    auto *sizesLayout = new QHBoxLayout(sizes);
    sizesLayout->setContentsMargins(4, 4, 4, 4);
    sizesLayout->addWidget(m_serverHistogram);
    sizesLayout->addWidget(m_clientHistogram);
    auto *sizesDock = new QDockWidget(tr("Message sizes"), this);
    sizesDock->setObjectName(QStringLiteral("messageSizesDock"));
    sizesDock->setWidget(sizes);
    addDockWidget(Qt::BottomDockWidgetArea, sizesDock);

    splitDockWidget(logDock, chartDock, Qt::Horizontal);
    tabifyDockWidget(chartDock, sizesDock);
    chartDock->raise();
}

bool MainWindow::event(QEvent *event)
{
    // The tab bars of tabified docks are QMainWindow's own, made as its layout needs them.
    const bool handled = QMainWindow::event(event);
    if (event->type() == QEvent::LayoutRequest || event->type() == QEvent::ChildPolished) {
        // A screen reader reads a tab bar as its current tab: each tab gets a tooltip.
        for (QTabBar *tabs : findChildren<QTabBar *>()) {
            for (int tab = 0; tab < tabs->count(); ++tab) {
                if (tabs->tabToolTip(tab).isEmpty())
                    tabs->setTabToolTip(tab, tr("Show the %1 panel").arg(tabs->tabText(tab)));
            }
        }
    }
    return handled;
}

void MainWindow::createActions()
{
    m_startStopAction = m_controlBar->startStopAction(); // the button's own
    const auto themed = [this](const char *name, QStyle::StandardPixmap fallback) {
        return QIcon::fromTheme(QLatin1String(name), style()->standardIcon(fallback));
    };

    m_disconnectAction = m_clients->disconnectAction(); // the table's own
    connect(m_disconnectAction, &QAction::triggered, this, &MainWindow::disconnectSelectedClients);

    // Ctrl+C is Edit > Copy, which copies from whichever view has the focus.
    m_copyAction =
        new QAction(themed("edit-copy", QStyle::SP_FileDialogDetailedView), tr("&Copy"), this);
    m_copyAction->setShortcut(QKeySequence::Copy);
    m_copyAction->setToolTip(tr("Copy what is selected in the view that has the focus: client "
                                "addresses, log rows, captured bytes or text"));
    connect(m_copyAction, &QAction::triggered, this, &MainWindow::copyFromFocusedView);

    m_handbookAction =
        new QAction(themed("help-contents", QStyle::SP_DialogHelpButton), tr("&Handbook"), this);
    m_handbookAction->setShortcut(QKeySequence::HelpContents);
    m_handbookAction->setToolTip(tr("Open the Echoscope handbook"));
    connect(m_handbookAction, &QAction::triggered, this,
            [this] { QDesktopServices::openUrl(handbookUrl()); });

    m_preferencesAction = new QAction(themed("preferences-system", QStyle::SP_FileDialogInfoView),
                                      tr("&Preferences…"), this);
    m_preferencesAction->setShortcut(QKeySequence::Preferences);
    if (m_preferencesAction->shortcut().isEmpty())
        m_preferencesAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
    connect(m_preferencesAction, &QAction::triggered, this, &MainWindow::editPreferences);
    m_faultsAction = new QAction(tr("&Faults for All Clients…"), this);
    m_faultsAction->setToolTip(tr("Inject faults into every client's echo: delay, bandwidth, "
                                  "slices, close, reset, stop reading"));
    connect(m_faultsAction, &QAction::triggered, this, [this] { editFaults(0); });

    m_quitAction =
        new QAction(themed("application-exit", QStyle::SP_DialogCloseButton), tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence::Quit);
    m_quitAction->setMenuRole(QAction::QuitRole);
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_eventLog->exportCsvAction());
    file->addAction(m_eventLog->exportJsonLinesAction());
    file->addSeparator();
    file->addAction(m_quitAction);

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_copyAction);

    QMenu *server = menuBar()->addMenu(tr("&Server"));
    server->addAction(m_startStopAction);
    server->addAction(m_disconnectAction);
    server->addSeparator();
    server->addAction(m_faultsAction);
    server->addAction(m_preferencesAction);

    m_viewMenu = menuBar()->addMenu(tr("&View"));
    for (QDockWidget *dock : findChildren<QDockWidget *>())
        m_viewMenu->addAction(dock->toggleViewAction());
    m_viewMenu->addSeparator();
    QAction *showDisconnected = m_viewMenu->addAction(tr("Show &disconnected clients"));
    showDisconnected->setCheckable(true);
    QCheckBox *showDisconnectedBox = m_clients->showDisconnectedBox();
    showDisconnected->setChecked(showDisconnectedBox->isChecked());
    connect(showDisconnected, &QAction::toggled, showDisconnectedBox, &QCheckBox::setChecked);
    connect(showDisconnectedBox, &QCheckBox::toggled, showDisconnected, &QAction::setChecked);
    QAction *filter = m_viewMenu->addAction(tr("&Filter clients"));
    filter->setShortcut(QKeySequence::Find);
    connect(filter, &QAction::triggered, this, [this] {
        m_clients->filterEdit()->setFocus(Qt::ShortcutFocusReason);
        m_clients->filterEdit()->selectAll();
    });
    m_viewMenu->addSeparator();
    m_darkAction = m_viewMenu->addAction(tr("Dar&k palette"));
    m_darkAction->setCheckable(true);
    m_darkAction->setToolTip(tr("Light text on dark backgrounds (Fusion style)"));
    connect(m_darkAction, &QAction::toggled, this, &MainWindow::setDarkPalette);
    m_viewMenu->addSeparator();
    m_viewMenu->addAction(m_eventLog->pauseAction());
    m_viewMenu->addAction(m_eventLog->autoScrollAction());
    m_viewMenu->addAction(m_eventLog->clearAction());

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(m_handbookAction);
    help->addSeparator();
    QAction *about =
        help->addAction(QIcon::fromTheme(QStringLiteral("help-about"),
                                         QIcon(QStringLiteral(":/icons/echoscope-32.png"))),
                        tr("&About Echoscope"));
    about->setMenuRole(QAction::AboutRole);
    connect(about, &QAction::triggered, this, &MainWindow::showAbout);
    QAction *aboutQt = help->addAction(tr("About &Qt"));
    aboutQt->setMenuRole(QAction::AboutQtRole);
    connect(aboutQt, &QAction::triggered, qApp, &QApplication::aboutQt);
}

DashboardSettings MainWindow::dashboardSettings() const
{
    DashboardSettings settings = m_dashboardSettings;
    settings.config = m_controlBar->config();
    return settings;
}

void MainWindow::setDashboardSettings(const DashboardSettings &settings)
{
    m_dashboardSettings = settings;
    if (!m_server->isListening())
        m_controlBar->setConfig(settings.config);
    applyPreferences();
    updateExposureWarning();
}

void MainWindow::setRunOnlySettings(const DashboardSettings &settings)
{
    const DashboardSettings remembered =
        m_runOnly ? m_runOnly->first : dashboardSettings(); // as loaded from the file
    m_runOnly.emplace(remembered, settings);
    setDashboardSettings(settings);
}

void MainWindow::applyPreferences()
{
    m_monitor->setRetainDisconnectedMs(m_dashboardSettings.retainDisconnectedSeconds * 1000);
    m_monitor->setEventLogCapacity(qMax(m_dashboardSettings.eventLogRows, 1000));
    m_eventLog->setCapacity(m_dashboardSettings.eventLogRows);
    // Preferences' "message rows": the engine samples that many messages per client each
    // second, and the log shows each of them; the rest come as the engine's summaries.
    m_eventLog->model()->setMessageRowsPerClientPerSecond(
        m_dashboardSettings.messageEventsPerSecond);
    m_inspector->setCaptureBytes(m_dashboardSettings.captureBytesPerClient,
                                 m_dashboardSettings.inspectedCaptureBytes);
    applyMetrics();
    applyControlApi();
}

bool MainWindow::setMetricsOverride(const QString &address, quint16 port)
{
    m_metricsEndpoint->setOverride(address, port);
    return applyMetrics();
}

// The endpoint to match the settings; a failure to start shows in the error banner until
// the endpoint starts or is turned off.
bool MainWindow::applyMetrics()
{
    const bool ok = m_metricsEndpoint->apply(m_dashboardSettings);
    showListenerState(
        ok,
        ok ? QString()
           : tr("Could not start the metrics endpoint: %1").arg(m_metrics->errorString()),
        &m_metricsErrorShown);
    return ok;
}

// A listener beside the window (the metrics endpoint, the control API) after it was
// applied: its failure in the error banner (*shown: the banner shows it), until it starts
// or is turned off; the exposure warning as it is now.
void MainWindow::showListenerState(bool ok, const QString &failure, bool *shown)
{
    if (!ok) {
        showError(failure);
        *shown = true;
    } else if (*shown) {
        m_notifications->hideError();
        *shown = false;
    }
    updateExposureWarning();
}

bool MainWindow::setControlOverride(const QString &address, quint16 port, const QString &token,
                                    const QString &tokenFile)
{
    m_controlApi->setOverride(address, port, token, tokenFile);
    return applyControlApi();
}

// The control API to match the settings; a failure to start (the token file, or the
// address, port and OS reason) shows in the error banner until it starts or is turned off.
bool MainWindow::applyControlApi()
{
    const bool ok = m_controlApi->apply(m_dashboardSettings);
    showListenerState(
        ok,
        ok ? QString() : tr("Could not start the control API: %1").arg(m_controlApi->errorString()),
        &m_controlErrorShown);
    return ok;
}

bool MainWindow::startServer()
{
    if (m_server->isListening())
        return true;
    const QString invalid = m_controlBar->validationError();
    if (!invalid.isEmpty()) {
        showError(tr("Cannot start: %1").arg(invalid));
        return false;
    }
    const ServerConfig config = m_dashboardSettings.engineConfig(m_controlBar->config());
    if (!m_server->start(config)) {
        // The engine's message names the address, the port and the OS reason.
        showError(tr("Could not start the server: %1").arg(m_server->errorString()));
        updateServerState();
        return false;
    }
    // Those stay until the endpoint or the API starts or is turned off.
    if (!m_metricsErrorShown && !m_controlErrorShown)
        m_notifications->hideError();
    m_clients->setTlsServer(m_server->isTls());
    m_chart->clear();
    saveSettings();
    updateServerState();
    return true;
}

void MainWindow::stopServer()
{
    if (m_server->isListening())
        m_server->stop();
    updateServerState();
}

void MainWindow::showError(const QString &text)
{
    m_metricsErrorShown = false;
    m_controlErrorShown = false;
    m_notifications->showError(text);
    statusBar()->showMessage(text, 10000);
}

QLabel *MainWindow::metricsLabel() const
{
    return m_metricsEndpoint->label();
}

ControlApi *MainWindow::controlApi() const
{
    return m_controlApi->api();
}

QLabel *MainWindow::controlApiLabel() const
{
    return m_controlApi->label();
}

QString MainWindow::errorText() const
{
    return m_notifications->errorText();
}

bool MainWindow::isExposureWarningShown() const
{
    return m_notifications->isExposureWarningShown();
}

void MainWindow::updateServerState()
{
    const bool listening = m_server->isListening();
    m_controlBar->setListening(listening);
    // The platform adds the application's display name ("… — Echoscope") where that is
    // the custom (X11, Wayland, Windows); macOS shows it in the menu bar instead.
    setWindowTitle(listening
                       ? TrafficEvent::endpoint(m_server->serverAddress(), m_server->serverPort())
                       : tr("Stopped"));
    updateExposureWarning();
}

void MainWindow::updateExposureWarning()
{
    QString text;
    if (m_server->isListening()) {
        if (!ServerConfig::isLoopback(m_server->serverAddress()))
            text =
                tr("⚠ Listening on %1: other machines that can reach this one can connect "
                   "and have their bytes echoed.")
                    .arg(TrafficEvent::endpoint(m_server->serverAddress(), m_server->serverPort()));
    } else if (m_controlBar->bindsBeyondLoopback()) {
        text = tr("⚠ Address %1 is not loopback: once started, other machines that can reach "
                  "this one can connect.")
                   .arg(m_controlBar->config().bindAddress);
    }
    if (m_metrics->isListening() && !ServerConfig::isLoopback(m_metrics->serverAddress())) {
        const QString metrics =
            tr("⚠ Metrics on %1: other machines that can reach this one can read them.")
                .arg(TrafficEvent::endpoint(m_metrics->serverAddress(), m_metrics->serverPort()));
        text = text.isEmpty() ? metrics : text + QLatin1Char('\n') + metrics;
    }
    const ControlApi *control = m_controlApi->api();
    if (control->isListening() && !ServerConfig::isLoopback(control->serverAddress())) {
        const QString api =
            tr("⚠ Control API on %1: other machines that can reach this one can reach it "
               "(changes need its token).")
                .arg(TrafficEvent::endpoint(control->serverAddress(), control->serverPort()));
        text = text.isEmpty() ? api : text + QLatin1Char('\n') + api;
    }
    m_notifications->setExposureWarning(text);
}

void MainWindow::refreshValues(const TrafficSnapshot &snapshot)
{
    m_statusPanel->setSnapshot(snapshot);
    // The chart's rates are over the last second, so a sample every 250 ms loses nothing.
    if (snapshot.listening)
        m_chart->addSample(snapshot.timestampMs, snapshot.bytesInPerSecond,
                           snapshot.bytesOutPerSecond, snapshot.totals.clientsNow);

    const ServerTotals &totals = snapshot.totals;
    m_serverHistogram->setHistogram(
        totals.histogram, totals.minMessageBytes,
        totals.messagesIn > 0 ? double(totals.messageBytesIn) / double(totals.messagesIn) : 0,
        totals.maxMessageBytes);

    // The same snapshot as the table's, by id.
    const quint64 inspected = m_inspector->clientId();
    const ClientViewList::Pointer view =
        inspected != 0 ? snapshot.clients.find(inspected) : nullptr;
    m_inspector->updateClient(view.get());
    if (view) {
        const ClientSnapshot &c = view->counters;
        m_clientHistogram->setHistogram(
            c.histogram, c.minMessageBytes,
            c.messagesIn > 0 ? double(c.messageBytesIn) / double(c.messagesIn) : 0,
            c.maxMessageBytes);
    } else if (inspected == 0) {
        m_clientHistogram->clear();
    }
    m_clients->updateShownCount();
}

void MainWindow::inspectClient(quint64 id)
{
    if (id == m_inspector->clientId())
        return;
    m_inspector->setClient(id, id != 0 ? m_monitor->clientStats(id) : nullptr);
    m_clientHistogram->setTitle(id != 0 ? tr("Client %1").arg(id) : tr("Selected client"));
    m_clientHistogram->clear();
    m_eventLog->setSelectedClient(id);
    updateInspectorNote();
    if (const ClientViewList::Pointer view = id != 0 ? m_monitor->clientView(id) : nullptr) {
        m_inspector->updateClient(view.get());
        const ClientSnapshot &c = view->counters;
        m_clientHistogram->setHistogram(
            c.histogram, c.minMessageBytes,
            c.messagesIn > 0 ? double(c.messageBytesIn) / double(c.messagesIn) : 0,
            c.maxMessageBytes);
    }
}

void MainWindow::copyFromFocusedView()
{
    QWidget *focus = QApplication::focusWidget();
    const auto within = [focus](QWidget *view) {
        return focus && (focus == view || view->isAncestorOf(focus));
    };
    if (auto *edit = qobject_cast<QLineEdit *>(focus)) { // also a spin box's or combo's
        edit->copy();
    } else if (within(m_clientTable)) {
        m_clients->copySelectedAddresses();
    } else if (within(m_inspector->hexView())) {
        m_inspector->hexView()->copy();
    } else if (within(m_eventLog->view())) {
        m_eventLog->copySelectedRows();
    } else if (auto *label = qobject_cast<QLabel *>(focus); label && label->hasSelectedText()) {
        QApplication::clipboard()->setText(label->selectedText());
    }
}

QUrl MainWindow::handbookUrl()
{
    // Installed beside the program (share/doc/echoscope/docs/handbook), else the project's
    // copy on the web.
    const QString installed = QCoreApplication::applicationDirPath() +
                              QStringLiteral("/../share/doc/echoscope/docs/handbook/README.md");
    if (QFileInfo::exists(installed))
        return QUrl::fromLocalFile(QFileInfo(installed).canonicalFilePath());
    return QUrl(
        QStringLiteral("https://github.com/echoscope/echoscope/blob/main/docs/handbook/README.md"));
}

void MainWindow::updateInspectorNote()
{
    const quint64 id = m_inspector->clientId();
    QString note;
    if (id != 0) {
        switch (m_clients->rowOf(id)) {
        case ClientsPane::Row::Gone:
            note = tr("No longer in the table: its row was removed after the retention time set "
                      "in Preferences.");
            break;
        case ClientsPane::Row::Hidden:
            note = tr("Not shown in the table: the filter or \"Show disconnected\" hides its row.");
            break;
        case ClientsPane::Row::Shown:
            break;
        }
    }
    m_inspector->setNote(note);
}

void MainWindow::disconnectSelectedClients()
{
    const int kicked = m_clients->disconnectSelectedClients();
    if (kicked > 0)
        statusBar()->showMessage(tr("Disconnected %Ln client(s)", nullptr, kicked), 5000);
}

void MainWindow::showClientMenu(const QPoint &globalPosition)
{
    const QList<quint64> ids = m_clients->selectedClientIds();
    if (ids.isEmpty())
        return;
    QMenu menu(this);
    m_disconnectAction->setEnabled(true);
    menu.addAction(m_disconnectAction);
    menu.addAction(m_clients->copyAddressAction());
    if (ids.size() == 1) {
        const quint64 id = ids.constFirst();
        const auto stats = m_server->clientStats(id);
        QAction *faults = menu.addAction(tr("&Faults…"), this, [this, id] { editFaults(id); });
        faults->setEnabled(stats && stats->state() != ClientState::Closed);
    }
    if (ids.size() == 1 && ids.first() == m_inspector->clientId()) {
        menu.addSeparator();
        menu.addAction(tr("Export &recording…"), m_inspector,
                       &ClientInspector::exportRecordingInteractively);
        menu.addAction(tr("Export &pcapng…"), m_inspector,
                       &ClientInspector::exportPcapngInteractively);
    }
    menu.exec(globalPosition);
}

FaultsDialog *MainWindow::editFaults(quint64 clientId)
{
    for (FaultsDialog *open : findChildren<FaultsDialog *>()) {
        if (open->clientId() == clientId) {
            open->raise();
            open->activateWindow();
            return open;
        }
    }
    auto *dialog = new FaultsDialog(m_server, clientId, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
    return dialog;
}

void MainWindow::editPreferences()
{
    // The metrics and control fields say what serves now (--metrics-port and --control-port
    // included).
    PreferencesDialog dialog(
        m_controlApi->effective(m_metricsEndpoint->effective(dashboardSettings())), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_metricsEndpoint->clearOverride(); // the dialog's choice from now on, and remembered
    m_controlApi->clearOverride();
    m_dashboardSettings = dialog.settings();
    applyPreferences();
    saveSettings();
}

void MainWindow::showAbout()
{
    QMessageBox::about(
        this, tr("About Echoscope"),
        tr("<h3>Echoscope %1</h3>"
           "<p>An echo server you can watch: every client, every message, live.</p>"
           "<p>It echoes TCP clients with the framing you choose (stream, half-close, "
           "delimiter, length header, fixed size) and shows what each one does on the "
           "wire.</p><p>Built with Qt %2.</p>")
            .arg(QApplication::applicationVersion(), QLatin1String(qVersion())));
}

void MainWindow::saveSettings()
{
    if (!m_savesSettings)
        return;
    if (m_runOnly)
        dashboardSettings().save(*m_settings, m_runOnly->first, m_runOnly->second);
    else
        dashboardSettings().save(*m_settings);
    m_settings->setValue(QStringLiteral("window/geometry"), saveGeometry());
    m_settings->setValue(QStringLiteral("window/state"), saveState(kWindowStateVersion));
    m_settings->setValue(QStringLiteral("window/views"), saveViewState());
    if (auto *splitter = findChild<QSplitter *>(QStringLiteral("clientSplitter")))
        m_settings->setValue(QStringLiteral("window/clientSplitter"), splitter->saveState());
    m_settings->setValue(QStringLiteral("view/showDisconnected"),
                         m_clients->showDisconnectedBox()->isChecked());
    m_settings->setValue(QStringLiteral("view/darkPalette"), m_darkAction->isChecked());
}

QByteArray MainWindow::saveViewState() const
{
    QByteArray state;
    QDataStream out(&state, QIODevice::WriteOnly);
    out.setVersion(QDataStream::Qt_6_4);
    out << kViewStateVersion << m_clientTable->horizontalHeader()->saveState()
        << m_eventLog->saveState() << qint32(m_inspector->hexView()->mode());
    return state;
}

bool MainWindow::restoreViewState(const QByteArray &state)
{
    QDataStream in(state);
    in.setVersion(QDataStream::Qt_6_4);
    qint32 version = 0;
    QByteArray clientColumns;
    QByteArray eventLog;
    qint32 captureMode = 0;
    in >> version >> clientColumns >> eventLog >> captureMode;
    if (in.status() != QDataStream::Ok || version != kViewStateVersion)
        return false; // another version's layout: the defaults
    QHeaderView *header = m_clientTable->horizontalHeader();
    const bool tlsHidden = header->isSectionHidden(ClientTableModel::TlsColumn);
    if (header->restoreState(clientColumns)) // the TLS column is shown for TLS servers only
        header->setSectionHidden(ClientTableModel::TlsColumn, tlsHidden);
    m_eventLog->restoreState(eventLog);
    if (captureMode == qint32(HexView::Mode::Hex) || captureMode == qint32(HexView::Mode::Text))
        m_inspector->hexView()->setMode(HexView::Mode(captureMode));
    return true;
}

void MainWindow::setDarkPalette(bool dark)
{
    // The light look is the platform's own; the dark one is Fusion with a dark palette,
    // which every platform renders the same way.
    static const QPalette platformPalette = QApplication::palette();
    static const QString platformStyle = QApplication::style()->name();
    if (!dark) {
        QApplication::setStyle(platformStyle);
        QApplication::setPalette(platformPalette);
        return;
    }
    QApplication::setStyle(QStringLiteral("Fusion"));
    QApplication::setPalette(Palettes::dark());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveSettings();
    m_inspector->setClient(0, nullptr);
    if (m_server->isListening())
        m_server->stop();
    event->accept();
}

} // namespace Echoscope
