#include "fixedframer.h"

namespace Echoscope {

FixedFramer::FixedFramer(qint64 fixedBytes, qint64 maxMessageBytes)
    : Framer(maxMessageBytes), m_fixedBytes(fixedBytes)
{
    Q_ASSERT(fixedBytes >= 1 && fixedBytes <= maxMessageBytes);
}

Framer::Status FixedFramer::feed(QByteArrayView data, MessageSink &sink)
{
    if (!m_buffer.isEmpty()) {
        const qint64 missing = m_fixedBytes - m_buffer.size();
        if (data.size() < missing) {
            appendBounded(m_buffer, data, m_fixedBytes);
            return Status::Ok;
        }
        appendBounded(m_buffer, data.first(qsizetype(missing)), m_fixedBytes);
        sink.messageFramed(m_buffer, m_fixedBytes);
        resetBuffer(m_buffer);
        data = data.sliced(qsizetype(missing));
    }
    while (data.size() >= m_fixedBytes) {
        sink.messageFramed(data.first(qsizetype(m_fixedBytes)), m_fixedBytes);
        data = data.sliced(qsizetype(m_fixedBytes));
    }
    if (!data.isEmpty())
        appendBounded(m_buffer, data, m_fixedBytes);
    return Status::Ok;
}

Framer::Status FixedFramer::finish(MessageSink &sink)
{
    Q_UNUSED(sink);
    return Status::Ok;
}

} // namespace Echoscope
