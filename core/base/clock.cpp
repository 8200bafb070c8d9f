#include "clock.h"

#include <QDateTime>

#include <chrono>

namespace Echoscope {

qint64 Clock::monotonicMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

qint64 Clock::wallMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

} // namespace Echoscope
