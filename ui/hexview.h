#pragma once

#include "capturebuffer.h"

#include <QAbstractScrollArea>
#include <QColor>
#include <QHash>
#include <QList>
#include <QPair>
#include <QString>

#include <vector>

namespace Echoscope {

// One client's captured traffic, like Wireshark's "Follow TCP stream": a header line
// per chunk, then its bytes as hex (offset, 16 bytes in two groups of 8, ASCII) or as
// escaped text, received and echoed bytes in two colours. Only the visible lines are
// laid out and painted, so a capture of megabytes scrolls as fast as one of bytes: Text
// mode measures and wraps its lines over the raw bytes (TextEscape::escapedToken()) and
// escapes a line only when it is painted or asked for.
class HexView : public QAbstractScrollArea
{
    Q_OBJECT

public:
    enum class Mode { Hex, Text };
    Q_ENUM(Mode)

    // Text mode wraps lines longer than this many characters.
    static constexpr int kTextColumns = 96;

    explicit HexView(QWidget *parent = nullptr);

    // Replaces what is shown (a whole snapshot), or adds to it (a tail from
    // CaptureBuffer::snapshotSince(position()): the new bytes are appended, and what the
    // ring dropped since goes from the front). A view scrolled to the bottom stays at
    // the bottom; otherwise the line at the top stays at the top while it is still
    // captured.
    void setCapture(const CaptureSnapshot &capture);
    // Where the capture shown ends: what to ask the buffer for next.
    CapturePosition position() const { return m_position; }
    // Bytes held in the chunks shown.
    qint64 heldBytes() const { return m_heldBytes; }
    void clear();

    Mode mode() const { return m_mode; }
    void setMode(Mode mode);

    QString placeholderText() const { return m_placeholderText; }
    void setPlaceholderText(const QString &text);

    int lineCount() const { return m_lineCount; }
    // Chunks split into lines by the last layout (Text mode): after a setCapture() with
    // more bytes, only the new or grown ones.
    int relaidChunks() const { return m_relaidChunks; }
    // Bytes of the capture escaped into Text mode's lines since the view was made: only
    // the lines painted or asked for (lineText(), a copy), each once while it stays in
    // a small cache of escaped lines. A test hook, as the work is counted, not timed.
    qint64 escapedBytes() const { return m_escapedBytes; }
    // Whole lines the viewport shows at its current height.
    int visibleLineCount() const;
    QString lineText(int line) const;
    QString toPlainText() const;
    // The selected lines (made with the mouse or Ctrl+A) joined with '\n'; empty if none.
    QString selectedText() const;
    void selectAll();
    void copy() const;    // the selection, or everything when nothing is selected
    void copyAll() const; // toPlainText() to the clipboard

    QColor directionColor(CaptureChunk::Direction direction) const;      // bytes
    QColor directionBackground(CaptureChunk::Direction direction) const; // their rows

signals:
    void modeChanged(Echoscope::HexView::Mode mode);

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    // Where a line comes from, independent of the layout: survives new data, dropped
    // old data and a change of mode.
    struct Anchor
    {
        bool valid = false;
        CaptureChunk::Direction direction = CaptureChunk::Direction::Received;
        qint64 streamOffset = 0; // of the line's first byte (of the chunk for a header)
        bool header = false;
    };
    // A line of text mode: a run of one chunk's bytes, cut where no escape is cut in
    // two (TextEscape::escapedToken()), and escaped only when it is shown.
    struct TextLine
    {
        qsizetype byteStart = 0; // in the chunk: the line's first byte
        qsizetype byteLength = 0;
        qsizetype textLength = 0;      // of its escaped text
        qsizetype clientLineStart = 0; // in the chunk: the first byte of the client's line
    };
    struct ViewState
    {
        bool follow = true; // scrolled to the bottom
        Anchor top;
        Anchor selectionAnchor;
        Anchor selectionCurrent;
    };
    struct ChunkLayout
    {
        bool laidOut = false; // text mode: textLines are made
        int firstLine = 0;    // its header line
        std::vector<TextLine> textLines;
    };

    ViewState saveState() const;
    void restoreState(const ViewState &state);
    // Realigns m_layout with m_chunks after a whole new snapshot: previous (the chunks
    // shown before) keep their text layouts where they match.
    void matchLayouts(std::vector<ChunkLayout> old, const QList<CaptureChunk> &previous);
    // Lays out (text mode) the chunks not laid out yet, and counts lines and columns.
    void relayout();
    void appendTail(const CaptureSnapshot &tail);
    void layoutText(const CaptureChunk &chunk, ChunkLayout *layout) const;
    // A text line's escaped text, from the cache or escaped now.
    QString escapedLine(const CaptureChunk &chunk, const TextLine &line) const;
    int chunkForLine(int line) const;
    int linesOf(int chunk) const;
    QString headerText(const CaptureChunk &chunk) const;
    int headerFixedColumns() const;
    QString hexLine(const CaptureChunk &chunk, int row) const;
    Anchor anchorForLine(int line) const;
    int lineForAnchor(const Anchor &anchor) const;
    int lineAt(int y) const;
    int lineHeight() const;
    void updateScrollBars();
    void setSelection(int anchorLine, int currentLine);

    QList<CaptureChunk> m_chunks;
    std::vector<ChunkLayout> m_layout;
    CapturePosition m_position;
    qint64 m_firstTotal = 0; // the ring's total offset of m_chunks' first byte
    qint64 m_firstChunk = 0; // the ring's number of m_chunks.first()
    qint64 m_heldBytes = 0;
    int m_lineCount = 0;
    int m_relaidChunks = 0;
    int m_maxColumns = 0;
    Mode m_mode = Mode::Hex;
    QString m_placeholderText;
    int m_selectionAnchor = -1; // -1: nothing selected
    int m_selectionCurrent = -1;
    // Escaped text lines by (stream offset * 2 + direction, byte length): the bytes at a
    // stream offset never change while one client's capture is shown.
    mutable QHash<QPair<qint64, qint64>, QString> m_escapedLines;
    mutable qint64 m_escapedBytes = 0;
};

} // namespace Echoscope
