#pragma once

#include "framer.h"

namespace Echoscope {

// Every block of exactly fixedBytes bytes is one message.
class FixedFramer : public Framer
{
public:
    // fixedBytes must be in [1, maxMessageBytes] (FramingConfig::validate() checks).
    FixedFramer(qint64 fixedBytes, qint64 maxMessageBytes);

    Status feed(QByteArrayView data, MessageSink &sink) override;
    Status finish(MessageSink &sink) override;
    qint64 bufferedBytes() const override { return m_buffer.size(); }

private:
    const qint64 m_fixedBytes;
    QByteArray m_buffer; // the start of an incomplete block
};

} // namespace Echoscope
