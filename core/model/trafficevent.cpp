#include "trafficevent.h"

#include "numbertext.h"
#include "textescape.h"

#include <QDateTime>

namespace Echoscope {

using NumberText::dataSizeText;

namespace {
// Milliseconds as seconds with three decimals, "12.345", as QString::number(ms / 1000.0,
// 'f', 3) writes them, without the floating point.
QString secondsText(qint64 ms)
{
    if (ms < 0)
        return QString::number(double(ms) / 1000.0, 'f', 3);
    const int fraction = int(ms % 1000);
    QString text = QString::number(ms / 1000);
    text += QLatin1Char('.');
    text += QChar(u'0' + fraction / 100);
    text += QChar(u'0' + fraction / 10 % 10);
    text += QChar(u'0' + fraction % 10);
    return text;
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
    if (address.isNull() && port == 0)
        return QStringLiteral("unknown address"); // e.g. reset before it could be asked
    QString text;
    text.reserve(48);
    switch (address.protocol()) {
    case QAbstractSocket::IPv6Protocol:
        text += QLatin1Char('[');
        text += address.toString();
        text += QLatin1Char(']');
        break;
    case QAbstractSocket::AnyIPProtocol: // QHostAddress::Any, both stacks
        text += QLatin1String("[::]");
        break;
    default:
        text += address.toString();
        break;
    }
    text += QLatin1Char(':');
    text += QString::number(port);
    return text;
}

// Appended, not QString::arg(): the headless log writes a line per connect and disconnect,
// and in a burst of short connections its formatting was a quarter of the server's CPU.
QString TrafficEvent::clientText() const
{
    QString text;
    text.reserve(96);
    text += QLatin1String("client ");
    text += QString::number(clientId);
    text += QLatin1String(" (");
    text += endpoint(address, port);
    if (transport != IpProtocol::Tcp) {
        text += QLatin1Char(' ');
        text += ipProtocolName(transport);
    }
    text += QLatin1Char(')');
    return text;
}

QString TrafficEvent::toText() const
{
    const bool udp = transport == IpProtocol::Udp;
    switch (kind) {
    case Kind::Listening:
        // TCP keeps the exact "listening on ADDRESS:PORT" that scripts wait for.
        if (transport == IpProtocol::WebSocket) // the URL to paste, and any notes
            return QStringLiteral("listening for WebSocket on ") + endpoint(address, port) +
                   (text.isEmpty() ? QString()
                                   : QStringLiteral(" (%1)").arg(TextEscape::escapeText(text)));
        return (udp ? QStringLiteral("listening for UDP on ") : QStringLiteral("listening on ")) +
               endpoint(address, port);
    case Kind::Stopped:
        return QStringLiteral("stopped: ") + TextEscape::escapeText(text);
    case Kind::Connected:
        return clientText() + (udp ? QStringLiteral(" seen: its first datagram arrived")
                                   : QStringLiteral(" connected"));
    case Kind::Refused:
        if (count > 0) // a summary of refusals not shown one by one
            return TextEscape::escapeText(text);
        return QStringLiteral("refused %1: %2")
            .arg(endpoint(address, port), TextEscape::escapeText(text));
    case Kind::Disconnected: {
        QString line = clientText();
        line.reserve(line.size() + 160);
        line += udp ? QLatin1String(" forgotten: ") : QLatin1String(" disconnected: ");
        line += TextEscape::escapeText(disconnect.describe());
        line += QLatin1String("; in ");
        line += dataSizeText(disconnect.bytesIn);
        line += QLatin1String(", out ");
        line += dataSizeText(disconnect.bytesOut);
        line += QLatin1String(", ");
        line += QString::number(disconnect.messagesIn);
        line += QLatin1String(" messages in, ");
        line += QString::number(disconnect.messagesOut);
        line += QLatin1String(" out, ");
        line += secondsText(disconnect.durationMs);
        line += QLatin1String(" s");
        if (disconnect.unechoedBytes() > 0) {
            line += QLatin1String("; ");
            line += dataSizeText(disconnect.unechoedBytes());
            line += QLatin1String(" not echoed");
        }
        return line;
    }
    case Kind::MessageEchoed:
        return clientText() +
               QStringLiteral(" message %1: \"%2\"")
                   .arg(dataSizeText(bytes),
                        TextEscape::escapeBytes(payload) +
                            (bytes > payload.size() ? QString(QChar(0x2026)) : QString()));
    case Kind::MessagesSummarised:
        return clientText() +
               QStringLiteral(" +%1 messages (%2) in the last second, not shown one by one")
                   .arg(count)
                   .arg(dataSizeText(bytes));
    case Kind::Error:
        return QStringLiteral("error: ") + TextEscape::escapeText(text);
    case Kind::Warning:
        return QStringLiteral("warning: ") + TextEscape::escapeText(text);
    case Kind::FaultInjected:
        return (clientId != 0 ? clientText() + QStringLiteral(" fault: ")
                              : QStringLiteral("fault: ")) +
               TextEscape::escapeText(text);
    case Kind::TlsEstablished:
        return clientText() + QStringLiteral(" TLS established: ") + TextEscape::escapeText(text);
    case Kind::WebSocketEstablished:
        return clientText() + QStringLiteral(" WebSocket established: ") +
               TextEscape::escapeText(text);
    }
    return TextEscape::escapeText(text);
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
