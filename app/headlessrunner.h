#pragma once

#include "headlessoptions.h"
#include "linewriter.h"

#include <QFile>
#include <QObject>
#include <QString>

namespace Echoscope {

class ControlApi;
class EchoServer;
class MetricsExporter;
class SessionRecorder;
struct TrafficEvent;

// `echoscope --headless`: owns the EchoServer and writes one line per event, as text or
// JSON, to standard output or a log file, flushed line by line so that a script reading
// the output sees each event as it happens.
class HeadlessRunner : public QObject
{
    Q_OBJECT

public:
    enum class Error {
        NoError,
        LogFileFailed, // the log file cannot be opened
        InvalidConfig, // the engine refused the configuration
        ListenFailed,  // the address or port (of the server or the metrics) cannot be listened on
        RecordFailed,  // the --record directory cannot be made or written
        TokenFailed,   // the --control-token-file cannot be read or holds no token
    };

    explicit HeadlessRunner(const HeadlessOptions &options, QObject *parent = nullptr);
    ~HeadlessRunner() override;

    // Opens the log file, raises the open-file limit, opens the metrics endpoint and the
    // control API (if asked for) and starts the server; the listening line, and right after
    // it the metrics and control API lines, are written before this returns. On failure returns
    // false and sets error() and errorString() (a sentence for the user, safe to print).
    bool start();
    // Stops the server: every client's disconnect, then the summary line, is written.
    void stop();

    Error error() const { return m_error; }
    // The metrics endpoint, or nullptr without --metrics-port.
    MetricsExporter *metricsExporter() const { return m_metrics; }
    // The control API, or nullptr without --control-port.
    ControlApi *controlApi() const { return m_control; }
    QString errorString() const { return m_errorString; }

private:
    void writeEvent(const TrafficEvent &event);
    void writeOpenFileLimit();
    void writeExposureWarning(const TrafficEvent &listening);
    void writeMetricsLine();
    void writeControlLine();
    void writeWarning(const QString &text, qint64 timestampMs);
    static QString formatText(const TrafficEvent &event);
    static void appendText(QString &line, const TrafficEvent &event);
    QString formatJson(const TrafficEvent &event) const;
    void flushEvents();

    HeadlessOptions m_options;
    EchoServer *m_server = nullptr;
    MetricsExporter *m_metrics = nullptr;
    ControlApi *m_control = nullptr;
    SessionRecorder *m_recorder = nullptr;
    QFile m_stdoutFile;
    QFile m_stderrFile;
    QFile m_logFile;
    // After the files: flushed into them when destroyed.
    LineWriter m_stdout{&m_stdoutFile};
    LineWriter m_stderr{&m_stderrFile};
    LineWriter m_logWriter{&m_logFile};
    // m_stdout or m_logWriter. Event lines wait in it until this thread is about to wait, so
    // a burst of connections costs one write, not one per line.
    LineWriter *m_events = &m_stdout;
    QString m_line; // writeEvent()'s buffer
    bool m_flushEachEvent = false;
    bool m_controlLineWritten = false;
    qint64 m_openFileLimitBefore = -1;
    qint64 m_openFileLimit = -1;
    Error m_error = Error::NoError;
    QString m_errorString;
};

} // namespace Echoscope
