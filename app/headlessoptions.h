#pragma once

#include "faultconfig.h"
#include "serverconfig.h"

#include <QString>

namespace Echoscope {

// What `echoscope` runs: the engine's configuration plus how events are written (headless)
// or how the dashboard opens.
struct HeadlessOptions
{
    enum class LogFormat { Text, Json };
    // Per-message events (then per-second summaries) per client with --verbose.
    static constexpr int kVerboseMessageEventsPerSecond = 20;

    ServerConfig config;
    // Faults for all clients (--fault-*), set once the server listens.
    FaultConfig faults;
    LogFormat logFormat = LogFormat::Text;
    QString logFilePath; // empty: events go to standard output
    bool verbose = false;
    // --record: each client's recording goes to this directory (see SessionRecorder).
    QString recordDirectory;                              // empty: no recording
    qint64 recordLimitBytes = 1024 * 1024;                // per client, both ways together
    qint64 recordTotalBytes = qint64(1024) * 1024 * 1024; // the files of one run together
    // --record-format: Echoscope's recordings (for `echoscope replay`) or pcapng (Wireshark).
    enum class RecordFormat { Recording, Pcapng };
    RecordFormat recordFormat = RecordFormat::Recording;

    // The Prometheus endpoint (--metrics-port, --metrics-address); off when the port is
    // negative, 0 picks a free port.
    int metricsPort = -1;
    QString metricsAddress = QStringLiteral("127.0.0.1");

    // The control API (--control-port, --control-address, --control-token-file); off when
    // the port is negative, 0 picks a free port. Without a token file a random token is made.
    int controlPort = -1;
    QString controlAddress = QStringLiteral("127.0.0.1");
    QString controlTokenFile;

    // The dashboard: start listening at once; render the window to a PNG and exit.
    static constexpr int kDefaultScreenshotDelayMs = 1500;
    bool start = false;
    QString screenshotPath;
    int screenshotDelayMs = kDefaultScreenshotDelayMs;
};

} // namespace Echoscope
