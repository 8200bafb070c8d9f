#include "hexview.h"

#include "clock.h"
#include "palettes.h"
#include "textescape.h"
#include "units.h"

#include <QAction>
#include <QActionGroup>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QFontDatabase>
#include <QFontMetricsF>
#include <QGuiApplication>
#include <QKeyEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>

#include <algorithm>
#include <cmath>

namespace Echoscope {

namespace {

constexpr int kBytesPerRow = 16;
constexpr int kOffsetDigits = 8;
constexpr int kMarginPx = 6;
// Escaped text lines kept: a few screens' worth; the cache starts afresh when full.
constexpr qsizetype kEscapedLinesKept = 512;
const char kHexDigits[] = "0123456789abcdef";

// Columns of a full hex row for an offset of offsetDigits digits:
// offset, 2 spaces, 16 * "xx " plus the space between the groups, a space, 16 ASCII.
int hexRowColumns(int offsetDigits)
{
    return offsetDigits + 2 + kBytesPerRow * 3 + 1 + 1 + kBytesPerRow;
}

int decimalDigits(qint64 value, int base = 10)
{
    int digits = 1;
    for (; value >= base; value /= base)
        ++digits;
    return digits;
}

// At least the length of HexView::headerText(chunk), without formatting it:
// "hh:mm:ss.zzz  received 1,037 bytes (offset 0x400)". fixedColumns: the length of the
// header without its three numbers (HexView::headerFixedColumns()).
int headerColumns(const CaptureChunk &chunk, int fixedColumns)
{
    const int sizeDigits = decimalDigits(chunk.bytes.size());
    return fixedColumns + sizeDigits + (sizeDigits - 1) / 3 + decimalDigits(chunk.streamOffset);
}

} // namespace

HexView::HexView(QWidget *parent)
    : QAbstractScrollArea(parent), m_placeholderText(tr("No bytes captured yet"))
{
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setFocusPolicy(Qt::StrongFocus);
    setAccessibleName(tr("Captured traffic"));
    setAccessibleDescription(m_placeholderText);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    viewport()->setCursor(Qt::IBeamCursor);
    updateScrollBars();
}

void HexView::setCapture(const CaptureSnapshot &capture)
{
    const ViewState state = saveState();
    if (capture.tailOnly) {
        appendTail(capture);
    } else {
        // Perhaps another client's capture: the same stream offsets, other bytes.
        m_escapedLines.clear();
        const QList<CaptureChunk> previous = std::exchange(m_chunks, capture.chunks);
        std::vector<ChunkLayout> old;
        old.swap(m_layout);
        matchLayouts(std::move(old), previous);
        m_firstTotal = capture.heldFromTotal;
        m_firstChunk = capture.heldFromChunk;
        m_heldBytes = capture.heldBytes;
    }
    m_position = CapturePosition{capture.endTotal, capture.endChunk};
    relayout();
    restoreState(state);
    // What a screen reader says of the painted dump: the totals; the lines themselves
    // are lineText() and the clipboard (Ctrl+C).
    const QString summary =
        tr("%1 received, %2 echoed since connect; %3 held in the capture")
            .arg(Units::exactBytes(capture.receivedBytes), Units::exactBytes(capture.echoedBytes),
                 Units::exactBytes(capture.heldBytes));
    if (accessibleDescription() != summary)
        setAccessibleDescription(summary);
}

void HexView::clear()
{
    m_chunks.clear();
    m_layout.clear();
    m_escapedLines.clear();
    m_position = {};
    m_firstTotal = m_firstChunk = m_heldBytes = 0;
    m_selectionAnchor = m_selectionCurrent = -1;
    setAccessibleDescription(m_placeholderText);
    relayout();
    verticalScrollBar()->setValue(0);
}

void HexView::setMode(Mode mode)
{
    if (mode == m_mode)
        return;
    const ViewState state = saveState();
    m_mode = mode;
    for (ChunkLayout &layout : m_layout)
        layout = ChunkLayout();
    relayout();
    restoreState(state);
    emit modeChanged(mode);
}

void HexView::setPlaceholderText(const QString &text)
{
    if (text == m_placeholderText)
        return;
    m_placeholderText = text;
    if (m_lineCount == 0)
        viewport()->update();
}

QString HexView::lineText(int line) const
{
    if (line < 0 || line >= m_lineCount)
        return {};
    const int chunk = chunkForLine(line);
    const ChunkLayout &layout = m_layout[size_t(chunk)];
    const int row = line - layout.firstLine - 1;
    if (row < 0)
        return headerText(m_chunks.at(chunk));
    if (m_mode == Mode::Hex)
        return hexLine(m_chunks.at(chunk), row);
    return escapedLine(m_chunks.at(chunk), layout.textLines[size_t(row)]);
}

QString HexView::escapedLine(const CaptureChunk &chunk, const TextLine &line) const
{
    const QPair<qint64, qint64> key(
        (chunk.streamOffset + line.byteStart) * 2 +
            (chunk.direction == CaptureChunk::Direction::Received ? 0 : 1),
        line.byteLength);
    const auto cached = m_escapedLines.constFind(key);
    if (cached != m_escapedLines.constEnd())
        return cached.value();
    // Cut where no escape is cut in two (layoutText()): the same text as this line's part
    // of the whole chunk's escape.
    const QString text = TextEscape::escapeBytes(
        QByteArrayView(chunk.bytes).sliced(line.byteStart, line.byteLength));
    m_escapedBytes += line.byteLength;
    if (m_escapedLines.size() >= kEscapedLinesKept)
        m_escapedLines.clear();
    m_escapedLines.insert(key, text);
    return text;
}

QString HexView::toPlainText() const
{
    QString out;
    out.reserve(qsizetype(m_lineCount) * (m_maxColumns + 1));
    for (int line = 0; line < m_lineCount; ++line) {
        if (line > 0)
            out.append(QLatin1Char('\n'));
        out.append(lineText(line));
    }
    return out;
}

QString HexView::selectedText() const
{
    if (m_selectionAnchor < 0)
        return {};
    const int first = std::min(m_selectionAnchor, m_selectionCurrent);
    const int last = std::max(m_selectionAnchor, m_selectionCurrent);
    QString out;
    for (int line = first; line <= last; ++line) {
        if (line > first)
            out.append(QLatin1Char('\n'));
        out.append(lineText(line));
    }
    return out;
}

void HexView::selectAll()
{
    if (m_lineCount > 0)
        setSelection(0, m_lineCount - 1);
}

void HexView::copy() const
{
    if (m_selectionAnchor < 0)
        copyAll();
    else
        QGuiApplication::clipboard()->setText(selectedText());
}

void HexView::copyAll() const
{
    QGuiApplication::clipboard()->setText(toPlainText());
}

QColor HexView::directionColor(CaptureChunk::Direction direction) const
{
    // Wireshark's colours: the client's bytes red, the server's blue; lighter on dark.
    const bool received = direction == CaptureChunk::Direction::Received;
    if (Palettes::isDark(palette()))
        return received ? QColor(0xff, 0xa0, 0xa0) : QColor(0xa0, 0xc4, 0xff);
    return received ? QColor(0x9c, 0x12, 0x12) : QColor(0x12, 0x3c, 0x9c);
}

QColor HexView::directionBackground(CaptureChunk::Direction direction) const
{
    const QColor base = palette().color(QPalette::Base);
    const bool received = direction == CaptureChunk::Direction::Received;
    const QColor tint = received ? QColor(0xe0, 0x30, 0x30) : QColor(0x30, 0x60, 0xe0);
    return Palettes::mixed(base, tint, Palettes::isDark(palette()) ? 0.22 : 0.10);
}

void HexView::paintEvent(QPaintEvent *)
{
    QPainter painter(viewport());
    const QPalette &pal = palette();
    const QRect area = viewport()->rect();
    painter.fillRect(area, pal.color(QPalette::Base));

    if (m_lineCount == 0) {
        painter.setPen(pal.color(QPalette::PlaceholderText));
        painter.drawText(area.adjusted(kMarginPx, kMarginPx, -kMarginPx, -kMarginPx),
                         Qt::AlignCenter | Qt::TextWordWrap, m_placeholderText);
        return;
    }

    const int height = lineHeight();
    const QFontMetricsF metrics(font());
    QFont headerFont = font();
    headerFont.setBold(true);
    const qreal x = kMarginPx - horizontalScrollBar()->value();
    const qreal textWidth = m_maxColumns * metrics.horizontalAdvance(QLatin1Char('0')) + 100;
    const int first = verticalScrollBar()->value();
    const int last = std::min(m_lineCount - 1, first + area.height() / height + 1);
    const int selectionFirst = std::min(m_selectionAnchor, m_selectionCurrent);
    const int selectionLast = std::max(m_selectionAnchor, m_selectionCurrent);
    const QColor separator =
        Palettes::mixed(pal.color(QPalette::Base), pal.color(QPalette::Text), 0.2);

    int chunk = chunkForLine(first);
    for (int line = first; line <= last; ++line) {
        while (size_t(chunk) + 1 < m_layout.size() && m_layout[size_t(chunk) + 1].firstLine <= line)
            ++chunk;
        const CaptureChunk &data = m_chunks.at(chunk);
        const bool header = line == m_layout[size_t(chunk)].firstLine;
        const bool selected =
            m_selectionAnchor >= 0 && line >= selectionFirst && line <= selectionLast;
        const QRect row(0, (line - first) * height, area.width(), height);
        const QRectF textRect(x, row.top(), textWidth, height);
        const int flags = Qt::AlignLeft | Qt::AlignVCenter | Qt::TextSingleLine;

        QColor foreground = directionColor(data.direction);
        if (selected) {
            painter.fillRect(row, pal.color(QPalette::Highlight));
            foreground = pal.color(QPalette::HighlightedText);
        } else if (!header) {
            painter.fillRect(row, directionBackground(data.direction));
        }

        const QString text = lineText(line);
        if (header) {
            if (line > 0 && !selected) {
                painter.setPen(separator);
                painter.drawLine(row.topLeft(), row.topRight());
            }
            painter.setFont(headerFont);
            painter.setPen(selected ? foreground
                                    : Palettes::mixed(foreground, pal.color(QPalette::Base), 0.25));
            painter.drawText(textRect, flags, text);
            painter.setFont(font());
            continue;
        }
        if (m_mode == Mode::Hex) {
            // The offset column dimmer than the bytes.
            const qsizetype offsetLength = text.indexOf(QLatin1Char(' '));
            const QString offset = text.left(offsetLength);
            painter.setPen(selected ? foreground
                                    : Palettes::mixed(foreground, pal.color(QPalette::Base), 0.45));
            painter.drawText(textRect, flags, offset);
            painter.setPen(foreground);
            const qreal indent = metrics.horizontalAdvance(offset);
            painter.drawText(textRect.adjusted(indent, 0, indent, 0), flags,
                             text.mid(offsetLength));
        } else {
            painter.setPen(foreground);
            painter.drawText(textRect, flags, text);
        }
    }
}

void HexView::resizeEvent(QResizeEvent *event)
{
    const bool follow = verticalScrollBar()->value() >= verticalScrollBar()->maximum();
    QAbstractScrollArea::resizeEvent(event);
    updateScrollBars();
    if (follow)
        verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void HexView::keyPressEvent(QKeyEvent *event)
{
    if (event->matches(QKeySequence::Copy)) {
        copy();
        return;
    }
    if (event->matches(QKeySequence::SelectAll)) {
        selectAll();
        return;
    }
    QScrollBar *bar = verticalScrollBar();
    switch (event->key()) {
    case Qt::Key_Home:
        bar->triggerAction(QAbstractSlider::SliderToMinimum);
        return;
    case Qt::Key_End:
        bar->triggerAction(QAbstractSlider::SliderToMaximum);
        return;
    case Qt::Key_PageUp:
        bar->triggerAction(QAbstractSlider::SliderPageStepSub);
        return;
    case Qt::Key_PageDown:
        bar->triggerAction(QAbstractSlider::SliderPageStepAdd);
        return;
    case Qt::Key_Up:
        bar->triggerAction(QAbstractSlider::SliderSingleStepSub);
        return;
    case Qt::Key_Down:
        bar->triggerAction(QAbstractSlider::SliderSingleStepAdd);
        return;
    case Qt::Key_Escape:
        if (m_selectionAnchor >= 0) {
            setSelection(-1, -1);
            return;
        }
        break;
    default:
        break;
    }
    QAbstractScrollArea::keyPressEvent(event);
}

void HexView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton || m_lineCount == 0) {
        QAbstractScrollArea::mousePressEvent(event);
        return;
    }
    const int line = lineAt(event->position().toPoint().y());
    if ((event->modifiers() & Qt::ShiftModifier) && m_selectionAnchor >= 0)
        setSelection(m_selectionAnchor, line);
    else
        setSelection(line, line);
}

void HexView::mouseMoveEvent(QMouseEvent *event)
{
    if (!(event->buttons() & Qt::LeftButton) || m_selectionAnchor < 0) {
        QAbstractScrollArea::mouseMoveEvent(event);
        return;
    }
    const int y = event->position().toPoint().y();
    if (y < 0)
        verticalScrollBar()->triggerAction(QAbstractSlider::SliderSingleStepSub);
    else if (y >= viewport()->height())
        verticalScrollBar()->triggerAction(QAbstractSlider::SliderSingleStepAdd);
    setSelection(m_selectionAnchor, lineAt(y));
}

void HexView::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton)
        event->accept(); // the selection was made while pressed and moving
    else
        QAbstractScrollArea::mouseReleaseEvent(event);
}

void HexView::contextMenuEvent(QContextMenuEvent *event)
{
    QMenu menu(this);
    QAction *copySelection = menu.addAction(tr("&Copy"));
    copySelection->setShortcut(QKeySequence::Copy);
    copySelection->setEnabled(m_selectionAnchor >= 0);
    connect(copySelection, &QAction::triggered, this, [this] { copy(); });
    QAction *copyEverything = menu.addAction(tr("Copy &All"));
    copyEverything->setEnabled(m_lineCount > 0);
    connect(copyEverything, &QAction::triggered, this, [this] { copyAll(); });
    QAction *selectEverything = menu.addAction(tr("Select All"));
    selectEverything->setShortcut(QKeySequence::SelectAll);
    selectEverything->setEnabled(m_lineCount > 0);
    connect(selectEverything, &QAction::triggered, this, &HexView::selectAll);
    menu.addSeparator();
    auto *modes = new QActionGroup(&menu);
    QAction *hex = modes->addAction(tr("Show as &Hex"));
    QAction *text = modes->addAction(tr("Show as &Text"));
    hex->setCheckable(true);
    text->setCheckable(true);
    hex->setChecked(m_mode == Mode::Hex);
    text->setChecked(m_mode == Mode::Text);
    menu.addActions(modes->actions());
    connect(hex, &QAction::triggered, this, [this] { setMode(Mode::Hex); });
    connect(text, &QAction::triggered, this, [this] { setMode(Mode::Text); });
    menu.exec(event->globalPos());
}

void HexView::changeEvent(QEvent *event)
{
    QAbstractScrollArea::changeEvent(event);
    if (event->type() == QEvent::FontChange) {
        updateScrollBars();
        viewport()->update();
    } else if (event->type() == QEvent::PaletteChange) {
        viewport()->update();
    }
}

HexView::ViewState HexView::saveState() const
{
    const QScrollBar *bar = verticalScrollBar();
    ViewState state;
    state.follow = bar->value() >= bar->maximum();
    state.top = anchorForLine(bar->value());
    state.selectionAnchor = anchorForLine(m_selectionAnchor);
    state.selectionCurrent = anchorForLine(m_selectionCurrent);
    return state;
}

void HexView::restoreState(const ViewState &state)
{
    QScrollBar *bar = verticalScrollBar();
    if (state.follow)
        bar->setValue(bar->maximum());
    else
        bar->setValue(std::max(0, lineForAnchor(state.top)));
    const int anchor = lineForAnchor(state.selectionAnchor);
    const int current = lineForAnchor(state.selectionCurrent);
    if (anchor >= 0 && current >= 0)
        setSelection(anchor, current);
    else
        setSelection(-1, -1);
    viewport()->update();
}

void HexView::appendTail(const CaptureSnapshot &tail)
{
    // What the ring dropped since the last refresh goes from the front: whole chunks,
    // then the front of the oldest one kept.
    const qsizetype gone =
        qsizetype(std::clamp<qint64>(tail.heldFromChunk - m_firstChunk, 0, m_chunks.size()));
    for (qsizetype i = 0; i < gone; ++i)
        m_firstTotal += m_chunks.at(i).bytes.size();
    m_firstChunk += gone;
    m_chunks.remove(0, gone);
    m_layout.erase(m_layout.begin(), m_layout.begin() + gone);
    const qint64 trim = tail.heldFromTotal - m_firstTotal;
    if (trim > 0 && !m_chunks.isEmpty()) {
        CaptureChunk &front = m_chunks.first();
        const qsizetype cut = qsizetype(std::min<qint64>(trim, front.bytes.size()));
        front.bytes.remove(0, cut);
        front.streamOffset += cut;
        m_layout.front() = ChunkLayout();
        m_firstTotal += cut;
    }
    // Then the new bytes: those the ring merged into the last chunk shown, and new chunks.
    for (qsizetype i = 0; i < tail.chunks.size(); ++i) {
        const CaptureChunk &chunk = tail.chunks.at(i);
        if (i == 0 && tail.continuesLastChunk && !m_chunks.isEmpty()) {
            CaptureChunk &last = m_chunks.last();
            last.bytes.append(chunk.bytes);
            last.flags = chunk.flags;
            m_layout.back() = ChunkLayout();
            continue;
        }
        m_chunks.append(chunk);
        m_layout.emplace_back();
    }
    m_heldBytes = tail.heldBytes;
}

void HexView::matchLayouts(std::vector<ChunkLayout> old, const QList<CaptureChunk> &previous)
{
    // A chunk that was shown already (the same direction, stream offset and size: the
    // same bytes, which never change) keeps its text layout; the chunks the ring dropped
    // go with their layouts.
    m_layout.assign(size_t(m_chunks.size()), ChunkLayout());
    if (m_mode != Mode::Text || old.size() != size_t(previous.size()))
        return;
    qsizetype next = 0; // in previous: both lists are oldest first
    for (qsizetype i = 0; i < m_chunks.size(); ++i) {
        const CaptureChunk &chunk = m_chunks.at(i);
        while (next < previous.size()) {
            const CaptureChunk &before = previous.at(next);
            if (before.direction == chunk.direction && before.streamOffset == chunk.streamOffset &&
                before.bytes.size() == chunk.bytes.size()) {
                m_layout[size_t(i)] = std::move(old[size_t(next)]);
                ++next;
                break;
            }
            if (before.timestampMs > chunk.timestampMs)
                break; // later than this chunk: this one is new (or grew)
            ++next;    // dropped by the ring, or grown since
        }
    }
}

void HexView::relayout()
{
    // Text mode splits the bytes of each chunk not laid out yet into lines (measured,
    // not escaped): after a refresh, only what was captured since.
    m_relaidChunks = 0;
    qint64 lastOffset = 0;
    int line = 0;
    int columns = 0;
    const int headerFixed = headerFixedColumns();
    for (qsizetype i = 0; i < m_chunks.size(); ++i) {
        const CaptureChunk &chunk = m_chunks.at(i);
        ChunkLayout &layout = m_layout[size_t(i)];
        layout.firstLine = line;
        if (m_mode == Mode::Text) {
            if (!layout.laidOut) {
                layout.textLines.clear();
                layoutText(chunk, &layout);
                layout.laidOut = true;
                ++m_relaidChunks;
            }
            for (const TextLine &textLine : layout.textLines)
                columns = std::max(columns, int(textLine.textLength));
        }
        line += linesOf(int(i));
        lastOffset = std::max(lastOffset, chunk.streamOffset + chunk.bytes.size());
        columns = std::max(columns, headerColumns(chunk, headerFixed));
    }
    m_lineCount = line;
    if (m_mode == Mode::Hex) {
        const int offsetDigits = std::max(kOffsetDigits, decimalDigits(lastOffset, 16));
        columns = std::max(columns, hexRowColumns(offsetDigits));
    }
    m_maxColumns = columns;
    updateScrollBars();
    viewport()->update();
}

void HexView::layoutText(const CaptureChunk &chunk, ChunkLayout *layout) const
{
    // A line of the client's text per line, split after each '\n' byte ('\n' cannot be
    // part of a UTF-8 sequence, so escaping the pieces equals escaping the whole), and
    // wrapped before the token (an escape, a character) that would pass kTextColumns.
    // Only the lengths of the escapes are counted here: the text is made when a line is
    // shown (escapedLine()).
    const QByteArrayView bytes(chunk.bytes);
    const auto *data = reinterpret_cast<const uchar *>(bytes.data());
    qsizetype segmentStart = 0;
    while (segmentStart < bytes.size()) {
        const qsizetype newline = chunk.bytes.indexOf('\n', segmentStart);
        const qsizetype segmentEnd = newline < 0 ? bytes.size() : newline + 1;
        // Tokens are decoded within the client's line, as escaping it alone would.
        const QByteArrayView segment = bytes.sliced(segmentStart, segmentEnd - segmentStart);
        qsizetype lineStart = 0; // in segment
        qsizetype width = 0;     // of the escaped text from lineStart
        for (qsizetype i = 0; i < segment.size();) {
            int length = 1;
            int escaped = 1;
            const uchar byte = data[segmentStart + i];
            // Printable ASCII but '\\' and '"' is itself: the common case, measured here.
            if (byte < 0x20 || byte >= 0x7f || byte == '\\' || byte == '"')
                length = TextEscape::escapedToken(segment, i, &escaped);
            if (i > lineStart && width + escaped > kTextColumns) {
                layout->textLines.push_back(
                    {segmentStart + lineStart, i - lineStart, width, segmentStart});
                lineStart = i;
                width = 0;
            }
            width += escaped;
            i += length;
        }
        if (segment.size() > lineStart)
            layout->textLines.push_back(
                {segmentStart + lineStart, segment.size() - lineStart, width, segmentStart});
        segmentStart = segmentEnd;
    }
}

int HexView::chunkForLine(int line) const
{
    const auto it = std::upper_bound(
        m_layout.begin(), m_layout.end(), line,
        [](int value, const ChunkLayout &layout) { return value < layout.firstLine; });
    return std::max(0, int(it - m_layout.begin()) - 1);
}

int HexView::linesOf(int chunk) const
{
    if (m_mode == Mode::Text)
        return 1 + int(m_layout[size_t(chunk)].textLines.size());
    const qsizetype size = m_chunks.at(chunk).bytes.size();
    return 1 + int((size + kBytesPerRow - 1) / kBytesPerRow);
}

int HexView::headerFixedColumns() const
{
    // The time, the longer of the two texts without its three placeholders, and the longest
    // form of the size's unit (1, 2 and 5: the singular and the plurals of most languages;
    // the width only sizes the horizontal scroll bar).
    const qsizetype text = std::max(tr("%1  received %2 (offset 0x%3)").size(),
                                    tr("%1  echoed %2 (offset 0x%3)").size());
    qsizetype unit = 0;
    for (const int n : {1, 2, 5})
        unit = std::max(unit, Units::exactBytes(n).size() - 1);
    return int(12 + text - 6 + unit);
}

QString HexView::headerText(const CaptureChunk &chunk) const
{
    const QString time = Clock::timeOfDayText(chunk.timestampMs);
    const bool received = chunk.direction == CaptureChunk::Direction::Received;
    const QString size = Units::exactBytes(chunk.bytes.size());
    // The offset in hex, as the rows below it count.
    return (received ? tr("%1  received %2 (offset 0x%3)") : tr("%1  echoed %2 (offset 0x%3)"))
        .arg(time, size)
        .arg(chunk.streamOffset, 0, 16);
}

QString HexView::hexLine(const CaptureChunk &chunk, int row) const
{
    const qsizetype start = qsizetype(row) * kBytesPerRow;
    const qsizetype count = std::min<qsizetype>(kBytesPerRow, chunk.bytes.size() - start);
    const auto *data = reinterpret_cast<const uchar *>(chunk.bytes.constData()) + start;
    const QString offset =
        QString::number(chunk.streamOffset + start, 16).rightJustified(kOffsetDigits, u'0');
    const qsizetype hexStart = offset.size() + 2;
    const qsizetype asciiStart = hexStart + kBytesPerRow * 3 + 2;
    QString out(asciiStart + count, QLatin1Char(' '));
    QChar *chars = out.data();
    std::copy(offset.cbegin(), offset.cend(), chars);
    for (qsizetype k = 0; k < count; ++k) {
        const uchar byte = data[k];
        QChar *hex = chars + hexStart + k * 3 + (k >= 8 ? 1 : 0);
        hex[0] = QLatin1Char(kHexDigits[byte >> 4]);
        hex[1] = QLatin1Char(kHexDigits[byte & 0xf]);
        chars[asciiStart + k] = QLatin1Char(byte >= 0x20 && byte < 0x7f ? char(byte) : '.');
    }
    return out;
}

HexView::Anchor HexView::anchorForLine(int line) const
{
    Anchor anchor;
    if (line < 0 || line >= m_lineCount)
        return anchor;
    const int chunk = chunkForLine(line);
    const CaptureChunk &data = m_chunks.at(chunk);
    const ChunkLayout &layout = m_layout[size_t(chunk)];
    const int row = line - layout.firstLine - 1;
    anchor.valid = true;
    anchor.direction = data.direction;
    anchor.header = row < 0;
    anchor.streamOffset = data.streamOffset;
    if (row >= 0) {
        anchor.streamOffset += m_mode == Mode::Hex ? qint64(row) * kBytesPerRow
                                                   : layout.textLines[size_t(row)].clientLineStart;
    }
    return anchor;
}

int HexView::lineForAnchor(const Anchor &anchor) const
{
    if (!anchor.valid)
        return -1;
    for (qsizetype i = 0; i < m_chunks.size(); ++i) {
        const CaptureChunk &chunk = m_chunks.at(i);
        if (chunk.direction != anchor.direction)
            continue;
        const ChunkLayout &layout = m_layout[size_t(i)];
        if (anchor.header && chunk.streamOffset == anchor.streamOffset)
            return layout.firstLine;
        const qint64 byte = anchor.streamOffset - chunk.streamOffset;
        if (byte < 0 || byte >= chunk.bytes.size())
            continue;
        if (m_mode == Mode::Hex)
            return layout.firstLine + 1 + int(byte / kBytesPerRow);
        // The first wrapped line of the client's line that holds the byte.
        const auto &lines = layout.textLines;
        auto it = std::upper_bound(lines.begin(), lines.end(), byte,
                                   [](qint64 value, const TextLine &textLine) {
                                       return value < textLine.clientLineStart;
                                   });
        if (it == lines.begin())
            return layout.firstLine;
        const qsizetype lineStartByte = (it - 1)->clientLineStart;
        it = std::lower_bound(lines.begin(), lines.end(), lineStartByte,
                              [](const TextLine &textLine, qsizetype value) {
                                  return textLine.clientLineStart < value;
                              });
        return layout.firstLine + 1 + int(it - lines.begin());
    }
    return -1;
}

int HexView::lineAt(int y) const
{
    const int line = verticalScrollBar()->value() + std::max(0, y) / lineHeight();
    return std::clamp(line, 0, std::max(0, m_lineCount - 1));
}

int HexView::visibleLineCount() const
{
    return viewport()->height() / lineHeight();
}

int HexView::lineHeight() const
{
    return std::max(1, fontMetrics().lineSpacing());
}

void HexView::updateScrollBars()
{
    const int pageLines = std::max(1, viewport()->height() / lineHeight());
    QScrollBar *vertical = verticalScrollBar();
    vertical->setSingleStep(1);
    vertical->setPageStep(pageLines);
    vertical->setRange(0, std::max(0, m_lineCount - pageLines));

    const qreal charWidth = QFontMetricsF(font()).horizontalAdvance(QLatin1Char('0'));
    const int contentWidth = int(std::ceil(m_maxColumns * charWidth)) + 2 * kMarginPx;
    QScrollBar *horizontal = horizontalScrollBar();
    horizontal->setSingleStep(std::max(1, int(charWidth)) * 4);
    horizontal->setPageStep(viewport()->width());
    horizontal->setRange(0, m_lineCount == 0 ? 0 : std::max(0, contentWidth - viewport()->width()));
}

void HexView::setSelection(int anchorLine, int currentLine)
{
    if (anchorLine == m_selectionAnchor && currentLine == m_selectionCurrent)
        return;
    m_selectionAnchor = anchorLine;
    m_selectionCurrent = anchorLine < 0 ? -1 : currentLine;
    viewport()->update();
}

} // namespace Echoscope
