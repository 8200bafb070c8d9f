#include "lineframer.h"

namespace Echoscope {

LineFramer::LineFramer(const QByteArray &delimiter, qint64 maxMessageBytes)
    : Framer(maxMessageBytes), m_delimiter(delimiter)
{
    Q_ASSERT(!delimiter.isEmpty());
}

Framer::Status LineFramer::feed(QByteArrayView data, MessageSink &sink)
{
    if (hasFailed())
        return Status::MessageTooLarge;
    if (data.isEmpty())
        return Status::Ok;
    if (!m_buffer.isEmpty()) {
        const Status status = completeBuffered(&data, sink);
        if (status != Status::Ok || data.isEmpty())
            return status;
    }

    // Nothing buffered: whole messages are passed as views into the input.
    const QByteArrayView delimiter(m_delimiter);
    const qsizetype delimiterBytes = delimiter.size();
    qsizetype start = 0;
    for (;;) {
        const qsizetype end = data.indexOf(delimiter, start);
        if (end < 0)
            break;
        const qint64 payloadBytes = end - start;
        if (payloadBytes > maxMessageBytes())
            return tooLarge(payloadBytes);
        sink.messageFramed(data.sliced(start, end + delimiterBytes - start), payloadBytes);
        start = end + delimiterBytes;
    }
    const QByteArrayView tail = data.sliced(start);
    if (tail.size() > maxBufferedBytes())
        return tooLarge(tail.size());
    if (!tail.isEmpty())
        appendBounded(m_buffer, tail, maxWireBytes());
    return Status::Ok;
}

// Looks for the delimiter that ends the buffered message: first one that begins in
// the buffer's tail and ends in *data, else the first one inside *data. Appends only
// the bytes up to it and advances *data past them.
Framer::Status LineFramer::completeBuffered(QByteArrayView *data, MessageSink &sink)
{
    const QByteArrayView delimiter(m_delimiter);
    const qsizetype delimiterBytes = delimiter.size();
    qsizetype taken = -1; // bytes of *data up to and including the delimiter
    for (qsizetype inBuffer = qMin(delimiterBytes - 1, m_buffer.size()); inBuffer > 0; --inBuffer) {
        const qsizetype inData = delimiterBytes - inBuffer;
        if (data->size() >= inData && m_buffer.endsWith(delimiter.first(inBuffer)) &&
            data->startsWith(delimiter.sliced(inBuffer))) {
            taken = inData;
            break;
        }
    }
    if (taken < 0) {
        const qsizetype end = data->indexOf(delimiter);
        if (end >= 0)
            taken = end + delimiterBytes;
    }
    if (taken < 0) {
        const qint64 gathered = qint64(m_buffer.size()) + data->size();
        if (gathered > maxBufferedBytes())
            return tooLarge(gathered);
        appendBounded(m_buffer, *data, maxWireBytes());
        *data = QByteArrayView();
        return Status::Ok;
    }
    const qint64 payloadBytes = qint64(m_buffer.size()) + taken - delimiterBytes;
    if (payloadBytes > maxMessageBytes())
        return tooLarge(payloadBytes);
    appendBounded(m_buffer, data->first(taken), maxWireBytes());
    sink.messageFramed(m_buffer, payloadBytes);
    resetBuffer(m_buffer);
    *data = data->sliced(taken);
    return Status::Ok;
}

Framer::Status LineFramer::finish(MessageSink &sink)
{
    Q_UNUSED(sink);
    return hasFailed() ? Status::MessageTooLarge : Status::Ok;
}

} // namespace Echoscope
