#include "units.h"

#include "clock.h"
#include "translations.h"

#include <QCoreApplication>
#include <QLocale>

#include <limits>

namespace Echoscope::Units {

QLocale locale()
{
    QLocale locale;
    locale.setNumberOptions(locale.numberOptions() & ~QLocale::OmitGroupSeparator);
    return locale;
}

QString bytes(qint64 bytes)
{
    // Under 1 KiB the exact count, with its plural ("1 byte", "512 bytes"), where
    // formattedDataSize() would say "1 bytes".
    if (bytes > -1024 && bytes < 1024)
        return exactBytes(bytes);
    // formattedDataSize() picks the unit by the exact value and then rounds, so 1,048,575
    // would read "1,024.0 KiB": a value that rounds up to the next unit is shown in it.
    const quint64 magnitude = bytes < 0 ? 0 - quint64(bytes) : quint64(bytes);
    quint64 unit = 1024;
    while (unit <= magnitude / 1024)
        unit *= 1024;
    if (magnitude < unit * 1024 && double(magnitude) / double(unit) >= 1023.95 &&
        unit * 1024 <= quint64(std::numeric_limits<qint64>::max()))
        bytes = bytes < 0 ? -qint64(unit * 1024) : qint64(unit * 1024);
    return locale().formattedDataSize(bytes, 1, QLocale::DataSizeIecFormat);
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
    return QCoreApplication::translate("Units", "%1/s")
        .arg(Units::bytes(qRound64(qMax(0.0, bytes))));
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
    return Clock::timeOfDayText(epochMs);
}

QString sentence(const QString &clause)
{
    QString text = clause.trimmed();
    if (text.isEmpty())
        return text;
    text[0] = text.at(0).toUpper();
    if (!text.endsWith(QLatin1Char('.')) && !text.endsWith(QLatin1Char('!')) &&
        !text.endsWith(QLatin1Char('?')))
        text += QLatin1Char('.');
    return text;
}

} // namespace Echoscope::Units
