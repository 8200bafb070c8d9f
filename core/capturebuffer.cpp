#include "capturebuffer.h"

#include <QMutexLocker>

#include <algorithm>

namespace Echoscope {

namespace {
// A read merges into the previous chunk when it goes the same way within this
// time: a stream of small reads shows as one run, not one header per read.
constexpr qint64 kMergeWindowMs = 1;
} // namespace

CaptureBuffer::CaptureBuffer(qint64 capacityBytes, Policy policy)
    : m_capacity(std::max<qint64>(0, capacityBytes)), m_policy(policy)
{}

void CaptureBuffer::append(CaptureChunk::Direction direction, const char *data, qint64 size,
                           qint64 nowMs)
{
    if (size <= 0)
        return;
    std::atomic<qint64> &offset =
        m_streamOffset[direction == CaptureChunk::Direction::Received ? 0 : 1];
    const qint64 streamOffset = offset.load(std::memory_order_relaxed);
    if (m_capacity.load(std::memory_order_relaxed) == 0) {
        offset.store(streamOffset + size, std::memory_order_relaxed);
        return;
    }
    if (m_full.load(std::memory_order_acquire)) { // a full KeepFirst keeps nothing more
        offset.store(streamOffset + size, std::memory_order_relaxed);
        m_droppedWhenFull.store(m_droppedWhenFull.load(std::memory_order_relaxed) + size,
                                std::memory_order_relaxed);
        return;
    }
    QMutexLocker locker(&m_mutex);
    offset.store(streamOffset + size, std::memory_order_relaxed);
    ++m_generation;
    const qint64 capacity = m_capacity.load(std::memory_order_relaxed);
    if (capacity == 0) {
        m_dropped += size;
        return;
    }
    if (m_policy == Policy::KeepFirst) {
        const qint64 room = m_limitReachedAtMs != 0 ? 0 : std::max<qint64>(0, capacity - m_held);
        if (size > room) {
            // Full: keep what fits, then nothing more, so each stream held has no gap.
            m_dropped += size - room;
            if (m_limitReachedAtMs == 0)
                m_limitReachedAtMs = std::max<qint64>(1, nowMs);
            m_full.store(true, std::memory_order_release);
            size = room;
            if (size == 0)
                return;
        }
    }

    // Only the newest capacity bytes of a large write can be kept.
    qint64 skip = 0;
    if (size > capacity) {
        skip = size - capacity;
        m_dropped += skip;
    }
    const qint64 keep = size - skip;
    if (m_held + keep > capacity)
        dropOldest(m_held + keep - capacity);

    if (!m_chunks.empty() && !m_keepsBoundaries.load(std::memory_order_relaxed)) {
        CaptureChunk &last = m_chunks.back();
        if (last.direction == direction && nowMs - last.timestampMs < kMergeWindowMs &&
            last.streamOffset + last.bytes.size() == streamOffset + skip) {
            last.bytes.append(data + skip, keep);
            m_held += keep;
            return;
        }
    }
    CaptureChunk chunk;
    chunk.direction = direction;
    chunk.timestampMs = nowMs;
    chunk.streamOffset = streamOffset + skip;
    chunk.bytes = QByteArray(data + skip, keep);
    m_chunks.push_back(std::move(chunk));
    m_held += keep;
}

void CaptureBuffer::dropOldest(qint64 bytes)
{
    while (bytes > 0 && !m_chunks.empty()) {
        CaptureChunk &first = m_chunks.front();
        if (first.bytes.size() <= bytes) {
            bytes -= first.bytes.size();
            m_held -= first.bytes.size();
            m_dropped += first.bytes.size();
            m_chunks.pop_front();
        } else {
            first.bytes.remove(0, bytes);
            first.streamOffset += bytes;
            m_held -= bytes;
            m_dropped += bytes;
            bytes = 0;
        }
    }
}

void CaptureBuffer::setCapacity(qint64 capacityBytes)
{
    QMutexLocker locker(&m_mutex);
    const qint64 capacity = std::max<qint64>(0, capacityBytes);
    m_capacity.store(capacity, std::memory_order_relaxed);
    if (m_held > capacity) {
        dropOldest(m_held - capacity);
        ++m_generation;
    }
    if (capacity == 0)
        m_chunks = {}; // give the memory back
}

void CaptureBuffer::markReceivedEnd(qint64 nowMs)
{
    qint64 none = 0;
    m_receivedEndedAtMs.compare_exchange_strong(none, std::max<qint64>(1, nowMs),
                                                std::memory_order_relaxed);
    QMutexLocker locker(&m_mutex);
    ++m_generation;
}

qint64 CaptureBuffer::capacity() const
{
    return m_capacity.load(std::memory_order_relaxed);
}

quint64 CaptureBuffer::generation() const
{
    QMutexLocker locker(&m_mutex);
    return m_generation;
}

CaptureSnapshot CaptureBuffer::snapshot() const
{
    QMutexLocker locker(&m_mutex);
    CaptureSnapshot result;
    result.chunks.reserve(qsizetype(m_chunks.size()));
    for (const CaptureChunk &chunk : m_chunks)
        result.chunks.append(chunk); // implicitly shared: no byte copy under the lock
    result.capacityBytes = m_capacity.load(std::memory_order_relaxed);
    result.heldBytes = m_held;
    result.droppedBytes = m_dropped + m_droppedWhenFull.load(std::memory_order_relaxed);
    result.generation = m_generation;
    result.keepsFirst = m_policy == Policy::KeepFirst;
    result.receivedBytes = m_streamOffset[0].load(std::memory_order_relaxed);
    result.echoedBytes = m_streamOffset[1].load(std::memory_order_relaxed);
    result.receivedEndedAtMs = m_receivedEndedAtMs.load(std::memory_order_relaxed);
    result.limitReachedAtMs = m_limitReachedAtMs;
    return result;
}

} // namespace Echoscope
