#pragma once

#include <QString>
#include <QtGlobal>

#include <memory>
#include <vector>

namespace Echoscope {

// The descriptors a thread that runs its own loop (not Qt's) waits on: the load generator's
// connections. Level-triggered; each descriptor carries a tag (the caller's index) that
// comes back with its readiness. One file per backend, chosen by CMake with the rest of
// core/net's: pollset_epoll.cpp (Linux) and pollset_poll.cpp (poll(), every other POSIX
// system and the portable build, ECHOSCOPE_PORTABLE_IO). Not on Windows.
//
// Not thread-safe. Remove a descriptor before closing it (the epoll backend leaves that to
// close(), at no cost; poll() must not be given a closed one).
class PollSet
{
public:
    enum Event : quint32 {
        Readable = 0x1, // data, or the peer shut its side (a read returns 0)
        Writable = 0x2,
        Error = 0x4,  // reported whether asked for or not
        HangUp = 0x8, // both directions are shut; reported whether asked for or not
    };
    struct Ready
    {
        quint32 tag;
        quint32 events; // Event bits
    };

    PollSet();
    ~PollSet();
    PollSet(const PollSet &) = delete;
    PollSet &operator=(const PollSet &) = delete;

    // False when the set could not be made (out of descriptors); see errorString().
    bool isValid() const;
    QString errorString() const;

    // events: what to wait for, Readable and Writable bits. False if the OS refused it.
    bool add(int fd, quint32 tag, quint32 events);
    void modify(int fd, quint32 tag, quint32 events);
    void remove(int fd);

    // Waits up to timeoutMs for readiness: the number of ready descriptors, then
    // ready(0 .. n-1); 0 on a timeout or a signal, -1 on another error (errno says which).
    int wait(int timeoutMs);
    const Ready &ready(int i) const { return m_ready[size_t(i)]; }

private:
    struct Backend;
    std::unique_ptr<Backend> d;
    std::vector<Ready> m_ready;
};

} // namespace Echoscope
