#include "serverconfig.h"

#include "networkfilter.h"

#include <QCoreApplication>
#include <QThread>

namespace Echoscope {

QString ServerConfig::validate() const
{
    QHostAddress address;
    QString error;
    if (!resolveBindAddress(bindAddress, &address, &error))
        return error;
    if (maxMessageBytes < 1)
        return QCoreApplication::translate("Echoscope::ServerConfig",
                                           "max message size must be at least 1 byte (got %1)")
            .arg(maxMessageBytes);
    if (maxClients < 1)
        return QCoreApplication::translate("Echoscope::ServerConfig",
                                           "max clients must be at least 1 (got %1)")
            .arg(maxClients);
    if (idleTimeoutMs < 0)
        return QCoreApplication::translate("Echoscope::ServerConfig",
                                           "idle timeout must not be negative (got %1 ms)")
            .arg(idleTimeoutMs);
    if (threads < 0 || threads > 256)
        return QCoreApplication::translate(
                   "Echoscope::ServerConfig",
                   "threads must be between 0 (one per core but one) and 256 (got %1)")
            .arg(threads);
    if (lowWaterBytes < 0 || highWaterBytes < 1 || lowWaterBytes >= highWaterBytes)
        return QCoreApplication::translate(
                   "Echoscope::ServerConfig",
                   "the low-water mark (%1 bytes) must be below the high-water mark "
                   "(%2 bytes)")
            .arg(lowWaterBytes)
            .arg(highWaterBytes);
    if (captureBytesPerClient < 0 || captureBytesPerClient > kMaxCaptureBytesPerClient)
        return QCoreApplication::translate(
                   "Echoscope::ServerConfig",
                   "capture size %1 is out of range (0 to %2 bytes per client)")
            .arg(captureBytesPerClient)
            .arg(kMaxCaptureBytesPerClient);
    if (messageEventsPerSecond < 0)
        return QCoreApplication::translate(
                   "Echoscope::ServerConfig",
                   "message events per second must not be negative (got %1)")
            .arg(messageEventsPerSecond);
    if (udpIdleTimeoutMs < 1 || udpIdleTimeoutMs > kMaxUdpIdleTimeoutMs)
        return QCoreApplication::translate("Echoscope::ServerConfig",
                                           "UDP idle timeout must be from 1 ms to %1 s (got %2 ms)")
            .arg(kMaxUdpIdleTimeoutMs / 1000)
            .arg(udpIdleTimeoutMs);
    if (maxUdpPeers < 1)
        return QCoreApplication::translate("Echoscope::ServerConfig",
                                           "max UDP peers must be at least 1 (got %1)")
            .arg(maxUdpPeers);
    if (webSocketEcho && webSocketHandshakeTimeoutMs < 1)
        return QCoreApplication::translate(
                   "Echoscope::ServerConfig",
                   "the WebSocket handshake timeout must be at least 1 ms (got %1 ms)")
            .arg(webSocketHandshakeTimeoutMs);
    for (const QString &origin : webSocketOrigins) {
        if (origin.trimmed().isEmpty() || origin.contains(QLatin1Char('\n')))
            return QCoreApplication::translate(
                       "Echoscope::ServerConfig",
                       "WebSocket origin \"%1\" is not an origin (write it as the "
                       "browser sends it, such as http://localhost:8080)")
                .arg(origin);
    }
    for (const auto &subnet : allowNetworks) {
        if (!NetworkFilter::isValid(subnet))
            return QCoreApplication::translate("Echoscope::ServerConfig",
                                               "allowed network %1 is not a valid network")
                .arg(NetworkFilter::toString(subnet));
    }
    for (const auto &subnet : denyNetworks) {
        if (!NetworkFilter::isValid(subnet))
            return QCoreApplication::translate("Echoscope::ServerConfig",
                                               "denied network %1 is not a valid network")
                .arg(NetworkFilter::toString(subnet));
    }
    if (isTls()) {
        if (tlsKeyFile.isEmpty())
            return QCoreApplication::translate(
                       "Echoscope::ServerConfig",
                       "TLS needs a private key file as well as the certificate "
                       "\"%1\"")
                .arg(tlsCertificateFile);
        if (tlsCertificateFile.isEmpty())
            return QCoreApplication::translate(
                       "Echoscope::ServerConfig",
                       "TLS needs a certificate file as well as the private key \"%1\"")
                .arg(tlsKeyFile);
        if (tlsHandshakeTimeoutMs < 1)
            return QCoreApplication::translate(
                       "Echoscope::ServerConfig",
                       "the TLS handshake timeout must be at least 1 ms (got %1 ms)")
                .arg(tlsHandshakeTimeoutMs);
        if (framing.mode == FramingMode::Eof)
            return QCoreApplication::translate(
                "Echoscope::ServerConfig",
                "eof framing cannot be used with TLS: a TLS client cannot "
                "half-close, its close ends the connection before any echo; "
                "use stream, line, length or fixed framing");
    }
    return framing.validate(maxMessageBytes);
}

QString ServerConfig::tlsVersionString(TlsVersion version)
{
    return version == TlsVersion::Tls13 ? QStringLiteral("1.3") : QStringLiteral("1.2");
}

bool ServerConfig::parseTlsVersion(const QString &text, TlsVersion *version)
{
    const QString name = text.trimmed();
    if (name == QLatin1String("1.2")) {
        *version = TlsVersion::Tls12;
        return true;
    }
    if (name == QLatin1String("1.3")) {
        *version = TlsVersion::Tls13;
        return true;
    }
    return false;
}

int ServerConfig::effectiveThreads() const
{
    return threads > 0 ? threads : qMax(1, QThread::idealThreadCount() - 1);
}

QString ServerConfig::describeAddress(const QHostAddress &address)
{
    if (address == QHostAddress(QHostAddress::Any))
        return QCoreApplication::translate("Echoscope::ServerConfig",
                                           "any address (IPv4 and IPv6)");
    return address.toString();
}

bool ServerConfig::resolveBindAddress(const QString &text, QHostAddress *address, QString *error)
{
    const QString name = text.trimmed().toLower();
    if (name == QLatin1String("localhost") || name == QLatin1String("127.0.0.1")) {
        *address = QHostAddress(QHostAddress::LocalHost);
    } else if (name == QLatin1String("localhost6") || name == QLatin1String("::1")) {
        *address = QHostAddress(QHostAddress::LocalHostIPv6);
    } else if (name == QLatin1String("any") || name == QLatin1String("*")) {
        *address = QHostAddress(QHostAddress::Any);
    } else if (name == QLatin1String("any4") || name == QLatin1String("0.0.0.0")) {
        *address = QHostAddress(QHostAddress::AnyIPv4);
    } else if (name == QLatin1String("any6") || name == QLatin1String("::")) {
        *address = QHostAddress(QHostAddress::AnyIPv6);
    } else {
        QHostAddress parsed;
        if (name.isEmpty() || !parsed.setAddress(name)) {
            if (error)
                *error = QCoreApplication::translate(
                             "Echoscope::ServerConfig",
                             "bind address \"%1\" is not an IP address; use "
                             "127.0.0.1, ::1, any, any4, any6 or a literal address")
                             .arg(text);
            return false;
        }
        *address = parsed;
    }
    return true;
}

bool ServerConfig::isLoopback(const QHostAddress &address)
{
    return address.isLoopback();
}

} // namespace Echoscope
