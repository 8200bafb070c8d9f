#include "lengthframer.h"

namespace Echoscope {

LengthFramer::LengthFramer(int lengthBytes, qint64 maxMessageBytes)
    : Framer(maxMessageBytes), m_lengthBytes(lengthBytes)
{
    Q_ASSERT(lengthBytes == 2 || lengthBytes == 4);
}

qint64 LengthFramer::readLength(const char *header) const
{
    quint64 length = 0;
    for (int i = 0; i < m_lengthBytes; ++i)
        length = (length << 8) | uchar(header[i]);
    return qint64(length); // at most 0xFFFFFFFF
}

Framer::Status LengthFramer::feed(QByteArrayView data, MessageSink &sink)
{
    if (hasFailed())
        return Status::MessageTooLarge;

    // Complete the message started in an earlier chunk, appending only its own bytes.
    if (!m_buffer.isEmpty()) {
        if (m_buffer.size() < m_lengthBytes) {
            const qsizetype take = qMin(qsizetype(m_lengthBytes) - m_buffer.size(), data.size());
            appendBounded(m_buffer, data.first(take), m_lengthBytes);
            data = data.sliced(take);
            if (m_buffer.size() < m_lengthBytes)
                return Status::Ok;
            m_payloadBytes = readLength(m_buffer.constData());
            if (m_payloadBytes > maxMessageBytes())
                return tooLarge(m_payloadBytes);
        }
        const qint64 wireBytes = m_lengthBytes + m_payloadBytes;
        const qsizetype take = qsizetype(qMin(wireBytes - m_buffer.size(), qint64(data.size())));
        appendBounded(m_buffer, data.first(take), wireBytes);
        data = data.sliced(take);
        if (m_buffer.size() < wireBytes)
            return Status::Ok;
        sink.messageFramed(m_buffer, m_payloadBytes);
        resetBuffer(m_buffer);
    }

    // Whole messages straight from the input.
    while (data.size() >= m_lengthBytes) {
        const qint64 payloadBytes = readLength(data.data());
        if (payloadBytes > maxMessageBytes())
            return tooLarge(payloadBytes);
        const qint64 wireBytes = m_lengthBytes + payloadBytes;
        if (data.size() < wireBytes) {
            m_payloadBytes = payloadBytes;
            appendBounded(m_buffer, data, wireBytes);
            return Status::Ok;
        }
        sink.messageFramed(data.first(qsizetype(wireBytes)), payloadBytes);
        data = data.sliced(qsizetype(wireBytes));
    }
    if (!data.isEmpty())
        appendBounded(m_buffer, data, m_lengthBytes);
    return Status::Ok;
}

Framer::Status LengthFramer::finish(MessageSink &sink)
{
    Q_UNUSED(sink);
    return hasFailed() ? Status::MessageTooLarge : Status::Ok;
}

} // namespace Echoscope
