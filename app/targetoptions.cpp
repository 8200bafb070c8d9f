#include "targetoptions.h"

#include "numbertext.h"
#include "serverconfig.h"

#include <QCommandLineParser>

namespace Echoscope {

TargetOptions::TargetOptions()
    : host(QStringLiteral("host"),
           QStringLiteral("Server address, IPv4 or IPv6 (default 127.0.0.1)."),
           QStringLiteral("address"), QStringLiteral("127.0.0.1"))
    , port(QStringLiteral("port"), QStringLiteral("Server port (required)."),
           QStringLiteral("port"))
{}

bool TargetOptions::read(const QCommandLineParser &parser, QHostAddress *address,
                         quint16 *portNumber, QString *error) const
{
    const auto refuse = [&](const QCommandLineOption &option, const QString &why) {
        *error = QStringLiteral("--%1 \"%2\": %3")
                     .arg(option.names().constFirst(), parser.value(option), why);
        return false;
    };
    QString resolveError;
    if (!ServerConfig::resolveBindAddress(parser.value(host), address, &resolveError) ||
        address->isNull() || *address == QHostAddress::Any || *address == QHostAddress::AnyIPv4 ||
        *address == QHostAddress::AnyIPv6)
        return refuse(host, QStringLiteral("expected an IPv4 or IPv6 address, or localhost"));
    if (!parser.isSet(port)) {
        *error = QStringLiteral("--port is required");
        return false;
    }
    qint64 number = 0;
    if (!NumberText::parseWholeNumber(parser.value(port), 65535, &number) || number < 1)
        return refuse(port, QStringLiteral("expected a port from 1 to 65535"));
    *portNumber = quint16(number);
    return true;
}

} // namespace Echoscope
