#include "streamframer.h"

namespace Echoscope {

StreamFramer::StreamFramer(qint64 maxMessageBytes) : Framer(maxMessageBytes) {}

Framer::Status StreamFramer::feed(QByteArrayView data, MessageSink &sink)
{
    if (!data.isEmpty())
        sink.messageFramed(data, data.size());
    return Status::Ok;
}

Framer::Status StreamFramer::finish(MessageSink &sink)
{
    Q_UNUSED(sink);
    return Status::Ok;
}

} // namespace Echoscope
