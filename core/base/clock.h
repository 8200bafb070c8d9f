#pragma once

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
} // namespace Clock

} // namespace Echoscope
