#pragma once

#include <QtGlobal>

#include <functional>
#include <mutex>
#include <vector>

namespace Echoscope {

// The ids of the clients whose counters moved since the reader last looked, so that a
// reader's work follows what changed rather than how many clients there are.
//
// A client's ClientStats puts its id here once when it goes from unchanged to changed
// (not on every update: see ClientStats::takeChanged()); the reader takes the whole list
// at its own pace. When the list goes from empty to non-empty, the wake function (if
// any) is called once, in the writer's thread, and not again until the reader has taken
// the list: an idle server wakes nobody. Thread-safe.
class ChangeFeed
{
public:
    using Wake = std::function<void()>;

    // Called with no lock held by the caller; may be empty. The function must be
    // thread-safe (posting an event is); it is called under the feed's lock, so that
    // setWake(nullptr) guarantees it runs no more once it returns.
    void setWake(Wake wake);
    void mark(quint64 clientId);
    // Every id marked since the last take(), in the order marked (a client is there
    // once per change of its flag); arms the wake function again.
    std::vector<quint64> take();
    bool isEmpty() const;

private:
    mutable std::mutex m_mutex;
    std::vector<quint64> m_ids;
    Wake m_wake;
    bool m_woken = false;
};

} // namespace Echoscope
