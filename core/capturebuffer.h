#pragma once

#include <QByteArray>
#include <QList>
#include <QMetaType>
#include <QMutex>
#include <QtGlobal>

#include <atomic>
#include <deque>
#include <vector>

namespace Echoscope {

// A run of bytes that went one way at one moment, as the inspector shows it.
struct CaptureChunk
{
    enum class Direction { Received, Echoed };

    Direction direction = Direction::Received;
    qint64 timestampMs = 0;  // ms since the epoch
    qint64 streamOffset = 0; // offset of bytes[0] in this direction's stream since connect
    QByteArray bytes;
};

// A copy of one client's capture at one moment.
struct CaptureSnapshot
{
    QList<CaptureChunk> chunks; // oldest first
    qint64 capacityBytes = 0;   // the most the ring holds (received + echoed)
    qint64 heldBytes = 0;       // bytes in chunks
    qint64 droppedBytes = 0;    // captured once, overwritten since (oldest first)
    quint64 generation = 0;     // grows with every change; equal: nothing new
};

// The newest bytes a client sent and was sent, with timestamps: a bounded ring per
// client for the dashboard's inspector. The session's thread appends; any thread
// copies it out. The ring takes no memory until bytes arrive, and never more than
// capacity() plus a fixed overhead per chunk; a full ring drops its oldest bytes.
class CaptureBuffer
{
public:
    static constexpr qint64 kDefaultCapacityBytes = 16 * 1024;

    explicit CaptureBuffer(qint64 capacityBytes = kDefaultCapacityBytes);
    CaptureBuffer(const CaptureBuffer &) = delete;
    CaptureBuffer &operator=(const CaptureBuffer &) = delete;

    // Writer side (normally the session's thread); any thread may call these. With a
    // capacity of 0 append() only counts offsets: no lock, no copy. One writer at a time.
    void append(CaptureChunk::Direction direction, const char *data, qint64 size, qint64 nowMs);
    // Grows or shrinks the ring; shrinking drops the oldest bytes. 0 turns capturing off
    // (and frees what was held).
    void setCapacity(qint64 capacityBytes);

    // Datagram mode (UDP): each append() stays its own chunk, so that a view shows
    // where one datagram ends. By default appends close in time join the last chunk.
    void setKeepsBoundaries(bool keep) { m_keepsBoundaries.store(keep); }

    qint64 capacity() const;
    quint64 generation() const;
    CaptureSnapshot snapshot() const;

private:
    void dropOldest(qint64 bytes); // m_mutex held

    mutable QMutex m_mutex;
    std::atomic<qint64> m_capacity; // written under m_mutex; read without it to skip work
    std::deque<CaptureChunk> m_chunks;
    qint64 m_held = 0;
    qint64 m_dropped = 0;
    // Bytes seen each way, counted even while capturing is off. Only the writer
    // changes them (append() is called by one thread at a time).
    std::atomic<qint64> m_streamOffset[2] = {0, 0};
    quint64 m_generation = 0;
    std::atomic<bool> m_keepsBoundaries{false};
};

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::CaptureSnapshot)
