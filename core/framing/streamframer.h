#pragma once

#include "framer.h"

namespace Echoscope {

// RFC 862 echo: every chunk goes straight out as one "message". Nothing is
// buffered and there is no size limit.
class StreamFramer : public Framer
{
public:
    explicit StreamFramer(qint64 maxMessageBytes);

    Status feed(QByteArrayView data, MessageSink &sink) override;
    Status finish(MessageSink &sink) override;
    qint64 bufferedBytes() const override { return 0; }
};

} // namespace Echoscope
