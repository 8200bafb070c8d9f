#pragma once

#include "trafficevent.h"

#include <QWidget>

QT_BEGIN_NAMESPACE
class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;
class QTimer;
QT_END_NAMESPACE

namespace Echoscope {

class EventFilterProxy;
class EventLogModel;

// The echo log: timestamped events, filters by kind and client, text search,
// pause and auto-scroll, clear, and export of the rows shown to CSV or JSON lines.
// The model behind it is bounded and folds message floods into summary rows.
class EventLogPanel : public QWidget
{
    Q_OBJECT

public:
    enum class ExportFormat { Csv, JsonLines };

    explicit EventLogPanel(QWidget *parent = nullptr);

    EventLogModel *model() const { return m_model; }
    EventFilterProxy *proxy() const { return m_proxy; }
    QTableView *view() const { return m_view; }

    // New events from the engine (missed: how many it could not keep for us; the first
    // event's sequence number in the monitor's log).
    void appendEvents(const QList<TrafficEvent> &events, qint64 missed, quint64 firstSequence);
    // Events shared with the monitor's EventLog: the rows keep the log's events.
    void appendEvents(const QList<SharedTrafficEvent> &events, qint64 missed,
                      quint64 firstSequence);
    void setCapacity(int rows);
    void clear();

    // While paused the window stops handing events over; they wait in the monitor's
    // log (whose overflow is reported as missed on resume).
    bool isPaused() const;
    void setPaused(bool paused);
    void setWaitingEvents(qint64 count);
    // Events still to hand over after this tick (a flood larger than one tick's share).
    void setBacklog(qint64 count) { m_backlog = count; }
    bool hasBacklog() const { return m_backlog > 0; }

    // The client chosen in the table; the "Selected client" filter follows it.
    void setSelectedClient(quint64 clientId);

    // Writes the rows the filters let through. On failure returns false with a reason
    // naming the file.
    bool exportTo(const QString &path, ExportFormat format, QString *error) const;

    QAction *pauseAction() const { return m_pauseAction; }
    QAction *autoScrollAction() const { return m_autoScrollAction; }
    QAction *clearAction() const { return m_clearAction; }
    // The client whose events the "selected client" filter shows (0: none).
    quint64 selectedClient() const { return m_selectedClient; }
    QAction *exportCsvAction() const { return m_exportCsvAction; }
    QAction *exportJsonLinesAction() const { return m_exportJsonLinesAction; }
    QString statusText() const;
    // The selected rows, tab-separated cells, one line each, to the clipboard.
    void copySelectedRows() const;
    // The kind filters (one checkable action per EventFilterProxy::Group).
    QList<QAction *> kindActions() const { return m_kindActions; }
    QComboBox *clientFilterCombo() const { return m_clientFilter; }

    // What the user arranged, to remember between runs: the columns (widths, order), the
    // kind filters, the client filter and auto-scroll. restoreState() takes only a state
    // of this version and says whether it did.
    QByteArray saveState() const;
    bool restoreState(const QByteArray &state);

    // The search field; what it holds is searched kSearchDelayMs after the last key.
    QLineEdit *searchField() const { return m_search; }
    static constexpr int kSearchDelayMs = 150;

signals:
    void pausedChanged(bool paused);

private:
    void exportInteractively(ExportFormat format);
    void applySearch();
    void updateClientFilter();
    void updateStatus();

    EventLogModel *m_model;
    EventFilterProxy *m_proxy;
    QTableView *m_view;
    QComboBox *m_clientFilter;
    QLineEdit *m_search;
    QTimer *m_searchTimer;
    QLabel *m_status;
    QAction *m_pauseAction;
    QAction *m_autoScrollAction;
    QAction *m_clearAction;
    QAction *m_exportCsvAction;
    QAction *m_exportJsonLinesAction;
    QList<QAction *> m_kindActions;
    quint64 m_selectedClient = 0;
    qint64 m_waiting = 0;
    qint64 m_backlog = 0;
};

} // namespace Echoscope
