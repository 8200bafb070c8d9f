#include "wsreplayer.h"

#include "trafficevent.h"
#include "translations.h"

#include <QNetworkRequest>
#include <QRegularExpression>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

#include <algorithm>
#include <cmath>

namespace Echoscope {

namespace {

constexpr qint64 kContextBefore = 8;
constexpr qint64 kContextBytes = 24;

// A text of the replayer's with one count as %1, in the count's plural form.
QString counted(const char *text, qint64 count)
{
    return Translations::counted("Echoscope::WebSocketReplayer", text, count);
}

QString kindName(bool text)
{
    return text ? WebSocketReplayer::tr("text") : WebSocketReplayer::tr("binary");
}

} // namespace

WebSocketReplayer::WebSocketReplayer(const Recording &recording, const ReplayConfig &config,
                                     QObject *parent)
    : QObject(parent)
    , m_recording(recording)
    , m_config(config)
    , m_socket(new QWebSocket(recording.webSocket.origin, QWebSocketProtocol::VersionLatest, this))
    , m_sendTimer(new QTimer(this))
    , m_timeoutTimer(new QTimer(this))
    , m_settleTimer(new QTimer(this))
{
    using Direction = Recording::Direction;
    m_result.webSocket = true;
    const Recording::Stream &in = recording.in;
    const Recording::Stream &out = recording.out;

    // The messages held whole are sent; one held in part would be another message.
    for (const Recording::Message &message : recording.messages()) {
        if (message.whole)
            m_messages.append(message);
    }

    // The schedule: each message at its recorded time after the start (the connect, or
    // the first byte held when the start is missing), scaled.
    qint64 baseMs = recording.connectedAtMs;
    if (in.startOffset > 0) {
        const auto first =
            std::find_if(recording.chunks.cbegin(), recording.chunks.cend(),
                         [](const CaptureChunk &c) { return c.direction == Direction::Received; });
        if (first != recording.chunks.cend())
            baseMs = first->timestampMs;
    }
    qint64 due = 0;
    qint64 lastMs = baseMs;
    for (qsizetype i = 0; i < m_messages.size(); ++i) {
        const qint64 at = m_messages.at(i).timestampMs;
        if (!m_config.asFastAsPossible)
            due = std::max(due, qint64(std::llround(double(std::max<qint64>(0, at - baseMs)) /
                                                    m_config.speed)));
        m_sends.push_back({due, i});
        lastMs = std::max(lastMs, at);
    }
    if (recording.halfClosedAtMs != 0)
        lastMs = std::max(lastMs, recording.halfClosedAtMs);
    m_result.recordedSpanMs = std::max<qint64>(0, lastMs - baseMs);

    // The echo of each message: the recorded one where it is held (the server echoes a
    // message as one message of the same size and kind, so the echo stream's offsets are
    // the client stream's), the message sent elsewhere. A recording of a finished
    // connection says exactly which came back; otherwise those recorded must come back and
    // the rest may.
    const QByteArray echoed = recording.streamBytes(Direction::Echoed);
    m_exact = recording.closed && in.endOffset == in.totalBytes && out.endOffset == out.totalBytes;
    const qint64 echoEnd = m_exact ? out.totalBytes : std::min(out.endOffset, in.endOffset);
    for (const Recording::Message &message : std::as_const(m_messages)) {
        Expected expected{message.data, message.text, message.offset};
        const qint64 end = message.offset + message.data.size();
        const qint64 from = std::max(message.offset, out.startOffset);
        const qint64 to = std::min(end, out.endOffset);
        if (to > from)
            expected.data.replace(from - message.offset, to - from,
                                  echoed.constData() + (from - out.startOffset), to - from);
        // An empty message at the end of the echo was echoed only if the echo is all
        // there is (a whole connection's echo of every byte).
        const bool echoedWhole =
            end < echoEnd || (end == echoEnd && (message.data.size() > 0 ||
                                                 (m_exact && out.totalBytes == in.totalBytes)));
        if (echoedWhole && m_requiredMessages == qsizetype(m_expected.size()))
            ++m_requiredMessages;
        m_expected.push_back(std::move(expected));
    }
    if (m_exact)
        m_expected.resize(size_t(m_requiredMessages));
    m_result.expectedEchoMessages = m_requiredMessages;
    for (qsizetype i = 0; i < m_requiredMessages; ++i)
        m_result.expectedEchoBytes += m_expected[size_t(i)].data.size();

    for (const QString &part : recording.missingParts())
        m_result.notes.append(tr("not in the recording: %1").arg(part));
    if (!m_exact && qsizetype(m_expected.size()) > m_requiredMessages)
        m_result.notes.append(
            counted(
                QT_TRANSLATE_N_NOOP("Echoscope::WebSocketReplayer",
                                    "the recording ends before its connection did: the echo of the "
                                    "first %1 message(s) must match, and of the other %2 may come"),
                m_requiredMessages)
                .arg(qsizetype(m_expected.size()) - m_requiredMessages));
    if (recording.webSocket.secure)
        m_result.notes.append(tr("the recorded client came over wss://; replay has "
                                 "no TLS, so it replays over ws://"));

    m_sendTimer->setSingleShot(true);
    m_sendTimer->setTimerType(Qt::PreciseTimer);
    m_timeoutTimer->setSingleShot(true);
    m_settleTimer->setSingleShot(true);
    connect(m_settleTimer, &QTimer::timeout, this, &WebSocketReplayer::closeNow);
    connect(m_sendTimer, &QTimer::timeout, this, &WebSocketReplayer::sendDue);
    connect(m_timeoutTimer, &QTimer::timeout, this, &WebSocketReplayer::timedOut);
    connect(m_socket, &QWebSocket::connected, this, &WebSocketReplayer::connected);
    connect(m_socket, &QWebSocket::disconnected, this, &WebSocketReplayer::disconnected);
    connect(m_socket, &QWebSocket::textMessageReceived, this,
            [this](const QString &message) { messageReceived(message.toUtf8(), true); });
    connect(m_socket, &QWebSocket::binaryMessageReceived, this,
            [this](const QByteArray &message) { messageReceived(message, false); });
    connect(m_socket, &QWebSocket::bytesWritten, this, [this] {
        updateTimeout(); // the server takes what is sent: progress
        check();
    });
    connect(m_socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
            &WebSocketReplayer::socketFailed);
}

WebSocketReplayer::~WebSocketReplayer() = default;

qint64 WebSocketReplayer::elapsedMs() const
{
    return m_clock.isValid() ? m_clock.elapsed() : 0;
}

QString WebSocketReplayer::endpoint() const
{
    return TrafficEvent::endpoint(m_config.host, m_config.port);
}

QString WebSocketReplayer::url() const
{
    QString host = m_config.host.toString();
    if (m_config.host.protocol() == QAbstractSocket::IPv6Protocol)
        host = QLatin1Char('[') + host + QLatin1Char(']');
    return QStringLiteral("ws://%1:%2%3")
        .arg(host)
        .arg(m_config.port)
        .arg(m_recording.webSocket.resource);
}

void WebSocketReplayer::start()
{
    m_clock.start();
    QWebSocketHandshakeOptions options;
    options.setSubprotocols(m_recording.webSocket.protocols);
    m_socket->open(QNetworkRequest(QUrl(url())), options);
    updateTimeout();
}

void WebSocketReplayer::connected()
{
    m_connected = true;
    m_clock.restart();
    sendDue();
}

bool WebSocketReplayer::allSent() const
{
    return m_nextSend == m_sends.size() && m_socket->bytesToWrite() == 0;
}

void WebSocketReplayer::sendDue()
{
    if (m_finished || !m_connected || m_serverClosed || m_closing)
        return;
    const qint64 now = elapsedMs();
    while (m_nextSend < m_sends.size() && m_sends[m_nextSend].dueMs <= now) {
        const Recording::Message &message = m_messages.at(m_sends[m_nextSend].message);
        if (message.text)
            m_socket->sendTextMessage(QString::fromUtf8(message.data));
        else
            m_socket->sendBinaryMessage(message.data);
        ++m_result.messagesSent;
        m_result.bytesSent += message.data.size();
        ++m_nextSend;
    }
    if (m_nextSend < m_sends.size())
        m_sendTimer->start(int(std::min<qint64>(m_sends[m_nextSend].dueMs - now, 1 << 30)));
    updateTimeout();
    check();
}

void WebSocketReplayer::messageReceived(const QByteArray &data, bool text)
{
    if (m_finished)
        return;
    const qsizetype index = m_received++;
    ++m_result.messagesEchoed;
    m_result.bytesEchoed += data.size();
    if (index >= qsizetype(m_expected.size())) {
        ++m_result.extraMessages;
        m_result.extraBytes += data.size();
    } else {
        const Expected &expected = m_expected[size_t(index)];
        const qsizetype compared = std::min(data.size(), expected.data.size());
        qsizetype first = -1;
        qint64 differing = 0;
        for (qsizetype i = 0; i < compared; ++i) {
            if (data.at(i) != expected.data.at(i)) {
                ++differing;
                if (first < 0)
                    first = i;
            }
        }
        m_result.mismatchedBytes += differing;
        const bool sizeDiffers = data.size() != expected.data.size();
        if (differing > 0 || sizeDiffers || text != expected.text) {
            if (++m_result.mismatchedMessages == 1) {
                QStringList what;
                if (text != expected.text)
                    what.append(
                        tr("is %1, expected %2").arg(kindName(text), kindName(expected.text)));
                if (sizeDiffers)
                    what.append(counted(QT_TRANSLATE_N_NOOP("Echoscope::WebSocketReplayer",
                                                            "has %1 byte(s), expected %2"),
                                        data.size())
                                    .arg(expected.data.size()));
                if (first >= 0)
                    what.append(tr("differs first at byte %1 of it (offset %2 of "
                                   "the client stream)")
                                    .arg(first)
                                    .arg(expected.streamOffset + first));
                m_result.firstMismatchMessage = index;
                m_result.firstMismatchWhat = what.join(QStringLiteral(", "));
                const qsizetype at = first >= 0 ? first : sizeDiffers ? compared : -1;
                if (at >= 0) {
                    const qsizetype start = std::max<qsizetype>(0, at - kContextBefore);
                    m_result.firstMismatchMessageOffset = at;
                    m_result.firstMismatchOffset = expected.streamOffset + at;
                    m_result.contextOffset = start;
                    m_result.expectedContext = expected.data.mid(start, kContextBytes);
                    m_result.gotContext = data.mid(start, kContextBytes);
                }
            }
        }
    }
    updateTimeout();
    check();
}

void WebSocketReplayer::check()
{
    if (m_finished || !m_connected || m_closing || m_serverClosed)
        return;
    if (!allSent() || m_received < m_requiredMessages)
        return;
    if (m_exact || m_received >= qsizetype(m_expected.size())) {
        closeNow();
        return;
    }
    // A recording cut short: the echo of the messages past its echo may come (and is
    // checked) or not; done when it stops.
    m_settleTimer->start(std::min(ReplayConfig::kSettleMs, m_config.timeoutMs));
}

// Ends as a client does: a close frame (1000), then the server's answer, so that a
// message the server sends past the expected echo is seen too.
void WebSocketReplayer::closeNow()
{
    if (m_finished || m_closing || m_serverClosed)
        return;
    m_closing = true;
    m_result.halfClosed = true; // WebSocket has no half-close: the close frame is the end
    m_settleTimer->stop();
    m_socket->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("replay done"));
    updateTimeout();
}

void WebSocketReplayer::disconnected()
{
    if (m_finished)
        return;
    if (!m_connected) {
        finish(tr("cannot connect to %1 (%2): %3").arg(endpoint(), url(), m_socket->errorString()));
        return;
    }
    if (!m_closing) {
        m_serverClosed = true;
        const int code = int(m_socket->closeCode());
        QString how = code == QWebSocketProtocol::CloseCodeAbnormalDisconnection
                          ? tr("without a close frame")
                          : tr("with close frame %1").arg(code);
        if (!m_socket->closeReason().isEmpty())
            how += QStringLiteral(" \"%1\"").arg(m_socket->closeReason());
        QString note = tr("the server closed the connection %1").arg(how);
        const qsizetype unsent = m_messages.size() - qsizetype(m_nextSend);
        if (unsent > 0)
            note += counted(QT_TRANSLATE_N_NOOP("Echoscope::WebSocketReplayer",
                                                ", with %1 message(s) of the recording not sent"),
                            unsent);
        m_result.notes.append(note);
    }
    finish();
}

void WebSocketReplayer::socketFailed(QAbstractSocket::SocketError error)
{
    if (m_finished)
        return;
    if (m_connected) {
        // The end of the connection: disconnected() follows and says how it ended.
        if (error == QAbstractSocket::RemoteHostClosedError || m_closing)
            return;
        finish(tr("the connection to %1 failed: %2").arg(endpoint(), m_socket->errorString()));
        return;
    }
    // Qt WebSockets says "...: Unhandled http status code: 426 (Upgrade Required)."
    static const QRegularExpression status(QStringLiteral("http status code: (\\d+) \\(([^)]*)\\)"),
                                           QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch match = status.match(m_socket->errorString());
    if (match.hasMatch())
        finish(tr("the server at %1 refused the WebSocket upgrade of %2: HTTP %3 %4")
                   .arg(endpoint(), url(), match.captured(1), match.captured(2)));
    else
        finish(tr("cannot connect to %1 (%2): %3").arg(endpoint(), url(), m_socket->errorString()));
}

void WebSocketReplayer::updateTimeout()
{
    if (m_finished)
        return;
    // Waiting on the server: to connect and upgrade, to take what is sent, to echo, to
    // answer the close. A recorded gap is not a wait on the server.
    const bool waiting =
        !m_connected || m_closing || m_socket->bytesToWrite() > 0 || m_nextSend == m_sends.size();
    if (waiting)
        m_timeoutTimer->start(m_config.timeoutMs);
    else
        m_timeoutTimer->stop();
}

void WebSocketReplayer::timedOut()
{
    if (m_finished)
        return;
    const double seconds = double(m_config.timeoutMs) / 1000.0;
    if (!m_connected) {
        finish(tr("cannot connect to %1 (%2): no answer to the connect or the "
                  "upgrade within %3 s")
                   .arg(endpoint(), url())
                   .arg(seconds));
    } else if (m_closing) {
        finish(tr("the server did not answer the close within %1 s").arg(seconds));
    } else if (m_socket->bytesToWrite() > 0) {
        finish(counted(QT_TRANSLATE_N_NOOP(
                           "Echoscope::WebSocketReplayer",
                           "the server took none of %1 byte(s) waiting to be sent for %2 s"),
                       m_socket->bytesToWrite())
                   .arg(seconds));
    } else {
        m_result.notes.append(tr("no echo came for %1 s").arg(seconds));
        finish(); // a short echo, counted as such
    }
}

void WebSocketReplayer::finish(const QString &connectionError)
{
    if (m_finished)
        return;
    m_finished = true;
    m_sendTimer->stop();
    m_timeoutTimer->stop();
    m_settleTimer->stop();
    m_result.durationMs = m_connected ? elapsedMs() : 0;
    m_result.connectionError = connectionError;
    for (qsizetype i = m_received; i < m_requiredMessages; ++i) {
        ++m_result.shortMessages;
        m_result.shortBytes += m_expected[size_t(i)].data.size();
    }
    m_socket->abort();
    emit finished();
}

} // namespace Echoscope
