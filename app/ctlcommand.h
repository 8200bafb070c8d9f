#pragma once

#include <QStringList>

namespace Echoscope {

// `echoscope ctl --port P [--host H] [--token-file F] COMMAND ...`: a client of the control
// API (GET/PUT/DELETE /api/v1/...) for the shell. Prints the answer's JSON, indented, on
// standard output; an error's sentence on standard error.
class CtlCommand
{
public:
    // Exit status: 0 when the API did it (2xx), 1 when it refused (4xx, 5xx: the error
    // is printed), 2 for bad arguments or an unreadable token file, 3 when the API cannot
    // be reached or does not answer within --timeout.
    static int run(const QStringList &arguments);
};

} // namespace Echoscope
