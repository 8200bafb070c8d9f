#pragma once

#include "disconnectinfo.h"
#include "hostaddress.h"
#include "numbertext.h"
#include "ipprotocol.h"
#include "refusalreason.h"

#include <QByteArray>
#include <QHostAddress>
#include <QJsonObject>
#include <QMetaType>
#include <QString>
#include <QtGlobal>

#include <memory>

namespace Echoscope {

// One discrete thing that happened, as the event log, the headless output and the
// dashboard show it. Per-byte activity is not an event; sampled messages and
// per-second summaries of the rest are.
struct TrafficEvent
{
    enum class Kind {
        Listening,          // address, port
        Stopped,            // text: summary
        Connected,          // client, peer
        Refused,            // peer, text: why; or count > 0: a summary of that many, in text
        Disconnected,       // client, peer, disconnect
        MessageEchoed,      // client, bytes (payload size), payload: the first bytes
        MessagesSummarised, // client, count messages of bytes in total, not shown one by one
        Error,              // text
        Warning,            // text
        // A fault injected (see FaultInjector): client, or 0 for all clients; text: what
        // (set, cleared, a close or reset); count > 0: a per-second summary of that many.
        FaultInjected,
        TlsEstablished, // client, text: "TLSv1.3, TLS_AES_256_GCM_SHA384 (256-bit)"
        // client, text: the upgrade request ("GET /chat, origin http://localhost, ...")
        WebSocketEstablished,
    };
    static constexpr int kPayloadPreviewBytes = 48;

    Kind kind = Kind::Warning;
    qint64 timestampMs = 0; // ms since the epoch
    quint64 clientId = 0;   // 0: not about one client
    // Udp: the UDP listener (Listening) or a UDP peer and its datagrams; JSON says
    // "transport": "udp", TCP events carry no such field.
    IpProtocol transport = IpProtocol::Tcp;
    QHostAddress address = nullHostAddress(); // Listening: bound address; else the peer
    quint16 port = 0;
    qint64 bytes = 0;
    qint64 count = 0;
    QByteArray payload; // MessageEchoed: up to kPayloadPreviewBytes of the message
    DisconnectInfo disconnect;
    RefusalReason refusal = RefusalReason::MaxClients; // Refused: why (text says it in words)
    QString text;

    static QString kindName(Kind kind); // "listening", "connected", ...
    // One line for a terminal or a log file; client bytes are escaped.
    QString toText() const;
    // The same, appended: no temporary QString.
    void appendText(QString &line) const;
    // The same, after what run has gathered.
    void appendText(NumberText::AsciiRun &run) const;
    // One JSON object with "event", "time" (ISO 8601) and the fields that apply.
    QJsonObject toJson() const;
    // "127.0.0.1:5000" or "[::1]:5000"; "unknown address" for a null address and port 0.
    static QString endpoint(const QHostAddress &address, quint16 port);
    static void appendEndpoint(QString &text, const QHostAddress &address, quint16 port);

private:
    // "client 7 (127.0.0.1:5000)", " UDP" before ")" if not TCP
    void appendClientText(NumberText::AsciiRun &run) const;
};

// An event held by more than one reader (the monitor's EventLog and the dashboard's log
// model) without a copy each.
using SharedTrafficEvent = std::shared_ptr<const TrafficEvent>;

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::TrafficEvent)
