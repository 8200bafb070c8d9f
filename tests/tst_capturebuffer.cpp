#include "capturebuffer.h"

#include <QTest>

using namespace Echoscope;

namespace {
using Direction = CaptureChunk::Direction;

QByteArray joined(const CaptureSnapshot &capture, Direction direction)
{
    QByteArray bytes;
    for (const CaptureChunk &chunk : capture.chunks) {
        if (chunk.direction == direction)
            bytes += chunk.bytes;
    }
    return bytes;
}
} // namespace

class tst_CaptureBuffer : public QObject
{
    Q_OBJECT

private slots:
    void emptyUntilBytesArrive();
    void keepsBothDirectionsInOrder();
    void mergesReadsInTheSameMillisecond();
    void snapshotSinceCopiesOnlyTheTail();
    void dropsOldestWhenFull();
    void largeWriteKeepsItsTail();
    void capacityZeroCountsOffsetsOnly();
    void shrinkingDropsOldest();
    void alternatingBytesKeepHeadersBounded();
    void shrinkingGivesHeadersBack();
    void keepFirstStopsAtTheChunkLimit();
    void ringMatchesAModelThroughWrapsAndResizes_data();
    void ringMatchesAModelThroughWrapsAndResizes();
};

void tst_CaptureBuffer::emptyUntilBytesArrive()
{
    CaptureBuffer buffer(1024);
    const CaptureSnapshot capture = buffer.snapshot();
    QVERIFY(capture.chunks.isEmpty());
    QCOMPARE(capture.capacityBytes, 1024);
    QCOMPARE(capture.heldBytes, 0);
    QCOMPARE(capture.generation, 0u);
    buffer.append(Direction::Received, "x", 0, 5); // nothing
    QCOMPARE(buffer.generation(), 0u);
    // The chunk headers' queue is made by the first byte, which it keeps.
    buffer.append(Direction::Received, "y", 1, 6);
    const CaptureSnapshot first = buffer.snapshot();
    QCOMPARE(first.chunks.size(), 1);
    QCOMPARE(first.chunks.first().bytes, QByteArray("y"));
    QCOMPARE(first.chunks.first().streamOffset, 0);
    QCOMPARE(first.chunks.first().timestampMs, 6);
    QCOMPARE(first.heldBytes, 1);
    QCOMPARE(first.receivedBytes, 1);
}

void tst_CaptureBuffer::keepsBothDirectionsInOrder()
{
    CaptureBuffer buffer(1024);
    buffer.append(Direction::Received, "hello", 5, 100);
    buffer.append(Direction::Echoed, "hel", 3, 101);
    buffer.append(Direction::Echoed, "lo", 2, 105);
    buffer.append(Direction::Received, "!", 1, 106);
    const CaptureSnapshot capture = buffer.snapshot();
    QCOMPARE(capture.chunks.size(), 4);
    QCOMPARE(capture.chunks[0].bytes, QByteArray("hello"));
    QCOMPARE(capture.chunks[0].timestampMs, 100);
    QCOMPARE(capture.chunks[1].direction, Direction::Echoed);
    QCOMPARE(capture.chunks[2].streamOffset, 3);
    QCOMPARE(capture.chunks[3].streamOffset, 5);
    QCOMPARE(capture.heldBytes, 11);
    QCOMPARE(capture.droppedBytes, 0);
    QCOMPARE(capture.generation, 4u);
}

void tst_CaptureBuffer::mergesReadsInTheSameMillisecond()
{
    CaptureBuffer buffer(1024);
    buffer.append(Direction::Received, "ab", 2, 100);
    buffer.append(Direction::Received, "cd", 2, 100);
    buffer.append(Direction::Received, "ef", 2, 101); // a new millisecond: a new chunk
    const CaptureSnapshot capture = buffer.snapshot();
    QCOMPARE(capture.chunks.size(), 2);
    QCOMPARE(capture.chunks[0].bytes, QByteArray("abcd"));
    QCOMPARE(capture.chunks[1].streamOffset, 4);
}

// A reader that follows the ring gets only what came after its position: the bytes
// merged into its last chunk since (continuesLastChunk), then the new chunks. When the
// ring dropped bytes it had not read, it gets the whole of what remains.
void tst_CaptureBuffer::snapshotSinceCopiesOnlyTheTail()
{
    CaptureBuffer buffer(64);
    buffer.append(Direction::Received, "hello", 5, 100);
    CaptureSnapshot read = buffer.snapshotSince({});
    QVERIFY(read.tailOnly);
    QCOMPARE(read.chunks.size(), 1);
    QCOMPARE(read.endTotal, 5);
    QCOMPARE(read.endChunk, 1);
    CapturePosition position{read.endTotal, read.endChunk};

    read = buffer.snapshotSince(position); // nothing new
    QVERIFY(read.tailOnly);
    QVERIFY(read.chunks.isEmpty());
    QCOMPARE(read.heldBytes, 5);

    buffer.append(Direction::Received, " you", 4, 100); // joins "hello" in the ring
    buffer.append(Direction::Echoed, "hello", 5, 100);
    read = buffer.snapshotSince(position);
    QVERIFY(read.tailOnly);
    QVERIFY(read.continuesLastChunk);
    QCOMPARE(read.chunks.size(), 2);
    QCOMPARE(read.chunks[0].bytes, QByteArray(" you"));
    QCOMPARE(read.chunks[0].streamOffset, 5);
    QCOMPARE(read.chunks[1].bytes, QByteArray("hello"));
    QCOMPARE(read.chunks[1].direction, Direction::Echoed);
    QCOMPARE(read.heldBytes, 14);
    position = {read.endTotal, read.endChunk};

    // An empty message's chunk is new once, then not again.
    buffer.append(Direction::Received, "", 0, 101, CaptureChunk::EndsMessage);
    read = buffer.snapshotSince(position);
    QCOMPARE(read.chunks.size(), 1);
    QVERIFY(read.chunks[0].bytes.isEmpty());
    QVERIFY(!read.continuesLastChunk);
    position = {read.endTotal, read.endChunk};
    QVERIFY(buffer.snapshotSince(position).chunks.isEmpty());

    // Dropping bytes already read is not a restart.
    const QByteArray sixty(60, 'z');
    buffer.append(Direction::Received, sixty.constData(), sixty.size(), 102);
    read = buffer.snapshotSince(position);
    QVERIFY(read.tailOnly);
    QCOMPARE(read.chunks.size(), 1);
    QCOMPARE(read.chunks[0].bytes, sixty);
    QCOMPARE(read.heldFromTotal, 14 + 60 - 64);
    position = {read.endTotal, read.endChunk};

    // Dropping bytes not read yet is: the whole ring, to start again from.
    buffer.append(Direction::Echoed, sixty.constData(), sixty.size(), 103);
    buffer.append(Direction::Received, sixty.constData(), sixty.size(), 104);
    read = buffer.snapshotSince(position);
    QVERIFY(!read.tailOnly);
    const CaptureSnapshot whole = buffer.snapshot();
    QCOMPARE(read.chunks.size(), whole.chunks.size());
    QCOMPARE(read.heldBytes, 64);
    QVERIFY(read.heldFromTotal > position.totalBytes);
}

void tst_CaptureBuffer::dropsOldestWhenFull()
{
    CaptureBuffer buffer(10);
    QByteArray sent;
    for (int i = 0; i < 100; ++i) {
        const QByteArray piece = QByteArray::number(i).rightJustified(3, '0');
        sent += piece;
        buffer.append(Direction::Received, piece.constData(), piece.size(), i * 10);
        const CaptureSnapshot capture = buffer.snapshot();
        QVERIFY(capture.heldBytes <= 10);
        QCOMPARE(capture.heldBytes + capture.droppedBytes, qint64(sent.size()));
        QCOMPARE(joined(capture, Direction::Received), sent.right(capture.heldBytes));
        QCOMPARE(capture.chunks.constFirst().streamOffset, capture.droppedBytes);
    }
}

void tst_CaptureBuffer::largeWriteKeepsItsTail()
{
    CaptureBuffer buffer(8);
    buffer.append(Direction::Echoed, "0123456789abcdef", 16, 1);
    const CaptureSnapshot capture = buffer.snapshot();
    QCOMPARE(capture.chunks.size(), 1);
    QCOMPARE(capture.chunks[0].bytes, QByteArray("89abcdef"));
    QCOMPARE(capture.chunks[0].streamOffset, 8);
    QCOMPARE(capture.droppedBytes, 8);
}

void tst_CaptureBuffer::capacityZeroCountsOffsetsOnly()
{
    CaptureBuffer buffer(0);
    buffer.append(Direction::Received, "abcdef", 6, 1);
    QVERIFY(buffer.snapshot().chunks.isEmpty());
    // Turned on later (an inspector opened), offsets still count from the connect.
    buffer.setCapacity(100);
    buffer.append(Direction::Received, "gh", 2, 2);
    const CaptureSnapshot capture = buffer.snapshot();
    QCOMPARE(capture.chunks.size(), 1);
    QCOMPARE(capture.chunks[0].streamOffset, 6);
    QCOMPARE(capture.chunks[0].bytes, QByteArray("gh"));
}

void tst_CaptureBuffer::shrinkingDropsOldest()
{
    CaptureBuffer buffer(100);
    buffer.append(Direction::Received, "0123456789", 10, 1);
    buffer.append(Direction::Echoed, "0123456789", 10, 2);
    buffer.setCapacity(5);
    CaptureSnapshot capture = buffer.snapshot();
    QCOMPARE(capture.heldBytes, 5);
    QCOMPARE(capture.chunks.size(), 1);
    QCOMPARE(capture.chunks[0].bytes, QByteArray("56789"));
    QCOMPARE(capture.chunks[0].direction, Direction::Echoed);
    buffer.setCapacity(0);
    capture = buffer.snapshot();
    QVERIFY(capture.chunks.isEmpty());
    QCOMPARE(capture.heldBytes, 0);
}

void tst_CaptureBuffer::ringMatchesAModelThroughWrapsAndResizes_data()
{
    QTest::addColumn<bool>("keepsBoundaries");
    QTest::newRow("stream") << false;
    QTest::newRow("datagrams") << true;
}

// Thousands of appends of random sizes, both ways, with the capacity changed now and
// then: every snapshot holds exactly the newest bytes of each stream (a model keeps
// every byte ever appended), in order, at the right offsets, never more than capacity.
void tst_CaptureBuffer::ringMatchesAModelThroughWrapsAndResizes()
{
    QFETCH(bool, keepsBoundaries);
    struct Byte
    {
        Direction direction;
        char value;
        qint64 offset;
    };
    std::vector<Byte> model; // every byte, in the order appended
    qint64 offsets[2] = {0, 0};
    qint64 capacity = 300;
    CaptureBuffer buffer(capacity);
    buffer.setKeepsBoundaries(keepsBoundaries);
    quint32 seed = 12345;
    auto next = [&seed](quint32 bound) {
        seed = seed * 1664525u + 1013904223u;
        return (seed >> 8) % bound;
    };
    qint64 nowMs = 1;
    qint64 capacitySince = 0; // model index from which bytes may be held
    qint64 uncounted = 0;     // appended while capturing was off: neither held nor dropped
    for (int step = 0; step < 4000; ++step) {
        if (next(50) == 0) {
            const qint64 newCapacity = next(4) == 0 ? 0 : qint64(next(700));
            // Shrinking keeps the newest bytes; growing keeps what was held.
            buffer.setCapacity(newCapacity);
            capacity = newCapacity;
            if (capacity == 0)
                capacitySince = qint64(model.size());
        }
        const Direction direction = next(2) == 0 ? Direction::Received : Direction::Echoed;
        const int which = direction == Direction::Received ? 0 : 1;
        const qint64 size = 1 + qint64(next(next(4) == 0 ? 900 : 40));
        QByteArray data(qsizetype(size), Qt::Uninitialized);
        for (char &c : data)
            c = char(next(256));
        nowMs += qint64(next(3)); // sometimes the same millisecond: merged
        buffer.append(direction, data.constData(), size, nowMs);
        if (capacity == 0)
            uncounted += size;
        for (qint64 i = 0; i < size; ++i)
            model.push_back(Byte{direction, data[qsizetype(i)], offsets[which] + i});
        offsets[which] += size;

        const CaptureSnapshot capture = buffer.snapshot();
        QVERIFY(capture.heldBytes <= capacity);
        QCOMPARE(capture.receivedBytes, offsets[0]);
        QCOMPARE(capture.echoedBytes, offsets[1]);
        qint64 held = 0;
        for (const CaptureChunk &chunk : capture.chunks)
            held += chunk.bytes.size();
        QCOMPARE(held, capture.heldBytes);
        QCOMPARE(capture.heldBytes + capture.droppedBytes + uncounted, qint64(model.size()));
        // The held bytes are the model's last heldBytes, chunk by chunk.
        qint64 index = qint64(model.size()) - capture.heldBytes;
        QVERIFY(index >= capacitySince || capture.heldBytes == 0);
        for (const CaptureChunk &chunk : capture.chunks) {
            QVERIFY(!chunk.bytes.isEmpty());
            for (qsizetype i = 0; i < chunk.bytes.size(); ++i, ++index) {
                const Byte &expected = model[size_t(index)];
                QCOMPARE(chunk.direction, expected.direction);
                QCOMPARE(chunk.bytes[i], expected.value);
                QCOMPARE(chunk.streamOffset + i, expected.offset);
            }
        }
        if (capacity >= size) // the newest append always fits whole
            QCOMPARE(capture.heldBytes >= size, true);
    }
    QVERIFY(uncounted > 0); // the schedule did turn capturing off and on again
}

// A client that alternates 1-byte writes and reads needs a header per byte: the headers
// are bounded (maxChunks), the newest bytes are the ones kept, and nothing is out of order.
void tst_CaptureBuffer::alternatingBytesKeepHeadersBounded()
{
    const qint64 capacity = 16 * 1024;
    CaptureBuffer buffer(capacity);
    const qint64 limit = CaptureBuffer::maxChunks(capacity);
    QCOMPARE(limit, capacity / 64);
    const int appends = int(limit) * 4;
    for (int i = 0; i < appends; ++i) {
        const char byte = char('a' + i % 26);
        buffer.append(i % 2 ? Direction::Echoed : Direction::Received, &byte, 1, 1000 + i);
    }
    const CaptureSnapshot snapshot = buffer.snapshot();
    QCOMPARE(qint64(snapshot.chunks.size()), limit);
    QCOMPARE(snapshot.heldBytes, limit);
    QCOMPARE(snapshot.droppedBytes, qint64(appends) - limit);
    QCOMPARE(snapshot.receivedBytes + snapshot.echoedBytes, qint64(appends));
    // The newest are kept, in order.
    for (qsizetype i = 0; i < snapshot.chunks.size(); ++i) {
        const int n = appends - int(limit) + int(i);
        QCOMPARE(snapshot.chunks.at(i).bytes, QByteArray(1, char('a' + n % 26)));
        QCOMPARE(snapshot.chunks.at(i).direction, n % 2 ? Direction::Echoed : Direction::Received);
    }
}

// A ring of many small chunks (the inspector's 1 MiB capture of a chatty client) shrunk
// back to 16 KiB keeps at most the smaller ring's headers, the newest, and gives the
// memory of the others back.
void tst_CaptureBuffer::shrinkingGivesHeadersBack()
{
    CaptureBuffer buffer(1024 * 1024);
    const int appends = 10000;
    for (int i = 0; i < appends; ++i) {
        const char byte = char('a' + i % 26);
        buffer.append(i % 2 ? Direction::Echoed : Direction::Received, &byte, 1, 1000 + i);
    }
    QCOMPARE(buffer.snapshot().chunks.size(), appends);
    QVERIFY(buffer.allocatedBytes() >= qint64(appends) * 32);

    const qint64 small = 16 * 1024;
    buffer.setCapacity(small);
    const qint64 limit = CaptureBuffer::maxChunks(small);
    const CaptureSnapshot snapshot = buffer.snapshot();
    QCOMPARE(qint64(snapshot.chunks.size()), limit);
    QCOMPARE(snapshot.heldBytes, limit);
    QCOMPARE(snapshot.droppedBytes, qint64(appends) - limit);
    QCOMPARE(snapshot.chunks.last().bytes, QByteArray(1, char('a' + (appends - 1) % 26)));
    // The ring's bytes (at most the capacity) and an array for `limit` headers.
    QVERIFY2(buffer.allocatedBytes() <= small + limit * 32,
             qPrintable(QString::number(buffer.allocatedBytes())));
    // And it keeps working at the new size.
    buffer.append(Direction::Received, "z", 1, 20000);
    QCOMPARE(buffer.snapshot().chunks.last().bytes, QByteArray("z"));
    QCOMPARE(qint64(buffer.snapshot().chunks.size()), limit);
}

// A recording (KeepFirst) at its chunk limit is full: it keeps each stream from its start,
// without a gap, and says when it filled.
void tst_CaptureBuffer::keepFirstStopsAtTheChunkLimit()
{
    const qint64 capacity = 4096;
    CaptureBuffer buffer(capacity, CaptureBuffer::Policy::KeepFirst);
    const qint64 limit = CaptureBuffer::maxChunks(capacity);
    for (int i = 0; i < int(limit) + 10; ++i) {
        const char byte = char(i);
        buffer.append(i % 2 ? Direction::Echoed : Direction::Received, &byte, 1, 1000 + i);
    }
    const CaptureSnapshot snapshot = buffer.snapshot();
    QCOMPARE(qint64(snapshot.chunks.size()), limit);
    QCOMPARE(snapshot.heldBytes, limit);
    QCOMPARE(snapshot.limitReachedAtMs, 1000 + limit);
    QCOMPARE(snapshot.chunks.first().bytes, QByteArray(1, char(0)));
    QCOMPARE(snapshot.chunks.last().bytes, QByteArray(1, char(limit - 1)));
}

QTEST_GUILESS_MAIN(tst_CaptureBuffer)
#include "tst_capturebuffer.moc"
