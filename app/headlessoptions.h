#pragma once

#include "serverconfig.h"

#include <QString>

namespace Echoscope {

// What `echoscope --headless` runs: the engine's configuration plus how events are written.
struct HeadlessOptions
{
    enum class LogFormat { Text, Json };
    // Per-message events (then per-second summaries) per client with --verbose.
    static constexpr int kVerboseMessageEventsPerSecond = 20;

    ServerConfig config;
    LogFormat logFormat = LogFormat::Text;
    QString logFilePath; // empty: events go to standard output
    bool verbose = false;
};

} // namespace Echoscope
