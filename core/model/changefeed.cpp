#include "changefeed.h"

namespace Echoscope {

void ChangeFeed::setWake(Wake wake)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_wake = std::move(wake);
    m_woken = !m_ids.empty(); // a reader that comes late takes what is there itself
}

void ChangeFeed::mark(quint64 clientId)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_ids.push_back(clientId);
    if (!m_woken && m_wake) {
        m_woken = true;
        m_wake();
    }
}

std::vector<quint64> ChangeFeed::take()
{
    std::vector<quint64> ids;
    std::lock_guard<std::mutex> lock(m_mutex);
    ids.swap(m_ids);
    m_woken = false;
    return ids;
}

bool ChangeFeed::isEmpty() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_ids.empty();
}

} // namespace Echoscope
