#include "eofframer.h"

namespace Echoscope {

EofFramer::EofFramer(qint64 maxMessageBytes) : Framer(maxMessageBytes) {}

Framer::Status EofFramer::feed(QByteArrayView data, MessageSink &sink)
{
    Q_UNUSED(sink);
    Q_ASSERT(!m_finished);
    if (hasFailed())
        return Status::MessageTooLarge;
    const qint64 gathered = qint64(m_buffer.size()) + data.size();
    if (gathered > maxMessageBytes())
        return tooLarge(gathered);
    if (!data.isEmpty())
        appendBounded(m_buffer, data, maxMessageBytes());
    return Status::Ok;
}

Framer::Status EofFramer::finish(MessageSink &sink)
{
    if (hasFailed())
        return Status::MessageTooLarge;
    if (m_finished)
        return Status::Ok;
    m_finished = true;
    sink.messageFramed(m_buffer, m_buffer.size());
    m_buffer = QByteArray();
    return Status::Ok;
}

} // namespace Echoscope
