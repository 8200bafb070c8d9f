#include "numbertext.h"

#include <QLocale>
#include <QString>

#include <limits>

namespace Echoscope::NumberText {

bool isAsciiDigit(QChar c)
{
    return c >= QLatin1Char('0') && c <= QLatin1Char('9');
}

bool parseWholeNumber(QStringView text, qint64 maximum, qint64 *number)
{
    if (text.isEmpty() || text.size() > 18)
        return false;
    for (const QChar c : text) {
        if (!isAsciiDigit(c))
            return false;
    }
    const qint64 value = text.toLongLong();
    if (value > maximum)
        return false;
    *number = value;
    return true;
}

bool parseByteSize(QStringView text, qint64 *bytes)
{
    constexpr qint64 kKibi = 1024;
    qsizetype digits = 0;
    while (digits < text.size() && isAsciiDigit(text.at(digits)))
        ++digits;
    const QStringView suffix = text.mid(digits);
    const auto is = [suffix](QStringView unit) {
        return suffix.compare(unit, Qt::CaseInsensitive) == 0;
    };
    qint64 unit = 1;
    if (suffix.isEmpty() || is(u"B"))
        unit = 1;
    else if (is(u"K") || is(u"KiB"))
        unit = kKibi;
    else if (is(u"M") || is(u"MiB"))
        unit = kKibi * kKibi;
    else if (is(u"G") || is(u"GiB"))
        unit = kKibi * kKibi * kKibi;
    else
        return false;
    qint64 count = 0;
    if (!parseWholeNumber(text.left(digits), std::numeric_limits<qint64>::max() / unit, &count))
        return false;
    *bytes = count * unit;
    return true;
}

bool parseDecimal(QStringView text, double *number)
{
    if (text.isEmpty() || text.size() > 24)
        return false;
    int dots = 0;
    int digits = 0;
    for (const QChar c : text) {
        if (c == QLatin1Char('.'))
            ++dots;
        else if (isAsciiDigit(c))
            ++digits;
        else
            return false;
    }
    if (dots > 1 || digits == 0)
        return false;
    bool ok = false;
    const double value = QLocale::c().toDouble(text, &ok);
    if (!ok)
        return false;
    *number = value;
    return true;
}

bool parseSeconds(QStringView text, qint64 maximumMs, qint64 *milliseconds)
{
    double seconds = 0;
    if (!parseDecimal(text, &seconds) || seconds * 1000.0 > double(maximumMs))
        return false;
    const qint64 rounded = qRound64(seconds * 1000.0);
    if (rounded == 0 && seconds > 0)
        return false;
    *milliseconds = rounded;
    return true;
}

void appendNumber(QString &text, qint64 value)
{
    char digits[21]; // a sign, 19 digits of 2^63
    char *end = digits;
    if (value < 0)
        *end++ = '-';
    end = writeDigits(end, value < 0 ? 0 - quint64(value) : quint64(value));
    text += QLatin1String(digits, end);
}

char *writeDigits(char *out, quint64 value)
{
    char reversed[20]; // 2^64 has 20 digits
    int count = 0;
    do {
        reversed[count++] = char('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (count > 0)
        *out++ = reversed[--count];
    return out;
}

void appendThreeDigits(QString &text, int value)
{
    Q_ASSERT(value >= 0 && value <= 999);
    const char digits[3] = {char('0' + value / 100), char('0' + value / 10 % 10),
                            char('0' + value % 10)};
    text += QLatin1String(digits, 3);
}

QString dataSizeText(qint64 bytes)
{
    QString text;
    appendDataSize(text, bytes);
    return text;
}

void appendDataSize(QString &text, qint64 bytes)
{
    // formattedDataSize() says "1 bytes": the one word it gets wrong.
    if (bytes == 1) {
        text += QLatin1String("1 byte");
        return;
    }
    const bool negative = bytes < 0;
    quint64 magnitude = negative ? 0 - quint64(bytes) : quint64(bytes);
    // The whole values (most in the logs: "0 bytes", "1 KiB") are written here as
    // formattedDataSize() writes them, without its floating point.
    if (magnitude < 1024) {
        appendNumber(text, bytes);
        text += QLatin1String(" bytes");
        return;
    }
    // The unit formattedDataSize() picks: the largest power of 1024 not above the value.
    static const char *const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    quint64 unit = 1024;
    int power = 0; // kUnits[power] names unit
    while (unit <= magnitude / 1024) {
        unit *= 1024;
        ++power;
    }
    // It picks the unit by the exact value and then rounds: 1,048,575 would read
    // "1024.0 KiB". A value that rounds up to the next unit is written in it.
    if (double(magnitude) / double(unit) >= 1023.95 &&
        unit <= quint64(std::numeric_limits<qint64>::max()) / 1024) {
        unit *= 1024;
        ++power;
        magnitude = unit;
        bytes = negative ? -qint64(unit) : qint64(unit);
    }
    if (magnitude % unit == 0) {
        appendNumber(text, bytes / qint64(unit));
        text += QLatin1Char(' ');
        text += QLatin1String(kUnits[power]);
        return;
    }
    text += QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeIecFormat);
}

} // namespace Echoscope::NumberText
