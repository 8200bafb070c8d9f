#pragma once

#include "framer.h"

#include <QByteArray>

namespace Echoscope {

// Messages end with a delimiter (one or more bytes, e.g. "\r\n") that is echoed
// with them; payloadBytes leaves it out. The delimiter may arrive split across
// chunks. The earliest occurrence in the stream ends the message.
class LineFramer : public Framer
{
public:
    // delimiter must hold 1 to 16 bytes (FramingConfig::validate() checks).
    LineFramer(const QByteArray &delimiter, qint64 maxMessageBytes);

    Status feed(QByteArrayView data, MessageSink &sink) override;
    Status finish(MessageSink &sink) override;
    qint64 bufferedBytes() const override { return m_buffer.size(); }

private:
    Status completeBuffered(QByteArrayView *data, MessageSink &sink);
    // Without a delimiter in it, the buffer may hold a full payload plus all but
    // the last byte of the delimiter; one byte more is certainly too large.
    qint64 maxBufferedBytes() const { return maxMessageBytes() + m_delimiter.size() - 1; }
    qint64 maxWireBytes() const { return maxMessageBytes() + m_delimiter.size(); }

    const QByteArray m_delimiter;
    QByteArray m_buffer; // the start of an incomplete message, holding no whole delimiter
};

} // namespace Echoscope
