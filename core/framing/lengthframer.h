#pragma once

#include "framer.h"

namespace Echoscope {

// Each message is a big-endian unsigned length of lengthBytes (2 or 4) bytes,
// then that many payload bytes. A declared length above maxMessageBytes is
// refused as soon as the header is complete, before any payload is gathered.
class LengthFramer : public Framer
{
public:
    LengthFramer(int lengthBytes, qint64 maxMessageBytes);

    Status feed(QByteArrayView data, MessageSink &sink) override;
    Status finish(MessageSink &sink) override;
    qint64 bufferedBytes() const override { return m_buffer.size(); }

private:
    qint64 readLength(const char *header) const;

    const int m_lengthBytes;
    QByteArray m_buffer;       // header bytes, then payload bytes, of an incomplete message
    qint64 m_payloadBytes = 0; // declared length, once m_buffer holds the whole header
};

} // namespace Echoscope
