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
    void dropsOldestWhenFull();
    void largeWriteKeepsItsTail();
    void capacityZeroCountsOffsetsOnly();
    void shrinkingDropsOldest();
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

QTEST_GUILESS_MAIN(tst_CaptureBuffer)
#include "tst_capturebuffer.moc"
