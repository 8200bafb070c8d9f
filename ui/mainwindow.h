#pragma once

#include "dashboardsettings.h"
#include "trafficmonitor.h"

#include <QMainWindow>

#include <optional>
#include <utility>

QT_BEGIN_NAMESPACE
class QAction;
class QCheckBox;
class QLabel;
class QLineEdit;
class QSettings;
class QTableView;
class QUrl;
QT_END_NAMESPACE

namespace Echoscope {

class ClientFilterProxy;
class ClientInspector;
class ClientsPane;
class ClientTableModel;
class ControlApi;
class ControlApiController;
class ControlBar;
class EchoServer;
class EventLogPanel;
class FaultsDialog;
class HistogramWidget;
class MetricsEndpointController;
class MetricsExporter;
class NotificationArea;
class RefreshCadence;
class StatusPanel;
class ThroughputChart;
class TrafficMonitor;

// The dashboard: the control bar, the server's status, the client table with the
// inspector of the selected client, the echo log, the throughput chart and the message
// size histograms. It reads the engine through a TrafficMonitor (coalesced snapshots
// about 20 times a second, whose numbers it shows 4 times a second, and a bounded number
// of events per tick), so it does no per-byte work however busy the server is.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    // The server must live in this thread and outlive the window. Settings and the
    // window's geometry are read from and written to `settings` (which must outlive
    // the window too).
    MainWindow(EchoServer *server, QSettings *settings, QWidget *parent = nullptr);
    ~MainWindow() override;

    DashboardSettings dashboardSettings() const;
    // Shows these settings in the control bar and applies the preferences.
    void setDashboardSettings(const DashboardSettings &settings);
    // Shows these settings for this run only (command-line options): where they differ
    // from the remembered ones, the remembered value is what is saved, unless the user
    // changes the setting in the window.
    void setRunOnlySettings(const DashboardSettings &settings);

    // Starts with the control bar's settings. On failure the reason is shown in the
    // window (errorText()) and the settings stay as they were.
    bool startServer();
    void stopServer();
    // Whether closing the window and starting write the settings back (default true).
    void setSavesSettings(bool saves) { m_savesSettings = saves; }
    // Serves the metrics at this address and port for this run, whatever Preferences say
    // (--metrics-port); not saved unless Preferences are accepted. On failure the reason is
    // shown in the window (errorText()) and false returned.
    bool setMetricsOverride(const QString &address, quint16 port);
    // Runs the control API at this address and port with this token for this run, whatever
    // Preferences say (--control-port); not saved unless Preferences are accepted. On failure
    // the reason (address, port and the OS's words) is shown in the window (errorText()) and
    // false returned.
    bool setControlOverride(const QString &address, quint16 port, const QString &token,
                            const QString &tokenFile = QString());
    // Help > Handbook (F1): the installed handbook, else the project's online copy.
    static QUrl handbookUrl();
    QAction *copyAction() const { return m_copyAction; }
    QAction *handbookAction() const { return m_handbookAction; }
    // Disconnects the clients selected in the table (reason: kicked).
    void disconnectSelectedClients();

    // What tests and the screenshot option look at.
    ControlBar *controlBar() const { return m_controlBar; }
    StatusPanel *statusPanel() const { return m_statusPanel; }
    QTableView *clientTable() const { return m_clientTable; }
    ClientTableModel *clientModel() const { return m_clientModel; }
    ClientFilterProxy *clientProxy() const { return m_clientProxy; }
    ClientInspector *inspector() const { return m_inspector; }
    EventLogPanel *eventLog() const { return m_eventLog; }
    HistogramWidget *serverHistogram() const { return m_serverHistogram; }
    HistogramWidget *clientHistogram() const { return m_clientHistogram; }
    ThroughputChart *throughputChart() const { return m_chart; }
    TrafficMonitor *monitor() const { return m_monitor; }
    MetricsExporter *metricsExporter() const { return m_metrics; }
    QLabel *metricsLabel() const;
    ControlApi *controlApi() const;
    // The status bar's control API label (its context menu copies the URL and the token).
    QLabel *controlApiLabel() const;
    ControlApiController *controlApiController() const { return m_controlApi; }
    // Opens the Preferences dialog (modal) and applies what it accepts.
    void editPreferences();
    // The start failure shown in the window, empty when there is none.
    QString errorText() const;
    // True when the window warns that other machines can reach the server.
    bool isExposureWarningShown() const;
    // Opens (or raises) the faults dialog of one client, or of all clients for 0; it is
    // not modal, so the effect can be watched while it is open.
    FaultsDialog *editFaults(quint64 clientId);

protected:
    void closeEvent(QCloseEvent *event) override;
    bool event(QEvent *event) override;

private:
    void createActions();
    void createMenus();
    void createDocks();
    // Shows a snapshot's numbers (status, histograms, inspector, chart) when the cadence
    // says they are due.
    void refreshValues(const TrafficSnapshot &snapshot);
    // Shows this client in the inspector (0: none), as the table's current row.
    void inspectClient(quint64 id);
    // Says in the inspector when its client has no row in the table (filtered, removed).
    void updateInspectorNote();
    void showClientMenu(const QPoint &globalPosition);
    // Edit > Copy: from the view that has the focus.
    void copyFromFocusedView();
    void showError(const QString &text);
    void updateServerState();
    void updateExposureWarning();
    void applyPreferences();
    bool applyMetrics();
    bool applyControlApi();
    void showListenerState(bool ok, const QString &failure, bool *shown);
    void showAbout();
    void setDarkPalette(bool dark);
    void saveSettings();
    // The client table's columns, the log's columns and filters, Hex or Text: versioned,
    // so a layout from another version is dropped for the defaults.
    QByteArray saveViewState() const;
    bool restoreViewState(const QByteArray &state);

    // Raise when the docks or the saved views change shape.
    static constexpr int kWindowStateVersion = 1;
    static constexpr qint32 kViewStateVersion = 1;

    EchoServer *m_server;
    QSettings *m_settings;
    TrafficMonitor *m_monitor;
    MetricsExporter *m_metrics;
    DashboardSettings m_dashboardSettings;
    // setRunOnlySettings(): what was remembered and what this run was given.
    std::optional<std::pair<DashboardSettings, DashboardSettings>> m_runOnly;
    RefreshCadence *m_cadence;
    bool m_savesSettings = true;

    ControlBar *m_controlBar;
    NotificationArea *m_notifications;
    StatusPanel *m_statusPanel;
    ClientsPane *m_clients;
    QTableView *m_clientTable;
    ClientTableModel *m_clientModel;
    ClientFilterProxy *m_clientProxy;
    ClientInspector *m_inspector;
    EventLogPanel *m_eventLog;
    HistogramWidget *m_serverHistogram;
    HistogramWidget *m_clientHistogram;
    ThroughputChart *m_chart;
    MetricsEndpointController *m_metricsEndpoint;
    bool m_metricsErrorShown = false; // the error banner shows the endpoint's failure
    ControlApiController *m_controlApi;
    bool m_controlErrorShown = false; // the error banner shows the control API's failure

    QAction *m_startStopAction = nullptr;
    QAction *m_disconnectAction = nullptr;
    QAction *m_copyAction = nullptr;
    QAction *m_handbookAction = nullptr;
    QAction *m_preferencesAction = nullptr;
    QAction *m_faultsAction = nullptr;
    QAction *m_quitAction = nullptr;
    QMenu *m_viewMenu = nullptr;
    QAction *m_darkAction = nullptr;
};

} // namespace Echoscope
