#pragma once

#include <QtGlobal>

QT_BEGIN_NAMESPACE
class QAbstractEventDispatcher;
QT_END_NAMESPACE

namespace Echoscope {

// The event dispatcher of the engine's worker threads (Linux): it waits in epoll itself.
// Headless, the main thread has it too (main.cpp): it registers the clients and writes their
// lines, and with --threads 1 serves them. The dashboard's GUI thread keeps the platform's.
//
// Qt's dispatcher on Unix wakes a worker with ppoll() over its wake-up descriptor and the
// SocketPoller's epoll descriptor, and the poller then calls epoll_wait() for the ready
// connections: two system calls per wake-up, and the timer list read in between. This one
// keeps one epoll set per thread holding the SocketPoller's connections (SocketPoller finds
// it and registers there instead of in its own set), the QSocketNotifiers of the thread
// (TLS, WebSocket, UDP) and an eventfd for wakeUp(); timers (every Qt::TimerType, zero
// timers included) become epoll_pwait2()'s timeout, with nanosecond precision. One
// epoll_pwait2() per wake-up serves them all; posted events are sent as Qt's dispatcher
// sends them, at the start of every processEvents().
//
// create() gives one for QThread::setEventDispatcher() (or, before the application object
// exists, QCoreApplication::setEventDispatcher()), or nullptr where it is not used:
// other systems and the portable build (ECHOSCOPE_PORTABLE_IO) keep Qt's dispatcher, and
// so does ECHOSCOPE_WORKER_DISPATCHER=qt in the environment (read once; for side-by-side
// benchmarks). The backends are workerdispatcher_epoll.cpp and workerdispatcher_none.cpp.
class WorkerDispatcher
{
public:
    // A QSocketNotifier's dynamic property: true on a Read notifier of a descriptor that
    // several workers watch (a listening socket) makes this dispatcher add it with
    // EPOLLEXCLUSIVE, so that one connection wakes one worker, not all. Set it before the
    // notifier is first enabled; Qt's dispatcher ignores it (every worker wakes, one accepts).
    static constexpr char kExclusiveWakeUp[] = "echoscopeExclusiveWakeUp";

    // Supported here and not turned off by ECHOSCOPE_WORKER_DISPATCHER=qt.
    static bool isEnabled();
    // A new dispatcher for a thread not yet started, or nullptr (not enabled, or the
    // descriptors could not be made): then the thread keeps Qt's.
    static QAbstractEventDispatcher *create();
    // Waits with epoll_wait() and millisecond timeouts instead of epoll_pwait2(): on kernels
    // before 5.11 (found at the first wait), or asked for with
    // ECHOSCOPE_WORKER_DISPATCHER=epoll_wait.
    static bool waitsInMilliseconds();
    // How often `dispatcher` (one of these) has written its eventfd to wake its thread: an
    // event posted by another thread does, one the thread posts to itself does not. 0 for
    // any other dispatcher. For tests.
    static quint64 wakeUpWrites(const QAbstractEventDispatcher *dispatcher);
};

} // namespace Echoscope
