#include "dashboardsettings.h"

#include <QSettings>

namespace Echoscope {

namespace {

// Reads a whole number within [low, high]; anything else keeps the current value.
template<typename T>
void readNumber(const QSettings &settings, const QString &key, T low, T high, T *value)
{
    bool ok = false;
    const qint64 number = settings.value(key).toLongLong(&ok);
    if (ok && number >= qint64(low) && number <= qint64(high))
        *value = T(number);
}

// Keys an older version wrote that a newer one has replaced.
void removeRetiredKeys(QSettings &settings)
{
    settings.remove(QStringLiteral("preferences/messageEventsPerSecond")); // now messageRows
}

} // namespace

DashboardSettings::DashboardSettings()
{
    config.captureBytesPerClient = kDefaultCaptureBytesPerClient;
    config.messageEventsPerSecond = kDefaultMessageEventsPerSecond;
}

ServerConfig DashboardSettings::engineConfig(const ServerConfig &fields) const
{
    ServerConfig result = fields;
    result.captureBytesPerClient = captureBytesPerClient;
    result.messageEventsPerSecond = messageEventsPerSecond;
    return result;
}

void DashboardSettings::load(QSettings &settings)
{
    settings.beginGroup(QStringLiteral("server"));
    ServerConfig loaded = config;
    const QString bind = settings.value(QStringLiteral("bind"), loaded.bindAddress).toString();
    QHostAddress address;
    QString error;
    if (ServerConfig::resolveBindAddress(bind, &address, &error))
        loaded.bindAddress = bind;
    readNumber<quint16>(settings, QStringLiteral("port"), 0, 65535, &loaded.port);
    FramingConfig framing = loaded.framing;
    if (FramingConfig::parseMode(
            settings.value(QStringLiteral("framing"), framing.modeString()).toString(), &framing,
            &error)) {
        QByteArray delimiter;
        if (FramingConfig::parseDelimiter(settings.value(QStringLiteral("delimiter")).toString(),
                                          &delimiter, &error))
            framing.delimiter = delimiter;
        readNumber(settings, QStringLiteral("lengthBytes"), 2, 4, &framing.lengthBytes);
        loaded.framing = framing;
    }
    readNumber<qint64>(settings, QStringLiteral("maxMessageBytes"), 1, qint64(1) << 32,
                       &loaded.maxMessageBytes);
    readNumber(settings, QStringLiteral("maxClients"), 1, 1000000, &loaded.maxClients);
    readNumber(settings, QStringLiteral("idleTimeoutMs"), 0, 24 * 3600 * 1000,
               &loaded.idleTimeoutMs);
    readNumber(settings, QStringLiteral("threads"), 0, 256, &loaded.threads);
    loaded.tlsCertificateFile = settings.value(QStringLiteral("tlsCertificate")).toString();
    loaded.tlsKeyFile = settings.value(QStringLiteral("tlsKey")).toString();
    ServerConfig::parseTlsVersion(settings.value(QStringLiteral("tlsMinimumVersion")).toString(),
                                  &loaded.tlsMinimumVersion);
    const QVariant udpEcho = settings.value(QStringLiteral("udpEcho"));
    if (udpEcho.isValid())
        loaded.udpEcho = udpEcho.toBool();
    readNumber<quint16>(settings, QStringLiteral("udpPort"), 0, 65535, &loaded.udpPort);
    readNumber(settings, QStringLiteral("udpIdleTimeoutMs"), 1, ServerConfig::kMaxUdpIdleTimeoutMs,
               &loaded.udpIdleTimeoutMs);
    readNumber(settings, QStringLiteral("maxUdpPeers"), 1, 1000000, &loaded.maxUdpPeers);
    const QVariant webSocketEcho = settings.value(QStringLiteral("webSocketEcho"));
    if (webSocketEcho.isValid())
        loaded.webSocketEcho = webSocketEcho.toBool();
    readNumber<quint16>(settings, QStringLiteral("webSocketPort"), 0, 65535, &loaded.webSocketPort);
    settings.endGroup();
    if (!loaded.validate().isEmpty() && loaded.isTls()) {
        // Half a TLS setting (or one that clashes): lose that, not the rest.
        loaded.tlsCertificateFile.clear();
        loaded.tlsKeyFile.clear();
    }
    if (loaded.validate().isEmpty())
        config = loaded;

    settings.beginGroup(QStringLiteral("preferences"));
    readNumber(settings, QStringLiteral("retainDisconnectedSeconds"), 0, 24 * 3600,
               &retainDisconnectedSeconds);
    readNumber(settings, QStringLiteral("eventLogRows"), 100, 1000000, &eventLogRows);
    if (settings.contains(QStringLiteral("messageRows"))) {
        readNumber(settings, QStringLiteral("messageRows"), 0, 1000, &messageEventsPerSecond);
    } else {
        // Before the log followed this setting it showed at most 5 rows per client per
        // second whatever was saved here (20 by default); keep what the user saw.
        int saved = -1;
        readNumber(settings, QStringLiteral("messageEventsPerSecond"), 0, 1000, &saved);
        if (saved >= 0)
            messageEventsPerSecond = qMin(saved, kLogRowsBeforeMessageRows);
    }
    readNumber<qint64>(settings, QStringLiteral("captureBytesPerClient"), 0,
                       ServerConfig::kMaxCaptureBytesPerClient, &captureBytesPerClient);
    readNumber<qint64>(settings, QStringLiteral("inspectedCaptureBytes"), 0,
                       ServerConfig::kMaxCaptureBytesPerClient, &inspectedCaptureBytes);
    settings.endGroup();

    settings.beginGroup(QStringLiteral("metrics"));
    metricsEnabled = settings.value(QStringLiteral("enabled"), metricsEnabled).toBool();
    readNumber<quint16>(settings, QStringLiteral("port"), 0, 65535, &metricsPort);
    const QString metricsBind =
        settings.value(QStringLiteral("address"), metricsAddress).toString();
    if (ServerConfig::resolveBindAddress(metricsBind, &address, &error))
        metricsAddress = metricsBind;
    settings.endGroup();

    settings.beginGroup(QStringLiteral("control"));
    controlEnabled = settings.value(QStringLiteral("enabled"), controlEnabled).toBool();
    readNumber<quint16>(settings, QStringLiteral("port"), 0, 65535, &controlPort);
    const QString controlBind =
        settings.value(QStringLiteral("address"), controlAddress).toString();
    if (ServerConfig::resolveBindAddress(controlBind, &address, &error))
        controlAddress = controlBind;
    controlTokenFile = settings.value(QStringLiteral("tokenFile"), controlTokenFile).toString();
    settings.endGroup();
}

QList<QPair<QString, QVariant>> DashboardSettings::entries() const
{
    return {
        {QStringLiteral("server/bind"), config.bindAddress},
        {QStringLiteral("server/port"), config.port},
        {QStringLiteral("server/framing"), config.framing.modeString()},
        {QStringLiteral("server/delimiter"),
         FramingConfig::delimiterToString(config.framing.delimiter)},
        {QStringLiteral("server/lengthBytes"), config.framing.lengthBytes},
        {QStringLiteral("server/maxMessageBytes"), config.maxMessageBytes},
        {QStringLiteral("server/maxClients"), config.maxClients},
        {QStringLiteral("server/idleTimeoutMs"), config.idleTimeoutMs},
        {QStringLiteral("server/threads"), config.threads},
        {QStringLiteral("server/tlsCertificate"), config.tlsCertificateFile},
        {QStringLiteral("server/tlsKey"), config.tlsKeyFile},
        {QStringLiteral("server/tlsMinimumVersion"),
         ServerConfig::tlsVersionString(config.tlsMinimumVersion)},
        {QStringLiteral("server/udpEcho"), config.udpEcho},
        {QStringLiteral("server/udpPort"), config.udpPort},
        {QStringLiteral("server/udpIdleTimeoutMs"), config.udpIdleTimeoutMs},
        {QStringLiteral("server/maxUdpPeers"), config.maxUdpPeers},
        {QStringLiteral("server/webSocketEcho"), config.webSocketEcho},
        {QStringLiteral("server/webSocketPort"), config.webSocketPort},
        {QStringLiteral("preferences/retainDisconnectedSeconds"), retainDisconnectedSeconds},
        {QStringLiteral("preferences/eventLogRows"), eventLogRows},
        {QStringLiteral("preferences/messageRows"), messageEventsPerSecond},
        {QStringLiteral("preferences/captureBytesPerClient"), captureBytesPerClient},
        {QStringLiteral("preferences/inspectedCaptureBytes"), inspectedCaptureBytes},
        {QStringLiteral("metrics/enabled"), metricsEnabled},
        {QStringLiteral("metrics/port"), metricsPort},
        {QStringLiteral("metrics/address"), metricsAddress},
        {QStringLiteral("control/enabled"), controlEnabled},
        {QStringLiteral("control/port"), controlPort},
        {QStringLiteral("control/address"), controlAddress},
        {QStringLiteral("control/tokenFile"), controlTokenFile},
    };
}

void DashboardSettings::save(QSettings &settings) const
{
    for (const auto &[key, value] : entries())
        settings.setValue(key, value);
    removeRetiredKeys(settings);
}

void DashboardSettings::save(QSettings &settings, const DashboardSettings &remembered,
                             const DashboardSettings &runOnly) const
{
    const auto shown = entries();
    const auto before = remembered.entries();
    const auto given = runOnly.entries();
    for (qsizetype i = 0; i < shown.size(); ++i) {
        const bool isRunOnly = given.at(i).second != before.at(i).second;
        const bool unchanged = shown.at(i).second == given.at(i).second;
        settings.setValue(shown.at(i).first,
                          isRunOnly && unchanged ? before.at(i).second : shown.at(i).second);
    }
    removeRetiredKeys(settings);
}

} // namespace Echoscope
