#include "trafficevent.h"

#include "numbertext.h"
#include "textescape.h"

#include <QDateTime>

#include <algorithm>

namespace Echoscope {

namespace {
// "255.255.255.255:65535": dotted decimal, as QHostAddress::toString() writes it, and the
// port, written at `out` for one append of a line's ASCII pieces instead of nine (each
// a call, a capacity check and a conversion); returns the end.
constexpr int kIPv4EndpointBytes = 21;
char *writeIPv4Endpoint(char *out, quint32 ip, quint16 port)
{
    for (int shift = 24; shift >= 0; shift -= 8) {
        out = NumberText::writeDigits(out, (ip >> shift) & 0xff);
        *out++ = shift > 0 ? '.' : ':';
    }
    return NumberText::writeDigits(out, port);
}

// Milliseconds as seconds with three decimals, "12.345", as QString::number(ms / 1000.0,
// 'f', 3) writes them, without the floating point.
void appendSeconds(QString &text, qint64 ms)
{
    if (ms < 0) {
        text += QString::number(double(ms) / 1000.0, 'f', 3);
        return;
    }
    NumberText::appendNumber(text, ms / 1000);
    text += QLatin1Char('.');
    NumberText::appendThreeDigits(text, int(ms % 1000));
}
} // namespace

QString TrafficEvent::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Listening:
        return QStringLiteral("listening");
    case Kind::Stopped:
        return QStringLiteral("stopped");
    case Kind::Connected:
        return QStringLiteral("connected");
    case Kind::Refused:
        return QStringLiteral("refused");
    case Kind::Disconnected:
        return QStringLiteral("disconnected");
    case Kind::MessageEchoed:
        return QStringLiteral("message");
    case Kind::MessagesSummarised:
        return QStringLiteral("messages_summary");
    case Kind::Error:
        return QStringLiteral("error");
    case Kind::Warning:
        return QStringLiteral("warning");
    case Kind::FaultInjected:
        return QStringLiteral("fault");
    case Kind::TlsEstablished:
        return QStringLiteral("tls_established");
    case Kind::WebSocketEstablished:
        return QStringLiteral("websocket_established");
    }
    return QStringLiteral("unknown");
}

QString TrafficEvent::endpoint(const QHostAddress &address, quint16 port)
{
    QString text;
    appendEndpoint(text, address, port);
    return text;
}

void TrafficEvent::appendEndpoint(QString &text, const QHostAddress &address, quint16 port)
{
    switch (address.protocol()) {
    case QAbstractSocket::IPv4Protocol: {
        char buffer[kIPv4EndpointBytes];
        text += QLatin1String(buffer, writeIPv4Endpoint(buffer, address.toIPv4Address(), port));
        return;
    }
    case QAbstractSocket::IPv6Protocol:
        text += QLatin1Char('[');
        text += address.toString();
        text += QLatin1Char(']');
        break;
    case QAbstractSocket::AnyIPProtocol: // QHostAddress::Any, both stacks
        text += QLatin1String("[::]");
        break;
    default:
        if (port == 0) { // e.g. reset before it could be asked
            text += QLatin1String("unknown address");
            return;
        }
        break; // an empty address, as toString() writes it
    }
    text += QLatin1Char(':');
    NumberText::appendNumber(text, port);
}

// Appended into one line, not QString::arg() and temporaries: the headless log writes a
// line per connect and disconnect, and in a burst of short connections its formatting was
// a quarter of the server's CPU.
void TrafficEvent::appendClientText(QString &text) const
{
    // "client 7 (127.0.0.1:5000" gathered in one buffer, as appendEndpoint() does.
    static constexpr char kClient[] = "client ";
    char buffer[sizeof kClient + 20 + 2 + kIPv4EndpointBytes];
    char *end = std::copy(kClient, kClient + sizeof kClient - 1, buffer);
    end = NumberText::writeDigits(end, clientId);
    *end++ = ' ';
    *end++ = '(';
    if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        end = writeIPv4Endpoint(end, address.toIPv4Address(), port);
        text += QLatin1String(buffer, end);
    } else {
        text += QLatin1String(buffer, end);
        appendEndpoint(text, address, port);
    }
    if (transport != IpProtocol::Tcp) {
        text += QLatin1Char(' ');
        text += ipProtocolName(transport);
    }
    text += QLatin1Char(')');
}

QString TrafficEvent::toText() const
{
    QString line;
    line.reserve(160);
    appendText(line);
    return line;
}

void TrafficEvent::appendText(QString &line) const
{
    const bool udp = transport == IpProtocol::Udp;
    switch (kind) {
    case Kind::Listening:
        // TCP keeps the exact "listening on ADDRESS:PORT" that scripts wait for.
        if (transport == IpProtocol::WebSocket) { // the URL to paste, and any notes
            line += QLatin1String("listening for WebSocket on ");
            appendEndpoint(line, address, port);
            if (!text.isEmpty()) {
                line += QLatin1String(" (");
                TextEscape::appendEscapedText(line, text);
                line += QLatin1Char(')');
            }
            return;
        }
        line += udp ? QLatin1String("listening for UDP on ") : QLatin1String("listening on ");
        appendEndpoint(line, address, port);
        return;
    case Kind::Stopped:
        line += QLatin1String("stopped: ");
        break;
    case Kind::Connected:
        appendClientText(line);
        line +=
            udp ? QLatin1String(" seen: its first datagram arrived") : QLatin1String(" connected");
        return;
    case Kind::Refused:
        if (count > 0) // a summary of refusals not shown one by one
            break;
        line += QLatin1String("refused ");
        appendEndpoint(line, address, port);
        line += QLatin1String(": ");
        break;
    case Kind::Disconnected:
        appendClientText(line);
        line += udp ? QLatin1String(" forgotten: ") : QLatin1String(" disconnected: ");
        TextEscape::appendEscapedText(line, disconnect.describe());
        line += QLatin1String("; in ");
        NumberText::appendDataSize(line, disconnect.bytesIn);
        line += QLatin1String(", out ");
        NumberText::appendDataSize(line, disconnect.bytesOut);
        line += QLatin1String(", ");
        NumberText::appendNumber(line, disconnect.messagesIn);
        line += QLatin1String(" messages in, ");
        NumberText::appendNumber(line, disconnect.messagesOut);
        line += QLatin1String(" out, ");
        appendSeconds(line, disconnect.durationMs);
        line += QLatin1String(" s");
        if (disconnect.unechoedBytes() > 0) {
            line += QLatin1String("; ");
            NumberText::appendDataSize(line, disconnect.unechoedBytes());
            line += QLatin1String(" not echoed");
        }
        return;
    case Kind::MessageEchoed:
        appendClientText(line);
        line += QLatin1String(" message ");
        NumberText::appendDataSize(line, bytes);
        line += QLatin1String(": \"");
        line += TextEscape::escapeBytes(payload);
        if (bytes > payload.size())
            line += QChar(0x2026);
        line += QLatin1Char('"');
        return;
    case Kind::MessagesSummarised:
        appendClientText(line);
        line += QLatin1String(" +");
        NumberText::appendNumber(line, count);
        line += QLatin1String(" messages (");
        NumberText::appendDataSize(line, bytes);
        line += QLatin1String(") in the last second, not shown one by one");
        return;
    case Kind::Error:
        line += QLatin1String("error: ");
        break;
    case Kind::Warning:
        line += QLatin1String("warning: ");
        break;
    case Kind::FaultInjected:
        if (clientId != 0) {
            appendClientText(line);
            line += QLatin1Char(' ');
        }
        line += QLatin1String("fault: ");
        break;
    case Kind::TlsEstablished:
        appendClientText(line);
        line += QLatin1String(" TLS established: ");
        break;
    case Kind::WebSocketEstablished:
        appendClientText(line);
        line += QLatin1String(" WebSocket established: ");
        break;
    }
    TextEscape::appendEscapedText(line, text); // the kinds that end with their text
}

QJsonObject TrafficEvent::toJson() const
{
    QJsonObject object;
    object.insert(QStringLiteral("event"), kindName(kind));
    object.insert(QStringLiteral("time"),
                  QDateTime::fromMSecsSinceEpoch(timestampMs, Qt::UTC).toString(Qt::ISODateWithMs));
    if (kind == Kind::Listening) {
        object.insert(QStringLiteral("address"), address.toString());
        object.insert(QStringLiteral("port"), port);
    } else if (!address.isNull()) {
        object.insert(QStringLiteral("peer"), address.toString());
        object.insert(QStringLiteral("peer_port"), port);
    }
    if (clientId != 0)
        object.insert(QStringLiteral("client"), qint64(clientId));
    if (transport != IpProtocol::Tcp)
        object.insert(QStringLiteral("transport"), ipProtocolKey(transport));
    switch (kind) {
    case Kind::Disconnected:
        object.insert(QStringLiteral("reason"), DisconnectInfo::reasonString(disconnect.reason));
        if (!disconnect.detail.isEmpty())
            object.insert(QStringLiteral("detail"), disconnect.detail);
        object.insert(QStringLiteral("bytes_in"), disconnect.bytesIn);
        object.insert(QStringLiteral("bytes_out"), disconnect.bytesOut);
        object.insert(QStringLiteral("messages_in"), disconnect.messagesIn);
        object.insert(QStringLiteral("messages_out"), disconnect.messagesOut);
        object.insert(QStringLiteral("duration_ms"), disconnect.durationMs);
        object.insert(QStringLiteral("unechoed_bytes"), disconnect.unechoedBytes());
        if (disconnect.oversizeBytes > 0)
            object.insert(QStringLiteral("oversize_bytes"), disconnect.oversizeBytes);
        if (disconnect.incompleteBytes > 0)
            object.insert(QStringLiteral("incomplete_bytes"), disconnect.incompleteBytes);
        break;
    case Kind::MessageEchoed:
        object.insert(QStringLiteral("bytes"), bytes);
        object.insert(QStringLiteral("payload_base64"), QString::fromLatin1(payload.toBase64()));
        object.insert(QStringLiteral("payload_truncated"), bytes > payload.size());
        break;
    case Kind::MessagesSummarised:
        object.insert(QStringLiteral("messages"), count);
        object.insert(QStringLiteral("bytes"), bytes);
        break;
    case Kind::Refused:
    case Kind::FaultInjected:
        if (count > 0)
            object.insert(QStringLiteral("count"), count);
        break;
    default:
        break;
    }
    if (!text.isEmpty())
        object.insert(QStringLiteral("text"), text);
    return object;
}

} // namespace Echoscope
