#include "headlessrunner.h"

#include "clock.h"
#include "controlapi.h"
#include "echoserver.h"
#include "metricsexporter.h"
#include "nativesocket.h"
#include "sessionrecorder.h"
#include "textescape.h"
#include "trafficevent.h"

#include <QAbstractEventDispatcher>
#include <QDateTime>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <limits>

namespace Echoscope {

namespace {

QString jsonLine(const QJsonObject &object)
{
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

} // namespace

HeadlessRunner::HeadlessRunner(const HeadlessOptions &options, QObject *parent)
    : QObject(parent), m_options(options), m_server(new EchoServer(this))
{
    // QIODevice::Text: "\r\n" line ends where the platform wants them. Unbuffered: the
    // LineWriters hold the lines, and hand them over only to be written.
    constexpr QIODevice::OpenMode kWrite =
        QIODevice::WriteOnly | QIODevice::Text | QIODevice::Unbuffered;
    m_stdoutFile.open(stdout, kWrite);
    m_stderrFile.open(stderr, kWrite);
    connect(m_server, &EchoServer::eventOccurred, this, &HeadlessRunner::writeEvent);
    if (QAbstractEventDispatcher *dispatcher = QAbstractEventDispatcher::instance(thread()))
        connect(dispatcher, &QAbstractEventDispatcher::aboutToBlock, this,
                &HeadlessRunner::flushEvents);
    else
        m_flushEachEvent = true; // no loop to wait for
    if (m_options.metricsPort >= 0)
        m_metrics = new MetricsExporter(m_server, this); // counts from now on
    if (m_options.controlPort >= 0)
        m_control = new ControlApi(m_server, this); // keeps the events from now on
}

HeadlessRunner::~HeadlessRunner()
{
    stop(); // the summary is written even when nobody called stop()
}

bool HeadlessRunner::start()
{
    if (!m_options.logFilePath.isEmpty()) {
        m_logFile.setFileName(m_options.logFilePath);
        // Append to a file; a device or a pipe (/dev/null, a FIFO) cannot seek to its end.
        const QFileInfo target(m_options.logFilePath);
        const QIODevice::OpenMode mode =
            QIODevice::WriteOnly | QIODevice::Text | QIODevice::Unbuffered |
            (target.exists() && !target.isFile() ? QIODevice::NotOpen : QIODevice::Append);
        if (!m_logFile.open(mode)) {
            m_error = Error::LogFileFailed;
            m_errorString = QStringLiteral("cannot open log file \"%1\": %2")
                                .arg(TextEscape::escapeText(m_options.logFilePath),
                                     TextEscape::escapeText(m_logFile.errorString()));
            return false;
        }
        m_events = &m_logWriter;
    }

    ServerConfig config = m_options.config;
    if (!m_options.recordDirectory.isEmpty()) {
        // Each client's capture keeps its first bytes, to be written when it disconnects.
        config.captureBytesPerClient = m_options.recordLimitBytes;
        config.captureKeepsFirst = true;
        m_recorder = new SessionRecorder(
            m_server, m_options.recordDirectory, m_options.recordTotalBytes, this,
            m_options.recordFormat == HeadlessOptions::RecordFormat::Pcapng
                ? SessionRecorder::Format::Pcapng
                : SessionRecorder::Format::Recording);
        connect(m_recorder, &SessionRecorder::warning, this, [this](const QString &text) {
            writeWarning(text, QDateTime::currentMSecsSinceEpoch());
        });
        QString error;
        if (!m_recorder->prepare(&error)) {
            m_error = Error::RecordFailed;
            m_errorString = error;
            return false;
        }
    }

    // Every client is a descriptor: take all the hard limit allows before listening.
    m_openFileLimitBefore = NativeSocket::openFileLimit();
    m_openFileLimit = NativeSocket::raiseOpenFileLimit();

    // The endpoint first, so that a port it cannot have stops the run before the
    // listening line tells a script that the server is ready.
    if (m_metrics && !m_metrics->start(m_options.metricsAddress, quint16(m_options.metricsPort))) {
        m_error = Error::ListenFailed;
        m_errorString = TextEscape::escapeText(m_metrics->errorString());
        return false;
    }

    if (m_control) {
        QString token = ControlApi::generateToken();
        QString error;
        if (!m_options.controlTokenFile.isEmpty() &&
            !ControlApi::readTokenFile(m_options.controlTokenFile, &token, &error)) {
            m_error = Error::TokenFailed;
            m_errorString = error; // its file name escaped
            if (m_metrics)
                m_metrics->stop();
            return false;
        }
        if (!m_control->start(m_options.controlAddress, quint16(m_options.controlPort), token)) {
            m_error = Error::ListenFailed;
            m_errorString = TextEscape::escapeText(m_control->errorString());
            if (m_metrics)
                m_metrics->stop();
            return false;
        }
    }

    // The listening line is written from inside start(), through writeEvent().
    if (!m_server->start(config)) {
        m_error = m_server->error() == EchoServer::Error::ListenFailed ? Error::ListenFailed
                                                                       : Error::InvalidConfig;
        m_errorString = TextEscape::escapeText(m_server->errorString());
        if (m_metrics)
            m_metrics->stop();
        if (m_control)
            m_control->stop();
        return false;
    }
    // After the listening line, so scripts still find it first; logged as an event.
    m_server->setDefaultFaults(m_options.faults);
    m_error = Error::NoError;
    m_errorString.clear();
    return true;
}

void HeadlessRunner::stop()
{
    m_server->stop(); // writes each client's disconnect, then the summary
    flushEvents();
}

void HeadlessRunner::flushEvents()
{
    m_events->flush();
}

QString HeadlessRunner::formatText(const TrafficEvent &event)
{
    QString line;
    line.reserve(160);
    appendText(line, event);
    return line;
}

void HeadlessRunner::appendText(QString &line, const TrafficEvent &event)
{
    // The listening line is exactly "listening on ADDRESS:PORT", for scripts to match;
    // with UDP echo, "listening for UDP on ADDRESS:PORT" follows it, and with WebSocket echo
    // "listening for WebSocket on ADDRESS:PORT (ws://ADDRESS:PORT/)".
    NumberText::AsciiRun run(line); // the time and the event's ASCII, appended at once
    if (event.kind != TrafficEvent::Kind::Listening) {
        Clock::appendTimeOfDay(run, event.timestampMs);
        run << ' ';
    }
    event.appendText(run);
}

QString HeadlessRunner::formatJson(const TrafficEvent &event) const
{
    return jsonLine(event.toJson());
}

void HeadlessRunner::writeEvent(const TrafficEvent &event)
{
    const bool json = m_options.logFormat == HeadlessOptions::LogFormat::Json;
    if (event.kind != TrafficEvent::Kind::Listening) {
        // A burst of short connections writes two lines each: built in one buffer that
        // keeps its capacity, not in temporaries.
        m_line.resize(0);
        if (json)
            m_line += formatJson(event);
        else
            appendText(m_line, event);
        m_events->append(m_line);
        if (m_flushEachEvent)
            flushEvents();
        return;
    }
    const QString line = json ? formatJson(event) : formatText(event);
    // Scripts wait for this line on standard output, wherever the events go.
    m_stdout.writeLine(line);
    if (m_events != &m_stdout)
        m_events->writeLine(line);
    if (event.transport != IpProtocol::Tcp)
        return; // "listening for UDP/WebSocket on ..." follows the TCP line, which said the rest
    if (m_metrics && m_metrics->isListening())
        writeMetricsLine(); // the next line, whatever follows
    if (m_control && m_control->isListening() && !m_controlLineWritten)
        writeControlLine();         // then this one, once: it holds the token
    if (m_server->isTls() && !json) // JSON: in the listening object's "text"
        m_events->writeLine(Clock::timeOfDayText(event.timestampMs) + QStringLiteral(" TLS: ") +
                            TextEscape::escapeText(m_server->tlsSummary()));
    if (m_options.verbose)
        writeOpenFileLimit();
    if (!ServerConfig::isLoopback(event.address))
        writeExposureWarning(event);
}

void HeadlessRunner::writeOpenFileLimit()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const bool unlimited = m_openFileLimit == std::numeric_limits<qint64>::max();
    QString text;
    if (m_openFileLimit < 0)
        text = QStringLiteral("open-file limit: none to raise on this system");
    else if (unlimited)
        text = QStringLiteral("open-file limit: unlimited");
    else if (m_openFileLimit > m_openFileLimitBefore && m_openFileLimitBefore >= 0)
        text = QStringLiteral("open-file limit raised to %1 (was %2)")
                   .arg(m_openFileLimit)
                   .arg(m_openFileLimitBefore);
    else
        text =
            QStringLiteral("open-file limit is %1 (already the hard limit)").arg(m_openFileLimit);

    if (m_options.logFormat == HeadlessOptions::LogFormat::Json) {
        QJsonObject object;
        object.insert(QStringLiteral("event"), QStringLiteral("open_file_limit"));
        object.insert(QStringLiteral("time"),
                      QDateTime::fromMSecsSinceEpoch(now, Qt::UTC).toString(Qt::ISODateWithMs));
        if (m_openFileLimit >= 0 && !unlimited)
            object.insert(QStringLiteral("limit"), m_openFileLimit);
        if (m_openFileLimitBefore >= 0 && m_openFileLimitBefore != m_openFileLimit)
            object.insert(QStringLiteral("previous_limit"), m_openFileLimitBefore);
        object.insert(QStringLiteral("text"), text);
        m_events->writeLine(jsonLine(object));
    } else {
        m_events->writeLine(Clock::timeOfDayText(now) + QLatin1Char(' ') + text);
    }
}

void HeadlessRunner::writeExposureWarning(const TrafficEvent &listening)
{
    writeWarning(QStringLiteral("%1 is not a loopback address: other machines can connect")
                     .arg(TrafficEvent::endpoint(listening.address, listening.port)),
                 listening.timestampMs);
}

// "metrics at http://127.0.0.1:PORT/metrics", on standard output (where scripts look for
// it) and with the events, like the listening line.
void HeadlessRunner::writeMetricsLine()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QString url = m_metrics->url().toString();
    QString line;
    if (m_options.logFormat == HeadlessOptions::LogFormat::Json) {
        QJsonObject object;
        object.insert(QStringLiteral("event"), QStringLiteral("metrics"));
        object.insert(QStringLiteral("time"),
                      QDateTime::fromMSecsSinceEpoch(now, Qt::UTC).toString(Qt::ISODateWithMs));
        object.insert(QStringLiteral("address"), m_metrics->serverAddress().toString());
        object.insert(QStringLiteral("port"), m_metrics->serverPort());
        object.insert(QStringLiteral("url"), url);
        line = jsonLine(object);
    } else {
        line = QStringLiteral("metrics at %1").arg(url);
    }
    m_stdout.writeLine(line);
    if (m_events != &m_stdout)
        m_events->writeLine(line);
    if (!ServerConfig::isLoopback(m_metrics->serverAddress()))
        writeWarning(
            QStringLiteral("metrics endpoint %1 is not a loopback address: other "
                           "machines can read the metrics")
                .arg(TrafficEvent::endpoint(m_metrics->serverAddress(), m_metrics->serverPort())),
            now);
}

// "control API at http://127.0.0.1:PORT/api/v1 token TOKEN" (the generated token, printed
// this once) or "... token from FILE", on standard output and with the events.
void HeadlessRunner::writeControlLine()
{
    m_controlLineWritten = true;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QString url = m_control->url().toString();
    const bool generated = m_options.controlTokenFile.isEmpty();
    QString line;
    if (m_options.logFormat == HeadlessOptions::LogFormat::Json) {
        QJsonObject object;
        object.insert(QStringLiteral("event"), QStringLiteral("control"));
        object.insert(QStringLiteral("time"),
                      QDateTime::fromMSecsSinceEpoch(now, Qt::UTC).toString(Qt::ISODateWithMs));
        object.insert(QStringLiteral("address"), m_control->serverAddress().toString());
        object.insert(QStringLiteral("port"), m_control->serverPort());
        object.insert(QStringLiteral("url"), url);
        if (generated)
            object.insert(QStringLiteral("token"), m_control->token());
        else
            object.insert(QStringLiteral("token_file"), m_options.controlTokenFile);
        line = jsonLine(object);
    } else {
        line = generated ? QStringLiteral("control API at %1 token %2").arg(url, m_control->token())
                         : QStringLiteral("control API at %1 token from %2")
                               .arg(url, TextEscape::escapeText(m_options.controlTokenFile));
    }
    m_stdout.writeLine(line);
    if (m_events != &m_stdout && !generated) // the token itself only where it was asked for
        m_events->writeLine(line);
    if (!ServerConfig::isLoopback(m_control->serverAddress()))
        writeWarning(
            QStringLiteral("control API %1 is not a loopback address: other machines "
                           "can reach it (changes need the token)")
                .arg(TrafficEvent::endpoint(m_control->serverAddress(), m_control->serverPort())),
            now);
}

void HeadlessRunner::writeWarning(const QString &text, qint64 timestampMs)
{
    TrafficEvent warning;
    warning.kind = TrafficEvent::Kind::Warning;
    warning.timestampMs = timestampMs;
    warning.text = text;
    const bool json = m_options.logFormat == HeadlessOptions::LogFormat::Json;
    m_events->writeLine(json ? formatJson(warning) : formatText(warning));
    if (m_events != &m_stdout) // the log file may not be read for a while: tell the user now
        m_stderr.writeLine(QStringLiteral("echoscope: ") + warning.toText());
}

} // namespace Echoscope
