#pragma once

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

} // namespace Echoscope::NumberText
