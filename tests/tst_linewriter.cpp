// LineWriter: the headless log's lines, encoded to UTF-8 into one buffer and written to the
// file only when flushed, in order, whole, and never held without bound.
#include "linewriter.h"

#include <QBuffer>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

using namespace Echoscope;

class tst_LineWriter : public QObject
{
    Q_OBJECT

private slots:
    void linesWaitForFlush();
    void encodesUtf8_data();
    void encodesUtf8();
    void unpairedSurrogateStaysInItsLine();
    void writeLineWritesWhatWaitedFirst();
    void setDeviceFlushesToTheOldDevice();
    void unwritableDeviceDropsTheLines();
    void largeBurstIsWrittenWhole();
    void fileSeesTheLinesAtFlush();
};

void tst_LineWriter::linesWaitForFlush()
{
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    LineWriter writer(&buffer);
    QVERIFY(!writer.hasPending());
    writer.append(u"first");
    writer.append(u"second");
    QVERIFY(writer.hasPending());
    QCOMPARE(buffer.data(), QByteArray()); // nothing written yet
    QVERIFY(writer.flush());
    QCOMPARE(buffer.data(), QByteArray("first\nsecond\n"));
    QVERIFY(!writer.hasPending());
    QVERIFY(writer.flush()); // nothing to write: nothing written again
    QCOMPARE(buffer.data(), QByteArray("first\nsecond\n"));
    writer.append(u"");
    QVERIFY(writer.flush());
    QCOMPARE(buffer.data(), QByteArray("first\nsecond\n\n"));
}

void tst_LineWriter::encodesUtf8_data()
{
    QTest::addColumn<QString>("line");
    QTest::newRow("ASCII") << QStringLiteral("client 1 (127.0.0.1:5000) connected");
    QTest::newRow("Latin-1") << QStringLiteral("Gr\u00FC\u00DFe");
    QTest::newRow("BMP") << QStringLiteral("\u20AC \u65E5\u672C");
    QTest::newRow("surrogate pair") << QString::fromUtf8("\xF0\x9D\x84\x9E clef");
    QTest::newRow("long") << QString(5000, QChar(0x4E2D)); // 3 bytes each
}

// An unpaired surrogate ends its own line as U+FFFD: nothing of it waits for the next.
void tst_LineWriter::unpairedSurrogateStaysInItsLine()
{
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    LineWriter writer(&buffer);
    writer.append(QStringLiteral("end ") + QChar(0xD834));
    writer.append(QChar(0xDD1E) + QStringLiteral(" start"));
    QVERIFY(writer.flush());
    QCOMPARE(buffer.data(), QByteArray("end \xEF\xBF\xBD\n\xEF\xBF\xBD start\n"));
}

void tst_LineWriter::encodesUtf8()
{
    QFETCH(QString, line);
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    LineWriter writer(&buffer);
    writer.append(line);
    writer.append(line); // the second lands after the first's bytes, not over them
    QVERIFY(writer.flush());
    QCOMPARE(buffer.data(), line.toUtf8() + '\n' + line.toUtf8() + '\n');
}

void tst_LineWriter::writeLineWritesWhatWaitedFirst()
{
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    LineWriter writer(&buffer);
    writer.append(u"event");
    writer.writeLine(u"listening on 127.0.0.1:1");
    QVERIFY(!writer.hasPending());
    QCOMPARE(buffer.data(), QByteArray("event\nlistening on 127.0.0.1:1\n"));
}

void tst_LineWriter::setDeviceFlushesToTheOldDevice()
{
    QBuffer first;
    QBuffer second;
    first.open(QIODevice::WriteOnly);
    second.open(QIODevice::WriteOnly);
    LineWriter writer(&first);
    writer.append(u"one");
    writer.setDevice(&second);
    QCOMPARE(writer.device(), &second);
    writer.append(u"two");
    QVERIFY(writer.flush());
    QCOMPARE(first.data(), QByteArray("one\n"));
    QCOMPARE(second.data(), QByteArray("two\n"));
}

void tst_LineWriter::unwritableDeviceDropsTheLines()
{
    QBuffer closed; // never opened
    LineWriter writer(&closed);
    writer.append(u"lost");
    QVERIFY(!writer.flush());
    QVERIFY(!writer.hasPending()); // dropped, not kept to grow
    LineWriter none;
    none.append(u"lost");
    QVERIFY(!none.flush());
    QVERIFY(!none.hasPending());
}

void tst_LineWriter::largeBurstIsWrittenWhole()
{
    // More than the buffer keeps between bursts (every client's disconnect at stop).
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    LineWriter writer(&buffer);
    QByteArray expected;
    for (int i = 0; i < 5000; ++i) {
        const QString line = QStringLiteral("client %1 disconnected: closed by peer").arg(i);
        writer.append(line);
        expected += line.toUtf8() + '\n';
    }
    QVERIFY(expected.size() > 128 * 1024);
    QVERIFY(writer.flush());
    QCOMPARE(buffer.data(), expected);
    writer.append(u"after");
    QVERIFY(writer.flush());
    QCOMPARE(buffer.data(), expected + "after\n");
}

void tst_LineWriter::fileSeesTheLinesAtFlush()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("events.log"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Text)); // buffered: flush() must reach it
    LineWriter writer(&file);
    writer.append(u"one");
    QCOMPARE(QFileInfo(path).size(), 0);
    QVERIFY(writer.flush());
    QFile reader(path);
    QVERIFY(reader.open(QIODevice::ReadOnly));
    QCOMPARE(reader.readAll(), QByteArray("one\n"));
}

QTEST_GUILESS_MAIN(tst_LineWriter)
#include "tst_linewriter.moc"
