#include "framer.h"

#include "eofframer.h"
#include "fixedframer.h"
#include "lengthframer.h"
#include "lineframer.h"
#include "streamframer.h"

namespace Echoscope {

namespace {

// A partial message starts with at most this much room, then doubles.
constexpr qint64 kInitialCapacityBytes = 4 * 1024;
// Between messages a buffer keeps up to this much room; more is given back, so an
// idle connection that once got a large message does not hold on to it.
constexpr qint64 kRetainedCapacityBytes = 64 * 1024;

} // namespace

std::unique_ptr<Framer> Framer::create(const FramingConfig &config, qint64 maxMessageBytes)
{
    if (!config.validate(maxMessageBytes).isEmpty())
        return nullptr;
    switch (config.mode) {
    case FramingMode::Stream:
        return std::make_unique<StreamFramer>(maxMessageBytes);
    case FramingMode::Eof:
        return std::make_unique<EofFramer>(maxMessageBytes);
    case FramingMode::Line:
        return std::make_unique<LineFramer>(config.delimiter, maxMessageBytes);
    case FramingMode::Length:
        return std::make_unique<LengthFramer>(config.lengthBytes, maxMessageBytes);
    case FramingMode::Fixed:
        return std::make_unique<FixedFramer>(config.fixedBytes, maxMessageBytes);
    }
    return nullptr;
}

void Framer::appendBounded(QByteArray &buffer, QByteArrayView data, qint64 capacityLimit)
{
    const qint64 needed = qint64(buffer.size()) + data.size();
    Q_ASSERT(needed <= capacityLimit);
    if (needed > buffer.capacity()) {
        const qint64 grown = qMax(qint64(buffer.capacity()) * 2, kInitialCapacityBytes);
        buffer.reserve(qsizetype(qMax(needed, qMin(grown, capacityLimit))));
    }
    buffer.append(data);
}

void Framer::resetBuffer(QByteArray &buffer)
{
    if (buffer.capacity() > kRetainedCapacityBytes)
        buffer = QByteArray();
    else
        buffer.truncate(0);
}

} // namespace Echoscope
