#include "replayer.h"

#include "nativesocket.h"
#include "trafficevent.h"
#include "translations.h"

#include <QJsonArray>
#include <QTcpSocket>
#include <QTimer>

#include <algorithm>
#include <cmath>

namespace Echoscope {

namespace {

constexpr qint64 kContextBefore = 8;
constexpr qint64 kContextBytes = 24;
constexpr qint64 kExtraKept = kContextBytes; // received bytes kept past the expected echo

QString hexText(const QByteArray &bytes)
{
    if (bytes.isEmpty())
        return Replayer::tr("(nothing)");
    QString text = QString::fromLatin1(bytes.toHex(' '));
    text += QStringLiteral("  |");
    for (const char c : bytes)
        text += c >= 0x20 && c < 0x7f ? QLatin1Char(c) : QLatin1Char('.');
    return text + QLatin1Char('|');
}

// A text of the replayer's with one count as %1, in the count's plural form.
QString counted(const char *text, qint64 count)
{
    return Translations::counted("Echoscope::Replayer", text, count);
}

} // namespace

QString ReplayResult::summary() const
{
    if (webSocket)
        return webSocketSummary();
    const QString counts =
        Replayer::tr("%1 sent, %2 echoed of %3 expected, in %4 s (recorded over %5 s)")
            .arg(counted(QT_TRANSLATE_N_NOOP("Echoscope::Replayer", "%1 byte(s)"), bytesSent))
            .arg(bytesEchoed)
            .arg(expectedEchoBytes)
            .arg(double(durationMs) / 1000.0, 0, 'f', 3)
            .arg(double(recordedSpanMs) / 1000.0, 0, 'f', 3);
    if (matched())
        return Replayer::tr("replay matched: %1").arg(counts);
    QStringList problems;
    if (mismatchedBytes > 0)
        problems.append(counted(QT_TRANSLATE_N_NOOP("Echoscope::Replayer",
                                                    "%1 byte(s) differ (the first at offset %2)"),
                                mismatchedBytes)
                            .arg(firstMismatchOffset));
    if (shortBytes > 0)
        problems.append(
            counted(QT_TRANSLATE_N_NOOP("Echoscope::Replayer", "short echo: %1 byte(s) missing"),
                    shortBytes));
    if (extraBytes > 0)
        problems.append(
            counted(QT_TRANSLATE_N_NOOP("Echoscope::Replayer", "%1 byte(s) past the expected echo"),
                    extraBytes));
    if (!connectionError.isEmpty())
        problems.append(connectionError);
    return Replayer::tr("replay failed: %1; %2").arg(problems.join(QStringLiteral("; ")), counts);
}

QString ReplayResult::webSocketSummary() const
{
    const QString counts =
        Replayer::tr("%1 (%2) sent, %3 echoed of %4 expected, in %5 s (recorded over %6 s)")
            .arg(counted(QT_TRANSLATE_N_NOOP("Echoscope::Replayer", "%1 message(s)"), messagesSent))
            .arg(counted(QT_TRANSLATE_N_NOOP("Echoscope::Replayer", "%1 byte(s)"), bytesSent))
            .arg(messagesEchoed)
            .arg(expectedEchoMessages)
            .arg(double(durationMs) / 1000.0, 0, 'f', 3)
            .arg(double(recordedSpanMs) / 1000.0, 0, 'f', 3);
    if (matched())
        return Replayer::tr("replay matched: %1").arg(counts);
    QStringList problems;
    if (mismatchedMessages > 0)
        problems.append(
            counted(QT_TRANSLATE_N_NOOP("Echoscope::Replayer",
                                        "%1 message(s) differ (the first: message %2 %3)"),
                    mismatchedMessages)
                .arg(firstMismatchMessage)
                .arg(firstMismatchWhat));
    if (shortMessages > 0)
        problems.append(
            counted(
                QT_TRANSLATE_N_NOOP("Echoscope::Replayer",
                                    "short echo: %1 message(s) missing (%2), from message %3 on"),
                shortMessages)
                .arg(counted(QT_TRANSLATE_N_NOOP("Echoscope::Replayer", "%1 byte(s)"), shortBytes))
                .arg(expectedEchoMessages - shortMessages));
    if (extraMessages > 0)
        problems.append(counted(QT_TRANSLATE_N_NOOP("Echoscope::Replayer",
                                                    "%1 message(s) past the expected echo (%2)"),
                                extraMessages)
                            .arg(counted(QT_TRANSLATE_N_NOOP("Echoscope::Replayer", "%1 byte(s)"),
                                         extraBytes)));
    if (!connectionError.isEmpty())
        problems.append(connectionError);
    return Replayer::tr("replay failed: %1; %2").arg(problems.join(QStringLiteral("; ")), counts);
}

QStringList ReplayResult::mismatchContext() const
{
    if (!echoDiffered())
        return {};
    if (webSocket) {
        if (firstMismatchMessageOffset < 0)
            return {};
        return {Replayer::tr("expected message %1 at byte %2: %3")
                    .arg(firstMismatchMessage)
                    .arg(contextOffset)
                    .arg(hexText(expectedContext)),
                Replayer::tr("got      message %1 at byte %2: %3")
                    .arg(firstMismatchMessage)
                    .arg(contextOffset)
                    .arg(hexText(gotContext))};
    }
    return {
        Replayer::tr("expected at offset %1: %2").arg(contextOffset).arg(hexText(expectedContext)),
        Replayer::tr("got      at offset %1: %2").arg(contextOffset).arg(hexText(gotContext))};
}

QJsonObject ReplayResult::toJson() const
{
    QJsonObject object;
    object.insert(QStringLiteral("result"), matched() ? QStringLiteral("matched")
                                            : !connectionError.isEmpty() && !echoDiffered()
                                                ? QStringLiteral("connection_error")
                                                : QStringLiteral("echo_differed"));
    object.insert(QStringLiteral("bytes_sent"), bytesSent);
    object.insert(QStringLiteral("bytes_echoed"), bytesEchoed);
    object.insert(QStringLiteral("expected_echo_bytes"), expectedEchoBytes);
    object.insert(QStringLiteral("duration_ms"), durationMs);
    object.insert(QStringLiteral("recorded_span_ms"), recordedSpanMs);
    object.insert(QStringLiteral("half_closed"), halfClosed);
    object.insert(QStringLiteral("mismatched_bytes"), mismatchedBytes);
    object.insert(QStringLiteral("short_bytes"), shortBytes);
    object.insert(QStringLiteral("extra_bytes"), extraBytes);
    if (firstMismatchOffset >= 0)
        object.insert(QStringLiteral("first_mismatch_offset"), firstMismatchOffset);
    if (echoDiffered()) {
        object.insert(QStringLiteral("context_offset"), contextOffset);
        object.insert(QStringLiteral("expected_hex"), QString::fromLatin1(expectedContext.toHex()));
        object.insert(QStringLiteral("got_hex"), QString::fromLatin1(gotContext.toHex()));
    }
    if (webSocket) {
        object.insert(QStringLiteral("protocol"), QStringLiteral("ws"));
        object.insert(QStringLiteral("messages_sent"), messagesSent);
        object.insert(QStringLiteral("messages_echoed"), messagesEchoed);
        object.insert(QStringLiteral("expected_echo_messages"), expectedEchoMessages);
        object.insert(QStringLiteral("mismatched_messages"), mismatchedMessages);
        object.insert(QStringLiteral("short_messages"), shortMessages);
        object.insert(QStringLiteral("extra_messages"), extraMessages);
        if (firstMismatchMessage >= 0) {
            object.insert(QStringLiteral("first_mismatch_message"), firstMismatchMessage);
            object.insert(QStringLiteral("first_mismatch"), firstMismatchWhat);
        }
        if (firstMismatchMessageOffset >= 0)
            object.insert(QStringLiteral("first_mismatch_message_offset"),
                          firstMismatchMessageOffset);
    }
    if (!connectionError.isEmpty())
        object.insert(QStringLiteral("error"), connectionError);
    if (!notes.isEmpty())
        object.insert(QStringLiteral("notes"), QJsonArray::fromStringList(notes));
    return object;
}

Replayer::Replayer(const Recording &recording, const ReplayConfig &config, QObject *parent)
    : QObject(parent)
    , m_recording(recording)
    , m_config(config)
    , m_socket(new QTcpSocket(this))
    , m_sendTimer(new QTimer(this))
    , m_timeoutTimer(new QTimer(this))
    , m_settleTimer(new QTimer(this))
{
    using Direction = Recording::Direction;
    const Recording::Stream &in = recording.in;
    const Recording::Stream &out = recording.out;
    m_firstOffset = in.startOffset;

    // The schedule: each chunk the client sent, at its recorded time after the start
    // (the connect, or the first byte held when the start is missing), scaled.
    qint64 baseMs = recording.connectedAtMs;
    if (in.startOffset > 0) {
        const auto first =
            std::find_if(recording.chunks.cbegin(), recording.chunks.cend(),
                         [](const CaptureChunk &c) { return c.direction == Direction::Received; });
        if (first != recording.chunks.cend())
            baseMs = first->timestampMs;
    }
    const auto dueAfter = [&](qint64 timestampMs) -> qint64 {
        if (m_config.asFastAsPossible)
            return 0;
        return qint64(
            std::llround(double(std::max<qint64>(0, timestampMs - baseMs)) / m_config.speed));
    };
    qint64 due = 0;
    qint64 lastMs = baseMs;
    for (qsizetype i = 0; i < recording.chunks.size(); ++i) {
        const CaptureChunk &chunk = recording.chunks.at(i);
        if (chunk.direction != Direction::Received)
            continue;
        due = std::max(due, dueAfter(chunk.timestampMs));
        m_sends.push_back({due, i});
        lastMs = std::max(lastMs, chunk.timestampMs);
    }
    // A half-close after a stream that was cut short would end a message the client
    // never ended: only a complete end is repeated.
    m_halfClosePlanned = recording.halfClosedAtMs != 0 && in.endOffset == in.totalBytes;
    if (m_halfClosePlanned) {
        m_halfCloseDueMs = std::max(due, dueAfter(recording.halfClosedAtMs));
        lastMs = std::max(lastMs, recording.halfClosedAtMs);
    }
    m_result.recordedSpanMs = std::max<qint64>(0, lastMs - baseMs);

    // The echo: the recorded one where it is held, the bytes sent elsewhere. A recording
    // of a finished connection says exactly how much came back; otherwise the recorded
    // echo must come back and the rest of what is sent may.
    const bool whole =
        recording.closed && in.endOffset == in.totalBytes && out.endOffset == out.totalBytes;
    const qint64 requiredEnd =
        std::max(in.startOffset, whole ? out.totalBytes : std::min(out.endOffset, in.endOffset));
    const qint64 allowedEnd = std::max(requiredEnd, whole ? requiredEnd : in.endOffset);
    m_expected = recording.streamBytes(Direction::Received).left(allowedEnd - in.startOffset);
    const QByteArray echoed = recording.streamBytes(Direction::Echoed);
    const qint64 overlayStart = std::max(in.startOffset, out.startOffset);
    const qint64 overlayEnd = std::min(allowedEnd, out.endOffset);
    if (overlayEnd > overlayStart)
        m_expected.replace(overlayStart - in.startOffset, overlayEnd - overlayStart,
                           echoed.constData() + (overlayStart - out.startOffset),
                           overlayEnd - overlayStart);
    m_requiredBytes = requiredEnd - in.startOffset;
    m_result.expectedEchoBytes = m_requiredBytes;

    for (const QString &part : recording.missingParts())
        m_result.notes.append(tr("not in the recording: %1").arg(part));
    if (in.startOffset > 0)
        m_result.notes.append(tr("the replay starts at offset %1 of the recorded client stream; a "
                                 "framed server may not find a message start there")
                                  .arg(in.startOffset));
    if (!whole && allowedEnd > requiredEnd)
        m_result.notes.append(tr("the recording ends before its connection did: "
                                 "the echo must match up to offset %1, and may "
                                 "go on to %2")
                                  .arg(requiredEnd)
                                  .arg(allowedEnd));

    m_sendTimer->setSingleShot(true);
    m_sendTimer->setTimerType(Qt::PreciseTimer);
    m_timeoutTimer->setSingleShot(true);
    m_settleTimer->setSingleShot(true);
    connect(m_settleTimer, &QTimer::timeout, this, [this] { finish(); });
    connect(m_sendTimer, &QTimer::timeout, this, &Replayer::sendDue);
    connect(m_timeoutTimer, &QTimer::timeout, this, &Replayer::timedOut);
    connect(m_socket, &QTcpSocket::connected, this, &Replayer::connected);
    connect(m_socket, &QTcpSocket::readyRead, this, &Replayer::readEcho);
    connect(m_socket, &QTcpSocket::bytesWritten, this, [this](qint64 bytes) {
        m_result.bytesSent += bytes;
        progressed();
        sendDue(); // a due half-close waits for the writes to drain
    });
    connect(m_socket, &QTcpSocket::errorOccurred, this, &Replayer::socketFailed);
}

Replayer::~Replayer() = default;

qint64 Replayer::elapsedMs() const
{
    return m_clock.isValid() ? m_clock.elapsed() : 0;
}

void Replayer::start()
{
    m_clock.start();
    m_socket->connectToHost(m_config.host, m_config.port);
    updateTimeout();
}

void Replayer::connected()
{
    m_connected = true;
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_clock.restart();
    sendDue();
}

void Replayer::sendDue()
{
    if (m_finished || !m_connected || m_serverClosed)
        return;
    const qint64 now = elapsedMs();
    while (m_nextSend < m_sends.size() && m_sends[m_nextSend].dueMs <= now) {
        const QByteArray &bytes = m_recording.chunks.at(m_sends[m_nextSend].chunk).bytes;
        m_socket->write(bytes);
        ++m_nextSend;
    }
    if (m_nextSend < m_sends.size()) {
        m_sendTimer->start(int(std::min<qint64>(m_sends[m_nextSend].dueMs - now, 1 << 30)));
    } else if (m_halfClosePlanned && !m_result.halfClosed) {
        if (now < m_halfCloseDueMs) {
            m_sendTimer->start(int(std::min<qint64>(m_halfCloseDueMs - now, 1 << 30)));
        } else if (m_socket->bytesToWrite() == 0) {
            NativeSocket::shutdownWrite(m_socket->socketDescriptor());
            m_result.halfClosed = true;
        }
    }
    updateTimeout();
    check();
}

void Replayer::readEcho()
{
    const QByteArray bytes = m_socket->readAll();
    m_result.bytesEchoed += bytes.size();
    const qint64 room = m_expected.size() + kExtraKept - m_received.size();
    if (room > 0)
        m_received.append(bytes.constData(), qsizetype(std::min<qint64>(room, bytes.size())));
    progressed();
    check();
}

void Replayer::progressed()
{
    updateTimeout();
}

void Replayer::updateTimeout()
{
    if (m_finished)
        return;
    // Waiting on the server: to connect, to take what is written, to echo or close once
    // everything is sent. A recorded gap is not a wait on the server.
    const bool allSent =
        m_nextSend == m_sends.size() && (!m_halfClosePlanned || m_result.halfClosed);
    const bool waiting = !m_connected || m_socket->bytesToWrite() > 0 || allSent;
    if (waiting)
        m_timeoutTimer->start(m_config.timeoutMs);
    else
        m_timeoutTimer->stop();
}

void Replayer::check()
{
    if (m_finished || !m_connected)
        return;
    if (m_result.bytesEchoed > m_expected.size() || m_serverClosed) {
        finish();
        return;
    }
    const bool allSent = m_nextSend == m_sends.size() && m_socket->bytesToWrite() == 0 &&
                         (!m_halfClosePlanned || m_result.halfClosed);
    // After a half-close the server's close says the echo is over: wait for it, to see
    // any bytes past the expected echo.
    if (!allSent || m_result.bytesEchoed < m_requiredBytes || m_halfClosePlanned)
        return;
    if (m_result.bytesEchoed == m_expected.size()) {
        finish();
        return;
    }
    // A recording cut short: the echo of its unrecorded part may come (and is checked)
    // or not (a framed server holds an incomplete message); done when it stops.
    m_settleTimer->start(std::min(ReplayConfig::kSettleMs, m_config.timeoutMs));
}

void Replayer::socketFailed()
{
    if (m_finished)
        return;
    if (m_socket->error() == QAbstractSocket::RemoteHostClosedError) {
        readEcho(); // what came before the close
        if (m_finished)
            return;
        m_serverClosed = true;
        const qint64 unsent = m_recording.in.heldBytes() - m_result.bytesSent;
        if (unsent > 0)
            m_result.notes.append(counted(
                QT_TRANSLATE_N_NOOP(
                    "Echoscope::Replayer",
                    "the server closed the connection with %1 byte(s) of the recording not sent"),
                unsent));
        finish();
        return;
    }
    const QString endpoint = TrafficEvent::endpoint(m_config.host, m_config.port);
    if (!m_connected)
        finish(tr("cannot connect to %1: %2").arg(endpoint, m_socket->errorString()));
    else
        finish(tr("the connection to %1 failed: %2").arg(endpoint, m_socket->errorString()));
}

void Replayer::timedOut()
{
    if (m_finished)
        return;
    const double seconds = double(m_config.timeoutMs) / 1000.0;
    const QString endpoint = TrafficEvent::endpoint(m_config.host, m_config.port);
    if (!m_connected) {
        finish(tr("cannot connect to %1: no answer within %2 s").arg(endpoint).arg(seconds));
    } else if (m_socket->bytesToWrite() > 0) {
        finish(counted(QT_TRANSLATE_N_NOOP(
                           "Echoscope::Replayer",
                           "the server took none of %1 byte(s) waiting to be sent for %2 s"),
                       m_socket->bytesToWrite())
                   .arg(seconds));
    } else if (m_result.bytesEchoed < m_requiredBytes) {
        m_result.notes.append(tr("no echo came for %1 s").arg(seconds));
        finish(); // a short echo, counted as such
    } else {
        finish(tr("the server did not close the connection within %1 s of the "
                  "half-close")
                   .arg(seconds));
    }
}

void Replayer::finish(const QString &connectionError)
{
    if (m_finished)
        return;
    m_finished = true;
    m_sendTimer->stop();
    m_timeoutTimer->stop();
    m_settleTimer->stop();
    m_result.durationMs = m_connected ? elapsedMs() : 0;
    m_result.connectionError = connectionError;

    const qsizetype compared = std::min(m_received.size(), m_expected.size());
    qsizetype first = -1;
    for (qsizetype i = 0; i < compared; ++i) {
        if (m_received.at(i) != m_expected.at(i)) {
            ++m_result.mismatchedBytes;
            if (first < 0)
                first = i;
        }
    }
    m_result.shortBytes = std::max<qint64>(0, m_requiredBytes - m_result.bytesEchoed);
    m_result.extraBytes = std::max<qint64>(0, m_result.bytesEchoed - m_expected.size());
    if (m_result.echoDiffered()) {
        // Around the first mismatch, else where the echo ended or went past the end.
        qsizetype at = first;
        if (at < 0)
            at = m_result.shortBytes > 0 ? m_received.size() : m_expected.size();
        const qsizetype start = std::max<qsizetype>(0, at - kContextBefore);
        m_result.contextOffset = m_firstOffset + start;
        m_result.expectedContext = m_expected.mid(start, kContextBytes);
        m_result.gotContext = m_received.mid(start, kContextBytes);
        if (first >= 0)
            m_result.firstMismatchOffset = m_firstOffset + first;
    }
    m_socket->abort();
    emit finished();
}

} // namespace Echoscope
