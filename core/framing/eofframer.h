#pragma once

#include "framer.h"

namespace Echoscope {

// One message per connection: everything the client sends until it half-closes.
// The bytes are gathered (at most maxMessageBytes) and delivered by finish().
class EofFramer : public Framer
{
public:
    explicit EofFramer(qint64 maxMessageBytes);

    Status feed(QByteArrayView data, MessageSink &sink) override;
    Status finish(MessageSink &sink) override;
    qint64 bufferedBytes() const override { return m_buffer.size(); }

private:
    QByteArray m_buffer;
    bool m_finished = false;
};

} // namespace Echoscope
