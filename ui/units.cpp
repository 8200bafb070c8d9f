#include "units.h"

#include "translations.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QLocale>

namespace Echoscope::Units {

QLocale locale()
{
    QLocale locale;
    locale.setNumberOptions(locale.numberOptions() & ~QLocale::OmitGroupSeparator);
    return locale;
}

namespace {
// Whole bytes, then one decimal in the largest binary unit that keeps the number below
// 1024: "512 B", "1.2 KiB", "12.0 MiB".
QString scaled(double value, const QString &suffix)
{
    static const char *const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    constexpr int kLastUnit = int(sizeof(kUnits) / sizeof(kUnits[0])) - 1;
    int unit = 0;
    while (unit < kLastUnit && value >= 1023.95) { // would print as 1024.0 or more
        value /= 1024.0;
        ++unit;
    }
    const QLocale numbers = locale();
    const QString number =
        unit == 0 ? numbers.toString(qRound64(value)) : numbers.toString(value, 'f', 1);
    return number + QLatin1Char(' ') + QLatin1String(kUnits[unit]) + suffix;
}
} // namespace

QString bytes(qint64 bytes)
{
    return scaled(double(bytes), QString());
}

QString exactBytes(qint64 bytes)
{
    // n computed first: lupdate 6.4 misses a translate() whose n is a qualified call.
    const int n = Translations::pluralCount(bytes);
    return QCoreApplication::translate("Units", "%1 byte(s)", nullptr, n).arg(count(bytes));
}

QString messages(qint64 value)
{
    const int n = Translations::pluralCount(value);
    return QCoreApplication::translate("Units", "%1 message(s)", nullptr, n).arg(count(value));
}

QString bytesPerSecond(double bytes)
{
    return scaled(qMax(0.0, bytes), QStringLiteral("/s"));
}

QString count(qint64 value)
{
    return locale().toString(value);
}

QString perSecond(double value)
{
    if (value >= 100 || value == 0)
        return locale().toString(qRound64(value)) + QStringLiteral("/s");
    return locale().toString(value, 'f', 1) + QStringLiteral("/s");
}

QString duration(qint64 ms)
{
    const qint64 seconds = qMax<qint64>(0, ms) / 1000;
    if (seconds < 60)
        return QStringLiteral("%1 s").arg(seconds);
    if (seconds < 3600)
        return QStringLiteral("%1 min %2 s")
            .arg(seconds / 60)
            .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    if (seconds < 86400)
        return QStringLiteral("%1 h %2 min")
            .arg(seconds / 3600)
            .arg(seconds / 60 % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1 d %2 h")
        .arg(seconds / 86400)
        .arg(seconds / 3600 % 24, 2, 10, QLatin1Char('0'));
}

QString clock(qint64 ms)
{
    const qint64 seconds = qMax<qint64>(0, ms) / 1000;
    const QString time = QStringLiteral("%1:%2:%3")
                             .arg(seconds / 3600 % 24, 2, 10, QLatin1Char('0'))
                             .arg(seconds / 60 % 60, 2, 10, QLatin1Char('0'))
                             .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    return seconds >= 86400 ? QStringLiteral("%1 d %2").arg(seconds / 86400).arg(time) : time;
}

QString timeOfDay(qint64 epochMs)
{
    return QDateTime::fromMSecsSinceEpoch(epochMs).toString(QStringLiteral("hh:mm:ss.zzz"));
}

} // namespace Echoscope::Units
