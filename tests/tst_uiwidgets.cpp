#include "clientinspector.h"
#include "clientstats.h"
#include "hexview.h"
#include "palettes.h"
#include "statuspanel.h"
#include "trafficmonitor.h"
#include "textescape.h"
#include "histogramwidget.h"
#include "throughputchart.h"
#include "translations.h"
#include "units.h"

#include <QApplication>
#include <QClipboard>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QHelpEvent>
#include <QImage>
#include <QPalette>
#include <QPushButton>
#include <QScrollBar>
#include <QSet>
#include <QStyle>
#include <QStyleFactory>

#include <ctime>
#include <QSignalSpy>
#include <QTest>
#include <QToolTip>

#include <cmath>
#include <random>

using namespace Echoscope;

namespace {

using Direction = CaptureChunk::Direction;

// 2024-05-06 13:14:15.678 local time: headers show local time.
qint64 sampleTimeMs()
{
    return QDateTime(QDate(2024, 5, 6), QTime(13, 14, 15, 678)).toMSecsSinceEpoch();
}

// This thread's CPU time in ms (elapsed time would count the other programs ctest runs).
qint64 threadCpuMs()
{
#ifdef Q_OS_UNIX
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return qint64(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
#else
    static const qint64 origin = QDateTime::currentMSecsSinceEpoch(); // no per-thread clock
    return QDateTime::currentMSecsSinceEpoch() - origin;
#endif
}

CaptureChunk chunk(Direction direction, qint64 streamOffset, const QByteArray &bytes,
                   qint64 timestampMs = sampleTimeMs())
{
    CaptureChunk result;
    result.direction = direction;
    result.timestampMs = timestampMs;
    result.streamOffset = streamOffset;
    result.bytes = bytes;
    return result;
}

CaptureSnapshot snapshotOf(const QList<CaptureChunk> &chunks)
{
    CaptureSnapshot snapshot;
    snapshot.chunks = chunks;
    for (const CaptureChunk &c : chunks)
        snapshot.heldBytes += c.bytes.size();
    snapshot.capacityBytes = std::max<qint64>(snapshot.heldBytes, 16 * 1024);
    snapshot.generation = quint64(chunks.size());
    return snapshot;
}

// The received "hello\n\0\xff" + "abcdefghijkl" (20 bytes at offset 1024), then an echo
// of its first 8 bytes.
CaptureSnapshot smallCapture()
{
    const QByteArray received = QByteArray("hello\n\0\xff", 8) + QByteArray("abcdefghijkl");
    return snapshotOf({chunk(Direction::Received, 1024, received),
                       chunk(Direction::Echoed, 1016, received.left(8), sampleTimeMs() + 1)});
}

// count chunks of chunkBytes, alternating received and echoed, bytes i % 256.
CaptureSnapshot largeCapture(int count, int chunkBytes)
{
    QByteArray pattern(chunkBytes, Qt::Uninitialized);
    for (int i = 0; i < chunkBytes; ++i)
        pattern[i] = char(i % 256);
    QList<CaptureChunk> chunks;
    qint64 offsets[2] = {0, 0};
    for (int i = 0; i < count; ++i) {
        const int way = i % 2;
        chunks.append(chunk(way == 0 ? Direction::Received : Direction::Echoed, offsets[way],
                            pattern, sampleTimeMs() + i));
        offsets[way] += chunkBytes;
    }
    return snapshotOf(chunks);
}

// A client's lines as bytes: text of 1 to 300 bytes with C escapes, control bytes, UTF-8
// of 2, 3 and 4 bytes, invalid and truncated sequences, some lines longer than the
// wrap width; bytes drawn from a fixed seed.
QByteArray mixedText(qsizetype size)
{
    const QList<QByteArray> pieces = {"a",
                                      "b",
                                      "Z",
                                      " ",
                                      "0",
                                      "\\",
                                      "\"",
                                      "\t",
                                      "\r",
                                      "\x1b",
                                      "\x7f",
                                      QByteArray("\0", 1),
                                      "\xc3\xa9",
                                      "\xe2\x82\xac",
                                      "\xf0\x9f\x98\x80",
                                      "\xff",
                                      "\xe2\x82",
                                      "\xe2\x80\x8b"};
    std::mt19937 random(14);
    QByteArray out;
    while (out.size() < size) {
        const int length = std::uniform_int_distribution<int>(0, 300)(random);
        for (int i = 0; i < length; ++i) {
            const qsizetype piece =
                std::uniform_int_distribution<qsizetype>(0, pieces.size() - 1)(random);
            // Mostly letters, as most traffic is.
            out.append(random() % 4 == 0 ? pieces.at(piece) : QByteArray("x"));
        }
        out.append('\n');
    }
    out.truncate(size);
    return out;
}

// Text mode's lines as the view made them before it escaped lazily: each chunk's bytes
// split after each '\n', each piece escaped whole (TextEscape::escapeBytes) and wrapped
// before the escape or character that would pass HexView::kTextColumns. One list per
// chunk, without its header line.
QList<QStringList> textLinesEscapedWhole(const CaptureSnapshot &capture)
{
    const auto tokenLength = [](const QString &text, qsizetype i) -> qsizetype {
        const QChar c = text.at(i);
        if (c == QLatin1Char('\\') && i + 1 < text.size()) {
            const QChar next = text.at(i + 1);
            if (next == QLatin1Char('x'))
                return std::min<qsizetype>(4, text.size() - i);
            if (next == QLatin1Char('u')) {
                const qsizetype close = text.indexOf(QLatin1Char('}'), i);
                return close < 0 ? 2 : close - i + 1;
            }
            return 2;
        }
        if (c.isHighSurrogate() && i + 1 < text.size() && text.at(i + 1).isLowSurrogate())
            return 2;
        return 1;
    };
    QList<QStringList> chunks;
    for (const CaptureChunk &c : capture.chunks) {
        QStringList lines;
        qsizetype start = 0;
        while (start < c.bytes.size()) {
            const qsizetype newline = c.bytes.indexOf('\n', start);
            const qsizetype end = newline < 0 ? c.bytes.size() : newline + 1;
            const QString escaped =
                TextEscape::escapeBytes(QByteArrayView(c.bytes).sliced(start, end - start));
            qsizetype lineStart = 0;
            for (qsizetype i = 0; i < escaped.size();) {
                const qsizetype length = tokenLength(escaped, i);
                if (i > lineStart && i + length - lineStart > HexView::kTextColumns) {
                    lines.append(escaped.mid(lineStart, i - lineStart));
                    lineStart = i;
                }
                i += length;
            }
            if (escaped.size() > lineStart)
                lines.append(escaped.mid(lineStart));
            start = end;
        }
        chunks.append(lines);
    }
    return chunks;
}

QPalette darkPalette()
{
    return Palettes::dark();
}

int countPixels(const QImage &image, const QColor &color)
{
    const QRgb wanted = color.rgb();
    int count = 0;
    for (int y = 0; y < image.height(); ++y) {
        const auto *line = reinterpret_cast<const QRgb *>(image.constScanLine(y));
        for (int x = 0; x < image.width(); ++x)
            count += (line[x] & 0xffffff) == (wanted & 0xffffff) ? 1 : 0;
    }
    return count;
}

// Pixels within a small distance of color: text is antialiased.
int countNearPixels(const QImage &image, const QColor &color, int tolerance = 24)
{
    int count = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            const QColor pixel = image.pixelColor(x, y);
            if (std::abs(pixel.red() - color.red()) <= tolerance &&
                std::abs(pixel.green() - color.green()) <= tolerance &&
                std::abs(pixel.blue() - color.blue()) <= tolerance)
                ++count;
        }
    }
    return count;
}

int distinctColors(const QImage &image)
{
    QSet<QRgb> colors;
    for (int y = 0; y < image.height(); ++y) {
        const auto *line = reinterpret_cast<const QRgb *>(image.constScanLine(y));
        for (int x = 0; x < image.width(); ++x)
            colors.insert(line[x]);
    }
    return int(colors.size());
}

QImage render(QWidget *widget)
{
    return widget->grab().toImage().convertToFormat(QImage::Format_RGB32);
}

// Screenshots for a person to look at, only when ECHOSCOPE_SCREENSHOT_DIR is set.
void saveScreenshot(QWidget *widget, const QString &name)
{
    const QString dir = qEnvironmentVariable("ECHOSCOPE_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QVERIFY(widget->grab().save(QDir(dir).filePath(name + QStringLiteral(".png"))));
}

double contrast(const QColor &a, const QColor &b)
{
    return std::abs(a.lightnessF() - b.lightnessF());
}

} // namespace

class tst_UiWidgets : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void checkedButtonsStandOut();
    void hexViewTextLaysOutOnlyNewChunks();
    void hexViewFollowsARingByTails_data();
    void hexViewFollowsARingByTails();
    void inspectorCopiesOnlyNewBytes();

    void hexViewHexLayout();
    void hexViewTextMode();
    void hexViewTextWrapsWithoutCuttingEscapes();
    void hexViewTextEscapesOnlyShownLines();
    void hexViewLargeCapture();
    void hexViewColoursInBothPalettes();
    void hexViewFollowsTail();
    void hexViewKeepsPositionWhenOldDataDrops();
    void hexViewEmpty();
    void hexViewKeyboardAndCopy();

    void histogramRange_data();
    void histogramRange();
    void histogramSummaryAndToolTip();
    void histogramEmpty();
    void histogramRenders();

    void chartRingBounded();
    void chartKeepsEverySampleAt20Hz();
    void chartNiceAxis_data();
    void chartNiceAxis();
    void chartClearAndEmpty();
    void chartRenders();

    void englishPluralForms();
    void statusRateWritesTheUnitOnce();

    void screenshots();

private:
    QStringList m_translations; // the files Translations::install() loaded
};

void tst_UiWidgets::initTestCase()
{
    // "4,812" and "12.5" regardless of the machine's locale, and the texts in English (with
    // the English plural forms) in every locale, CI's German run too.
    QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates));
    m_translations = Translations::install(QCoreApplication::instance(), QLocale(QLocale::English));
}

// Text mode escapes only what was captured since the last refresh: the chunks shown
// already keep their layout, the ones the ring dropped go, and the text is the same as
// a layout from scratch.
void tst_UiWidgets::hexViewTextLaysOutOnlyNewChunks()
{
    HexView view;
    view.setMode(HexView::Mode::Text);
    CaptureSnapshot capture = largeCapture(200, 100);
    view.setCapture(capture);
    QCOMPARE(view.relaidChunks(), 200);

    // Two new chunks, and the oldest three dropped by the ring.
    QList<CaptureChunk> &chunks = capture.chunks;
    const CaptureChunk lastReceived = chunks.at(198);
    const CaptureChunk lastEchoed = chunks.at(199);
    chunks.append(chunk(Direction::Received, lastReceived.streamOffset + 100,
                        QByteArray("new line\n"), lastEchoed.timestampMs + 1));
    chunks.append(chunk(Direction::Echoed, lastEchoed.streamOffset + 100, QByteArray("echo"),
                        lastEchoed.timestampMs + 2));
    chunks.erase(chunks.begin(), chunks.begin() + 3);
    view.setCapture(capture);
    QCOMPARE(view.relaidChunks(), 2);

    HexView fresh;
    fresh.setMode(HexView::Mode::Text);
    fresh.setCapture(capture);
    QCOMPARE(fresh.relaidChunks(), 199);
    QCOMPARE(view.lineCount(), fresh.lineCount());
    QCOMPARE(view.toPlainText(), fresh.toPlainText());

    // The last chunk grows (appends close in time join it): that one is laid out again.
    chunks.last().bytes.append(" more");
    view.setCapture(capture);
    QCOMPARE(view.relaidChunks(), 1);
    fresh.setCapture(capture);
    QCOMPARE(view.toPlainText(), fresh.toPlainText());
}

// A view fed only tails (CaptureBuffer::snapshotSince(view.position())) shows what a
// view given the whole ring shows, through merges, drops of shown and of unshown bytes,
// empty message chunks and resizes; without a drop of unshown bytes it is given each
// kept byte once.
void tst_UiWidgets::hexViewFollowsARingByTails_data()
{
    QTest::addColumn<int>("mode");
    QTest::addColumn<bool>("boundaries");
    QTest::newRow("hex") << int(HexView::Mode::Hex) << false;
    QTest::newRow("text") << int(HexView::Mode::Text) << false;
    QTest::newRow("text, datagrams") << int(HexView::Mode::Text) << true;
}

void tst_UiWidgets::hexViewFollowsARingByTails()
{
    QFETCH(int, mode);
    QFETCH(bool, boundaries);
    std::mt19937 random(1234);
    CaptureBuffer ring(2048);
    ring.setKeepsBoundaries(boundaries);
    HexView view;
    view.setMode(HexView::Mode(mode));
    qint64 nowMs = 1'700'000'000'000;
    qint64 offered = 0; // bytes the view was given
    int restarts = 0;
    int merges = 0;
    for (int round = 0; round < 400; ++round) {
        const int appends = int(random() % 4);
        for (int i = 0; i < appends; ++i) {
            const auto direction = random() % 2 ? Direction::Received : Direction::Echoed;
            const int size = random() % 16 == 0 ? int(random() % 3000) : int(random() % 80);
            QByteArray bytes(size, Qt::Uninitialized);
            for (char &byte : bytes)
                byte = random() % 5 == 0 ? '\n' : char('a' + random() % 26);
            const quint8 flags = random() % 20 == 0 ? quint8(CaptureChunk::EndsMessage) : 0;
            ring.append(direction, bytes.constData(), flags ? 0 : size, nowMs, flags);
            nowMs += random() % 2; // 0: the next read may join this chunk
        }
        if (random() % 50 == 0)
            ring.setCapacity(1024 + qint64(random() % 3000));
        const CapturePosition before = view.position();
        const CaptureSnapshot tail = ring.snapshotSince(before);
        if (!tail.tailOnly)
            ++restarts;
        if (tail.continuesLastChunk)
            ++merges;
        for (const CaptureChunk &chunk : tail.chunks)
            offered += chunk.bytes.size();
        view.setCapture(tail);
        HexView fresh;
        fresh.setMode(HexView::Mode(mode));
        const CaptureSnapshot whole = ring.snapshot();
        fresh.setCapture(whole);
        QCOMPARE(view.lineCount(), fresh.lineCount());
        QCOMPARE(view.toPlainText(), fresh.toPlainText());
        QCOMPARE(view.heldBytes(), whole.heldBytes);
        QCOMPARE(view.position().totalBytes, whole.endTotal);
        if (tail.tailOnly) // each byte once
            QCOMPARE(offered, whole.endTotal);
        else
            offered = whole.endTotal; // the view starts again from what the ring holds
    }
    QVERIFY2(restarts > 1 && (boundaries ? merges == 0 : merges > 10),
             qPrintable(QStringLiteral("%1 restarts, %2 merges").arg(restarts).arg(merges)));
}

// The inspector copies out of the ring only what was captured since its last refresh
// (it used to copy the whole ring, up to 1 MiB, each time); when the ring dropped bytes
// before they were shown it starts again from what remains and says so.
void tst_UiWidgets::inspectorCopiesOnlyNewBytes()
{
    auto stats = std::make_shared<ClientStats>(7, QHostAddress::LocalHost, 40000,
                                               QDateTime::currentMSecsSinceEpoch(), 16 * 1024);
    CaptureBuffer *ring = stats->capture();
    ClientInspector inspector;
    inspector.setCaptureBytes(16 * 1024, 1024 * 1024);
    inspector.setClient(7, stats);
    QCOMPARE(ring->capacity(), 1024 * 1024);
    const QByteArray block(256 * 1024, 'x');
    qint64 nowMs = 1'700'000'000'000;
    ring->append(Direction::Received, block.constData(), block.size(), nowMs);
    inspector.updateClient(nullptr);
    QCOMPARE(inspector.captureBytesCopied(), block.size());

    // Small reads: each refresh copies the new bytes only, merged or not.
    for (int i = 0; i < 10; ++i) {
        ring->append(i % 2 ? Direction::Echoed : Direction::Received, "hello", 5, nowMs += 10);
        inspector.updateClient(nullptr);
    }
    QCOMPARE(inspector.captureBytesCopied(), block.size() + 50);
    inspector.updateClient(nullptr); // nothing new: nothing copied
    QCOMPARE(inspector.captureBytesCopied(), block.size() + 50);
    QVERIFY2(!inspector.captureText().contains(QStringLiteral("never shown")),
             qPrintable(inspector.captureText()));

    // More than the ring holds between two refreshes: it starts again from what remains.
    const QByteArray flood(1024 * 1024, 'y');
    ring->append(Direction::Received, flood.constData(), flood.size(), nowMs += 10);
    ring->append(Direction::Echoed, flood.constData(), flood.size(), nowMs += 10);
    const qint64 copiedBefore = inspector.captureBytesCopied();
    inspector.updateClient(nullptr);
    QCOMPARE(inspector.captureBytesCopied() - copiedBefore, 1024 * 1024);
    QVERIFY2(inspector.captureText().contains(QStringLiteral("never shown")),
             qPrintable(inspector.captureText()));
    HexView fresh;
    fresh.setCapture(ring->snapshot());
    QCOMPARE(inspector.hexView()->lineCount(), fresh.lineCount());
    QCOMPARE(inspector.hexView()->lineText(fresh.lineCount() - 1),
             fresh.lineText(fresh.lineCount() - 1));
}

void tst_UiWidgets::hexViewHexLayout()
{
    HexView view;
    view.setCapture(smallCapture());
    QCOMPARE(view.mode(), HexView::Mode::Hex);
    QCOMPARE(view.lineCount(), 5);
    QCOMPARE(view.lineText(0), QStringLiteral("13:14:15.678  received 20 bytes (offset 0x400)"));
    QCOMPARE(view.lineText(1), QStringLiteral("00000400  68 65 6c 6c 6f 0a 00 ff  "
                                              "61 62 63 64 65 66 67 68  hello...abcdefgh"));
    // 4 bytes: the space after the last one, 12 missing bytes of 3 columns, the space
    // between the groups and the one before the ASCII column.
    QCOMPARE(view.lineText(2), QStringLiteral("00000410  69 6a 6b 6c") +
                                   QString(1 + 36 + 1 + 1, u' ') + QStringLiteral("ijkl"));
    QCOMPARE(view.lineText(2).indexOf(QStringLiteral("ijkl")),
             view.lineText(1).indexOf(QStringLiteral("hello")));
    QCOMPARE(view.lineText(3), QStringLiteral("13:14:15.679  echoed 8 bytes (offset 0x3f8)"));
    QCOMPARE(view.lineText(4), QStringLiteral("000003f8  68 65 6c 6c 6f 0a 00 ff") +
                                   QString(1 + 24 + 1 + 1, u' ') + QStringLiteral("hello..."));
    QCOMPARE(view.lineText(5), QString());
    QCOMPARE(view.lineText(-1), QString());

    QStringList lines;
    for (int i = 0; i < view.lineCount(); ++i)
        lines.append(view.lineText(i));
    QCOMPARE(view.toPlainText(), lines.join(QLatin1Char('\n')));

    view.setCapture(snapshotOf({chunk(Direction::Echoed, 0, "x")}));
    QCOMPARE(view.lineCount(), 2);
    QCOMPARE(view.lineText(0), QStringLiteral("13:14:15.678  echoed 1 byte (offset 0x0)"));
    QCOMPARE(view.lineText(1),
             QStringLiteral("00000000  78") + QString(1 + 45 + 1 + 1, u' ') + QStringLiteral("x"));
}

void tst_UiWidgets::hexViewTextMode()
{
    HexView view;
    QSignalSpy modeChanged(&view, &HexView::modeChanged);
    view.setCapture(smallCapture());
    view.setMode(HexView::Mode::Text);
    QCOMPARE(modeChanged.count(), 1);
    QCOMPARE(view.mode(), HexView::Mode::Text);
    const QStringList expected = {
        QStringLiteral("13:14:15.678  received 20 bytes (offset 0x400)"),
        QStringLiteral("hello\\n"),
        QStringLiteral("\\0\\xffabcdefghijkl"),
        QStringLiteral("13:14:15.679  echoed 8 bytes (offset 0x3f8)"),
        QStringLiteral("hello\\n"),
        QStringLiteral("\\0\\xff"),
    };
    QCOMPARE(view.lineCount(), expected.size());
    for (int i = 0; i < expected.size(); ++i)
        QCOMPARE(view.lineText(i), expected.at(i));
    QCOMPARE(view.toPlainText(), expected.join(QLatin1Char('\n')));

    view.setMode(HexView::Mode::Text);
    QCOMPARE(modeChanged.count(), 1); // no change, no signal
    view.setMode(HexView::Mode::Hex);
    QCOMPARE(view.lineCount(), 5);
}

void tst_UiWidgets::hexViewTextWrapsWithoutCuttingEscapes()
{
    HexView view;
    view.setMode(HexView::Mode::Text);
    const int width = HexView::kTextColumns;
    // A line 2.5 widths long, then one whose escape would straddle the wrap column.
    const QByteArray longLine = QByteArray(width * 2 + width / 2, 'a') + '\n';
    const QByteArray straddling = QByteArray(width - 2, 'b') + "\xff" + "cd";
    view.setCapture(snapshotOf({chunk(Direction::Received, 0, longLine + straddling)}));
    QCOMPARE(view.lineCount(), 1 + 3 + 2);
    QCOMPARE(view.lineText(1), QString(width, u'a'));
    QCOMPARE(view.lineText(2), QString(width, u'a'));
    QCOMPARE(view.lineText(3), QString(width / 2, u'a') + QStringLiteral("\\n"));
    QCOMPARE(view.lineText(4), QString(width - 2, u'b'));
    QCOMPARE(view.lineText(5), QStringLiteral("\\xffcd"));
}

// Text mode escapes only the lines it shows: switching to Text on a full 1 MiB ring
// escapes about the visible lines' bytes, repainting them escapes nothing more,
// scrolling to the end escapes the end's lines, and every line is the text the view
// showed when it escaped each client line whole.
void tst_UiWidgets::hexViewTextEscapesOnlyShownLines()
{
    // A 1 MiB ring: 256 chunks of 4 KiB, each received and then echoed.
    const QByteArray stream = mixedText(128 * 4096);
    QList<CaptureChunk> chunks;
    for (int i = 0; i < 128; ++i) {
        const QByteArray bytes = stream.mid(qsizetype(i) * 4096, 4096);
        chunks.append(chunk(Direction::Received, qint64(i) * 4096, bytes, sampleTimeMs() + 2 * i));
        chunks.append(
            chunk(Direction::Echoed, qint64(i) * 4096, bytes, sampleTimeMs() + 2 * i + 1));
    }
    const CaptureSnapshot capture = snapshotOf(chunks);
    QCOMPARE(capture.heldBytes, qint64(1024 * 1024));
    const QList<QStringList> expectedLines = textLinesEscapedWhole(capture);

    HexView view;
    view.resize(600, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setCapture(capture);
    QVERIFY(!render(&view).isNull());
    QCOMPARE(view.escapedBytes(), qint64(0)); // Hex mode escapes nothing

    // A painted text line holds at most kTextColumns characters. Most characters of this
    // text are 1-byte letters and the others few (at most 4 bytes, U+1F600, for 2
    // characters): a line is well under twice its width in bytes. The ring holds 1 MiB.
    const int shown = view.visibleLineCount();
    QVERIFY(shown > 10);
    const qint64 shownBytesAtMost = qint64(shown + 2) * HexView::kTextColumns * 2;

    // A view given a capture follows its end, as the inspector's does.
    QScrollBar *bar = view.verticalScrollBar();
    QCOMPARE(bar->value(), bar->maximum());

    view.setMode(HexView::Mode::Text);
    QVERIFY(!render(&view).isNull());
    QCOMPARE(bar->value(), bar->maximum());
    const qint64 atSwitch = view.escapedBytes();
    qInfo("switching to Text escaped %lld of %lld bytes (%d lines shown of %d)", atSwitch,
          capture.heldBytes, shown, view.lineCount());
    QVERIFY2(atSwitch > 0 && atSwitch <= shownBytesAtMost, qPrintable(QString::number(atSwitch)));
    QVERIFY(!render(&view).isNull());
    QCOMPARE(view.escapedBytes(), atSwitch); // the same lines again: from the cache

    // Scrolled to the start, then the middle: each escapes its own screen.
    qint64 before = view.escapedBytes();
    bar->setValue(0);
    QVERIFY(!render(&view).isNull());
    QVERIFY2(view.escapedBytes() - before > 0 && view.escapedBytes() - before <= shownBytesAtMost,
             qPrintable(QString::number(view.escapedBytes() - before)));
    before = view.escapedBytes();
    bar->setValue(bar->maximum() / 2);
    QVERIFY(!render(&view).isNull());
    QVERIFY2(view.escapedBytes() - before > 0 && view.escapedBytes() - before <= shownBytesAtMost,
             qPrintable(QString::number(view.escapedBytes() - before)));
    // Back at the end: still in the cache.
    before = view.escapedBytes();
    bar->setValue(bar->maximum());
    QVERIFY(!render(&view).isNull());
    QCOMPARE(view.escapedBytes(), before);

    // The lines, shown ones first, are those of escaping each client line whole.
    int lineCount = 0;
    for (const QStringList &lines : expectedLines)
        lineCount += 1 + int(lines.size());
    QCOMPARE(view.lineCount(), lineCount);
    QStringList expected;
    for (qsizetype i = 0; i < expectedLines.size(); ++i) {
        expected.append(QString()); // the header, compared apart
        expected.append(expectedLines.at(i));
    }
    const auto compareLines = [&](int first, int last) {
        for (int line = first; line <= last; ++line) {
            if (expected.at(line).isNull())
                QVERIFY(view.lineText(line).contains(QLatin1String(" (offset 0x")));
            else
                QCOMPARE(view.lineText(line), expected.at(line));
        }
    };
    compareLines(bar->value(), view.lineCount() - 1);
    if (QTest::currentTestFailed())
        return;
    compareLines(0, shown);
    if (QTest::currentTestFailed())
        return;
    // Every line, as Copy All asks for them: each escaped once, all the same.
    const qint64 beforeCopy = view.escapedBytes();
    compareLines(0, view.lineCount() - 1);
    if (QTest::currentTestFailed())
        return;
    QVERIFY(view.escapedBytes() - beforeCopy <= capture.heldBytes);
}

void tst_UiWidgets::hexViewLargeCapture()
{
    // 1 MiB: 256 chunks of 4 KiB, each a header and 256 rows.
    const CaptureSnapshot capture = largeCapture(256, 4096);
    HexView view;
    view.resize(600, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));

    // The work is measured as this thread's CPU time, not as elapsed time: other programs
    // share the 2 cores while ctest runs, and only this thread's own work is at stake.
    qint64 start = threadCpuMs();
    view.setCapture(capture);
    QVERIFY2(threadCpuMs() - start < 1000, qPrintable(QString::number(threadCpuMs() - start)));
    QCOMPARE(view.lineCount(), 256 * 257);
    // The last chunk is the 128th echoed one: stream offset 127 * 4096.
    QCOMPARE(view.lineText(view.lineCount() - 1),
             QStringLiteral("0007fff0  f0 f1 f2 f3 f4 f5 f6 f7  f8 f9 fa fb fc fd fe ff  "
                            "................"));
    QCOMPARE(view.lineText(257 + 1 + 2),
             QStringLiteral("00000020  20 21 22 23 24 25 26 27  28 29 2a 2b 2c 2d 2e 2f  "
                            " !\"#$%&'()*+,-./"));

    // Painting touches only the visible lines: grabs anywhere in 65k lines stay quick.
    start = threadCpuMs();
    QScrollBar *bar = view.verticalScrollBar();
    for (int i = 0; i <= 20; ++i) {
        bar->setValue(bar->maximum() / 20 * i);
        QVERIFY(!render(&view).isNull());
    }
    QVERIFY2(threadCpuMs() - start < 5000, qPrintable(QString::number(threadCpuMs() - start)));

    // The text layout of 1 MiB is bounded too, and switching back is exact.
    start = threadCpuMs();
    view.setMode(HexView::Mode::Text);
    QVERIFY2(threadCpuMs() - start < 3000, qPrintable(QString::number(threadCpuMs() - start)));
    QVERIFY(view.lineCount() > 256 * 2);
    view.setMode(HexView::Mode::Hex);
    QCOMPARE(view.lineCount(), 256 * 257);
}

void tst_UiWidgets::hexViewColoursInBothPalettes()
{
    HexView view;
    view.resize(600, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setCapture(largeCapture(4, 4096));
    // Show the end of the first (received) chunk and the start of the echoed one.
    view.verticalScrollBar()->setValue(257 - 8);

    for (const QPalette &palette : {QApplication::palette(), darkPalette()}) {
        view.setPalette(palette);
        const QColor base = palette.color(QPalette::Base);
        const QColor receivedBackground = view.directionBackground(Direction::Received);
        const QColor echoedBackground = view.directionBackground(Direction::Echoed);
        QVERIFY(receivedBackground != echoedBackground);
        QVERIFY(receivedBackground != base && echoedBackground != base);
        for (const Direction direction : {Direction::Received, Direction::Echoed}) {
            QVERIFY2(contrast(view.directionColor(direction), view.directionBackground(direction)) >
                         0.4,
                     "bytes must stay readable on their rows");
        }

        const QImage image = render(&view);
        QVERIFY(countPixels(image, receivedBackground) > 2000);
        QVERIFY(countPixels(image, echoedBackground) > 2000);
        // Glyphs in the two colours, not only backgrounds.
        QVERIFY(countNearPixels(image, view.directionColor(Direction::Received)) > 50);
        QVERIFY(countNearPixels(image, view.directionColor(Direction::Echoed)) > 50);
    }
}

void tst_UiWidgets::hexViewFollowsTail()
{
    HexView view;
    view.resize(600, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QScrollBar *bar = view.verticalScrollBar();

    view.setCapture(largeCapture(4, 1024));
    QVERIFY(bar->maximum() > 0);
    QCOMPARE(bar->value(), bar->maximum()); // a new view shows the newest bytes
    const int oldMaximum = bar->maximum();
    view.setCapture(largeCapture(6, 1024));
    QVERIFY(bar->maximum() > oldMaximum);
    QCOMPARE(bar->value(), bar->maximum());

    bar->setValue(0);
    view.setCapture(largeCapture(8, 1024));
    QCOMPARE(bar->value(), 0);

    bar->setValue(100);
    const QString top = view.lineText(100);
    view.setCapture(largeCapture(10, 1024));
    QCOMPARE(bar->value(), 100);
    QCOMPARE(view.lineText(bar->value()), top);

    // Back at the bottom, it follows again.
    bar->setValue(bar->maximum());
    view.setCapture(largeCapture(12, 1024));
    QCOMPARE(bar->value(), bar->maximum());
}

void tst_UiWidgets::hexViewKeepsPositionWhenOldDataDrops()
{
    HexView view;
    view.resize(600, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QScrollBar *bar = view.verticalScrollBar();

    CaptureSnapshot capture = largeCapture(8, 1024);
    view.setCapture(capture);
    const int chunkLines = 1 + 1024 / 16;
    bar->setValue(3 * chunkLines + 5); // a row in the fourth chunk
    const QString top = view.lineText(bar->value());

    // The ring dropped the first chunk and half the second; a new chunk came.
    capture.chunks.removeFirst();
    capture.chunks[0].bytes.remove(0, 512);
    capture.chunks[0].streamOffset += 512;
    capture.chunks.append(chunk(Direction::Received, 4 * 1024, QByteArray(1024, 'z')));
    view.setCapture(capture);
    QCOMPARE(view.lineText(bar->value()), top);
    QCOMPARE(bar->value(), 3 * chunkLines + 5 - chunkLines - 512 / 16);

    // A mode switch keeps the same bytes at the top: the row's client line in text.
    view.setMode(HexView::Mode::Text);
    const int textTop = bar->value();
    QVERIFY(textTop > 0);
    view.setMode(HexView::Mode::Hex);
    QVERIFY(bar->value() <= 3 * chunkLines + 5 - chunkLines - 512 / 16);
    QVERIFY(bar->value() > 3 * chunkLines + 5 - chunkLines - 512 / 16 - 256 / 16);
}

void tst_UiWidgets::hexViewEmpty()
{
    HexView view;
    view.resize(400, 200);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QCOMPARE(view.lineCount(), 0);
    QCOMPARE(view.toPlainText(), QString());
    QCOMPARE(view.placeholderText(), QStringLiteral("No bytes captured yet"));

    // The placeholder is written on the base colour; without it the view is blank.
    const QColor base = view.palette().color(QPalette::Base);
    const int viewportPixels = view.viewport()->width() * view.viewport()->height();
    const QImage withPlaceholder =
        view.viewport()->grab().toImage().convertToFormat(QImage::Format_RGB32);
    QVERIFY(countPixels(withPlaceholder, base) < viewportPixels - 50);
    view.setPlaceholderText(QString());
    const QImage blank = view.viewport()->grab().toImage().convertToFormat(QImage::Format_RGB32);
    QCOMPARE(countPixels(blank, base), viewportPixels);

    view.setCapture(smallCapture());
    QCOMPARE(view.lineCount(), 5);
    view.clear();
    QCOMPARE(view.lineCount(), 0);
    QCOMPARE(view.lineText(0), QString());
    QCOMPARE(view.verticalScrollBar()->maximum(), 0);
    view.setCapture(CaptureSnapshot{});
    QCOMPARE(view.lineCount(), 0);
}

void tst_UiWidgets::hexViewKeyboardAndCopy()
{
    HexView view;
    view.resize(600, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setCapture(largeCapture(4, 1024));
    QScrollBar *bar = view.verticalScrollBar();

    QTest::keyClick(&view, Qt::Key_Home);
    QCOMPARE(bar->value(), 0);
    QTest::keyClick(&view, Qt::Key_PageDown);
    QCOMPARE(bar->value(), bar->pageStep());
    QTest::keyClick(&view, Qt::Key_PageUp);
    QCOMPARE(bar->value(), 0);
    QTest::keyClick(&view, Qt::Key_End);
    QCOMPARE(bar->value(), bar->maximum());
    QTest::keyClick(&view, Qt::Key_Home);

    // Nothing selected: Ctrl+C copies everything.
    QGuiApplication::clipboard()->clear();
    QTest::keyClick(&view, Qt::Key_C, Qt::ControlModifier);
    QCOMPARE(QGuiApplication::clipboard()->text(), view.toPlainText());

    // Click a line, shift-click another: those lines are copied.
    const int lineHeight = view.fontMetrics().lineSpacing();
    QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, QPoint(20, lineHeight + 2));
    QCOMPARE(view.selectedText(), view.lineText(1));
    QTest::mouseClick(view.viewport(), Qt::LeftButton, Qt::ShiftModifier,
                      QPoint(20, 3 * lineHeight + 2));
    const QString expected = view.lineText(1) + QLatin1Char('\n') + view.lineText(2) +
                             QLatin1Char('\n') + view.lineText(3);
    QCOMPARE(view.selectedText(), expected);
    QTest::keyClick(&view, Qt::Key_C, Qt::ControlModifier);
    QCOMPARE(QGuiApplication::clipboard()->text(), expected);

    // Selected lines are painted in the highlight colour.
    QVERIFY(countPixels(render(&view), view.palette().color(QPalette::Highlight)) > 1000);

    QTest::keyClick(&view, Qt::Key_Escape);
    QCOMPARE(view.selectedText(), QString());
    QTest::keyClick(&view, Qt::Key_A, Qt::ControlModifier);
    QCOMPARE(view.selectedText(), view.toPlainText());
}

void tst_UiWidgets::histogramRange_data()
{
    QTest::addColumn<QList<int>>("buckets");
    QTest::addColumn<int>("first");
    QTest::addColumn<int>("last");
    QTest::newRow("empty") << QList<int>{} << -1 << -1;
    QTest::newRow("one bucket, centred") << QList<int>{11} << 9 << 13;
    QTest::newRow("narrow, widened") << QList<int>{4, 6} << 3 << 7;
    QTest::newRow("empty messages only") << QList<int>{0} << 0 << 4;
    QTest::newRow("largest bucket only")
        << QList<int>{SizeHistogram::kBuckets - 1} << SizeHistogram::kBuckets - 5
        << SizeHistogram::kBuckets - 1;
    QTest::newRow("wide") << QList<int>{2, 9, 20} << 2 << 20;
}

void tst_UiWidgets::histogramRange()
{
    QFETCH(QList<int>, buckets);
    QFETCH(int, first);
    QFETCH(int, last);
    SizeHistogram histogram;
    for (int bucket : buckets)
        histogram.counts[size_t(bucket)] = 7;
    HistogramWidget widget;
    widget.setHistogram(histogram, buckets.isEmpty() ? -1 : 1, 1, buckets.isEmpty() ? -1 : 1);
    QCOMPARE(widget.visibleFirstBucket(), first);
    QCOMPARE(widget.visibleLastBucket(), last);
}

void tst_UiWidgets::histogramSummaryAndToolTip()
{
    HistogramWidget widget;
    SizeHistogram histogram;
    histogram.counts[4] = 4812 - 310 - 1;
    histogram.counts[11] = 310;
    histogram.counts[17] = 1;
    widget.setHistogram(histogram, 12, 1228.8, 64 * 1024);
    QCOMPARE(widget.summaryText(),
             QStringLiteral(
                 "min 12 bytes \u00b7 mean 1.2 KiB \u00b7 max 64.0 KiB \u00b7 4,812 messages"));

    histogram.counts[4] = 2480 - 310;
    histogram.counts[17] = 0;
    widget.setHistogram(histogram, 8, 12.5, 2047);
    QCOMPARE(widget.summaryText(),
             QStringLiteral(
                 "min 8 bytes \u00b7 mean 13 bytes \u00b7 max 2.0 KiB \u00b7 2,480 messages"));
    QCOMPARE(widget.toolTipForBucket(11),
             QStringLiteral("1,024\u20132,047 bytes: 310 messages (12.5%)"));
    QCOMPARE(widget.toolTipForBucket(4), QStringLiteral("8\u201315 bytes: 2,170 messages (87.5%)"));
    QCOMPARE(widget.toolTipForBucket(5), QStringLiteral("16\u201331 bytes: 0 messages (0.0%)"));
    QCOMPARE(widget.toolTipForBucket(-1), QString());

    histogram = SizeHistogram{};
    histogram.counts[0] = 3;
    histogram.counts[1] = 1;
    histogram.counts[SizeHistogram::kBuckets - 1] = 4;
    widget.setHistogram(histogram, 0, 1, qint64(1) << 31);
    QCOMPARE(widget.toolTipForBucket(0), QStringLiteral("0 bytes: 3 messages (37.5%)"));
    QCOMPARE(widget.toolTipForBucket(1), QStringLiteral("1 byte: 1 message (12.5%)"));
    QCOMPARE(widget.toolTipForBucket(SizeHistogram::kBuckets - 1),
             QStringLiteral("1,073,741,824 bytes or more: 4 messages (50.0%)"));

    // The tooltip event finds the bar under the mouse.
    widget.resize(360, 160);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
    histogram = SizeHistogram{};
    histogram.counts[11] = 310;
    widget.setHistogram(histogram, 1024, 1500, 2047);
    const QPoint middle(widget.width() / 2, widget.height() / 2);
    QCOMPARE(widget.bucketAt(middle), 11); // range 9..13: the middle bar
    QCOMPARE(widget.bucketAt(QPoint(1, 1)), -1);
    if (QGuiApplication::platformName() == QLatin1String("offscreen"))
        QTest::ignoreMessage(QtWarningMsg, "This plugin does not support raise()");
    QHelpEvent help(QEvent::ToolTip, middle, widget.mapToGlobal(middle));
    QVERIFY(QApplication::sendEvent(&widget, &help));
    QTRY_COMPARE(QToolTip::text(), QStringLiteral("1,024\u20132,047 bytes: 310 messages (100.0%)"));
    QToolTip::hideText();
}

void tst_UiWidgets::histogramEmpty()
{
    HistogramWidget widget;
    widget.resize(360, 160);
    QCOMPARE(widget.summaryText(), QStringLiteral("No messages yet"));
    QCOMPARE(widget.visibleFirstBucket(), -1);
    QCOMPARE(widget.bucketAt(QPoint(180, 80)), -1);
    QVERIFY(distinctColors(render(&widget)) > 1); // the empty state is written

    SizeHistogram histogram;
    histogram.counts[3] = 1;
    widget.setHistogram(histogram, 5, 5, 5);
    QCOMPARE(widget.summaryText(),
             QStringLiteral("min 5 bytes \u00b7 mean 5 bytes \u00b7 max 5 bytes \u00b7 1 message"));
    widget.clear();
    QCOMPARE(widget.summaryText(), QStringLiteral("No messages yet"));
    QCOMPARE(widget.visibleLastBucket(), -1);
}

void tst_UiWidgets::histogramRenders()
{
    HistogramWidget widget;
    widget.setTitle(QStringLiteral("Message sizes"));
    widget.resize(widget.sizeHint());
    QVERIFY(widget.minimumSizeHint().width() <= widget.sizeHint().width());
    QVERIFY(widget.minimumSizeHint().height() <= widget.sizeHint().height());
    SizeHistogram histogram;
    histogram.counts[5] = 40;
    histogram.counts[7] = 300;
    histogram.counts[8] = 120;
    widget.setHistogram(histogram, 20, 140, 250);
    for (const QPalette &palette : {QApplication::palette(), darkPalette()}) {
        widget.setPalette(palette);
        const QImage image = render(&widget);
        QVERIFY(distinctColors(image) > 2);
        // The bars, in the highlight colour: the tallest fills a good part of the height.
        QVERIFY(countPixels(image, palette.color(QPalette::Highlight)) > 1500);
    }
}

void tst_UiWidgets::chartRingBounded()
{
    ThroughputChart chart;
    // 100,000 samples 10 ms apart: 1,000 s at 100 per second.
    for (int i = 0; i < 100000; ++i)
        chart.addSample(1'000'000 + qint64(i) * 10, i, 2 * i, i % 50);
    QVERIFY(chart.sampleCount() <= ThroughputChart::kMaxSamples);
    QVERIFY(chart.sampleCount() > 100); // merged, not thrown away
    QVERIFY2(chart.spanMs() >= chart.windowMs() && chart.spanMs() <= chart.windowMs() + 100,
             qPrintable(QString::number(chart.spanMs())));
    // The newest sample wins: the legend shows it.
    QCOMPARE(chart.legendText(),
             QStringLiteral("in 97.7 KiB/s \u00b7 out 195.3 KiB/s \u00b7 49 clients"));

    chart.setWindowMs(10000);
    QVERIFY(chart.spanMs() >= 10000 && chart.spanMs() <= 10100);

    // A clock that goes back starts over.
    chart.addSample(0, 1, 1, 1);
    QCOMPARE(chart.sampleCount(), 1);
}

void tst_UiWidgets::chartKeepsEverySampleAt20Hz()
{
    ThroughputChart chart;
    for (int i = 0; i < 2000; ++i)
        chart.addSample(qint64(i) * 50, 1000, 1000, 1);
    // 60 s of samples 50 ms apart, and the one at the window's left edge.
    QCOMPARE(chart.sampleCount(), 60000 / 50 + 1);
    QCOMPARE(chart.spanMs(), 60000);
}

void tst_UiWidgets::chartNiceAxis_data()
{
    QTest::addColumn<double>("highest");
    QTest::addColumn<double>("top");
    QTest::newRow("idle") << 0.0 << 1024.0;
    QTest::newRow("1 B/s") << 1.0 << 1.0;
    QTest::newRow("7 B/s") << 7.0 << 8.0;
    QTest::newRow("999 B/s") << 999.0 << 1000.0;
    QTest::newRow("1000 B/s") << 1000.0 << 1024.0;
    QTest::newRow("12.3 MiB/s") << 12.3 * 1024 * 1024 << 15.0 * 1024 * 1024;
    QTest::newRow("123,456 B/s") << 123456.0 << 150.0 * 1024;
    QTest::newRow("5 GB/s") << 5e9 << 6.0 * 1024 * 1024 * 1024;
    QTest::newRow("0.4 B/s") << 0.4 << 1.0;
}

void tst_UiWidgets::chartNiceAxis()
{
    QFETCH(double, highest);
    QFETCH(double, top);
    ThroughputChart chart;
    chart.addSample(1000, highest / 2, highest / 3, 3);
    chart.addSample(2000, highest / 4, highest, 7);
    chart.addSample(3000, 0, highest / 5, 2);
    QCOMPARE(chart.maxBytesPerSecondShown(), top);
    QVERIFY(chart.maxBytesPerSecondShown() >= highest);
    if (highest >= 1)
        QVERIFY(chart.maxBytesPerSecondShown() < 2.5 * highest);
    QVERIFY(chart.maxClientsShown() >= 7);
    QVERIFY(chart.maxClientsShown() < 2.5 * 7);
}

void tst_UiWidgets::chartClearAndEmpty()
{
    ThroughputChart chart;
    chart.resize(chart.sizeHint());
    QCOMPARE(chart.sampleCount(), 0);
    QCOMPARE(chart.windowMs(), ThroughputChart::kDefaultWindowMs);
    QCOMPARE(chart.legendText(),
             QStringLiteral("in 0 bytes/s \u00b7 out 0 bytes/s \u00b7 0 clients"));
    const int emptyColors = distinctColors(render(&chart));
    QVERIFY(emptyColors > 1); // "No traffic yet"

    chart.addSample(1000, 12.3 * 1024 * 1024, 12.3 * 1024 * 1024, 104);
    chart.addSample(1050, 12.3 * 1024 * 1024, 12.3 * 1024 * 1024, 104);
    QCOMPARE(chart.sampleCount(), 2);
    QCOMPARE(chart.legendText(),
             QStringLiteral("in 12.3 MiB/s \u00b7 out 12.3 MiB/s \u00b7 104 clients"));
    QVERIFY(distinctColors(render(&chart)) > emptyColors);
    chart.clear();
    QCOMPARE(chart.sampleCount(), 0);
    QCOMPARE(chart.spanMs(), 0);
    QCOMPARE(chart.maxBytesPerSecondShown(), 1024.0);
}

// The English translation (translations/echoscope_en.ts, compiled into the resources) gives
// the "%n" texts their singular and plural; without it they read "1 client(s)".
void tst_UiWidgets::englishPluralForms()
{
    QVERIFY2(m_translations.contains(QStringLiteral(":/i18n/echoscope_en.qm")),
             qPrintable(m_translations.join(u", ")));

    ThroughputChart chart;
    chart.addSample(1000, 0, 0, 1);
    QCOMPARE(chart.legendText(),
             QStringLiteral("in 0 bytes/s \u00b7 out 0 bytes/s \u00b7 1 client"));
    chart.addSample(1050, 0, 0, 2);
    QCOMPARE(chart.legendText(),
             QStringLiteral("in 0 bytes/s \u00b7 out 0 bytes/s \u00b7 2 clients"));
    // The byte axis in the dashboard's units: idle, up to 1 KiB/s in quarters; busy, in
    // the unit of its top (was "0.25 KiB/s" and "50 KiB/s", its own formatting).
    QCOMPARE(chart.rateAxisLabels(),
             QStringList({QStringLiteral("0"), QStringLiteral("256 bytes/s"),
                          QStringLiteral("512 bytes/s"), QStringLiteral("768 bytes/s"),
                          QStringLiteral("1.0 KiB/s")}));
    chart.addSample(1100, 150 * 1024, 150 * 1024, 2);
    QCOMPARE(chart.rateAxisLabels(),
             QStringList({QStringLiteral("0"), QStringLiteral("50.0 KiB/s"),
                          QStringLiteral("100.0 KiB/s"), QStringLiteral("150.0 KiB/s")}));

    QCOMPARE(Units::exactBytes(1), QStringLiteral("1 byte"));
    QCOMPARE(Units::exactBytes(2), QStringLiteral("2 bytes"));
    QCOMPARE(Units::exactBytes(0), QStringLiteral("0 bytes"));
    QCOMPARE(Units::messages(1), QStringLiteral("1 message"));
    QCOMPARE(Units::messages(4812), QStringLiteral("4,812 messages"));
    // Beyond tr()'s int: the whole number, in the plural.
    QCOMPARE(Units::exactBytes(5'000'000'001), QStringLiteral("5,000,000,001 bytes"));
    QCOMPARE(Translations::pluralCount(5'000'000'001), 1'000'001);
    QCOMPARE(Translations::pluralCount(2'147'483'647), 2'147'483'647);

    HistogramWidget histogram;
    SizeHistogram sizes;
    sizes.counts[size_t(SizeHistogram::bucketFor(1))] = 1;
    histogram.setHistogram(sizes, 1, 1, 1);
    QVERIFY2(histogram.summaryText().endsWith(u"\u00b7 1 message"),
             qPrintable(histogram.summaryText()));
    QCOMPARE(histogram.toolTipForBucket(1), QStringLiteral("1 byte: 1 message (100.0%)"));
}

void tst_UiWidgets::chartRenders()
{
    ThroughputChart chart;
    chart.resize(chart.sizeHint());
    for (int i = 0; i <= 1200; ++i) {
        const double wave = 1 + std::sin(i / 60.0);
        chart.addSample(qint64(i) * 50, wave * 3e6, wave * 3e6 * 0.98, 20 + (i / 100) % 5);
    }
    for (const QPalette &palette : {QApplication::palette(), darkPalette()}) {
        chart.setPalette(palette);
        const QImage image = render(&chart);
        QVERIFY(distinctColors(image) > 20); // lines, area, grid and antialiased text
        // The plot is on the base colour, the widget on the window colour.
        QVERIFY(countPixels(image, palette.color(QPalette::Base)) > 1000);
    }
}

void tst_UiWidgets::screenshots()
{
    if (qEnvironmentVariableIsEmpty("ECHOSCOPE_SCREENSHOT_DIR"))
        QSKIP("set ECHOSCOPE_SCREENSHOT_DIR to write PNGs of the widgets");
    HexView hexView;
    hexView.resize(640, 360);
    hexView.setCapture(smallCapture());
    HexView textView;
    textView.resize(640, 360);
    textView.setMode(HexView::Mode::Text);
    CaptureSnapshot text = smallCapture();
    text.chunks.append(
        chunk(Direction::Received, 1044,
              "GET / HTTP/1.1\r\nHost: example\r\n\r\n\x01\x02 caf\xc3\xa9 \xe2\x80\x8b" +
                  QByteArray(150, 'w'),
              sampleTimeMs() + 20));
    textView.setCapture(text);
    HexView largeView;
    largeView.resize(640, 360);
    largeView.setCapture(largeCapture(256, 4096));
    largeView.verticalScrollBar()->setValue(257 - 8);
    largeView.selectAll();
    QTest::keyClick(&largeView, Qt::Key_Escape);
    QTest::mouseClick(largeView.viewport(), Qt::LeftButton, {}, QPoint(20, 30));
    HexView emptyView;
    emptyView.resize(400, 160);
    HistogramWidget histogram;
    histogram.setTitle(QStringLiteral("Message sizes"));
    histogram.resize(histogram.sizeHint());
    SizeHistogram counts;
    counts.counts[1] = 3;
    counts.counts[5] = 40;
    counts.counts[7] = 4300;
    counts.counts[8] = 120;
    counts.counts[11] = 310;
    histogram.setHistogram(counts, 1, 210.4, 1500);
    HistogramWidget wideHistogram;
    wideHistogram.resize(300, 140);
    SizeHistogram wide;
    for (int bucket = 0; bucket < SizeHistogram::kBuckets; ++bucket)
        wide.counts[size_t(bucket)] = (bucket * 7919) % 1000;
    wideHistogram.setHistogram(wide, 0, 123456789, qint64(1) << 33);
    HistogramWidget emptyHistogram;
    emptyHistogram.setTitle(QStringLiteral("Message sizes"));
    emptyHistogram.resize(emptyHistogram.sizeHint());
    ThroughputChart chart;
    chart.resize(chart.sizeHint());
    for (int i = 0; i <= 1200; ++i) {
        const double wave = 1 + std::sin(i / 60.0);
        chart.addSample(qint64(i) * 50, wave * 6e6, wave * 6e6, 80 + (i / 100) % 30);
    }
    ThroughputChart emptyChart;
    emptyChart.resize(emptyChart.sizeHint());

    const QList<QPair<QWidget *, QString>> widgets = {
        {&hexView, QStringLiteral("hexview")},
        {&textView, QStringLiteral("textview")},
        {&largeView, QStringLiteral("largeview")},
        {&emptyView, QStringLiteral("emptyview")},
        {&histogram, QStringLiteral("histogram")},
        {&emptyHistogram, QStringLiteral("emptyhistogram")},
        {&wideHistogram, QStringLiteral("widehistogram")},
        {&chart, QStringLiteral("chart")},
        {&emptyChart, QStringLiteral("emptychart")},
    };
    for (const auto &[widget, name] : widgets) {
        widget->setPalette(QApplication::palette());
        saveScreenshot(widget, QStringLiteral("views-%1-light").arg(name));
        widget->setPalette(darkPalette());
        saveScreenshot(widget, QStringLiteral("views-%1-dark").arg(name));
    }
}

// A checked toggle (the inspector's Hex/Text, the log's Auto-scroll) must look checked in
// both palettes: Fusion draws "on" only a shade darker, which the dark palette's buttons did
// not show. Rendered, the middle of a checked button differs plainly from an unchecked one.
void tst_UiWidgets::checkedButtonsStandOut()
{
    QStyle *style = QStyleFactory::create(QStringLiteral("fusion"));
    QVERIFY(style);
    const QPalette original = QApplication::palette();
    for (const QPalette &palette : {style->standardPalette(), Palettes::dark()}) {
        QApplication::setPalette(palette);
        QWidget window;
        window.setStyle(style);
        auto *checked = new QPushButton(QStringLiteral("Hex"), &window);
        auto *unchecked = new QPushButton(QStringLiteral("Text"), &window);
        for (QPushButton *button : {checked, unchecked}) {
            button->setStyle(style);
            button->setCheckable(true);
            Palettes::showCheckedState(button);
            button->resize(80, 24);
        }
        unchecked->move(100, 0);
        checked->setChecked(true);
        window.resize(200, 30);
        const auto middle = [](QPushButton *button) {
            const QImage image = button->grab().toImage();
            return image.pixelColor(image.width() / 8, image.height() / 2);
        };
        const QColor on = middle(checked);
        const QColor off = middle(unchecked);
        const int distance = std::abs(on.red() - off.red()) + std::abs(on.green() - off.green()) +
                             std::abs(on.blue() - off.blue());
        QVERIFY2(distance >= 40, qPrintable(QStringLiteral("%1 palette: checked %2, unchecked %3")
                                                .arg(Palettes::isDark(palette) ? "dark" : "light",
                                                     on.name(), off.name())));
        // Unchecked again, it looks like the other.
        checked->setChecked(false);
        QCOMPARE(middle(checked), off);
    }
    QApplication::setPalette(original);
    delete style;
}

// The throughput tile says the unit once when both directions share it (the full pair
// did not fit the tile in a 1280-pixel window), and both in full in its tooltip; the
// bytes tile writes its pair the same way.
void tst_UiWidgets::statusRateWritesTheUnitOnce()
{
    QCOMPARE(StatusPanel::inOutText(QStringLiteral("887.7 KiB/s"), QStringLiteral("887.7 KiB/s")),
             QStringLiteral("887.7 / 887.7 KiB/s"));
    QCOMPARE(StatusPanel::inOutText(QStringLiteral("0 bytes/s"), QStringLiteral("12 bytes/s")),
             QStringLiteral("0 / 12 bytes/s"));
    QCOMPARE(StatusPanel::inOutText(QStringLiteral("1.2 MiB/s"), QStringLiteral("900.0 KiB/s")),
             QStringLiteral("1.2 MiB/s / 900.0 KiB/s"));
    QCOMPARE(StatusPanel::inOutText(QStringLiteral("5"), QStringLiteral("5")),
             QStringLiteral("5 / 5"));

    StatusPanel panel;
    TrafficSnapshot snapshot;
    snapshot.listening = true;
    snapshot.bytesInPerSecond = 909000;
    snapshot.bytesOutPerSecond = 909000;
    panel.setSnapshot(snapshot);
    const QString in = Units::bytesPerSecond(909000);
    QCOMPARE(panel.fieldText(StatusPanel::RateField), StatusPanel::inOutText(in, in));
    QVERIFY(panel.fieldText(StatusPanel::RateField).size() < 2 * in.size() + 3);
    QCOMPARE(panel.fieldToolTip(StatusPanel::RateField), in + " in, " + in + " out");

    snapshot.totals.bytesIn = 116916224; // 111.5 MiB
    snapshot.totals.bytesOut = 116916224;
    panel.setSnapshot(snapshot);
    const QString bytes = Units::bytes(116916224);
    QVERIFY2(bytes.endsWith(QStringLiteral(" MiB")), qPrintable(bytes));
    QCOMPARE(panel.fieldText(StatusPanel::BytesField), StatusPanel::inOutText(bytes, bytes));
    QCOMPARE(panel.fieldText(StatusPanel::BytesField),
             bytes.chopped(4) + QStringLiteral(" / ") + bytes);
    QCOMPARE(panel.fieldToolTip(StatusPanel::BytesField),
             Units::exactBytes(116916224) + " in, " + Units::exactBytes(116916224) + " out");
}

QTEST_MAIN(tst_UiWidgets)
#include "tst_uiwidgets.moc"
