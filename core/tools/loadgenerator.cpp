#include "loadgenerator.h"

#include "translations.h"

#include <QJsonObject>

#include <algorithm>
#include <cmath>

#ifdef Q_OS_UNIX
#include "loadgeneratorrunner_p.h"
#endif

namespace Echoscope {

bool LoadConfig::parseMode(const QString &text, Mode *mode)
{
    for (Mode candidate : {Mode::PingPong, Mode::Stream, Mode::OneShot, Mode::Hold}) {
        if (text.compare(modeName(candidate), Qt::CaseInsensitive) == 0) {
            *mode = candidate;
            return true;
        }
    }
    return false;
}

QString LoadConfig::modeName(Mode mode)
{
    switch (mode) {
    case Mode::PingPong:
        return QStringLiteral("pingpong");
    case Mode::Stream:
        return QStringLiteral("stream");
    case Mode::OneShot:
        return QStringLiteral("oneshot");
    case Mode::Hold:
        return QStringLiteral("hold");
    }
    return QString();
}

bool LoadConfig::parseProtocol(const QString &text, Protocol *protocol)
{
    for (Protocol candidate : {Protocol::Tcp, Protocol::WebSocket}) {
        if (text.compare(protocolName(candidate), Qt::CaseInsensitive) == 0) {
            *protocol = candidate;
            return true;
        }
    }
    return false;
}

QString LoadConfig::protocolName(Protocol protocol)
{
    return protocol == Protocol::WebSocket ? QStringLiteral("ws") : QStringLiteral("tcp");
}

bool LoadConfig::isValidWsPath(const QString &path)
{
    return path.startsWith(QLatin1Char('/')) && std::all_of(path.begin(), path.end(), [](QChar c) {
               return c.unicode() > 0x20 && c.unicode() < 0x7f;
           });
}

QString LoadConfig::validate() const
{
    if (port == 0)
        return LoadGenerator::tr("the port must be given (1 to 65535)");
    if (protocol == Protocol::WebSocket && !isValidWsPath(wsPath))
        return LoadGenerator::tr("the WebSocket path must start with / and hold printable ASCII "
                                 "without spaces (got \"%1\")")
            .arg(wsPath);
    if (connections < 1 || connections > 1000000)
        return LoadGenerator::tr("connections must be from 1 to 1,000,000 (got %1)")
            .arg(connections);
    if (messageBytes < 1 || messageBytes > (qint64(1) << 30))
        return LoadGenerator::tr("the size must be from 1 byte to 1 GiB (got %1)")
            .arg(messageBytes);
    if (durationMs < 1)
        return LoadGenerator::tr("the duration must be positive");
    if (warmupMs < 0)
        return LoadGenerator::tr("the warm-up must not be negative");
    if (timeoutMs < 1)
        return LoadGenerator::tr("the timeout must be positive");
    return QString();
}

// LatencyHistogram: 32 buckets per power of two of microseconds.
int LatencyHistogram::bucketFor(qint64 microseconds)
{
    if (microseconds < kSubBuckets)
        return int(std::max<qint64>(0, microseconds));
    int exponent = 0;
    while ((microseconds >> exponent) >= 2 * kSubBuckets)
        ++exponent;
    // microseconds >> exponent is in [kSubBuckets, 2 * kSubBuckets).
    const int bucket = (exponent + 1) * kSubBuckets + int((microseconds >> exponent) - kSubBuckets);
    return std::min(bucket, kBuckets - 1);
}

qint64 LatencyHistogram::bucketHigh(int bucket)
{
    if (bucket < kSubBuckets)
        return bucket;
    const int exponent = bucket / kSubBuckets - 1;
    const qint64 mantissa = kSubBuckets + bucket % kSubBuckets;
    return ((mantissa + 1) << exponent) - 1;
}

void LatencyHistogram::add(qint64 microseconds)
{
    ++m_counts[size_t(bucketFor(microseconds))];
    ++m_count;
    m_max = std::max(m_max, microseconds);
}

void LatencyHistogram::reset()
{
    m_counts.fill(0);
    m_count = 0;
    m_max = 0;
}

qint64 LatencyHistogram::percentile(double fraction) const
{
    if (m_count == 0)
        return 0;
    const qint64 rank = std::max<qint64>(1, qint64(std::ceil(fraction * double(m_count))));
    qint64 seen = 0;
    for (int bucket = 0; bucket < kBuckets; ++bucket) {
        seen += m_counts[size_t(bucket)];
        if (seen >= rank)
            return std::min(bucketHigh(bucket), m_max);
    }
    return m_max;
}

double LoadResult::megabytesPerSecond() const
{
    return seconds > 0 ? double(bytesEchoed) / 1e6 / seconds : 0;
}

double LoadResult::roundTripsPerSecond() const
{
    return seconds > 0 ? double(roundTrips) / seconds : 0;
}

QString LoadResult::summary() const
{
    const bool ws = config.protocol == LoadConfig::Protocol::WebSocket;
    // Over WebSocket the bytes are message payload; the line says so.
    const QString echoed =
        ws ? LoadGenerator::tr("MB/s echoed (payload)") : LoadGenerator::tr("MB/s echoed");
    QString line =
        LoadGenerator::tr("%1%2 %3 B x %4, %5 s: ")
            .arg(ws ? QStringLiteral("ws ") : QString(), LoadConfig::modeName(config.mode))
            .arg(config.messageBytes)
            .arg(Translations::counted(
                "Echoscope::LoadGenerator",
                QT_TRANSLATE_N_NOOP("Echoscope::LoadGenerator", "%1 connection(s)"),
                config.connections))
            .arg(seconds, 0, 'f', 2);
    switch (config.mode) {
    case LoadConfig::Mode::PingPong:
        line += LoadGenerator::tr("%1 requests/s, %2 %3, latency p50 %4 us, p99 %5 us, "
                                  "max %6 us")
                    .arg(roundTripsPerSecond(), 0, 'f', 0)
                    .arg(megabytesPerSecond(), 0, 'f', 2)
                    .arg(echoed)
                    .arg(latency.percentile(0.5))
                    .arg(latency.percentile(0.99))
                    .arg(latency.maxMicroseconds());
        break;
    case LoadConfig::Mode::Stream:
        line += QStringLiteral("%1 %2").arg(megabytesPerSecond(), 0, 'f', 2).arg(echoed);
        if (ws)
            line += LoadGenerator::tr(", %1 messages/s").arg(roundTripsPerSecond(), 0, 'f', 0);
        break;
    case LoadConfig::Mode::OneShot:
        line += LoadGenerator::tr("%1 connections/s, latency p50 %2 us, p99 %3 us")
                    .arg(roundTripsPerSecond(), 0, 'f', 0)
                    .arg(latency.percentile(0.5))
                    .arg(latency.percentile(0.99));
        break;
    case LoadConfig::Mode::Hold:
        line += Translations::counted(
                    "Echoscope::LoadGenerator",
                    QT_TRANSLATE_N_NOOP("Echoscope::LoadGenerator",
                                        "%2 of %1 connection(s) held and still echoing"),
                    config.connections)
                    .arg(held);
        break;
    }
    if (upgrade.count() > 0)
        line += LoadGenerator::tr("; upgrade p50 %1 us, p99 %2 us")
                    .arg(upgrade.percentile(0.5))
                    .arg(upgrade.percentile(0.99));
    line += Translations::counted("Echoscope::LoadGenerator",
                                  QT_TRANSLATE_N_NOOP("Echoscope::LoadGenerator", "; %1 error(s)"),
                                  errors());
    if (errors() > 0) {
        line += LoadGenerator::tr(" (%1 mismatched, %2 short echoes, %3 connect, %4 socket, %5 "
                                  "timeouts")
                    .arg(mismatches)
                    .arg(shortEchoes)
                    .arg(connectErrors)
                    .arg(socketErrors)
                    .arg(timeouts);
        if (ws)
            line += LoadGenerator::tr(", %1 upgrade, %2 protocol")
                        .arg(upgradeErrors)
                        .arg(protocolErrors);
        line += LoadGenerator::tr("; first: %1)").arg(firstError);
    }
    return line;
}

QJsonObject LoadResult::toJson() const
{
    QJsonObject object;
    object.insert(QStringLiteral("protocol"), LoadConfig::protocolName(config.protocol));
    object.insert(QStringLiteral("mode"), LoadConfig::modeName(config.mode));
    if (config.protocol == LoadConfig::Protocol::WebSocket) {
        object.insert(QStringLiteral("ws_path"), config.wsPath);
        object.insert(QStringLiteral("bytes_are"), QStringLiteral("payload"));
    }
    object.insert(QStringLiteral("host"), config.host.toString());
    object.insert(QStringLiteral("port"), config.port);
    object.insert(QStringLiteral("connections"), config.connections);
    object.insert(QStringLiteral("size"), config.messageBytes);
    object.insert(QStringLiteral("seconds"), seconds);
    object.insert(QStringLiteral("bytes_sent"), bytesSent);
    object.insert(QStringLiteral("bytes_echoed"), bytesEchoed);
    object.insert(QStringLiteral("mb_per_s"), megabytesPerSecond());
    object.insert(QStringLiteral("round_trips"), roundTrips);
    object.insert(QStringLiteral("round_trips_per_s"), roundTripsPerSecond());
    object.insert(QStringLiteral("connections_opened"), connectionsOpened);
    if (config.mode == LoadConfig::Mode::Hold)
        object.insert(QStringLiteral("held"), held);
    if (latency.count() > 0) {
        object.insert(QStringLiteral("latency_p50_us"), latency.percentile(0.5));
        object.insert(QStringLiteral("latency_p99_us"), latency.percentile(0.99));
        object.insert(QStringLiteral("latency_max_us"), latency.maxMicroseconds());
    }
    if (upgrade.count() > 0) {
        object.insert(QStringLiteral("upgrade_p50_us"), upgrade.percentile(0.5));
        object.insert(QStringLiteral("upgrade_p99_us"), upgrade.percentile(0.99));
    }
    object.insert(QStringLiteral("errors"), errors());
    object.insert(QStringLiteral("mismatches"), mismatches);
    object.insert(QStringLiteral("short_echoes"), shortEchoes);
    object.insert(QStringLiteral("connect_errors"), connectErrors);
    object.insert(QStringLiteral("socket_errors"), socketErrors);
    object.insert(QStringLiteral("timeouts"), timeouts);
    object.insert(QStringLiteral("upgrade_errors"), upgradeErrors);
    object.insert(QStringLiteral("protocol_errors"), protocolErrors);
    if (!firstError.isEmpty())
        object.insert(QStringLiteral("first_error"), firstError);
    return object;
}

LoadGenerator::LoadGenerator(const LoadConfig &config) : m_config(config) {}

LoadGenerator::~LoadGenerator() = default;

#ifdef Q_OS_UNIX

LoadResult LoadGenerator::run(const Progress &progress)
{
    Runner runner(m_config, m_stopRequested);
    return runner.run(progress);
}

#else

LoadResult LoadGenerator::run(const Progress &)
{
    LoadResult result;
    result.config = m_config;
    result.socketErrors = 1;
    result.firstError = LoadGenerator::tr("the load generator needs a POSIX system");
    return result;
}

#endif

} // namespace Echoscope
