#include "numbertext.h"

#include <QLocale>
#include <QString>

#include <cstring>
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
    AsciiRun(text).number(value);
}

char *writeDigits(char *out, quint64 value)
{
    // Two digits a step, from the end: half the divisions (a log line has a dozen numbers).
    static constexpr char kPairs[] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";
    char digits[20]; // 2^64 has 20 digits
    char *start = digits + sizeof digits;
    while (value >= 100) {
        const auto pair = size_t(value % 100) * 2;
        value /= 100;
        start -= 2;
        start[0] = kPairs[pair];
        start[1] = kPairs[pair + 1];
    }
    if (value >= 10) {
        start -= 2;
        start[0] = kPairs[value * 2];
        start[1] = kPairs[value * 2 + 1];
    } else {
        *--start = char('0' + value);
    }
    const auto count = size_t(digits + sizeof digits - start);
    std::memcpy(out, start, count);
    return out + count;
}

void appendThreeDigits(QString &text, int value)
{
    AsciiRun(text).threeDigits(value);
}

QString dataSizeText(qint64 bytes)
{
    QString text;
    appendDataSize(text, bytes);
    return text;
}

void appendDataSize(QString &text, qint64 bytes)
{
    AsciiRun(text).dataSize(bytes);
}

AsciiRun &AsciiRun::operator<<(QLatin1String piece)
{
    if (piece.isEmpty())
        return *this; // QLatin1String() has no data to copy from
    if (piece.size() > kCapacity - m_used) {
        flush();
        if (piece.size() > kCapacity) {
            m_text += piece;
            return *this;
        }
    }
    std::memcpy(m_buffer + m_used, piece.data(), size_t(piece.size()));
    m_used += int(piece.size());
    return *this;
}

AsciiRun &AsciiRun::operator<<(char c)
{
    *reserve(1) = c;
    ++m_used;
    return *this;
}

char *AsciiRun::reserve(int bytes)
{
    Q_ASSERT(bytes <= kCapacity);
    if (bytes > kCapacity - m_used)
        flush();
    return m_buffer + m_used;
}

void AsciiRun::flush()
{
    if (m_used == 0)
        return;
    m_text += QLatin1String(m_buffer, m_used);
    m_used = 0;
}

void AsciiRun::number(qint64 value)
{
    char *end = reserve(21); // a sign, 19 digits of 2^63
    if (value < 0)
        *end++ = '-';
    done(writeDigits(end, value < 0 ? 0 - quint64(value) : quint64(value)));
}

void AsciiRun::threeDigits(int value)
{
    Q_ASSERT(value >= 0 && value <= 999);
    char *out = reserve(3);
    out[0] = char('0' + value / 100);
    out[1] = char('0' + value / 10 % 10);
    out[2] = char('0' + value % 10);
    done(out + 3);
}

void AsciiRun::dataSize(qint64 bytes)
{
    // formattedDataSize() says "1 bytes": the one word it gets wrong.
    if (bytes == 1) {
        *this << QLatin1String("1 byte");
        return;
    }
    const bool negative = bytes < 0;
    quint64 magnitude = negative ? 0 - quint64(bytes) : quint64(bytes);
    // The whole values (most in the logs: "0 bytes", "1 KiB") are written here as
    // formattedDataSize() writes them, without its floating point.
    if (magnitude < 1024) {
        number(bytes);
        *this << QLatin1String(" bytes");
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
        number(bytes / qint64(unit));
        *this << ' ' << QLatin1String(kUnits[power]);
        return;
    }
    target() += QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeIecFormat);
}

} // namespace Echoscope::NumberText
