#pragma once

#include <QObject>
#include <QString>

QT_BEGIN_NAMESPACE
class QLabel;
QT_END_NAMESPACE

namespace Echoscope {

class EchoServer;
class MetricsExporter;
struct DashboardSettings;

// The dashboard's Prometheus endpoint: the exporter, whether and where it serves (the
// Preferences, or --metrics-port for this run), and the status bar's label that shows its
// URL (with Copy and Open in its context menu) or that it is not serving. Starting it is
// the window's to ask for (apply()); what to do when that fails is the window's too.
class MetricsEndpointController : public QObject
{
    Q_OBJECT

public:
    // The exporter counts from now on; it serves only once apply() is told to.
    explicit MetricsEndpointController(EchoServer *server, QObject *parent = nullptr);
    ~MetricsEndpointController() override;

    MetricsExporter *exporter() const { return m_exporter; }
    // For the status bar (which takes it over); hidden while the endpoint is off.
    QLabel *label() const { return m_label; }

    // Serves at this address and port for this run, whatever the settings say, from the
    // next apply() on.
    void setOverride(const QString &address, quint16 port);
    // The settings' choice from now on (the Preferences were accepted).
    void clearOverride();
    // The settings with the override, if any, in their metrics fields: what serves now.
    DashboardSettings effective(const DashboardSettings &settings) const;

    // Starts, restarts or stops the endpoint to match the settings (or the override); one
    // that already serves at the same address and port is left alone, so a port picked by
    // 0 stays as it is. False if it could not start (the exporter's errorString() says why).
    bool apply(const DashboardSettings &settings);

private:
    void updateLabel(bool enabled);

    MetricsExporter *m_exporter;
    QLabel *m_label;
    bool m_overridden = false; // --metrics-port: this address and port, not saved
    QString m_overrideAddress;
    quint16 m_overridePort = 0;
    // The endpoint as last applied, to restart it only when its address or port changes.
    QString m_appliedAddress;
    int m_appliedPort = -1;
};

} // namespace Echoscope
