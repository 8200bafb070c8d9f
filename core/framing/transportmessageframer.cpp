#include "transportmessageframer.h"

namespace Echoscope {

TransportMessageFramer::TransportMessageFramer(qint64 maxMessageBytes) : Framer(maxMessageBytes) {}

Framer::Status TransportMessageFramer::feed(QByteArrayView data, MessageSink &sink)
{
    Q_UNUSED(sink);
    if (hasFailed())
        return Status::MessageTooLarge;
    const qint64 gathered = qint64(m_buffer.size()) + data.size();
    if (gathered > maxMessageBytes())
        return tooLarge(gathered);
    if (!data.isEmpty())
        appendBounded(m_buffer, data, maxMessageBytes());
    return Status::Ok;
}

Framer::Status TransportMessageFramer::feedEnd(QByteArrayView data, MessageSink &sink)
{
    if (m_buffer.isEmpty()) {
        if (hasFailed())
            return Status::MessageTooLarge;
        if (data.size() > maxMessageBytes())
            return tooLarge(data.size());
        sink.messageFramed(data, data.size()); // the whole message in one read
        return Status::Ok;
    }
    if (const Status status = feed(data, sink); status != Status::Ok)
        return status;
    const QByteArray message = std::exchange(m_buffer, QByteArray());
    sink.messageFramed(message, message.size());
    return Status::Ok;
}

Framer::Status TransportMessageFramer::finish(MessageSink &sink)
{
    Q_UNUSED(sink);
    return hasFailed() ? Status::MessageTooLarge : Status::Ok;
}

} // namespace Echoscope
