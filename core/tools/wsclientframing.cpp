#include "wsclientframing.h"

#include <QCryptographicHash>
#include <QList>

#include <algorithm>
#include <cstring>

namespace Echoscope {

namespace {

constexpr char kGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; // RFC 6455 1.3

// At most `limit` characters of the start of text, printable, for an error sentence.
QString quoted(const QByteArray &text, int limit = 60)
{
    QString out;
    for (qsizetype i = 0; i < text.size() && out.size() < limit; ++i) {
        const uchar c = uchar(text[i]);
        if (c == '\r' || c == '\n')
            break;
        out += c >= 0x20 && c < 0x7f ? QChar(c) : QChar(u'.');
    }
    return QLatin1Char('"') + out + QLatin1Char('"');
}

// The value of the header `name` (case-insensitive), trimmed; *found says whether it was there.
QByteArray headerValue(const QList<QByteArray> &lines, const char *name, bool *found)
{
    const QByteArray wanted = QByteArray(name).toLower();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines[i];
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || line.left(colon).trimmed().toLower() != wanted)
            continue;
        *found = true;
        return line.mid(colon + 1).trimmed();
    }
    *found = false;
    return QByteArray();
}

bool hasToken(const QByteArray &value, const char *token)
{
    const QList<QByteArray> parts = value.split(',');
    return std::any_of(parts.begin(), parts.end(), [token](const QByteArray &part) {
        return part.trimmed().compare(token, Qt::CaseInsensitive) == 0;
    });
}

} // namespace

QByteArray WsClientFraming::makeKey(quint64 random1, quint64 random2)
{
    char bytes[16];
    std::memcpy(bytes, &random1, 8);
    std::memcpy(bytes + 8, &random2, 8);
    return QByteArray(bytes, 16).toBase64();
}

QByteArray WsClientFraming::acceptFor(const QByteArray &key)
{
    return QCryptographicHash::hash(key + kGuid, QCryptographicHash::Sha1).toBase64();
}

QByteArray WsClientFraming::upgradeRequest(const QByteArray &host, const QByteArray &path,
                                           const QByteArray &key)
{
    return "GET " + path + " HTTP/1.1\r\nHost: " + host +
           "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
           "\r\nSec-WebSocket-Version: 13\r\nUser-Agent: echoscope-bench\r\n\r\n";
}

qint64 WsClientFraming::responseHeaderBytes(const char *data, qint64 size)
{
    for (qint64 i = 3; i < size; ++i) {
        if (data[i] == '\n' && data[i - 1] == '\r' && data[i - 2] == '\n' && data[i - 3] == '\r')
            return i + 1;
    }
    return 0;
}

bool WsClientFraming::couldBeHttp(const char *data, qint64 size)
{
    static constexpr char kStart[] = "HTTP/";
    return std::memcmp(data, kStart, size_t(std::min<qint64>(size, 5))) == 0;
}

QString WsClientFraming::checkUpgradeResponse(const QByteArray &response, const QByteArray &key)
{
    const QList<QByteArray> lines = response.split('\n');
    const QByteArray status = lines.value(0).trimmed();
    if (!status.startsWith("HTTP/"))
        return QStringLiteral("the answer to the WebSocket upgrade is not HTTP (it starts with "
                              "%1): not a WebSocket server?")
            .arg(quoted(status));
    const QList<QByteArray> parts = status.split(' ');
    if (parts.size() < 2 || parts[1] != "101")
        return QStringLiteral("the server answered the WebSocket upgrade with %1, not 101 "
                              "Switching Protocols")
            .arg(quoted(status));
    bool found = false;
    const QByteArray upgrade = headerValue(lines, "Upgrade", &found);
    if (upgrade.compare("websocket", Qt::CaseInsensitive) != 0)
        return found ? QStringLiteral("the 101 answer's Upgrade header is %1, not websocket")
                           .arg(quoted(upgrade))
                     : QStringLiteral("the 101 answer has no Upgrade header");
    const QByteArray connection = headerValue(lines, "Connection", &found);
    if (!hasToken(connection, "upgrade"))
        return found ? QStringLiteral("the 101 answer's Connection header is %1, not Upgrade")
                           .arg(quoted(connection))
                     : QStringLiteral("the 101 answer has no Connection header");
    const QByteArray accept = headerValue(lines, "Sec-WebSocket-Accept", &found);
    if (!found)
        return QStringLiteral("the 101 answer has no Sec-WebSocket-Accept header");
    const QByteArray expected = acceptFor(key);
    if (accept != expected)
        return QStringLiteral("the 101 answer's Sec-WebSocket-Accept is %1; the key sent needs "
                              "%2")
            .arg(quoted(accept), quoted(expected));
    const QByteArray extensions = headerValue(lines, "Sec-WebSocket-Extensions", &found);
    if (!extensions.isEmpty())
        return QStringLiteral("the server chose the extension %1, which was not offered")
            .arg(quoted(extensions));
    const QByteArray protocol = headerValue(lines, "Sec-WebSocket-Protocol", &found);
    if (!protocol.isEmpty())
        return QStringLiteral("the server chose the subprotocol %1, which was not offered")
            .arg(quoted(protocol));
    return QString();
}

int WsClientFraming::writeHeader(char *out, Opcode opcode, bool fin, quint64 payloadBytes,
                                 quint32 maskKey)
{
    uchar *p = reinterpret_cast<uchar *>(out);
    p[0] = uchar((fin ? 0x80 : 0) | opcode);
    int at = 2;
    if (payloadBytes < 126) {
        p[1] = uchar(0x80 | payloadBytes);
    } else if (payloadBytes <= 0xffff) {
        p[1] = 0x80 | 126;
        p[2] = uchar(payloadBytes >> 8);
        p[3] = uchar(payloadBytes);
        at = 4;
    } else {
        p[1] = 0x80 | 127;
        for (int i = 0; i < 8; ++i)
            p[2 + i] = uchar(payloadBytes >> (56 - 8 * i));
        at = 10;
    }
    for (int i = 0; i < 4; ++i)
        p[at + i] = uchar(maskKey >> (24 - 8 * i));
    return at + 4;
}

void WsClientFraming::mask(char *data, qint64 size, quint32 maskKey, quint64 position)
{
    // Eight key bytes in the order they apply from `position` on, then 8 bytes at a time.
    uchar key[8];
    for (int i = 0; i < 8; ++i)
        key[i] = uchar(maskKey >> (24 - 8 * ((position + quint64(i)) % 4)));
    quint64 key64;
    std::memcpy(&key64, key, 8);
    qint64 i = 0;
    for (; i + 8 <= size; i += 8) {
        quint64 word;
        std::memcpy(&word, data + i, 8);
        word ^= key64;
        std::memcpy(data + i, &word, 8);
    }
    for (; i < size; ++i)
        data[i] = char(uchar(data[i]) ^ key[i % 8]);
}

int WsClientFraming::writeControlFrame(char *out, Opcode opcode, const char *payload, int size,
                                       quint32 maskKey)
{
    size = std::clamp(size, 0, kMaxControlPayloadBytes);
    const int header = writeHeader(out, opcode, true, quint64(size), maskKey);
    if (size > 0)
        std::memcpy(out + header, payload, size_t(size));
    mask(out + header, size, maskKey, 0);
    return header + size;
}

int WsClientFraming::writeCloseFrame(char *out, quint16 code, quint32 maskKey)
{
    const char payload[2] = {char(code >> 8), char(code & 0xff)};
    return writeControlFrame(out, WsFrameHeader::Close, payload, 2, maskKey);
}

// Reader

quint16 WsClientFraming::Reader::closeCode() const
{
    if (m_controlBytes < 2)
        return kCloseNoStatus;
    return quint16((uchar(m_control[0]) << 8) | uchar(m_control[1]));
}

QString WsClientFraming::Reader::closeReason() const
{
    return m_controlBytes > 2 ? QString::fromUtf8(m_control + 2, m_controlBytes - 2) : QString();
}

WsClientFraming::Reader::Event WsClientFraming::Reader::fail(const QString &error)
{
    m_state = State::Failed;
    m_error = error;
    return Event::Error;
}

// The whole header is in m_header: check it against RFC 6455 5.2 and set up its payload.
WsClientFraming::Reader::Event WsClientFraming::Reader::headerComplete()
{
    const uchar *h = reinterpret_cast<const uchar *>(m_header);
    m_fin = h[0] & 0x80;
    m_opcode = Opcode(h[0] & 0x0f);
    const uchar lengthCode = h[1] & 0x7f;
    if (lengthCode == 126) {
        m_remaining = (quint64(h[2]) << 8) | h[3];
    } else if (lengthCode == 127) {
        m_remaining = 0;
        for (int i = 0; i < 8; ++i)
            m_remaining = (m_remaining << 8) | h[2 + i];
    } else {
        m_remaining = lengthCode;
    }
    m_headerHave = 0;
    m_headerNeed = 2;
    const bool control = m_opcode & 0x8;
    if (control) {
        if (m_opcode != WsFrameHeader::Close && m_opcode != WsFrameHeader::Ping &&
            m_opcode != WsFrameHeader::Pong)
            return fail(QStringLiteral("the server sent a frame with the reserved opcode 0x%1")
                            .arg(int(m_opcode), 0, 16));
        if (!m_fin)
            return fail(QStringLiteral("the server sent a fragmented control frame (opcode "
                                       "0x%1)")
                            .arg(int(m_opcode), 0, 16));
        if (m_remaining > quint64(kMaxControlPayloadBytes))
            return fail(QStringLiteral("the server sent a control frame of %1 bytes (at most "
                                       "125)")
                            .arg(m_remaining));
        m_controlBytes = 0;
        m_state = State::ControlPayload;
        return Event::None;
    }
    if (m_opcode == WsFrameHeader::Continuation) {
        if (!m_inMessage)
            return fail(QStringLiteral("the server sent a continuation frame with no message to "
                                       "continue"));
    } else if (m_opcode == WsFrameHeader::Text || m_opcode == WsFrameHeader::Binary) {
        if (m_inMessage)
            return fail(QStringLiteral("the server began a new message (opcode 0x%1) before the "
                                       "previous one ended")
                            .arg(int(m_opcode), 0, 16));
        m_inMessage = true;
        m_messageOpcode = m_opcode;
    } else {
        return fail(QStringLiteral("the server sent a frame with the reserved opcode 0x%1")
                        .arg(int(m_opcode), 0, 16));
    }
    m_state = m_remaining > 0 ? State::DataPayload : (m_fin ? State::MessageEnd : State::Header);
    return Event::None;
}

qint64 WsClientFraming::Reader::read(const char *data, qint64 size, Event *event,
                                     const char **payload, qint64 *payloadBytes)
{
    qint64 consumed = 0;
    for (;;) {
        switch (m_state) {
        case State::Failed:
            *event = Event::Error;
            return consumed;
        case State::MessageEnd:
            m_state = State::Header;
            m_inMessage = false;
            *event = Event::MessageEnd;
            return consumed;
        case State::Header: {
            if (consumed == size) {
                *event = Event::None;
                return consumed;
            }
            const qint64 take = std::min<qint64>(m_headerNeed - m_headerHave, size - consumed);
            std::memcpy(m_header + m_headerHave, data + consumed, size_t(take));
            m_headerHave += int(take);
            consumed += take;
            if (m_headerHave < m_headerNeed)
                continue;
            if (m_headerHave == 2) {
                const uchar b0 = uchar(m_header[0]);
                const uchar b1 = uchar(m_header[1]);
                if (b1 & 0x80) {
                    *event = fail(QStringLiteral("the server sent a masked frame (a server "
                                                 "must not mask, RFC 6455 5.1)"));
                    return consumed;
                }
                if (b0 & 0x70) {
                    *event = fail(QStringLiteral("the server set the reserved bits 0x%1 with "
                                                 "no extension agreed")
                                      .arg(b0 & 0x70, 2, 16, QLatin1Char('0')));
                    return consumed;
                }
                const uchar lengthCode = b1 & 0x7f;
                m_headerNeed = 2 + (lengthCode == 126 ? 2 : lengthCode == 127 ? 8 : 0);
                if (m_headerHave < m_headerNeed)
                    continue;
            }
            if ((uchar(m_header[1]) & 0x7f) == 127 && (uchar(m_header[2]) & 0x80)) {
                *event = fail(QStringLiteral("the server sent a 64-bit length with its top bit "
                                             "set"));
                return consumed;
            }
            const Event result = headerComplete();
            if (result == Event::Error) {
                *event = result;
                return consumed;
            }
            if (m_state == State::ControlPayload && m_remaining == 0) {
                m_state = State::Header;
                *event = m_opcode == WsFrameHeader::Close  ? Event::Close
                         : m_opcode == WsFrameHeader::Ping ? Event::Ping
                                                           : Event::Pong;
                return consumed;
            }
            continue;
        }
        case State::DataPayload: {
            if (consumed == size) {
                *event = Event::None;
                return consumed;
            }
            const qint64 take = qint64(std::min<quint64>(m_remaining, quint64(size - consumed)));
            *payload = data + consumed;
            *payloadBytes = take;
            consumed += take;
            m_remaining -= quint64(take);
            if (m_remaining == 0)
                m_state = m_fin ? State::MessageEnd : State::Header;
            *event = Event::Data;
            return consumed;
        }
        case State::ControlPayload: {
            if (consumed == size) {
                *event = Event::None;
                return consumed;
            }
            const qint64 take = std::min<qint64>(qint64(m_remaining), size - consumed);
            std::memcpy(m_control + m_controlBytes, data + consumed, size_t(take));
            m_controlBytes += int(take);
            m_remaining -= quint64(take);
            consumed += take;
            if (m_remaining > 0)
                continue;
            m_state = State::Header;
            if (m_opcode == WsFrameHeader::Close && m_controlBytes == 1) {
                *event = fail(QStringLiteral("the server sent a close frame with a 1-byte "
                                             "payload"));
                return consumed;
            }
            *event = m_opcode == WsFrameHeader::Close  ? Event::Close
                     : m_opcode == WsFrameHeader::Ping ? Event::Ping
                                                       : Event::Pong;
            return consumed;
        }
        }
    }
}

} // namespace Echoscope
