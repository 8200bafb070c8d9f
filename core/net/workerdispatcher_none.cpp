#include "workerdispatcher.h"

// Qt's dispatcher everywhere but Linux, and in the portable build (ECHOSCOPE_PORTABLE_IO).
// workerdispatcher_epoll.cpp is the Linux backend.

namespace Echoscope {

bool WorkerDispatcher::isEnabled()
{
    return false;
}

bool WorkerDispatcher::waitsInMilliseconds()
{
    return false;
}

QAbstractEventDispatcher *WorkerDispatcher::create()
{
    return nullptr;
}

quint64 WorkerDispatcher::wakeUpWrites(const QAbstractEventDispatcher *)
{
    return 0;
}

} // namespace Echoscope
