#include "recording.h"

#include "clientstats.h"
#include "numbertext.h"
#include "websocketlog.h"
#include "serverconfig.h"
#include "savefile.h"
#include "trafficevent.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QIODevice>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QJsonValue>

#include <algorithm>
#include <cmath>

namespace Echoscope {

namespace {

constexpr qint64 kMaxJsonInteger = qint64(1) << 53; // exact in a JSON (double) number

QString directionName(CaptureChunk::Direction direction)
{
    return direction == CaptureChunk::Direction::Received ? QStringLiteral("in")
                                                          : QStringLiteral("out");
}

Recording::Stream streamOf(const CaptureSnapshot &capture, CaptureChunk::Direction direction,
                           qint64 totalBytes)
{
    Recording::Stream stream;
    stream.totalBytes = totalBytes;
    bool any = false;
    for (const CaptureChunk &chunk : capture.chunks) {
        if (chunk.direction != direction)
            continue;
        if (!any)
            stream.startOffset = chunk.streamOffset;
        any = true;
        stream.endOffset = chunk.streamOffset + chunk.bytes.size();
    }
    if (!any) // nothing held: a kept-first capture held none of it, a ring lost all of it
        stream.startOffset = stream.endOffset = capture.keepsFirst ? 0 : totalBytes;
    return stream;
}

QJsonObject streamJson(const Recording::Stream &stream)
{
    QJsonObject object;
    object.insert(QStringLiteral("start_offset"), stream.startOffset);
    object.insert(QStringLiteral("end_offset"), stream.endOffset);
    object.insert(QStringLiteral("total_bytes"), stream.totalBytes);
    object.insert(QStringLiteral("complete"), stream.isComplete());
    return object;
}

QByteArray jsonLine(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
}

// Reads the fields of one line, each failure a clause naming the field.
class Fields
{
public:
    explicit Fields(const QJsonObject &object) : m_object(object) {}

    bool has(const QString &key) const { return m_object.contains(key); }

    bool integer(const QString &key, qint64 low, qint64 high, qint64 *value, QString *why) const
    {
        const QJsonValue field = m_object.value(key);
        const double number = field.toDouble(std::nan(""));
        if (!field.isDouble() || std::trunc(number) != number || number < double(low) ||
            number > double(high)) {
            *why = field.isUndefined()
                       ? QCoreApplication::translate("Echoscope::Recording", "\"%1\" is missing")
                             .arg(key)
                       : QCoreApplication::translate(
                             "Echoscope::Recording",
                             "\"%1\" must be a whole number from %2 to %3, not %4")
                             .arg(key)
                             .arg(low)
                             .arg(high)
                             .arg(shown(field));
            return false;
        }
        *value = qint64(number);
        return true;
    }

    bool string(const QString &key, QString *value, QString *why) const
    {
        const QJsonValue field = m_object.value(key);
        if (!field.isString()) {
            *why = field.isUndefined()
                       ? QCoreApplication::translate("Echoscope::Recording", "\"%1\" is missing")
                             .arg(key)
                       : QCoreApplication::translate("Echoscope::Recording",
                                                     "\"%1\" must be a string, not %2")
                             .arg(key, shown(field));
            return false;
        }
        *value = field.toString();
        return true;
    }

    bool boolean(const QString &key, bool *value, QString *why) const
    {
        const QJsonValue field = m_object.value(key);
        if (!field.isBool()) {
            *why = QCoreApplication::translate("Echoscope::Recording",
                                               "\"%1\" must be true or false, not %2")
                       .arg(key, shown(field));
            return false;
        }
        *value = field.toBool();
        return true;
    }

    // ISO 8601 ("2024-06-11T14:22:33.125Z") or ms since the epoch.
    bool time(const QString &key, qint64 *ms, QString *why) const
    {
        const QJsonValue field = m_object.value(key);
        if (field.isDouble())
            return integer(key, 0, kMaxJsonInteger, ms, why);
        const QDateTime time = QDateTime::fromString(field.toString(), Qt::ISODateWithMs);
        if (!field.isString() || !time.isValid()) {
            *why = field.isUndefined()
                       ? QCoreApplication::translate("Echoscope::Recording", "\"%1\" is missing")
                             .arg(key)
                       : QCoreApplication::translate(
                             "Echoscope::Recording",
                             "\"%1\" must be an ISO 8601 time or milliseconds since "
                             "1970, not %2")
                             .arg(key, shown(field));
            return false;
        }
        *ms = time.toMSecsSinceEpoch();
        return true;
    }

    bool object(const QString &key, QJsonObject *value, QString *why) const
    {
        const QJsonValue field = m_object.value(key);
        if (!field.isObject()) {
            *why = field.isUndefined()
                       ? QCoreApplication::translate("Echoscope::Recording", "\"%1\" is missing")
                             .arg(key)
                       : QCoreApplication::translate("Echoscope::Recording",
                                                     "\"%1\" must be an object, not %2")
                             .arg(key, shown(field));
            return false;
        }
        *value = field.toObject();
        return true;
    }

private:
    static QString shown(const QJsonValue &value)
    {
        if (value.isString()) {
            QString text = value.toString();
            if (text.size() > 40)
                text = text.left(40) + QStringLiteral("...");
            return QLatin1Char('"') + text + QLatin1Char('"');
        }
        if (value.isArray())
            return QCoreApplication::translate("Echoscope::Recording", "an array");
        if (value.isObject())
            return QCoreApplication::translate("Echoscope::Recording", "an object");
        if (value.isNull())
            return QStringLiteral("null");
        if (value.isBool())
            return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
        return QString::number(value.toDouble(), 'g', 17);
    }

    const QJsonObject &m_object;
};

bool readStream(const QJsonObject &header, const QString &key, Recording::Stream *stream,
                QString *why)
{
    QJsonObject object;
    if (!Fields(header).object(key, &object, why))
        return false;
    const Fields fields(object);
    QString inner;
    if (!fields.integer(QStringLiteral("start_offset"), 0, kMaxJsonInteger, &stream->startOffset,
                        &inner) ||
        !fields.integer(QStringLiteral("end_offset"), 0, kMaxJsonInteger, &stream->endOffset,
                        &inner) ||
        !fields.integer(QStringLiteral("total_bytes"), 0, kMaxJsonInteger, &stream->totalBytes,
                        &inner)) {
        *why = QCoreApplication::translate("Echoscope::Recording", "in \"%1\": %2").arg(key, inner);
        return false;
    }
    if (stream->startOffset > stream->endOffset || stream->endOffset > stream->totalBytes) {
        *why = QCoreApplication::translate(
                   "Echoscope::Recording",
                   "in \"%1\": start_offset %2, end_offset %3 and total_bytes %4 must "
                   "be in that order")
                   .arg(key)
                   .arg(stream->startOffset)
                   .arg(stream->endOffset)
                   .arg(stream->totalBytes);
        return false;
    }
    return true;
}

bool readHeader(const QJsonObject &header, Recording *r, QString *why)
{
    const Fields fields(header);
    QString text;
    if (header.value(QStringLiteral("format")).toString() != Recording::formatName()) {
        *why = QCoreApplication::translate("Echoscope::Recording",
                                           "not an echoscope recording: the first line has no "
                                           "\"format\":\"%1\"")
                   .arg(Recording::formatName());
        return false;
    }
    qint64 number = 0;
    if (!fields.integer(QStringLiteral("version"), 0, kMaxJsonInteger, &number, why))
        return false;
    if (number < Recording::kMinVersion || number > Recording::kVersion) {
        *why = QCoreApplication::translate(
                   "Echoscope::Recording",
                   "recording version %1 is not supported (this echoscope reads "
                   "versions %2 to %3)")
                   .arg(number)
                   .arg(Recording::kMinVersion)
                   .arg(Recording::kVersion);
        return false;
    }
    r->version = int(number);
    if (fields.has(QStringLiteral("client"))) {
        if (!fields.integer(QStringLiteral("client"), 0, kMaxJsonInteger, &number, why))
            return false;
        r->clientId = quint64(number);
    }
    if (!fields.string(QStringLiteral("peer"), &text, why))
        return false;
    if (!text.isEmpty() && !r->peerAddress.setAddress(text)) {
        *why = QCoreApplication::translate("Echoscope::Recording",
                                           "\"peer\" \"%1\" is not an IP address")
                   .arg(text.left(60));
        return false;
    }
    if (!fields.integer(QStringLiteral("peer_port"), 0, 65535, &number, why))
        return false;
    r->peerPort = quint16(number);
    if (!fields.time(QStringLiteral("connected_at"), &r->connectedAtMs, why))
        return false;
    if (fields.has(QStringLiteral("recorded_at")) &&
        !fields.time(QStringLiteral("recorded_at"), &r->recordedAtMs, why))
        return false;
    if (fields.has(QStringLiteral("closed")) &&
        !fields.boolean(QStringLiteral("closed"), &r->closed, why))
        return false;
    if (fields.has(QStringLiteral("transport"))) {
        if (!fields.string(QStringLiteral("transport"), &r->transport, why))
            return false;
        if (r->transport != QLatin1String("tcp") && r->transport != QLatin1String("ws")) {
            *why = QCoreApplication::translate("Echoscope::Recording",
                                               "\"transport\" \"%1\" is not tcp or ws")
                       .arg(r->transport.left(20));
            return false;
        }
    }
    r->hasMessages = r->isWebSocket() && r->version >= 2;
    if (r->isWebSocket() && fields.has(QStringLiteral("websocket"))) {
        QJsonObject object;
        if (!fields.object(QStringLiteral("websocket"), &object, why))
            return false;
        const Fields ws(object);
        QString inner;
        bool ok = true;
        if (ws.has(QStringLiteral("resource")))
            ok = ws.string(QStringLiteral("resource"), &r->webSocket.resource, &inner);
        if (ok && !r->webSocket.resource.startsWith(QLatin1Char('/'))) {
            inner = QCoreApplication::translate("Echoscope::Recording",
                                                "\"resource\" must start with \"/\"");
            ok = false;
        }
        if (ok && ws.has(QStringLiteral("origin")))
            ok = ws.string(QStringLiteral("origin"), &r->webSocket.origin, &inner);
        if (ok && ws.has(QStringLiteral("secure")))
            ok = ws.boolean(QStringLiteral("secure"), &r->webSocket.secure, &inner);
        if (ok && ws.has(QStringLiteral("protocols"))) {
            const QJsonValue protocols = object.value(QStringLiteral("protocols"));
            ok = protocols.isArray();
            for (const QJsonValue &protocol : protocols.toArray()) {
                ok = ok && protocol.isString() && !protocol.toString().isEmpty();
                r->webSocket.protocols.append(protocol.toString());
            }
            if (!ok)
                inner = QCoreApplication::translate("Echoscope::Recording",
                                                    "\"protocols\" must be an array of names");
        }
        if (!ok) {
            *why = QCoreApplication::translate("Echoscope::Recording", "in \"websocket\": %1")
                       .arg(inner);
            return false;
        }
    }

    QJsonObject object;
    if (fields.has(QStringLiteral("server"))) {
        if (!fields.object(QStringLiteral("server"), &object, why))
            return false;
        const Fields server(object);
        QString inner;
        QString error;
        if (server.has(QStringLiteral("framing"))) {
            if (!server.string(QStringLiteral("framing"), &text, &inner) ||
                !FramingConfig::parseMode(text, &r->framing, &error)) {
                *why = QCoreApplication::translate("Echoscope::Recording", "in \"server\": %1")
                           .arg(inner.isEmpty() ? error : inner);
                return false;
            }
        }
        if (server.has(QStringLiteral("delimiter"))) {
            if (!server.string(QStringLiteral("delimiter"), &text, &inner) ||
                !FramingConfig::parseDelimiter(text, &r->framing.delimiter, &error)) {
                *why = QCoreApplication::translate("Echoscope::Recording", "in \"server\": %1")
                           .arg(inner.isEmpty() ? error : inner);
                return false;
            }
        }
        if (server.has(QStringLiteral("length_bytes"))) {
            if (!server.integer(QStringLiteral("length_bytes"), 2, 4, &number, &inner) ||
                (number != 2 && number != 4)) {
                *why = QCoreApplication::translate("Echoscope::Recording", "in \"server\": %1")
                           .arg(inner.isEmpty()
                                    ? QCoreApplication::translate("Echoscope::Recording",
                                                                  "\"length_bytes\" must be 2 or 4")
                                    : inner);
                return false;
            }
            r->framing.lengthBytes = int(number);
        }
        if (server.has(QStringLiteral("max_message_bytes"))) {
            if (!server.integer(QStringLiteral("max_message_bytes"), 0, kMaxJsonInteger,
                                &r->maxMessageBytes, &inner)) {
                *why = QCoreApplication::translate("Echoscope::Recording", "in \"server\": %1")
                           .arg(inner);
                return false;
            }
        }
    }
    if (fields.has(QStringLiteral("capture"))) {
        if (!fields.object(QStringLiteral("capture"), &object, why))
            return false;
        const Fields capture(object);
        QString inner;
        bool ok = true;
        if (capture.has(QStringLiteral("limit_bytes")))
            ok = capture.integer(QStringLiteral("limit_bytes"), 0, kMaxJsonInteger,
                                 &r->captureLimitBytes, &inner);
        if (ok && capture.has(QStringLiteral("dropped_bytes")))
            ok = capture.integer(QStringLiteral("dropped_bytes"), 0, kMaxJsonInteger,
                                 &r->droppedBytes, &inner);
        if (ok && capture.has(QStringLiteral("keep"))) {
            ok = capture.string(QStringLiteral("keep"), &text, &inner);
            if (ok && text != QLatin1String("first") && text != QLatin1String("newest")) {
                inner = QCoreApplication::translate("Echoscope::Recording",
                                                    "\"keep\" must be \"first\" or \"newest\"");
                ok = false;
            }
            r->keepsFirst = text == QLatin1String("first");
        }
        if (ok && capture.has(QStringLiteral("limit_reached_at")))
            ok = capture.time(QStringLiteral("limit_reached_at"), &r->limitReachedAtMs, &inner);
        if (!ok) {
            *why = QCoreApplication::translate("Echoscope::Recording", "in \"capture\": %1")
                       .arg(inner);
            return false;
        }
    }
    return readStream(header, QStringLiteral("in"), &r->in, why) &&
           readStream(header, QStringLiteral("out"), &r->out, why);
}

} // namespace

QString Recording::timeText(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

Recording Recording::fromClient(const ClientStats &stats, const QList<TrafficEvent> &events,
                                const ServerConfig &config, qint64 nowMs)
{
    Recording r;
    r.clientId = stats.id();
    r.peerAddress = stats.peerAddress();
    r.peerPort = stats.peerPort();
    r.connectedAtMs = stats.connectedAtMs();
    r.recordedAtMs = nowMs;
    r.closed = stats.state() == ClientState::Closed;
    r.transport = ipProtocolKey(stats.transport());
    r.hasMessages = r.isWebSocket();
    r.version = r.hasMessages ? kVersion : 1;
    if (const WebSocketLog *log = stats.webSocket(); log && log->hasRequest()) {
        const WebSocketRequest request = log->request();
        if (request.resource.startsWith(QLatin1Char('/')))
            r.webSocket.resource = request.resource;
        r.webSocket.origin = request.origin;
        r.webSocket.protocols = request.requestedProtocols;
        r.webSocket.secure = request.secure;
    }
    r.framing = config.framing;
    r.maxMessageBytes = config.maxMessageBytes;

    const CaptureSnapshot capture = stats.capture()->snapshot();
    r.captureLimitBytes = capture.capacityBytes;
    r.keepsFirst = capture.keepsFirst;
    r.droppedBytes = capture.droppedBytes;
    r.limitReachedAtMs = capture.limitReachedAtMs;
    r.halfClosedAtMs = capture.receivedEndedAtMs;
    r.chunks = capture.chunks;
    r.in = streamOf(capture, Direction::Received, capture.receivedBytes);
    r.out = streamOf(capture, Direction::Echoed, capture.echoedBytes);

    for (const TrafficEvent &event : events) {
        if (event.clientId == stats.id())
            r.events.append(event.toJson());
    }
    if (r.halfClosedAtMs != 0) {
        // Not an engine event (the log has no use for it), but what a replay repeats.
        QJsonObject halfClosed;
        halfClosed.insert(QStringLiteral("event"), QStringLiteral("half_closed"));
        halfClosed.insert(QStringLiteral("time"), timeText(r.halfClosedAtMs));
        halfClosed.insert(QStringLiteral("client"), qint64(r.clientId));
        halfClosed.insert(QStringLiteral("offset"), capture.receivedBytes);
        // Before the first later event, and before the disconnect (often the same ms).
        const auto later =
            std::find_if(r.events.begin(), r.events.end(), [&](const QJsonObject &e) {
                qint64 ms = 0;
                QString ignored;
                Fields(e).time(QStringLiteral("time"), &ms, &ignored);
                return ms > r.halfClosedAtMs ||
                       e.value(QStringLiteral("event")).toString() ==
                           TrafficEvent::kindName(TrafficEvent::Kind::Disconnected);
            });
        r.events.insert(later, halfClosed);
    }
    return r;
}

QByteArray Recording::streamBytes(Direction direction) const
{
    QByteArray bytes;
    bytes.reserve(qsizetype(stream(direction).heldBytes()));
    for (const CaptureChunk &chunk : chunks) {
        if (chunk.direction == direction)
            bytes += chunk.bytes;
    }
    return bytes;
}

QList<Recording::Message> Recording::messages() const
{
    QList<Message> list;
    if (!hasMessages)
        return list;
    bool open = false; // the last message has not ended yet
    for (const CaptureChunk &chunk : chunks) {
        if (chunk.direction != Direction::Received)
            continue;
        if (!open) {
            Message message;
            message.offset = chunk.streamOffset;
            message.text = chunk.isText();
            // The stream's first byte held starts a message only when it is the first byte.
            message.startKnown = !list.isEmpty() || chunk.streamOffset == 0;
            message.timestampMs = chunk.timestampMs;
            list.append(message);
            open = true;
        }
        Message &message = list.last();
        message.data += chunk.bytes;
        message.lastTimestampMs = chunk.timestampMs;
        if (chunk.endsMessage()) {
            message.whole = message.startKnown;
            open = false;
        }
    }
    return list;
}

QStringList Recording::missingParts() const
{
    QStringList parts;
    const QList<Message> held = messages();
    for (qsizetype i = 0; i < held.size(); ++i) {
        const Message &m = held.at(i);
        if (m.whole)
            continue;
        const qint64 end = m.offset + m.data.size();
        if (!m.startKnown)
            parts.append(
                QCoreApplication::translate("Echoscope::Recording",
                                            "in: the start of the message that ends at byte %1 "
                                            "(%2); the %3 bytes held of it are not replayed")
                    .arg(end - 1)
                    .arg(keepsFirst
                             ? QCoreApplication::translate("Echoscope::Recording", "not captured")
                             : QCoreApplication::translate("Echoscope::Recording",
                                                           "the capture ring wrapped"))
                    .arg(m.data.size()));
        else
            parts.append(
                QCoreApplication::translate("Echoscope::Recording",
                                            "in: the end of message %1, which starts at byte %2: "
                                            "only %3 of its bytes were captured (%4), so it is not "
                                            "replayed")
                    .arg(i)
                    .arg(m.offset)
                    .arg(m.data.size())
                    .arg(
                        limitReachedAtMs != 0
                            ? QCoreApplication::translate("Echoscope::Recording",
                                                          "past the recording limit")
                            : QCoreApplication::translate("Echoscope::Recording", "not captured")));
    }
    for (const Direction direction : {Direction::Received, Direction::Echoed}) {
        const Stream &s = stream(direction);
        const QString name = directionName(direction);
        if (s.startOffset > 0)
            parts.append(
                QCoreApplication::translate("Echoscope::Recording", "%1: bytes 0 to %2 (%3)")
                    .arg(name)
                    .arg(s.startOffset - 1)
                    .arg(keepsFirst
                             ? QCoreApplication::translate("Echoscope::Recording", "not captured")
                             : QCoreApplication::translate("Echoscope::Recording",
                                                           "the capture ring wrapped")));
        if (s.endOffset < s.totalBytes)
            parts.append(
                QCoreApplication::translate("Echoscope::Recording", "%1: bytes %2 to %3 (%4)")
                    .arg(name)
                    .arg(s.endOffset)
                    .arg(s.totalBytes - 1)
                    .arg(
                        limitReachedAtMs != 0
                            ? QCoreApplication::translate("Echoscope::Recording",
                                                          "past the recording limit")
                            : QCoreApplication::translate("Echoscope::Recording", "not captured")));
    }
    return parts;
}

QString Recording::suggestedFileName() const
{
    QString peer = peerAddress.isNull() ? QStringLiteral("unknown") : peerAddress.toString();
    peer.replace(QLatin1Char(':'), QLatin1Char('_')); // IPv6, and a name Windows takes too
    const QString time =
        QDateTime::fromMSecsSinceEpoch(connectedAtMs).toString(QStringLiteral("yyyyMMdd-HHmmss"));
    return QStringLiteral("echoscope-client-%1-%2-%3-%4.jsonl")
        .arg(clientId)
        .arg(peer)
        .arg(peerPort)
        .arg(time);
}

bool Recording::write(QIODevice *device, QString *error) const
{
    QJsonObject header;
    header.insert(QStringLiteral("format"), formatName());
    header.insert(QStringLiteral("version"), hasMessages ? kVersion : 1);
    header.insert(QStringLiteral("client"), qint64(clientId));
    header.insert(QStringLiteral("peer"),
                  peerAddress.isNull() ? QString() : peerAddress.toString());
    header.insert(QStringLiteral("peer_port"), peerPort);
    header.insert(QStringLiteral("connected_at"), timeText(connectedAtMs));
    header.insert(QStringLiteral("recorded_at"), timeText(recordedAtMs));
    header.insert(QStringLiteral("closed"), closed);
    if (transport != QLatin1String("tcp"))
        header.insert(QStringLiteral("transport"), transport);
    if (isWebSocket()) {
        QJsonObject ws;
        ws.insert(QStringLiteral("resource"), webSocket.resource);
        if (!webSocket.origin.isEmpty())
            ws.insert(QStringLiteral("origin"), webSocket.origin);
        if (!webSocket.protocols.isEmpty())
            ws.insert(QStringLiteral("protocols"), QJsonArray::fromStringList(webSocket.protocols));
        ws.insert(QStringLiteral("secure"), webSocket.secure);
        header.insert(QStringLiteral("websocket"), ws);
    }
    QJsonObject server;
    server.insert(QStringLiteral("framing"), framing.modeString());
    server.insert(QStringLiteral("delimiter"), FramingConfig::delimiterToString(framing.delimiter));
    server.insert(QStringLiteral("length_bytes"), framing.lengthBytes);
    server.insert(QStringLiteral("max_message_bytes"), maxMessageBytes);
    header.insert(QStringLiteral("server"), server);
    QJsonObject capture;
    capture.insert(QStringLiteral("limit_bytes"), captureLimitBytes);
    capture.insert(QStringLiteral("keep"),
                   keepsFirst ? QStringLiteral("first") : QStringLiteral("newest"));
    capture.insert(QStringLiteral("dropped_bytes"), droppedBytes);
    if (limitReachedAtMs != 0)
        capture.insert(QStringLiteral("limit_reached_at"), timeText(limitReachedAtMs));
    header.insert(QStringLiteral("capture"), capture);
    header.insert(QStringLiteral("in"), streamJson(in));
    header.insert(QStringLiteral("out"), streamJson(out));
    const QStringList missing = missingParts();
    if (!missing.isEmpty())
        header.insert(QStringLiteral("missing"), QJsonArray::fromStringList(missing));

    QByteArray block = jsonLine(header);
    const auto flush = [&]() {
        if (device->write(block) != block.size()) {
            *error = QCoreApplication::translate("Echoscope::Recording", "writing failed: %1")
                         .arg(device->errorString());
            return false;
        }
        block.clear();
        return true;
    };
    // Chunks keep their order (each direction in stream order, whatever the clock did);
    // each event goes before the first chunk that is later than it, and the half-close
    // after every byte the client sent.
    qsizetype nextEvent = 0;
    const auto goesBefore = [this](qsizetype i, const CaptureChunk &chunk) {
        const QJsonObject &event = events.at(i);
        if (chunk.direction == Direction::Received &&
            event.value(QStringLiteral("event")).toString() == QLatin1String("half_closed"))
            return false;
        qint64 ms = 0;
        QString ignored;
        Fields(event).time(QStringLiteral("time"), &ms, &ignored);
        return ms < chunk.timestampMs;
    };
    for (const CaptureChunk &chunk : chunks) {
        while (nextEvent < events.size() && goesBefore(nextEvent, chunk))
            block += jsonLine(events.at(nextEvent++));
        // A message's pieces say its kind, and the last one that it ends there; an empty
        // message is one empty piece.
        const bool message = hasMessages && chunk.direction == Direction::Received;
        qsizetype at = 0;
        do {
            const QByteArray piece = chunk.bytes.mid(at, kMaxBytesPerLine);
            QJsonObject line;
            line.insert(QStringLiteral("time"), timeText(chunk.timestampMs));
            line.insert(QStringLiteral("dir"), directionName(chunk.direction));
            line.insert(QStringLiteral("offset"), chunk.streamOffset + at);
            line.insert(QStringLiteral("data"), QString::fromLatin1(piece.toBase64()));
            at += piece.size();
            if (message) {
                line.insert(QStringLiteral("kind"),
                            chunk.isText() ? QStringLiteral("text") : QStringLiteral("binary"));
                if (chunk.endsMessage() && at == chunk.bytes.size())
                    line.insert(QStringLiteral("end"), true);
            }
            block += jsonLine(line);
        } while (at < chunk.bytes.size());
        if (block.size() >= 256 * 1024 && !flush())
            return false;
    }
    while (nextEvent < events.size())
        block += jsonLine(events.at(nextEvent++));
    return flush();
}

bool Recording::save(const QString &path, QString *error) const
{
    return saveFileAtomically(
        path, [this](QIODevice *device, QString *reason) { return write(device, reason); }, error);
}

bool Recording::read(QIODevice *device, const QString &name, Recording *recording, QString *error)
{
    Recording r;
    int lineNumber = 0;
    qint64 bytesRead = 0;
    const auto fail = [&](const QString &what) {
        *error = QCoreApplication::translate("Echoscope::Recording", "%1:%2: %3")
                     .arg(name)
                     .arg(qMax(lineNumber, 1))
                     .arg(what);
        return false;
    };
    if (!device || !device->isReadable())
        return fail(QCoreApplication::translate("Echoscope::Recording", "cannot be read"));

    qint64 next[2] = {0, 0}; // the offset each direction's next chunk must start at
    bool inMessage = false;  // hasMessages: a message has begun and not ended
    bool inMessageText = false;
    const auto index = [](Direction d) { return d == Direction::Received ? 0 : 1; };
    while (!device->atEnd()) {
        QByteArray line = device->readLine(kMaxLineLength + 2);
        ++lineNumber;
        bytesRead += line.size();
        if (bytesRead > kMaxFileBytes)
            return fail(
                QCoreApplication::translate("Echoscope::Recording",
                                            "the file is larger than %1, more than a recording "
                                            "can be")
                    .arg(NumberText::dataSizeText(kMaxFileBytes)));
        if (!line.endsWith('\n') && !device->atEnd())
            return fail(
                QCoreApplication::translate("Echoscope::Recording", "the line is longer than %1")
                    .arg(NumberText::dataSizeText(kMaxLineLength)));
        while (line.endsWith('\n') || line.endsWith('\r'))
            line.chop(1);
        if (line.trimmed().isEmpty())
            return fail(QCoreApplication::translate("Echoscope::Recording", "the line is empty"));

        QJsonParseError parseError;
        const QJsonDocument document = QJsonDocument::fromJson(line, &parseError);
        if (parseError.error != QJsonParseError::NoError)
            return fail(QCoreApplication::translate("Echoscope::Recording",
                                                    "not valid JSON: %1 at column %2")
                            .arg(parseError.errorString())
                            .arg(parseError.offset + 1));
        if (!document.isObject())
            return fail(QCoreApplication::translate("Echoscope::Recording", "not a JSON object"));
        const QJsonObject object = document.object();
        const Fields fields(object);
        QString why;

        if (lineNumber == 1) {
            if (!readHeader(object, &r, &why))
                return fail(why);
            next[0] = r.in.startOffset;
            next[1] = r.out.startOffset;
            continue;
        }

        if (fields.has(QStringLiteral("dir"))) {
            CaptureChunk chunk;
            QString text;
            if (!fields.string(QStringLiteral("dir"), &text, &why))
                return fail(why);
            if (text == QLatin1String("in"))
                chunk.direction = Direction::Received;
            else if (text == QLatin1String("out"))
                chunk.direction = Direction::Echoed;
            else
                return fail(
                    QCoreApplication::translate("Echoscope::Recording",
                                                "\"dir\" must be \"in\" or \"out\", not \"%1\"")
                        .arg(text.left(40)));
            const QString dir = directionName(chunk.direction);
            if (!fields.time(QStringLiteral("time"), &chunk.timestampMs, &why) ||
                !fields.integer(QStringLiteral("offset"), 0, kMaxJsonInteger, &chunk.streamOffset,
                                &why) ||
                !fields.string(QStringLiteral("data"), &text, &why))
                return fail(why);
            auto decoded = QByteArray::fromBase64Encoding(text.toLatin1(),
                                                          QByteArray::AbortOnBase64DecodingErrors);
            if (!decoded)
                return fail(QCoreApplication::translate("Echoscope::Recording",
                                                        "\"data\" is not valid base64"));
            chunk.bytes = std::move(*decoded);
            if (r.hasMessages && chunk.direction == Direction::Received) {
                if (!fields.string(QStringLiteral("kind"), &text, &why))
                    return fail(why);
                if (text != QLatin1String("text") && text != QLatin1String("binary"))
                    return fail(
                        QCoreApplication::translate("Echoscope::Recording",
                                                    "\"kind\" must be \"text\" or \"binary\", not "
                                                    "\"%1\"")
                            .arg(text.left(40)));
                const bool isText = text == QLatin1String("text");
                bool ends = false;
                if (fields.has(QStringLiteral("end")) &&
                    !fields.boolean(QStringLiteral("end"), &ends, &why))
                    return fail(why);
                if (inMessage && isText != inMessageText)
                    return fail(QCoreApplication::translate(
                                    "Echoscope::Recording",
                                    "the in chunk at offset %1 is %2, but the message "
                                    "it continues is %3")
                                    .arg(chunk.streamOffset)
                                    .arg(text, inMessageText ? QStringLiteral("text")
                                                             : QStringLiteral("binary")));
                chunk.flags = quint8((isText ? CaptureChunk::TextMessage : 0) |
                                     (ends ? CaptureChunk::EndsMessage : 0));
                inMessage = !ends;
                inMessageText = isText;
            }
            if (chunk.bytes.isEmpty() && !chunk.endsMessage())
                return fail(QCoreApplication::translate("Echoscope::Recording",
                                                        "the %1 chunk at offset %2 has no data")
                                .arg(dir)
                                .arg(chunk.streamOffset));
            qint64 &expected = next[index(chunk.direction)];
            if (chunk.streamOffset < expected)
                return fail(
                    QCoreApplication::translate("Echoscope::Recording",
                                                "offsets go backwards: the %1 chunk at offset %2 "
                                                "overlaps the bytes before it, which end at %3")
                        .arg(dir)
                        .arg(chunk.streamOffset)
                        .arg(expected));
            if (chunk.streamOffset > expected)
                return fail(QCoreApplication::translate(
                                "Echoscope::Recording",
                                "the %1 chunk at offset %2 leaves a gap: bytes %3 to "
                                "%4 are missing")
                                .arg(dir)
                                .arg(chunk.streamOffset)
                                .arg(expected)
                                .arg(chunk.streamOffset - 1));
            expected += chunk.bytes.size();
            const Stream &s = r.stream(chunk.direction);
            if (expected > s.endOffset)
                return fail(
                    QCoreApplication::translate("Echoscope::Recording",
                                                "the %1 chunk at offset %2 ends at %3, past the "
                                                "header's end_offset %4")
                        .arg(dir)
                        .arg(chunk.streamOffset)
                        .arg(expected)
                        .arg(s.endOffset));
            if (chunk.direction == Direction::Received && r.halfClosedAtMs != 0)
                return fail(QCoreApplication::translate("Echoscope::Recording",
                                                        "client data after its half_closed event"));
            r.chunks.append(std::move(chunk));
            continue;
        }

        if (fields.has(QStringLiteral("event"))) {
            QString kind;
            qint64 ms = 0;
            if (!fields.string(QStringLiteral("event"), &kind, &why) ||
                !fields.time(QStringLiteral("time"), &ms, &why))
                return fail(why);
            if (kind.isEmpty())
                return fail(
                    QCoreApplication::translate("Echoscope::Recording", "\"event\" is empty"));
            if (kind == QLatin1String("half_closed")) {
                if (r.halfClosedAtMs != 0)
                    return fail(QCoreApplication::translate("Echoscope::Recording",
                                                            "a second half_closed event"));
                r.halfClosedAtMs = qMax<qint64>(1, ms);
            }
            r.events.append(object);
            continue;
        }
        return fail(QCoreApplication::translate(
            "Echoscope::Recording", "neither a chunk (no \"dir\") nor an event (no \"event\")"));
    }
    if (lineNumber == 0)
        return fail(QCoreApplication::translate("Echoscope::Recording",
                                                "the file is empty, not an echoscope recording"));
    for (const Direction direction : {Direction::Received, Direction::Echoed}) {
        const Stream &s = r.stream(direction);
        if (next[index(direction)] != s.endOffset)
            return fail(
                QCoreApplication::translate("Echoscope::Recording",
                                            "the %1 data ends at offset %2, but the header says "
                                            "end_offset %3: the file is cut short")
                    .arg(directionName(direction))
                    .arg(next[index(direction)])
                    .arg(s.endOffset));
    }
    *recording = std::move(r);
    return true;
}

bool Recording::load(const QString &path, Recording *recording, QString *error)
{
    if (QFileInfo(path).isDir()) {
        *error = QCoreApplication::translate("Echoscope::Recording",
                                             "cannot read \"%1\": it is a directory")
                     .arg(path);
        return false;
    }
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QCoreApplication::translate("Echoscope::Recording", "cannot open \"%1\": %2")
                     .arg(path, file.errorString());
        return false;
    }
    return read(&file, path, recording, error);
}

} // namespace Echoscope
