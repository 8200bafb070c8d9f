#pragma once

#include <QtGlobal>

namespace Echoscope {

// "The first N per second, then a summary", written once: the bookkeeping of one window
// on the monotonic clock (Clock::monotonicMs()). What is reported and what a summary
// says stay with the caller; the window decides which occurrences are shown one by one,
// when the previous window's summary is due, and how long the current one has left (for
// the caller's summary timer). Used by the server's refusals, the sessions' and UDP
// peers' message samples and the UDP service's warnings.
//
//     if (m_window.admit(now, [this] { flushSummary(); }))
//         report(...);                                   // one of the first N
//     else if (!m_summaryTimer->isActive())
//         m_summaryTimer->start(m_window.msLeft(now));   // counted into the summary
class RateWindow
{
public:
    static constexpr qint64 kDefaultWindowMs = 1000;

    explicit RateWindow(int perWindow = 0, qint64 windowMs = kDefaultWindowMs)
        : m_limit(perWindow), m_windowMs(windowMs)
    {}

    int limit() const { return m_limit; }
    void setLimit(int perWindow) { m_limit = perWindow; }

    // Counts one occurrence at nowMs. If the window it was counted in has ended,
    // flushEnded() is called first (the caller writes the ended window's summary) and a
    // new window starts at nowMs. True: one of the first `limit` of its window, to be
    // reported; false: to be summarised.
    template<typename Flush>
    bool admit(qint64 nowMs, Flush &&flushEnded)
    {
        if (nowMs - m_startMs >= m_windowMs || nowMs < m_startMs) {
            flushEnded();
            m_startMs = nowMs;
            m_shown = 0;
        }
        if (m_shown < m_limit) {
            ++m_shown;
            return true;
        }
        return false;
    }

    // Until the current window ends, at least 1 ms: when its summary is due.
    int msLeft(qint64 nowMs) const
    {
        return int(qBound<qint64>(1, m_windowMs - (nowMs - m_startMs), m_windowMs));
    }

    // Forgets the current window (a restart).
    void reset()
    {
        m_startMs = kNever;
        m_shown = 0;
    }

private:
    static constexpr qint64 kNever = -(qint64(1) << 62);

    int m_limit;
    qint64 m_windowMs;
    qint64 m_startMs = kNever;
    int m_shown = 0;
};

} // namespace Echoscope
