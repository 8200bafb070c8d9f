#pragma once

#include <QCommandLineOption>
#include <QHostAddress>
#include <QString>

QT_BEGIN_NAMESPACE
class QCommandLineParser;
QT_END_NAMESPACE

namespace Echoscope {

// --host and --port of the commands that talk to a server (bench, replay): the same
// options, defaults and checks for both.
struct TargetOptions
{
    TargetOptions();

    // Reads both from a parser that has the options. False and *error ("--port is
    // required", "--host \"x\": expected ...") when one is missing or refused.
    bool read(const QCommandLineParser &parser, QHostAddress *address, quint16 *portNumber,
              QString *error) const;

    QCommandLineOption host;
    QCommandLineOption port;
};

} // namespace Echoscope
