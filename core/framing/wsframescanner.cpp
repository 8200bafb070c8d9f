#include "wsframescanner.h"

#include <QtEndian>

namespace Echoscope {

namespace {
constexpr quint64 kMaxControlPayload = 125;

int extendedLengthBytes(quint8 length7)
{
    return length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
}
} // namespace

quint16 WsFrameHeader::closeCode() const
{
    if (opcode != Close || controlPayload.size() < 2)
        return 0;
    return qFromBigEndian<quint16>(controlPayload.constData());
}

QByteArray WsFrameHeader::closeReason() const
{
    return opcode == Close && controlPayload.size() > 2 ? controlPayload.mid(2) : QByteArray();
}

QString WsFrameHeader::opcodeName(quint8 opcode)
{
    switch (opcode) {
    case Continuation:
        return QStringLiteral("continuation");
    case Text:
        return QStringLiteral("text");
    case Binary:
        return QStringLiteral("binary");
    case Close:
        return QStringLiteral("close");
    case Ping:
        return QStringLiteral("ping");
    case Pong:
        return QStringLiteral("pong");
    default:
        return QStringLiteral("opcode 0x%1").arg(opcode, 0, 16);
    }
}

void WsFrameScanner::skip(quint64 bytes)
{
    Q_ASSERT(bytes <= skippable());
    m_remaining -= bytes;
    if (m_remaining == 0)
        m_state = State::Header;
}

void WsFrameScanner::feed(QByteArrayView data, const Callback &onFrame)
{
    qsizetype at = 0;
    while (at < data.size()) {
        switch (m_state) {
        case State::Failed:
            return;
        case State::Payload: {
            const quint64 n = qMin<quint64>(m_remaining, quint64(data.size() - at));
            at += qsizetype(n);
            skip(n);
            break;
        }
        case State::ControlPayload: {
            const quint64 n = qMin<quint64>(m_remaining, quint64(data.size() - at));
            const qsizetype start = m_frame.controlPayload.size();
            m_frame.controlPayload.append(data.data() + at, qsizetype(n));
            if (m_frame.masked) {
                // Byte i of the payload is XORed with byte (i mod 4) of the key.
                char *bytes = m_frame.controlPayload.data();
                for (qsizetype i = start; i < m_frame.controlPayload.size(); ++i)
                    bytes[i] = char(bytes[i] ^ char(m_maskKey >> (8 * (3 - i % 4))));
            }
            at += qsizetype(n);
            m_remaining -= n;
            if (m_remaining == 0)
                finishFrame(onFrame);
            break;
        }
        case State::Header:
            m_header.append(data[at]);
            ++at;
            if (!parseHeader(onFrame))
                continue;
            break;
        }
    }
}

// True once the header in m_header is complete and handled.
bool WsFrameScanner::parseHeader(const Callback &onFrame)
{
    if (m_header.size() < 2)
        return false;
    const auto b0 = quint8(m_header[0]);
    const auto b1 = quint8(m_header[1]);
    const int extended = extendedLengthBytes(b1 & 0x7f);
    const bool masked = (b1 & 0x80) != 0;
    const qsizetype headerBytes = 2 + extended + (masked ? 4 : 0);
    if (m_header.size() < headerBytes)
        return false;

    m_frame = WsFrameHeader();
    m_frame.fin = (b0 & 0x80) != 0;
    m_frame.reservedBits = quint8((b0 >> 4) & 0x7);
    m_frame.opcode = quint8(b0 & 0x0f);
    m_frame.masked = masked;
    const auto *bytes = reinterpret_cast<const uchar *>(m_header.constData());
    if (extended == 2)
        m_frame.length = qFromBigEndian<quint16>(bytes + 2);
    else if (extended == 8)
        m_frame.length = qFromBigEndian<quint64>(bytes + 2) & ~(quint64(1) << 63);
    else
        m_frame.length = b1 & 0x7f;
    m_maskKey = masked ? qFromBigEndian<quint32>(bytes + 2 + extended) : 0;
    m_header.clear();

    m_remaining = m_frame.length;
    if (m_frame.isControl()) {
        if (m_frame.length > kMaxControlPayload) {
            m_state = State::Failed;
            ++m_frames;
            onFrame(m_frame); // reported, so that the caller sees what broke the stream
            return true;
        }
        if (m_remaining == 0)
            finishFrame(onFrame);
        else
            m_state = State::ControlPayload;
        return true;
    }
    ++m_frames;
    onFrame(m_frame);
    m_state = m_remaining > 0 ? State::Payload : State::Header;
    return true;
}

void WsFrameScanner::finishFrame(const Callback &onFrame)
{
    m_state = State::Header;
    ++m_frames;
    onFrame(m_frame);
    m_frame.controlPayload.clear();
}

} // namespace Echoscope
