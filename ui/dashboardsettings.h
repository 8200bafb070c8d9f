#pragma once

#include "eventlogmodel.h"
#include "serverconfig.h"

#include <QList>
#include <QPair>
#include <QString>
#include <QVariant>
#include <QtGlobal>

QT_BEGIN_NAMESPACE
class QSettings;
QT_END_NAMESPACE

namespace Echoscope {

// Everything the dashboard remembers between runs besides the window's geometry: the
// engine settings of the control bar and the preferences. Plain value; load() takes
// only valid values from the file and keeps the defaults for the rest.
struct DashboardSettings
{
    // Preferences' "message rows": messages the engine reports one by one per client each
    // second, each a row of the echo log: the log's own default (5), which is what it showed
    // when it folded past its own 5 whatever this said (it was 20); sampling more than is
    // shown was only work.
    static constexpr int kDefaultMessageEventsPerSecond =
        EventLogModel::kDefaultMessageRowsPerClientPerSecond;
    // The most message rows per client per second the log showed before it followed the
    // setting: a value saved then (under its old key) is read as at most this.
    static constexpr int kLogRowsBeforeMessageRows = 5;
    static constexpr qint64 kDefaultCaptureBytesPerClient = 16 * 1024;
    static constexpr qint64 kDefaultInspectedCaptureBytes = 1024 * 1024;
    static constexpr int kDefaultRetainDisconnectedSeconds = 30;
    static constexpr int kDefaultEventLogRows = EventLogModel::kDefaultCapacity;
    static constexpr quint16 kDefaultMetricsPort = 50001;
    static constexpr quint16 kDefaultControlPort = 50002;

    DashboardSettings();

    ServerConfig config; // what Start uses (capture and message events set from below)
    int retainDisconnectedSeconds = kDefaultRetainDisconnectedSeconds;
    int eventLogRows = kDefaultEventLogRows;
    // Message events per client per second the engine reports before it summarises.
    int messageEventsPerSecond = kDefaultMessageEventsPerSecond;
    qint64 captureBytesPerClient = kDefaultCaptureBytesPerClient;
    qint64 inspectedCaptureBytes = kDefaultInspectedCaptureBytes;

    // The Prometheus endpoint (MetricsExporter): off unless turned on in Preferences.
    bool metricsEnabled = false;
    quint16 metricsPort = kDefaultMetricsPort;            // 0: a free port each time it starts
    QString metricsAddress = QStringLiteral("127.0.0.1"); // the words of --bind

    // The control API (ControlApi, /api/v1): off unless turned on in Preferences.
    bool controlEnabled = false;
    quint16 controlPort = kDefaultControlPort;            // 0: a free port each time it starts
    QString controlAddress = QStringLiteral("127.0.0.1"); // the words of --bind
    QString controlTokenFile; // as --control-token-file; empty: a token generated per run

    // The config Start hands the engine: the control bar's fields plus the preferences.
    ServerConfig engineConfig(const ServerConfig &fields) const;

    void load(QSettings &settings);
    void save(QSettings &settings) const;
    // Saves these settings except what is still as given for this run only: a setting
    // where runOnly differs from remembered (a command-line option) and these settings
    // still have runOnly's value is saved as remembered; one the user changed is saved.
    void save(QSettings &settings, const DashboardSettings &remembered,
              const DashboardSettings &runOnly) const;
    // Each setting as its key in the settings file and its value there.
    QList<QPair<QString, QVariant>> entries() const;
};

} // namespace Echoscope
