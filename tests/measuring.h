#pragma once

// What the tests that measure CPU time, latency or memory share. Header-only, for tests.

#include <QEventLoop>
#include <QTimer>

namespace EchoTest {

// Whether this test program is built with AddressSanitizer (./echoscope.sh asan). Such a
// build runs several times slower and holds more memory (every allocation goes through the
// sanitizer's allocator, with red zones and a quarantine), so a test's bounds on CPU time,
// latency and memory are the instrumented build's where this is true. The figure a user
// gets is the plain build's, which keeps the tight bound.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

// Runs this thread's event loop for `ms`, as the application's runs: it sleeps until
// something happens. A window in which this process's CPU time or wake-ups are measured is
// this, not QTest::qWait(), which processes events and then sleeps 10 ms, over and over:
// 100 wake-ups a second that the application does not have. (Their CPU time is small:
// tst_Dashboard's idle figure was the same within its spread either way.)
inline void runEventLoopFor(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, Qt::PreciseTimer, &loop, &QEventLoop::quit); // not ±5 %
    loop.exec();
}

} // namespace EchoTest
