#pragma once

#include <QByteArray>
#include <QList>
#include <QMetaType>
#include <QMutex>
#include <QtGlobal>

#include <atomic>
#include <memory>
#include <vector>

namespace Echoscope {

// A run of bytes that went one way at one moment, as the inspector shows it.
struct CaptureChunk
{
    enum class Direction { Received, Echoed };
    // A message transport's (WebSocket's) received chunks say where each message ends and
    // its kind, so that a recording keeps the messages; others have no flags.
    enum Flag : quint8 {
        EndsMessage = 0x1, // the last bytes of a message (an empty message: an empty chunk)
        TextMessage = 0x2, // part of a text message (else binary)
    };

    Direction direction = Direction::Received;
    qint64 timestampMs = 0;  // ms since the epoch
    qint64 streamOffset = 0; // offset of bytes[0] in this direction's stream since connect
    QByteArray bytes;
    quint8 flags = 0;
    bool endsMessage() const { return flags & EndsMessage; }
    bool isText() const { return flags & TextMessage; }
};

// A copy of one client's capture at one moment.
struct CaptureSnapshot
{
    QList<CaptureChunk> chunks; // oldest first
    qint64 capacityBytes = 0;   // the most the ring holds (received + echoed)
    qint64 heldBytes = 0;       // bytes in chunks
    qint64 droppedBytes = 0;    // not held: overwritten (DropOldest) or not kept (KeepFirst)
    quint64 generation = 0;     // grows with every change; equal: nothing new
    bool keepsFirst = false;    // the ring's policy: CaptureBuffer::Policy::KeepFirst
    // Bytes that went each way since connect, held or not: the end of each stream.
    qint64 receivedBytes = 0;
    qint64 echoedBytes = 0;
    qint64 receivedEndedAtMs = 0; // when the client ended its stream (half-close); 0: not yet
    qint64 limitReachedAtMs = 0;  // KeepFirst: when the first byte was not kept; 0: never

    // Where these chunks sit in everything the ring ever kept, for a reader that follows
    // it (CaptureBuffer::snapshotSince()). Bytes are counted as kept (both ways
    // together) and chunk headers as made, since the buffer was created.
    qint64 heldFromTotal = 0; // the ring's oldest held byte
    qint64 heldFromChunk = 0; // the ring's oldest held chunk
    qint64 endTotal = 0;      // past the newest held byte: the next reader's totalBytes
    qint64 endChunk = 0;      // past the newest chunk: the next reader's totalChunks
    // snapshotSince() only: chunks holds what came after the reader's position, and
    // chunks.first() carries on the reader's last chunk (the ring merged bytes into it).
    bool tailOnly = false;
    bool continuesLastChunk = false;
};

// What a reader of a CaptureBuffer has taken so far (see CaptureBuffer::snapshotSince()).
struct CapturePosition
{
    qint64 totalBytes = 0;  // CaptureSnapshot::endTotal of the last read
    qint64 totalChunks = 0; // CaptureSnapshot::endChunk of the last read
};

// The newest bytes a client sent and was sent, with timestamps: a bounded ring per
// client for the dashboard's inspector. The session's thread appends; any thread
// copies it out. The ring takes no memory until bytes arrive, and never more than
// capacity() plus its chunk headers, which are bounded too: at most maxChunks() (half
// the capacity's worth of headers, in an array of at most twice that, as a power of two),
// so a client that alternates 1-byte writes and reads cannot make the headers cost 32
// times the bytes. A full ring, or one at its chunk limit, drops its oldest bytes.
// Shrinking the capacity gives back what the smaller ring and its headers do not need.
//
// The bytes live in one circular byte array (grown by doubling up to the capacity,
// then reused), beside a queue of small chunk headers, so an append is a copy into
// the ring and no allocation: the echo path of a captured client does not call malloc
// or free per read. snapshot() copies the held bytes out (under the lock: about 0.1 ms
// for 1 MiB).
//
// With Policy::KeepFirst (a recording, see Recording) it keeps the first bytes
// instead: once full it keeps nothing more, in either direction, so what it holds is
// each stream from its start up to one moment, which can be replayed. Once full it
// stays so (growing it does not start capturing again), and append() only counts
// offsets, without the lock.
class CaptureBuffer
{
public:
    static constexpr qint64 kDefaultCapacityBytes = 16 * 1024;
    enum class Policy { DropOldest, KeepFirst };

    explicit CaptureBuffer(qint64 capacityBytes = kDefaultCapacityBytes,
                           Policy policy = Policy::DropOldest);
    CaptureBuffer(const CaptureBuffer &) = delete;
    CaptureBuffer &operator=(const CaptureBuffer &) = delete;

    // Writer side (normally the session's thread); any thread may call these. With a
    // capacity of 0 append() only counts offsets: no lock, no copy. One writer at a time.
    // flags (CaptureChunk::Flag): with EndsMessage an empty append is kept too (an empty
    // message); a chunk cut short by a full KeepFirst buffer loses EndsMessage.
    void append(CaptureChunk::Direction direction, const char *data, qint64 size, qint64 nowMs,
                quint8 flags = 0);
    // The client ended its stream (the server read its half-close): a recording replays it.
    void markReceivedEnd(qint64 nowMs);
    // Grows or shrinks the ring; shrinking drops the oldest bytes. 0 turns capturing off
    // (and frees what was held).
    void setCapacity(qint64 capacityBytes);

    // Datagram mode (UDP): each append() stays its own chunk, so that a view shows
    // where one datagram ends. By default appends close in time join the last chunk.
    void setKeepsBoundaries(bool keep) { m_keepsBoundaries.store(keep); }

    qint64 capacity() const;
    // The most chunk headers held at once: capacity / (2 * header size), at least 16.
    static qint64 maxChunks(qint64 capacityBytes);
    Policy policy() const { return m_policy; }
    // The memory the ring holds now: its bytes and its headers' array.
    qint64 allocatedBytes() const;
    quint64 generation() const;
    CaptureSnapshot snapshot() const;
    // Only what was captured after `from` (a previous snapshot's end): the bytes merged
    // into the reader's last chunk since, as a chunk of their own with
    // continuesLastChunk, then the newer chunks; tailOnly is set. If the ring dropped
    // some of it before it was read (or from is not a position of this buffer), the
    // result is snapshot(): the whole of what remains, tailOnly false, and the reader
    // starts again from it. Counts and totals are the whole ring's either way.
    CaptureSnapshot snapshotSince(const CapturePosition &from) const;

private:
    // One chunk in the ring: its bytes follow the previous chunk's.
    struct ChunkHeader
    {
        CaptureChunk::Direction direction;
        quint8 flags; // in the padding after direction: a header stays 32 bytes
        qint64 timestampMs;
        qint64 streamOffset;
        qint64 size;
    };
    static_assert(sizeof(ChunkHeader) <= 32, "maxChunks() counts on 32-byte chunk headers");

    // The chunk headers, oldest first, in a circular array made by the first chunk and
    // grown by doubling (from 16 headers, 512 bytes): nothing for an idle client. A full
    // ring pops one header and pushes one per chunk, which here is index arithmetic on
    // the cache lines the last append touched. (It was a std::deque, whose iterators and
    // block map take more cache lines per append: 53 against 49 ns per append in a
    // micro-benchmark of 100 rings. A QList walks its whole buffer, a cache miss per
    // chunk.)
    class ChunkQueue
    {
    public:
        bool empty() const { return m_size == 0; }
        size_t size() const { return m_size; }
        ChunkHeader &front() { return m_headers[m_head]; }
        ChunkHeader &back() { return m_headers[(m_head + m_size - 1) & (m_capacity - 1)]; }
        const ChunkHeader &operator[](size_t i) const
        {
            return m_headers[(m_head + i) & (m_capacity - 1)];
        }
        void pop_front()
        {
            m_head = (m_head + 1) & (m_capacity - 1);
            --m_size;
        }
        void push_back(const ChunkHeader &header)
        {
            if (m_size == m_capacity)
                grow();
            m_headers[(m_head + m_size) & (m_capacity - 1)] = header;
            ++m_size;
        }
        void release() // empty, and the memory given back
        {
            m_headers.reset();
            m_capacity = m_size = m_head = 0;
        }
        // A smaller array when the one held is larger than `limit` headers need.
        void shrinkTo(size_t limit);
        qint64 allocatedBytes() const { return qint64(m_capacity * sizeof(ChunkHeader)); }

    private:
        void grow() { reallocate(m_capacity == 0 ? 16 : 2 * m_capacity); }
        void reallocate(size_t capacity);

        std::unique_ptr<ChunkHeader[]> m_headers;
        size_t m_capacity = 0; // 0 or a power of two
        size_t m_size = 0;
        size_t m_head = 0; // index of the oldest
    };

    // All with m_mutex held.
    void dropOldest(qint64 bytes);
    void dropOldestChunk();         // the oldest chunk, header and bytes; m_chunks is not empty
    void reserveRing(qint64 bytes); // the ring can hold `bytes` (at most the capacity)
    void resizeRing(qint64 size);   // a new ring of `size` bytes with the held ones first
    void copyIntoRing(qint64 position, const char *data, qint64 size);
    void copyFromRing(qint64 position, char *out, qint64 size) const;
    void fillTotals(CaptureSnapshot *snapshot) const;

    mutable QMutex m_mutex;
    std::atomic<qint64> m_capacity; // written under m_mutex; read without it to skip work
    const Policy m_policy;
    qint64 m_limitReachedAtMs = 0;
    // KeepFirst once full: append() only counts, without the lock (one writer).
    std::atomic<bool> m_full{false};
    std::atomic<qint64> m_droppedWhenFull{0};
    std::atomic<qint64> m_receivedEndedAtMs{0};
    ChunkQueue m_chunks;
    std::vector<char> m_ring;
    qint64 m_head = 0; // ring index of the oldest held byte
    qint64 m_held = 0;
    qint64 m_dropped = 0;
    // Bytes seen each way, counted even while capturing is off. Only the writer
    // changes them (append() is called by one thread at a time); while capturing, under
    // m_mutex, so that a snapshot's stream ends agree with its chunks.
    std::atomic<qint64> m_streamOffset[2] = {0, 0};
    quint64 m_generation = 0;
    // Everything kept since creation: bytes put in the ring and chunk headers made.
    qint64 m_keptTotal = 0;
    qint64 m_chunksMade = 0;
    std::atomic<bool> m_keepsBoundaries{false};
};

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::CaptureSnapshot)
