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

} // namespace Echoscope::NumberText
