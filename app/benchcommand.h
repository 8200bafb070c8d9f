#pragma once

#include "loadgenerator.h"

#include <QStringList>

namespace Echoscope {

// `echoscope bench ...`: runs the load generator against an echo server and prints
// a progress line a second and one summary line (or JSON) at the end.
class BenchCommand
{
public:
    // Exit status: 0 when every echo was right (and, for hold, every connection held),
    // 1 when the run found errors, 2 for bad arguments.
    static int run(const QStringList &arguments);
};

} // namespace Echoscope
