#pragma once

#include <QString>
#include <QStringView>
#include <QtGlobal>

// Numbers as the command line and the dashboard's fields take them: plain ASCII digits,
// nothing QString::toLongLong() would also let through (a sign, spaces, "0x").
namespace Echoscope::NumberText {

bool isAsciiDigit(QChar c);
// Digits only, at most `maximum`.
bool parseWholeNumber(QStringView text, qint64 maximum, qint64 *number);
// Digits with an optional unit: B, K or KiB, M or MiB, G or GiB (1024-based, any case).
bool parseByteSize(QStringView text, qint64 *bytes);
// Digits with at most one decimal point ("2", "0.5", ".25"): no sign, no exponent.
bool parseDecimal(QStringView text, double *number);
// Seconds as parseDecimal() takes them, rounded to whole milliseconds, at most `maximumMs`.
// A time above 0 that would round to 0 ms is refused (0 often means "off").
bool parseSeconds(QStringView text, qint64 maximumMs, qint64 *milliseconds);

// A byte size in the engine's texts (fault descriptions, log lines, errors): Qt's
// QLocale::c().formattedDataSize() in IEC units, so C-locale numbers whatever the user's
// locale (scripts read headless logs; the dashboard writes its own figures in the user's
// locale through Units::bytes()). Exact below 1 KiB ("0 bytes", "1 byte", "1023 bytes");
// above, no decimal when the value is whole in its unit ("1 KiB", "64 KiB", "1 MiB")
// and one otherwise ("1.5 KiB", "953.7 MiB"); a value that would round to 1024 of a unit is
// written in the next one ("1 MiB", not "1024.0 KiB").
QString dataSizeText(qint64 bytes);
void appendDataSize(QString &text, qint64 bytes);

// Appenders for lines written in a burst (the headless log): no temporary QString.
// value in decimal ASCII, as QString::number(value) writes it.
void appendNumber(QString &text, qint64 value);
// The same digits written at `out` (room for 20 is enough), for a line's ASCII pieces
// gathered in one buffer; returns the end of what it wrote.
char *writeDigits(char *out, quint64 value);
// value (0 to 999) as three digits, zero-padded: milliseconds after a decimal point.
void appendThreeDigits(QString &text, int value);

// A line's plain ASCII pieces (words, numbers, sizes, addresses) gathered in a buffer on
// the stack and appended to the QString in one call. QString::append() costs about 110
// instructions a call whatever it appends, and a log line is a dozen short pieces: the
// disconnect line took 2,000 instructions of a short connection's 21,000 in appends. What
// is not ASCII (escaped text, an IPv6 address) goes to target(), which appends what was
// gathered first, so the order holds. The destructor appends the rest.
class AsciiRun
{
public:
    explicit AsciiRun(QString &text) : m_text(text) {}
    ~AsciiRun() { flush(); }
    AsciiRun(const AsciiRun &) = delete;
    AsciiRun &operator=(const AsciiRun &) = delete;

    AsciiRun &operator<<(QLatin1String piece);
    AsciiRun &operator<<(char c);
    // As appendNumber(), appendThreeDigits() and appendDataSize() write them.
    void number(qint64 value);
    void threeDigits(int value);
    void dataSize(qint64 bytes);
    // Room for `bytes` more at the returned pointer; then done() with the end written.
    char *reserve(int bytes);
    void done(char *end) { m_used = int(end - m_buffer); }
    // The line itself, with what was gathered appended: for what is not plain ASCII.
    QString &target()
    {
        flush();
        return m_text;
    }

private:
    static constexpr int kCapacity = 160;
    void flush();

    QString &m_text;
    int m_used = 0;
    char m_buffer[kCapacity];
};

} // namespace Echoscope::NumberText
