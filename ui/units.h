#pragma once

#include <QLocale>
#include <QString>
#include <QtGlobal>

namespace Echoscope {

// How the dashboard writes numbers for people: binary units (KiB, MiB), thousands
// separators, short durations. The exact value is for tooltips. Every byte size the
// dashboard shows goes through bytes() (or exactBytes()): one format, the locale's.
namespace Units {

// The user's locale, with thousands separators even where it would leave them out.
QLocale locale();
// QLocale::formattedDataSize() (IEC, one decimal); under 1 KiB, exactBytes().
QString bytes(qint64 bytes);          // "1 byte", "512 bytes", "1.5 KiB", "12.0 MiB"
QString exactBytes(qint64 bytes);     // "1 byte", "1,234,567 bytes"
QString messages(qint64 count);       // "1 message", "4,812 messages"
QString bytesPerSecond(double bytes); // bytes() per second: "0 bytes/s", "12.3 KiB/s"
QString count(qint64 value);          // "4,812"
QString perSecond(double value);      // "12.5/s", "4,812/s"
QString duration(qint64 ms);          // "12 s", "3 min 04 s", "1 h 02 min", "2 d 03 h"
QString clock(qint64 ms);             // "00:12:34", "1 d 02:03:04"
QString timeOfDay(qint64 epochMs);    // local "hh:mm:ss.zzz"

// The engine's messages are clauses to be composed ("cannot read the control token file
// …"; the banner says "Could not start the control API: cannot read …", the command line
// "echoscope: cannot read …"). Where one is shown on its own (a note under a field, a
// tooltip), this makes it a sentence: its first letter a capital, a full stop at its end.
QString sentence(const QString &clause);

} // namespace Units
} // namespace Echoscope
