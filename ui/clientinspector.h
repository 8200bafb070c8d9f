#pragma once

#include "dashboardsettings.h"

#include <QWidget>

#include <memory>

QT_BEGIN_NAMESPACE
class QAction;
class QButtonGroup;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QTableView;
QT_END_NAMESPACE

namespace Echoscope {

class ClientStats;
class EchoServer;
class HexView;
class TrafficMonitor;
class WebSocketFrameModel;
struct ClientView;

// One client up close: who it is, what it moved, and its live traffic as a hex dump
// (or escaped text), received and echoed bytes in two colours with timestamps. A
// WebSocket client also shows its upgrade request and its frames both ways (opcode,
// FIN, mask, length, close code); their payload is in the dump.
//
// While a client is inspected its capture ring is grown to inspectedCaptureBytes, so
// the view keeps more history than the small ring every client has; it goes back to
// the small ring when another client is chosen.
class ClientInspector : public QWidget
{
    Q_OBJECT

public:
    explicit ClientInspector(QWidget *parent = nullptr);
    ~ClientInspector() override;

    // The client to show (0 and nullptr: none). stats outlive the connection, so a
    // disconnected client stays inspectable.
    void setClient(quint64 clientId, std::shared_ptr<const ClientStats> stats);
    quint64 clientId() const { return m_clientId; }
    // True while the details show the client as connected (until an update says otherwise).
    bool showsConnectedClient() const { return m_connected; }
    // Called on every snapshot with the client's row (nullptr once it left the
    // snapshot); refreshes the details and, when new bytes were captured, the dump.
    void updateClient(const ClientView *view);

    void setCaptureBytes(qint64 perClientBytes, qint64 inspectedBytes);

    // Where an exported recording takes the client's events (the monitor's event log)
    // and the server's framing from; either may be nullptr (then none, and the default).
    void setRecordingSources(const EchoServer *server, const TrafficMonitor *monitor);
    // Writes the client's capture and events as a recording (see Recording) to path.
    // False and *error ("cannot write "path": why") when there is no client or it fails.
    bool exportRecording(const QString &path, QString *error) const;
    // Asks for a file (named after the peer and the time) and exports, or says why not.
    void exportRecordingInteractively();
    // Writes the client's capture as a pcapng file (see PcapngExport) to path. False and
    // *error ("cannot write "path": why") when there is no client or it fails.
    bool exportPcapng(const QString &path, QString *error) const;
    void exportPcapngInteractively();

    HexView *hexView() const { return m_hexView; }
    // Bytes copied out of capture rings for the dump since the inspector was made: a
    // refresh copies only what was captured since the one before (for tests).
    qint64 captureBytesCopied() const { return m_captureBytesCopied; }
    QPushButton *disconnectButton() const { return m_disconnect; }
    QPushButton *faultsButton() const { return m_faults; }
    // Export, with a menu: a recording, or a pcapng file.
    QPushButton *exportButton() const { return m_export; }
    QAction *exportPcapngAction() const { return m_exportPcapng; }
    QLabel *titleLabel() const { return m_title; }
    // WebSocket clients only (hidden for the others): the frames and the upgrade request.
    QTabWidget *webSocketPane() const { return m_webSocketPane; }
    QTableView *webSocketFramesView() const { return m_frameView; }
    WebSocketFrameModel *webSocketFrames() const { return m_frameModel; }
    QString webSocketRequestText() const;
    // The details as shown, "Peer: 127.0.0.1:4000\n..." (for tests).
    QString detailsText() const;
    // The details' names ("State:") and values, in the same order (for tests).
    const QList<QLabel *> &detailNameLabels() const { return m_detailLabels; }
    const QList<QLabel *> &detailValueLabels() const { return m_detailValues; }
    QString captureText() const;
    // A line under the title, e.g. why the client is not in the table; empty: none.
    void setNote(const QString &note);
    QString note() const;

signals:
    void disconnectRequested(quint64 clientId);
    void faultsRequested(quint64 clientId);

private:
    void showNone();
    void refreshCapture(bool force);
    // Re-reads the client's WebSocket log when its frame count moved (or force).
    void refreshWebSocket(bool force);
    bool webSocketSecure() const;

    quint64 m_clientId = 0;
    std::shared_ptr<const ClientStats> m_stats;
    quint64 m_captureGeneration = 0;
    qint64 m_captureBytesCopied = 0;
    // Bytes this client's ring dropped before a refresh showed them (the view restarted).
    qint64 m_captureUnshownBytes = 0;
    qint64 m_perClientCaptureBytes = 0;
    qint64 m_inspectedCaptureBytes = DashboardSettings::kDefaultInspectedCaptureBytes;
    bool m_connected = false;
    const EchoServer *m_server = nullptr;
    const TrafficMonitor *m_monitor = nullptr;

    // WebSocket: what the pane shows, so an unchanged log is not read again.
    bool m_webSocketRequestShown = false;
    bool m_webSocketSecureKnown = false;
    bool m_webSocketSecure = false;
    qint64 m_webSocketFrameCount = -1;

    QLabel *m_title;
    QList<QLabel *> m_detailLabels;
    QList<QLabel *> m_detailValues;
    QLabel *m_captureInfo;
    QLabel *m_note;
    QButtonGroup *m_mode;
    QPushButton *m_copy;
    QPushButton *m_disconnect;
    QPushButton *m_faults;
    QPushButton *m_export;
    QAction *m_exportPcapng;
    HexView *m_hexView;
    QTabWidget *m_webSocketPane;
    WebSocketFrameModel *m_frameModel;
    QTableView *m_frameView;
    QPlainTextEdit *m_requestView;
};

} // namespace Echoscope
