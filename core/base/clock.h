#pragma once

#include "numbertext.h"

#include <QString>
#include <QtGlobal>

namespace Echoscope {

// The two clocks of the engine, one job each:
// - monotonicMs() for every window, rate and timeout: it never steps, so a wall-clock
//   change (NTP, a suspended laptop, a user setting the date) cannot stretch or shrink a
//   one-second window or fire a timeout early;
// - wallMs() only to stamp what a person reads (event times, "connected at").
namespace Clock {
qint64 monotonicMs();
qint64 wallMs();
// A wallMs() time as local "hh:mm:ss.zzz", as the logs and the dashboard write it. The
// time-zone conversion and the format run once per second of time a thread writes, not once
// per line: a burst of connects and disconnects writes many lines in the same second.
QString timeOfDayText(qint64 epochMs);
void appendTimeOfDay(QString &text, qint64 epochMs);
void appendTimeOfDay(NumberText::AsciiRun &run, qint64 epochMs);
} // namespace Clock

} // namespace Echoscope
