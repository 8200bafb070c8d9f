#include "controljson.h"

#include "ipprotocol.h"

#include "capturebuffer.h"
#include "clientstats.h"
#include "echoserver.h"
#include "faultconfig.h"
#include "serverconfig.h"
#include "trafficevent.h"
#include "websocketlog.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>

#include <cmath>
#include <functional>

namespace Echoscope {

namespace ControlJson {

namespace {

QJsonValue sizeOrNull(qint64 bytes)
{
    return bytes < 0 ? QJsonValue(QJsonValue::Null) : QJsonValue(bytes);
}

QJsonValue timeOrNull(qint64 msecsSinceEpoch)
{
    return msecsSinceEpoch <= 0 ? QJsonValue(QJsonValue::Null)
                                : QJsonValue(timeText(msecsSinceEpoch));
}

QJsonObject histogram(const SizeHistogram &histogram)
{
    // Only the buckets that hold something; "high" is null for the last, open bucket.
    QJsonArray buckets;
    for (int i = 0; i < SizeHistogram::kBuckets; ++i) {
        if (histogram.counts[size_t(i)] == 0)
            continue;
        QJsonObject bucket;
        bucket.insert(QStringLiteral("low_bytes"), SizeHistogram::bucketLow(i));
        bucket.insert(QStringLiteral("high_bytes"), i == SizeHistogram::kBuckets - 1
                                                        ? QJsonValue(QJsonValue::Null)
                                                        : QJsonValue(SizeHistogram::bucketHigh(i)));
        bucket.insert(QStringLiteral("count"), histogram.counts[size_t(i)]);
        buckets.append(bucket);
    }
    return QJsonObject{{QStringLiteral("messages"), histogram.total()},
                       {QStringLiteral("buckets"), buckets}};
}

// One field of a fault object: how it is read, with its name for the error.
struct FaultField
{
    const char *name;
    std::function<bool(const QJsonValue &value, FaultConfig *faults, QString *error)> read;
};

// A whole number in [low, high] (JSON numbers are doubles: exact up to 2^53).
bool readWhole(const QJsonValue &value, qint64 low, qint64 high, qint64 *out, QString *error)
{
    const double number = value.toDouble();
    if (!value.isDouble() || !std::isfinite(number) || std::floor(number) != number) {
        *error = QStringLiteral("expected a whole number from %1 to %2").arg(low).arg(high);
        return false;
    }
    if (number < double(low) || number > double(high)) {
        *error = QStringLiteral("%1 is out of range: expected %2 to %3")
                     .arg(QString::number(number, 'f', 0))
                     .arg(low)
                     .arg(high);
        return false;
    }
    *out = qint64(number);
    return true;
}

template<typename T>
FaultField whole(const char *name, qint64 low, qint64 high, T FaultConfig::*member)
{
    return {name,
            [low, high, member](const QJsonValue &value, FaultConfig *faults, QString *error) {
                qint64 number = 0;
                if (!readWhole(value, low, high, &number, error))
                    return false;
                faults->*member = T(number);
                return true;
            }};
}

// A byte limit: null (off) or a size.
FaultField limit(const char *name, qint64 FaultConfig::*member)
{
    return {name, [member](const QJsonValue &value, FaultConfig *faults, QString *error) {
                if (value.isNull()) {
                    faults->*member = -1;
                    return true;
                }
                qint64 number = 0;
                if (!readWhole(value, 0, FaultConfig::kMaxByteLimit, &number, error)) {
                    *error += QStringLiteral(", or null for off");
                    return false;
                }
                faults->*member = number;
                return true;
            }};
}

// A probability: a number from 0 to 1.
FaultField rate(const char *name, double FaultConfig::*member)
{
    return {name, [member](const QJsonValue &value, FaultConfig *faults, QString *error) {
                const double p = value.toDouble(-1);
                if (!value.isDouble() || !(p >= 0.0 && p <= 1.0)) {
                    *error = QStringLiteral("expected a number from 0 to 1");
                    return false;
                }
                faults->*member = p;
                return true;
            }};
}

// A switch: true or false.
FaultField flag(const char *name, bool FaultConfig::*member)
{
    return {name, [member](const QJsonValue &value, FaultConfig *faults, QString *error) {
                if (!value.isBool()) {
                    *error = QStringLiteral("expected true or false");
                    return false;
                }
                faults->*member = value.toBool();
                return true;
            }};
}

const std::vector<FaultField> &faultFields()
{
    static const std::vector<FaultField> fields = {
        whole("delay_ms", 0, FaultConfig::kMaxDelayMs, &FaultConfig::delayMs),
        whole("jitter_ms", 0, FaultConfig::kMaxDelayMs, &FaultConfig::jitterMs),
        whole("bandwidth_bytes_per_s", 0, FaultConfig::kMaxBandwidthBytesPerSecond,
              &FaultConfig::bandwidthBytesPerSecond),
        whole("slice_bytes", 0, FaultConfig::kMaxSliceBytes, &FaultConfig::sliceBytes),
        whole("slice_gap_ms", 0, FaultConfig::kMaxSliceGapMs, &FaultConfig::sliceGapMs),
        limit("close_after_bytes", &FaultConfig::closeAfterBytes),
        {"close_code",
         [](const QJsonValue &value, FaultConfig *faults, QString *error) {
             qint64 code = 0;
             if (!readWhole(value, 1000, 4999, &code, error))
                 return false;
             if (!FaultConfig::isSendableCloseCode(int(code))) {
                 *error = QStringLiteral("%1 is not a close code a server may send "
                                         "(1000-1003, 1007-1011 or 3000-4999)")
                              .arg(code);
                 return false;
             }
             faults->closeCode = quint16(code);
             return true;
         }},
        limit("reset_after_bytes", &FaultConfig::resetAfterBytes),
        rate("reset_probability", &FaultConfig::resetProbability),
        flag("stop_reading", &FaultConfig::stopReading),
        flag("blackhole", &FaultConfig::blackhole),
        {"timeout_ms",
         [](const QJsonValue &value, FaultConfig *faults, QString *error) {
             if (value.isNull()) {
                 faults->timeoutMs = -1;
                 return true;
             }
             qint64 ms = 0;
             if (!readWhole(value, 0, FaultConfig::kMaxTimeoutMs, &ms, error)) {
                 *error += QStringLiteral(" (0: hold, never close), or null for off");
                 return false;
             }
             faults->timeoutMs = int(ms);
             return true;
         }},
        whole("slow_close_ms", 0, FaultConfig::kMaxSlowCloseMs, &FaultConfig::slowCloseMs),
        rate("toxicity", &FaultConfig::toxicity),
        rate("udp_loss", &FaultConfig::udpLoss),
        rate("udp_duplicate", &FaultConfig::udpDuplicate),
        rate("udp_reorder", &FaultConfig::udpReorder),
        rate("udp_corrupt", &FaultConfig::udpCorrupt),
        whole("seed", 0, 4294967295LL, &FaultConfig::seed),
    };
    return fields;
}

} // namespace

QString timeText(qint64 msecsSinceEpoch)
{
    return QDateTime::fromMSecsSinceEpoch(msecsSinceEpoch, Qt::UTC).toString(Qt::ISODateWithMs);
}

QJsonObject faults(const FaultConfig &faults)
{
    return QJsonObject{
        {QStringLiteral("delay_ms"), faults.delayMs},
        {QStringLiteral("jitter_ms"), faults.jitterMs},
        {QStringLiteral("bandwidth_bytes_per_s"), faults.bandwidthBytesPerSecond},
        {QStringLiteral("slice_bytes"), faults.sliceBytes},
        {QStringLiteral("slice_gap_ms"), faults.sliceGapMs},
        {QStringLiteral("close_after_bytes"), sizeOrNull(faults.closeAfterBytes)},
        {QStringLiteral("close_code"), int(faults.closeCode)},
        {QStringLiteral("reset_after_bytes"), sizeOrNull(faults.resetAfterBytes)},
        {QStringLiteral("reset_probability"), faults.resetProbability},
        {QStringLiteral("stop_reading"), faults.stopReading},
        {QStringLiteral("blackhole"), faults.blackhole},
        {QStringLiteral("timeout_ms"),
         faults.timeoutMs >= 0 ? QJsonValue(faults.timeoutMs) : QJsonValue()},
        {QStringLiteral("slow_close_ms"), faults.slowCloseMs},
        {QStringLiteral("toxicity"), faults.toxicity},
        {QStringLiteral("udp_loss"), faults.udpLoss},
        {QStringLiteral("udp_duplicate"), faults.udpDuplicate},
        {QStringLiteral("udp_reorder"), faults.udpReorder},
        {QStringLiteral("udp_corrupt"), faults.udpCorrupt},
        {QStringLiteral("seed"), qint64(faults.seed)},
        {QStringLiteral("description"), faults.describe()},
    };
}

QString inapplicableField(const FaultConfig &given, IpProtocol transport, QString *error)
{
    const QJsonObject all = faults(given);
    const QJsonObject kept = faults(given.forTransport(transport));
    for (auto it = all.constBegin(); it != all.constEnd(); ++it) {
        if (it.key() == QLatin1String("description") || kept.value(it.key()) == it.value())
            continue;
        const QString applies =
            transport == IpProtocol::Udp
                ? QStringLiteral("a UDP peer takes blackhole, udp_loss, udp_duplicate, "
                                 "udp_reorder, udp_corrupt and seed")
                : QStringLiteral("the udp_* rates are for UDP peers, close_code for "
                                 "WebSocket clients");
        const QString client = transport == IpProtocol::Udp ? QStringLiteral("a UDP peer")
                               : transport == IpProtocol::WebSocket
                                   ? QStringLiteral("a WebSocket client")
                                   : QStringLiteral("a TCP client");
        *error = QStringLiteral("%1 does not apply to %2: %3 (PUT /faults sets the faults for "
                                "all clients, each taking those that apply to it)")
                     .arg(it.key(), client, applies);
        return it.key();
    }
    return QString();
}

namespace {

// Reads the fields of a fault object into *faults, each checked on its own.
bool readFaultFields(const QJsonObject &object, FaultConfig *faults, QString *error, QString *field)
{
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        const QString name = it.key();
        *field = name;
        if (name == QLatin1String("description")) {
            // What GET answers may be sent back as it is: the words are made from the fields.
            if (!it.value().isString()) {
                *error = QStringLiteral("description: expected a string (it is ignored: the "
                                        "description is made from the other fields)");
                return false;
            }
            continue;
        }
        const auto &fields = faultFields();
        const auto found = std::find_if(fields.begin(), fields.end(), [&](const FaultField &f) {
            return name == QLatin1String(f.name);
        });
        if (found == fields.end()) {
            *error = QStringLiteral("unknown field \"%1\"").arg(name);
            return false;
        }
        QString reason;
        if (!found->read(it.value(), faults, &reason)) {
            *error = QStringLiteral("%1: %2").arg(name, reason);
            return false;
        }
    }
    return true;
}

} // namespace

bool parseFaults(const QJsonObject &object, FaultConfig *faults, QString *error, QString *field)
{
    FaultConfig parsed;
    if (!readFaultFields(object, &parsed, error, field))
        return false;
    if (const QString invalid = parsed.validate(); !invalid.isEmpty()) {
        // A rule between fields (the jitter at most the delay, a slice gap only with a slice
        // size): the field to blame is the one without which the rest is valid.
        field->clear();
        for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
            QJsonObject rest = object;
            rest.remove(it.key());
            FaultConfig without;
            QString ignoredError;
            QString ignoredField;
            if (readFaultFields(rest, &without, &ignoredError, &ignoredField) &&
                without.validate().isEmpty()) {
                *field = it.key();
                break;
            }
        }
        *error = field->isEmpty() ? invalid : QStringLiteral("%1: %2").arg(*field, invalid);
        return false;
    }
    field->clear();
    *faults = parsed;
    return true;
}

QString stateKey(ClientState state)
{
    switch (state) {
    case ClientState::Connected:
        return QStringLiteral("connected");
    case ClientState::Paused:
        return QStringLiteral("paused");
    case ClientState::Draining:
        return QStringLiteral("draining");
    case ClientState::Closed:
        return QStringLiteral("closed");
    case ClientState::Handshaking:
        return QStringLiteral("handshaking");
    case ClientState::Stopped:
        return QStringLiteral("stopped");
    }
    return QStringLiteral("connected");
}

QJsonObject clientSummary(const ClientSnapshot &client)
{
    return QJsonObject{
        {QStringLiteral("id"), qint64(client.id)},
        {QStringLiteral("protocol"), ipProtocolKey(client.transport)},
        {QStringLiteral("peer"), TrafficEvent::endpoint(client.peerAddress, client.peerPort)},
        {QStringLiteral("peer_address"), client.peerAddress.toString()},
        {QStringLiteral("peer_port"), int(client.peerPort)},
        {QStringLiteral("state"), stateKey(client.state)},
        {QStringLiteral("connected_at"), timeText(client.connectedAtMs)},
        {QStringLiteral("bytes_in"), client.bytesIn},
        {QStringLiteral("bytes_out"), client.bytesOut},
        {QStringLiteral("messages_in"), client.messagesIn},
        {QStringLiteral("messages_out"), client.messagesOut},
        {QStringLiteral("unsent_bytes"), client.unsentBytes},
        {QStringLiteral("tls"), !client.tlsProtocol.isEmpty()},
        {QStringLiteral("faults"), faults(client.faults)},
        {QStringLiteral("faults_description"), client.faults.describe()},
    };
}

QJsonObject clientDetail(const ClientStats &stats)
{
    const ClientSnapshot client = stats.snapshot();
    QJsonObject object = clientSummary(client);
    object.insert(QStringLiteral("last_activity_at"), timeOrNull(client.lastActivityMs));
    object.insert(QStringLiteral("message_bytes_in"), client.messageBytesIn);
    object.insert(QStringLiteral("last_message_bytes"), sizeOrNull(client.lastMessageBytes));
    object.insert(QStringLiteral("min_message_bytes"), sizeOrNull(client.minMessageBytes));
    object.insert(QStringLiteral("max_message_bytes"), sizeOrNull(client.maxMessageBytes));
    object.insert(QStringLiteral("peak_unsent_bytes"), client.peakUnsentBytes);
    object.insert(QStringLiteral("histogram"), histogram(client.histogram));
    // true: set for this client; false: the faults for all clients apply to it.
    object.insert(QStringLiteral("faults_own"), client.faultsPerClient);
    if (client.tlsProtocol.isEmpty()) {
        object.insert(QStringLiteral("tls"), QJsonValue::Null);
    } else {
        object.insert(QStringLiteral("tls"),
                      QJsonObject{{QStringLiteral("protocol"), client.tlsProtocol},
                                  {QStringLiteral("cipher"), client.tlsCipher},
                                  {QStringLiteral("cipher_bits"), client.tlsCipherBits}});
    }
    const WebSocketLog *webSocket = stats.webSocket();
    if (!webSocket || !webSocket->hasRequest()) {
        object.insert(QStringLiteral("websocket"), QJsonValue::Null);
    } else {
        const WebSocketRequest request = webSocket->request();
        object.insert(QStringLiteral("websocket"),
                      QJsonObject{
                          {QStringLiteral("resource"), request.resource},
                          {QStringLiteral("origin"), request.origin},
                          {QStringLiteral("requested_protocols"),
                           QJsonArray::fromStringList(request.requestedProtocols)},
                          {QStringLiteral("accepted_protocol"), request.acceptedProtocol},
                          {QStringLiteral("secure"), request.secure},
                          {QStringLiteral("pings_received"), webSocket->pingsReceived()},
                          {QStringLiteral("frames_received"), webSocket->framesReceived()},
                          {QStringLiteral("frames_sent"), webSocket->framesSent()},
                      });
    }
    return object;
}

QJsonObject capture(quint64 clientId, const CaptureBuffer &capture)
{
    const CaptureSnapshot snapshot = capture.snapshot();
    QJsonArray chunks;
    for (const CaptureChunk &chunk : snapshot.chunks) {
        chunks.append(QJsonObject{
            {QStringLiteral("direction"), chunk.direction == CaptureChunk::Direction::Received
                                              ? QStringLiteral("received")
                                              : QStringLiteral("echoed")},
            {QStringLiteral("time"), timeText(chunk.timestampMs)},
            {QStringLiteral("stream_offset"), chunk.streamOffset},
            {QStringLiteral("size"), chunk.bytes.size()},
            {QStringLiteral("base64"), QString::fromLatin1(chunk.bytes.toBase64())},
        });
    }
    return QJsonObject{
        {QStringLiteral("id"), qint64(clientId)},
        {QStringLiteral("capacity_bytes"), snapshot.capacityBytes},
        {QStringLiteral("held_bytes"), snapshot.heldBytes},
        {QStringLiteral("dropped_bytes"), snapshot.droppedBytes},
        {QStringLiteral("received_bytes"), snapshot.receivedBytes},
        {QStringLiteral("echoed_bytes"), snapshot.echoedBytes},
        {QStringLiteral("chunks"), chunks},
    };
}

QJsonObject server(const EchoServer &server)
{
    const ServerConfig config = server.config();
    const bool listening = server.isListening();
    QJsonObject listeners;
    if (listening) {
        listeners.insert(QStringLiteral("tcp"),
                         QJsonObject{{QStringLiteral("address"), server.serverAddress().toString()},
                                     {QStringLiteral("port"), int(server.serverPort())},
                                     {QStringLiteral("tls"), server.isTls()}});
        if (server.udpPort() != 0)
            listeners.insert(QStringLiteral("udp"),
                             QJsonObject{{QStringLiteral("port"), int(server.udpPort())}});
        if (server.webSocketPort() != 0)
            listeners.insert(QStringLiteral("websocket"),
                             QJsonObject{{QStringLiteral("port"), int(server.webSocketPort())},
                                         {QStringLiteral("scheme"), server.webSocketScheme()}});
    }
    const QJsonObject configObject{
        {QStringLiteral("bind_address"), config.bindAddress},
        {QStringLiteral("port"), int(config.port)},
        {QStringLiteral("framing"), config.framing.description()},
        {QStringLiteral("max_message_bytes"), config.maxMessageBytes},
        {QStringLiteral("max_clients"), config.maxClients},
        {QStringLiteral("idle_timeout_ms"), config.idleTimeoutMs},
        {QStringLiteral("threads"), server.workerCount()},
        {QStringLiteral("high_water_bytes"), config.highWaterBytes},
        {QStringLiteral("low_water_bytes"), config.lowWaterBytes},
        {QStringLiteral("capture_bytes_per_client"), config.captureBytesPerClient},
        {QStringLiteral("udp_echo"), config.udpEcho},
        {QStringLiteral("websocket_echo"), config.webSocketEcho},
        {QStringLiteral("tls"), config.isTls()},
    };
    const ServerTotals totals = server.totals();
    const QJsonObject totalsObject{
        {QStringLiteral("clients_now"), totals.clientsNow},
        {QStringLiteral("clients_peak"), totals.clientsPeak},
        {QStringLiteral("clients_total"), totals.clientsTotal},
        {QStringLiteral("clients_refused"), totals.clientsRefused},
        {QStringLiteral("bytes_in"), totals.bytesIn},
        {QStringLiteral("bytes_out"), totals.bytesOut},
        {QStringLiteral("messages_in"), totals.messagesIn},
        {QStringLiteral("messages_out"), totals.messagesOut},
        {QStringLiteral("message_bytes_in"), totals.messageBytesIn},
        {QStringLiteral("min_message_bytes"), sizeOrNull(totals.minMessageBytes)},
        {QStringLiteral("max_message_bytes"), sizeOrNull(totals.maxMessageBytes)},
        {QStringLiteral("histogram"), histogram(totals.histogram)},
    };
    return QJsonObject{
        {QStringLiteral("version"), QCoreApplication::applicationVersion()},
        {QStringLiteral("state"),
         listening ? QStringLiteral("listening") : QStringLiteral("stopped")},
        {QStringLiteral("started_at"),
         listening ? timeOrNull(server.startedAtMs()) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("listeners"), listeners},
        {QStringLiteral("config"), configObject},
        {QStringLiteral("totals"), totalsObject},
        {QStringLiteral("default_faults"), faults(server.defaultFaults())},
    };
}

} // namespace ControlJson

} // namespace Echoscope
