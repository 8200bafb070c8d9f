#include "websocketlog.h"

#include "wsframescanner.h"

namespace Echoscope {

void WebSocketLog::setRequest(const WebSocketRequest &request)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_request = request;
    m_hasRequest.store(true, std::memory_order_release);
}

WebSocketRequest WebSocketLog::request() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_request;
}

void WebSocketLog::addFrame(const WebSocketFrameRecord &frame)
{
    auto &counter = frame.received ? m_framesIn : m_framesOut;
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (frame.received && frame.opcode == WsFrameHeader::Ping)
        m_pings.store(m_pings.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_frames.size() >= size_t(kMaxFrames))
        m_frames.pop_front();
    m_frames.push_back(frame);
    ++m_framesSeen;
}

QList<WebSocketFrameRecord> WebSocketLog::frames(qint64 *framesSeen) const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    if (framesSeen)
        *framesSeen = m_framesSeen;
    return QList<WebSocketFrameRecord>(m_frames.begin(), m_frames.end());
}

} // namespace Echoscope
