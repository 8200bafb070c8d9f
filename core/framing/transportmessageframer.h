#pragma once

#include "framer.h"

namespace Echoscope {

// Messages whose boundaries the transport itself carries (WebSocket: one message per
// WebSocket message), whatever the server's framing setting says. The bytes of a
// message are fed as they are read; feedEnd() adds the last ones (maybe none) and
// delivers it. A message read whole in one piece is delivered without a copy.
class TransportMessageFramer : public Framer
{
public:
    explicit TransportMessageFramer(qint64 maxMessageBytes);

    // Bytes of a message that goes on.
    Status feed(QByteArrayView data, MessageSink &sink) override;
    // The last bytes of a message (possibly none, possibly all of it); delivers it.
    Status feedEnd(QByteArrayView data, MessageSink &sink);
    // The transport ends: a message it had begun is incomplete (bufferedBytes()).
    Status finish(MessageSink &sink) override;
    qint64 bufferedBytes() const override { return m_buffer.size(); }

private:
    QByteArray m_buffer;
};

} // namespace Echoscope
