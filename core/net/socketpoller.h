#pragma once

#include <QPointer>
#include <QtGlobal>

#include <memory>
#include <vector>

QT_BEGIN_NAMESPACE
class QSocketNotifier;
QT_END_NAMESPACE

namespace Echoscope {

class EpollDispatcher;
class TransportHandler;

// The readiness of many connections of one thread through one epoll set (Linux).
//
// Qt's event dispatcher on Unix calls poll() over every enabled QSocketNotifier of the
// thread on every wake-up, so its cost grows with the connections held, not with the
// ones that are ready: with 10,000 idle clients connected, one active client's round
// trip took 4 ms instead of 31 µs. The poller registers one notifier, on its epoll
// descriptor; when that is readable it asks epoll_wait() for the ready connections
// only (at most 256 per turn, the rest at the next) and calls their handlers.
//
// Level-triggered, like QSocketNotifier: a connection with bytes left is reported again.
// A connection that wants neither direction is taken out of the set, so a hung-up peer
// whose reading is paused does not wake the thread. Not thread-safe: one thread, the one
// that first calls add(), where its notifier is made (the epoll descriptor itself is made
// at construction, so a server's descriptor count is settled once it has started).
// On a thread whose dispatcher is the WorkerDispatcher (workerdispatcher.h) it registers its
// connections in that dispatcher's epoll set instead and makes no notifier: the
// dispatcher's one epoll_pwait2() per wake-up calls the handlers.
// isSupported() is false where there is no epoll and in the portable build
// (ECHOSCOPE_PORTABLE_IO): callers then use a QSocketNotifier per connection. The backends
// are socketpoller_epoll.cpp and socketpoller_none.cpp; CMake builds one.
class SocketPoller
{
public:
    class Watch; // one registered descriptor

    static bool isSupported();

    SocketPoller();
    ~SocketPoller();
    SocketPoller(const SocketPoller &) = delete;
    SocketPoller &operator=(const SocketPoller &) = delete;

    // False when the epoll set could not be made (descriptors exhausted); then add()
    // returns nullptr.
    bool isValid() const;
    // Watches the descriptor for reading (writing off). nullptr if epoll refused it.
    Watch *add(qintptr descriptor, TransportHandler *handler);
    // Which directions to report; false from both takes it out of the set.
    void setReadWanted(Watch *watch, bool wanted);
    void setWriteWanted(Watch *watch, bool wanted);
    // Stops watching (call before closing the descriptor); no handler call follows,
    // even for readiness already collected in the current turn.
    void remove(Watch *watch);

    int watchCount() const { return m_watchCount; }
    // True inside a turn (a handler is on the call stack): not the time to destroy it.
    bool isDispatching() const;

private:
    void dispatch();
    void apply(Watch *watch, bool read, bool write);
    void deliver(Watch *watch, quint32 ready);
    bool useThreadDispatcher();

    int m_epoll = -1;
    std::unique_ptr<QSocketNotifier> m_notifier;
    // The thread's WorkerDispatcher, when the connections are in its set (chosen by the
    // first add()); the guard says whether it still exists (it goes with its thread).
    EpollDispatcher *m_dispatcher = nullptr;
    QPointer<QObject> m_dispatcherGuard;
    bool m_modeChosen = false;
    Watch *m_live = nullptr; // every watch not removed, a list through Watch::next
    int m_watchCount = 0;
    bool m_dispatching = false;
    std::vector<Watch *> m_removed; // freed when the current turn ends
};

} // namespace Echoscope
