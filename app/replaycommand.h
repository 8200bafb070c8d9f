#pragma once

#include <QStringList>

namespace Echoscope {

// `echoscope replay FILE --port P ...`: sends a recorded client stream (see Recording) to
// an echo server and compares what comes back with the recorded echo.
class ReplayCommand
{
public:
    static constexpr int kExitMatched = 0;
    static constexpr int kExitEchoDiffered = 1; // a byte differed, or the echo was short or long
    static constexpr int kExitUsage = 2;        // bad arguments, or the file is not a recording
    // Cannot connect, the connection failed, a write or the close after the half-close
    // timed out (an echo that stops coming is a short echo: 1).
    static constexpr int kExitConnection = 3;

    static int run(const QStringList &arguments);
};

} // namespace Echoscope
