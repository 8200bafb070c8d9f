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
                           qint64 nowMs, quint8 flags)
{
    if (size < 0 || (size == 0 && !(flags & CaptureChunk::EndsMessage)))
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
            flags &= quint8(~CaptureChunk::EndsMessage); // the message's end is not held
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
    reserveRing(m_held + keep);
    if (keep > 0)
        copyIntoRing(m_head + m_held, data + skip, keep);
    m_held += keep;

    if (!m_chunks.empty() && !m_keepsBoundaries.load(std::memory_order_relaxed)) {
        ChunkHeader &last = m_chunks.back();
        if (last.direction == direction && flags == 0 && last.flags == 0 &&
            nowMs - last.timestampMs < kMergeWindowMs &&
            last.streamOffset + last.size == streamOffset + skip) {
            last.size += keep;
            m_keptTotal += keep;
            return;
        }
    }
    if (qint64(m_chunks.size()) >= maxChunks(capacity)) {
        if (m_policy == Policy::KeepFirst) {
            // A recording keeps each stream from its start without a gap: it is full.
            m_held -= keep;
            m_dropped += keep;
            if (m_limitReachedAtMs == 0)
                m_limitReachedAtMs = std::max<qint64>(1, nowMs);
            m_full.store(true, std::memory_order_release);
            return;
        }
        dropOldestChunk();
    }
    m_chunks.push_back(ChunkHeader{direction, flags, nowMs, streamOffset + skip, keep});
    m_keptTotal += keep;
    ++m_chunksMade;
}

void CaptureBuffer::ChunkQueue::shrinkTo(size_t limit)
{
    size_t capacity = 16; // the smallest power of two for `limit` and the headers held
    while (capacity < std::max(limit, m_size))
        capacity *= 2;
    if (capacity < m_capacity)
        reallocate(capacity);
}

void CaptureBuffer::ChunkQueue::reallocate(size_t capacity)
{
    auto headers = std::make_unique<ChunkHeader[]>(capacity);
    for (size_t i = 0; i < m_size; ++i)
        headers[i] = (*this)[i];
    m_headers = std::move(headers);
    m_capacity = capacity;
    m_head = 0;
}

qint64 CaptureBuffer::maxChunks(qint64 capacityBytes)
{
    constexpr qint64 kMinChunks = 16;
    return std::max(kMinChunks, capacityBytes / qint64(2 * sizeof(ChunkHeader)));
}

void CaptureBuffer::dropOldest(qint64 bytes)
{
    bytes = std::min(bytes, m_held);
    m_held -= bytes;
    m_dropped += bytes;
    m_head = m_ring.empty() ? 0 : (m_head + bytes) % qint64(m_ring.size());
    while (bytes > 0 && !m_chunks.empty()) {
        ChunkHeader &first = m_chunks.front();
        if (first.size <= bytes) {
            bytes -= first.size;
            m_chunks.pop_front();
        } else {
            first.size -= bytes;
            first.streamOffset += bytes;
            bytes = 0;
        }
    }
}

void CaptureBuffer::dropOldestChunk()
{
    if (m_chunks.front().size == 0)
        m_chunks.pop_front(); // an empty message's chunk holds no bytes
    else
        dropOldest(m_chunks.front().size); // header and bytes go together
}

void CaptureBuffer::reserveRing(qint64 bytes)
{
    const qint64 size = qint64(m_ring.size());
    if (bytes <= size)
        return;
    // Doubling: a client that sends a few bytes costs a few bytes, not the capacity.
    const qint64 capacity = m_capacity.load(std::memory_order_relaxed);
    resizeRing(std::min(capacity, std::max({bytes, 2 * size, qint64(256)})));
}

void CaptureBuffer::resizeRing(qint64 size)
{
    std::vector<char> ring(size_t(std::max<qint64>(0, size)));
    const qint64 held = std::min(m_held, size);
    if (held > 0)
        copyFromRing(m_head + (m_held - held), ring.data(), held);
    m_ring.swap(ring);
    m_head = 0;
}

void CaptureBuffer::copyIntoRing(qint64 position, const char *data, qint64 size)
{
    const qint64 ringSize = qint64(m_ring.size());
    position %= ringSize;
    const qint64 first = std::min(size, ringSize - position);
    std::copy_n(data, first, m_ring.data() + position);
    std::copy_n(data + first, size - first, m_ring.data());
}

void CaptureBuffer::copyFromRing(qint64 position, char *out, qint64 size) const
{
    const qint64 ringSize = qint64(m_ring.size());
    if (size <= 0 || ringSize == 0)
        return;
    position %= ringSize;
    const qint64 first = std::min(size, ringSize - position);
    std::copy_n(m_ring.data() + position, first, out);
    std::copy_n(m_ring.data(), size - first, out + first);
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
    if (capacity == 0) { // give the memory back
        m_chunks.release();
        m_ring = {};
        m_head = 0;
        return;
    }
    // At most maxChunks() headers, as append() keeps them (a ring of many small chunks
    // shrunk to a few KiB), in an array no larger than that needs.
    const qint64 limit = maxChunks(capacity);
    if (qint64(m_chunks.size()) > limit) {
        while (qint64(m_chunks.size()) > limit)
            dropOldestChunk();
        ++m_generation;
    }
    m_chunks.shrinkTo(size_t(limit));
    if (qint64(m_ring.size()) > capacity)
        resizeRing(capacity);
}

qint64 CaptureBuffer::allocatedBytes() const
{
    QMutexLocker locker(&m_mutex);
    return qint64(m_ring.size()) + m_chunks.allocatedBytes();
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
    qint64 position = m_head;
    for (size_t i = 0; i < m_chunks.size(); ++i) {
        const ChunkHeader &header = m_chunks[i];
        CaptureChunk chunk;
        chunk.direction = header.direction;
        chunk.timestampMs = header.timestampMs;
        chunk.streamOffset = header.streamOffset;
        chunk.flags = header.flags;
        chunk.bytes.resize(qsizetype(header.size));
        copyFromRing(position, chunk.bytes.data(), header.size);
        position += header.size;
        result.chunks.append(std::move(chunk));
    }
    fillTotals(&result);
    return result;
}

CaptureSnapshot CaptureBuffer::snapshotSince(const CapturePosition &from) const
{
    {
        QMutexLocker locker(&m_mutex);
        const qint64 heldFromTotal = m_keptTotal - m_held;
        const qint64 heldFromChunk = m_chunksMade - qint64(m_chunks.size());
        // The reader's last chunk, and every byte and chunk after it, must still be held
        // (its last chunk may have gone, if the reader had all of it).
        const bool followed = from.totalBytes >= heldFromTotal && from.totalBytes <= m_keptTotal &&
                              from.totalChunks >= heldFromChunk && from.totalChunks <= m_chunksMade;
        if (followed) {
            CaptureSnapshot result;
            result.tailOnly = true;
            // Walk back from the newest chunk to the reader's last one (from.totalChunks
            // - 1), so that the work follows what is new, not what is held.
            const qint64 lastSeen = from.totalChunks - 1 - heldFromChunk; // index, may be -1
            qint64 index = qint64(m_chunks.size());
            qint64 start = m_keptTotal; // total offset of chunk `index`
            while (index > 0 && index - 1 >= lastSeen) {
                --index;
                start -= m_chunks[size_t(index)].size;
            }
            // index is now max(lastSeen, 0) and start its first byte's total offset.
            for (; index < qint64(m_chunks.size()); ++index) {
                const ChunkHeader &header = m_chunks[size_t(index)];
                const qint64 skip = index == lastSeen ? from.totalBytes - start : 0;
                const qint64 size = header.size - skip;
                if (index == lastSeen && size <= 0) { // nothing merged into it since
                    start += header.size;
                    continue;
                }
                CaptureChunk chunk;
                chunk.direction = header.direction;
                chunk.timestampMs = header.timestampMs;
                chunk.streamOffset = header.streamOffset + skip;
                chunk.flags = header.flags;
                chunk.bytes.resize(qsizetype(size));
                copyFromRing(m_head + (start - heldFromTotal) + skip, chunk.bytes.data(), size);
                if (index == lastSeen)
                    result.continuesLastChunk = true;
                start += header.size;
                result.chunks.append(std::move(chunk));
            }
            fillTotals(&result);
            return result;
        }
    }
    return snapshot();
}

void CaptureBuffer::fillTotals(CaptureSnapshot *result) const
{
    result->capacityBytes = m_capacity.load(std::memory_order_relaxed);
    result->heldBytes = m_held;
    result->droppedBytes = m_dropped + m_droppedWhenFull.load(std::memory_order_relaxed);
    result->generation = m_generation;
    result->keepsFirst = m_policy == Policy::KeepFirst;
    result->receivedBytes = m_streamOffset[0].load(std::memory_order_relaxed);
    result->echoedBytes = m_streamOffset[1].load(std::memory_order_relaxed);
    result->receivedEndedAtMs = m_receivedEndedAtMs.load(std::memory_order_relaxed);
    result->limitReachedAtMs = m_limitReachedAtMs;
    result->heldFromTotal = m_keptTotal - m_held;
    result->heldFromChunk = m_chunksMade - qint64(m_chunks.size());
    result->endTotal = m_keptTotal;
    result->endChunk = m_chunksMade;
}

} // namespace Echoscope
