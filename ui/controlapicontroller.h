#pragma once

#include <QLabel>
#include <QObject>
#include <QPointer>
#include <QString>

QT_BEGIN_NAMESPACE
class QAction;
QT_END_NAMESPACE

namespace Echoscope {

class ControlApi;
class EchoServer;
struct DashboardSettings;

// The dashboard's control API (ControlApi, /api/v1): whether and where it listens (the
// Preferences, or --control-port for this run), its token (read from the token file, or
// generated once per run), and the status bar's label that shows where it listens, with
// Copy URL and Copy token in its context menu. The token is never shown: only copied.
// Starting it is the window's to ask for (apply()); what to do when that fails is the
// window's too. Modelled on MetricsEndpointController.
class ControlApiController : public QObject
{
    Q_OBJECT

public:
    explicit ControlApiController(EchoServer *server, QObject *parent = nullptr);
    ~ControlApiController() override;

    ControlApi *api() const { return m_api; }
    // For the status bar (which takes it over); hidden while the API is off.
    QLabel *label() const { return m_label; }
    // The label's "Copy token" action (for tests).
    QAction *copyTokenAction() const { return m_copyToken; }

    // Listens at this address and port for this run, with this token (read from
    // `tokenFile`, or generated when that is empty), whatever the settings say, from the
    // next apply() on (--control-port; not saved). A generated token stays the token
    // after Preferences take over, unless they name a token file.
    void setOverride(const QString &address, quint16 port, const QString &token,
                     const QString &tokenFile = QString());
    // The settings' choice from now on (the Preferences were accepted).
    void clearOverride();
    // The settings with the override, if any, in their control fields: what listens now.
    DashboardSettings effective(const DashboardSettings &settings) const;

    // Starts, restarts or stops the API to match the settings (or the override); one that
    // already listens at the same address and port with the same token is left alone, so a
    // port picked by 0 stays as it is. False if it could not start: errorString() says why
    // (the token file, or the address, port and OS reason).
    bool apply(const DashboardSettings &settings);
    QString errorString() const { return m_error; }

private:
    void updateLabel(bool enabled);

    ControlApi *m_api;
    QPointer<QLabel> m_label; // the status bar may delete it before this
    QAction *m_copyToken;
    QString m_error;
    QString m_generatedToken; // made once, used while no token file is set
    bool m_overridden = false;
    QString m_overrideAddress;
    quint16 m_overridePort = 0;
    QString m_overrideToken;
    QString m_overrideTokenFile;
    // The API as last applied, to restart it only when something it listens with changes.
    QString m_appliedAddress;
    int m_appliedPort = -1;
    QString m_appliedToken;
};

} // namespace Echoscope
