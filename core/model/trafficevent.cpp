#include "trafficevent.h"

#include "numbertext.h"
#include "textescape.h"

#include <QDateTime>

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
void appendSeconds(NumberText::AsciiRun &run, qint64 ms)
{
    if (ms < 0) {
        run.target() += QString::number(double(ms) / 1000.0, 'f', 3);
        return;
    }
    run.number(ms / 1000);
    run << '.';
    run.threeDigits(int(ms % 1000));
}

void appendEndpointTo(NumberText::AsciiRun &run, const QHostAddress &address, quint16 port)
{
    switch (address.protocol()) {
    case QAbstractSocket::IPv4Protocol:
        run.done(writeIPv4Endpoint(run.reserve(kIPv4EndpointBytes), address.toIPv4Address(), port));
        return;
    case QAbstractSocket::IPv6Protocol:
        run << '[';
        run.target() += address.toString();
        run << ']';
        break;
    case QAbstractSocket::AnyIPProtocol: // QHostAddress::Any, both stacks
        run << QLatin1String("[::]");
        break;
    default:
        if (port == 0) { // e.g. reset before it could be asked
            run << QLatin1String("unknown address");
            return;
        }
        break; // an empty address, as toString() writes it
    }
    run << ':';
    run.number(port);
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
    NumberText::AsciiRun run(text);
    appendEndpointTo(run, address, port);
}

// Gathered into one line's ASCII run, not QString::arg() and temporaries: the headless log
// writes a line per connect and disconnect, and in a burst of short connections its
// formatting was a quarter of the server's CPU.
void TrafficEvent::appendClientText(NumberText::AsciiRun &run) const
{
    run << QLatin1String("client ");
    run.done(NumberText::writeDigits(run.reserve(20), clientId));
    run << QLatin1String(" (");
    appendEndpointTo(run, address, port);
    if (transport != IpProtocol::Tcp) {
        run << ' ';
        run.target() += ipProtocolName(transport);
    }
    run << ')';
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
    NumberText::AsciiRun run(line);
    appendText(run);
}

void TrafficEvent::appendText(NumberText::AsciiRun &run) const
{
    const bool udp = transport == IpProtocol::Udp;
    switch (kind) {
    case Kind::Listening:
        // TCP keeps the exact "listening on ADDRESS:PORT" that scripts wait for.
        if (transport == IpProtocol::WebSocket) { // the URL to paste, and any notes
            run << QLatin1String("listening for WebSocket on ");
            appendEndpointTo(run, address, port);
            if (!text.isEmpty()) {
                run << QLatin1String(" (");
                TextEscape::appendEscapedText(run.target(), text);
                run << ')';
            }
            return;
        }
        run << (udp ? QLatin1String("listening for UDP on ") : QLatin1String("listening on "));
        appendEndpointTo(run, address, port);
        return;
    case Kind::Stopped:
        run << QLatin1String("stopped: ");
        break;
    case Kind::Connected:
        appendClientText(run);
        run << (udp ? QLatin1String(" seen: its first datagram arrived")
                    : QLatin1String(" connected"));
        return;
    case Kind::Refused:
        if (count > 0) // a summary of refusals not shown one by one
            break;
        run << QLatin1String("refused ");
        appendEndpointTo(run, address, port);
        run << QLatin1String(": ");
        break;
    case Kind::Disconnected:
        appendClientText(run);
        run << (udp ? QLatin1String(" forgotten: ") : QLatin1String(" disconnected: "));
        TextEscape::appendEscapedText(run.target(), disconnect.describe());
        run << QLatin1String("; in ");
        run.dataSize(disconnect.bytesIn);
        run << QLatin1String(", out ");
        run.dataSize(disconnect.bytesOut);
        run << QLatin1String(", ");
        run.number(disconnect.messagesIn);
        run << QLatin1String(" messages in, ");
        run.number(disconnect.messagesOut);
        run << QLatin1String(" out, ");
        appendSeconds(run, disconnect.durationMs);
        run << QLatin1String(" s");
        if (disconnect.unechoedBytes() > 0) {
            run << QLatin1String("; ");
            run.dataSize(disconnect.unechoedBytes());
            run << QLatin1String(" not echoed");
        }
        return;
    case Kind::MessageEchoed: {
        appendClientText(run);
        run << QLatin1String(" message ");
        run.dataSize(bytes);
        run << QLatin1String(": \"");
        QString &target = run.target();
        target += TextEscape::escapeBytes(payload);
        if (bytes > payload.size())
            target += QChar(0x2026);
        run << '"';
        return;
    }
    case Kind::MessagesSummarised:
        appendClientText(run);
        run << QLatin1String(" +");
        run.number(count);
        run << QLatin1String(" messages (");
        run.dataSize(bytes);
        run << QLatin1String(") in the last second, not shown one by one");
        return;
    case Kind::Error:
        run << QLatin1String("error: ");
        break;
    case Kind::Warning:
        run << QLatin1String("warning: ");
        break;
    case Kind::FaultInjected:
        if (clientId != 0) {
            appendClientText(run);
            run << ' ';
        }
        run << QLatin1String("fault: ");
        break;
    case Kind::TlsEstablished:
        appendClientText(run);
        run << QLatin1String(" TLS established: ");
        break;
    case Kind::WebSocketEstablished:
        appendClientText(run);
        run << QLatin1String(" WebSocket established: ");
        break;
    }
    TextEscape::appendEscapedText(run.target(), text); // the kinds that end with their text
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
