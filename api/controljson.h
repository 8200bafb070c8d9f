#pragma once

#include <QJsonObject>
#include <QString>

namespace Echoscope {

class CaptureBuffer;
class ClientStats;
class EchoServer;
struct ClientSnapshot;
struct FaultConfig;
enum class ClientState;
enum class IpProtocol;

// The control API's JSON: what it answers and the one body it reads (a fault object).
// Field names are snake_case with their unit (delay_ms, bandwidth_bytes_per_s); times are
// ISO 8601 in UTC with milliseconds; sizes and counts are JSON numbers (exact up to 2^53).
namespace ControlJson {

// A fault object, every field present: close_after_bytes and reset_after_bytes are null
// when off.
QJsonObject faults(const FaultConfig &faults);
// Reads a fault object; a field left out is off; "description" (what faults() writes) may
// be sent back, as a string, and is ignored. On failure returns false, leaves *faults as it
// was and sets *error to a sentence starting with the field's name and *field to that name
// (empty when the body as a whole is wrong): unknown fields, wrong types, values out of
// bounds, and rules between fields (the field named is the one without which the rest is
// valid: jitter_ms above delay_ms, slice_gap_ms without slice_bytes).
bool parseFaults(const QJsonObject &object, FaultConfig *faults, QString *error, QString *field);

// The first field of `faults` that does not act on a client of `transport` (see
// FaultConfig::forTransport), with a sentence naming it in *error ("slice_bytes does not
// apply to a UDP peer: ..."); empty when all apply.
QString inapplicableField(const FaultConfig &faults, IpProtocol transport, QString *error);

// "connected", "paused", "draining", "closed", "handshaking", "stopped".
QString stateKey(ClientState state);
// The short form listed by GET /api/v1/clients: "faults" is the fault object, as in the
// detail, and "faults_description" the same in words.
QJsonObject clientSummary(const ClientSnapshot &client);
// GET /api/v1/clients/{id}: the summary plus counters, histogram, faults, TLS and WebSocket.
QJsonObject clientDetail(const ClientStats &stats);
// GET /api/v1/clients/{id}/capture: the held bytes in base64, chunk by chunk.
QJsonObject capture(quint64 clientId, const CaptureBuffer &capture);
// GET /api/v1/server: state, listeners, configuration, totals, faults for all clients.
QJsonObject server(const EchoServer &server);

QString timeText(qint64 msecsSinceEpoch);

} // namespace ControlJson

} // namespace Echoscope
