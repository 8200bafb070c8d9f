#include "histogramwidget.h"

#include "palettes.h"
#include "units.h"

#include <QEvent>
#include <QFontMetrics>
#include <QHelpEvent>
#include <QList>
#include <QLocale>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace Echoscope {

namespace {

constexpr int kMarginPx = 6;
constexpr int kGapPx = 4; // between the text lines and the bars

// "812", "4.8k", "48k", "1.2M": short enough to stand over a bar.
QString compactCount(qint64 count, const QLocale &locale)
{
    if (count < 1000)
        return locale.toString(count);
    if (count < 1000000) {
        const double thousands = count / 1000.0;
        return locale.toString(thousands, 'f', thousands < 10 ? 1 : 0) + QLatin1Char('k');
    }
    const double millions = count / 1e6;
    return locale.toString(millions, 'f', millions < 10 ? 1 : 0) + QLatin1Char('M');
}

} // namespace

HistogramWidget::HistogramWidget(QWidget *parent) : QWidget(parent)
{
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void HistogramWidget::setHistogram(const SizeHistogram &histogram, qint64 minBytes,
                                   double meanBytes, qint64 maxBytes)
{
    m_histogram = histogram;
    m_total = histogram.total();
    m_minBytes = minBytes;
    m_meanBytes = meanBytes;
    m_maxBytes = maxBytes;

    m_firstBucket = m_lastBucket = -1;
    for (int bucket = 0; bucket < SizeHistogram::kBuckets; ++bucket) {
        if (histogram.counts[size_t(bucket)] > 0) {
            if (m_firstBucket < 0)
                m_firstBucket = bucket;
            m_lastBucket = bucket;
        }
    }
    // Widen a narrow range on both sides, larger sizes first.
    bool growUp = true;
    while (m_firstBucket >= 0 && m_lastBucket - m_firstBucket + 1 < kMinVisibleBuckets) {
        if (growUp && m_lastBucket < SizeHistogram::kBuckets - 1)
            ++m_lastBucket;
        else if (m_firstBucket > 0)
            --m_firstBucket;
        else
            ++m_lastBucket;
        growUp = !growUp;
    }
    updateAccessibleText();
    update();
}

// A screen reader gets the title and the summary line the painting shows.
void HistogramWidget::updateAccessibleText()
{
    const QString name = tr("Message sizes: %1").arg(m_title);
    if (accessibleName() != name)
        setAccessibleName(name);
    const QString summary = summaryText();
    if (accessibleDescription() != summary)
        setAccessibleDescription(summary);
}

void HistogramWidget::clear()
{
    setHistogram(SizeHistogram{}, -1, 0, -1);
}

void HistogramWidget::setTitle(const QString &title)
{
    if (title == m_title)
        return;
    m_title = title;
    updateAccessibleText();
    updateGeometry();
    update();
}

QString HistogramWidget::summaryText() const
{
    if (m_total == 0)
        return tr("No messages yet");
    const QString dash = QStringLiteral("\u2013");
    const QString min = m_minBytes < 0 ? dash : Units::bytes(m_minBytes);
    const QString max = m_maxBytes < 0 ? dash : Units::bytes(m_maxBytes);
    const QString messages = Units::messages(m_total);
    return tr("min %1 \u00b7 mean %2 \u00b7 max %3 \u00b7 %4")
        .arg(min, Units::bytes(qRound64(m_meanBytes)), max, messages);
}

QString HistogramWidget::toolTipForBucket(int bucket) const
{
    if (bucket < 0 || bucket >= SizeHistogram::kBuckets)
        return {};
    const QLocale locale = this->locale();
    const qint64 low = SizeHistogram::bucketLow(bucket);
    const qint64 high = SizeHistogram::bucketHigh(bucket);
    QString sizes;
    if (bucket == SizeHistogram::kBuckets - 1)
        sizes = tr("%1 bytes or more").arg(sizeText(low));
    else if (low == high)
        sizes = Units::exactBytes(low);
    else
        sizes = tr("%1\u2013%2 bytes").arg(sizeText(low), sizeText(high));
    const qint64 count = m_histogram.counts[size_t(bucket)];
    const QString messages = Units::messages(count);
    const double percent = m_total > 0 ? 100.0 * double(count) / double(m_total) : 0.0;
    return tr("%1: %2 (%3%)").arg(sizes, messages, locale.toString(percent, 'f', 1));
}

int HistogramWidget::bucketAt(const QPoint &pos) const
{
    if (m_firstBucket < 0)
        return -1;
    const Layout parts = layout();
    const QRect columns(parts.bars.left(), parts.bars.top(), parts.bars.width(),
                        parts.labels.bottom() - parts.bars.top() + 1);
    if (!columns.contains(pos))
        return -1;
    for (int bucket = m_firstBucket; bucket <= m_lastBucket; ++bucket) {
        const QRect slot = slotRect(parts, bucket);
        if (pos.x() >= slot.left() && pos.x() <= slot.right())
            return bucket;
    }
    return -1;
}

QSize HistogramWidget::sizeHint() const
{
    return QSize(360, 160);
}

QSize HistogramWidget::minimumSizeHint() const
{
    const int line = fontMetrics().height();
    const int titleLines = m_title.isEmpty() ? 0 : 1;
    return QSize(160, 2 * kMarginPx + (titleLines + 2) * line + 2 * kGapPx + 3 * line);
}

bool HistogramWidget::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const int bucket = bucketAt(help->pos());
        if (bucket >= 0) {
            QToolTip::showText(help->globalPos(), toolTipForBucket(bucket), this,
                               slotRect(layout(), bucket));
        } else {
            QToolTip::hideText();
            event->ignore();
        }
        return true;
    }
    return QWidget::event(event);
}

void HistogramWidget::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    const QPalette &pal = palette();
    const QColor text = pal.color(QPalette::WindowText);
    const QColor dim = Palettes::mixed(text, pal.color(QPalette::Window), 0.35);
    const Layout parts = layout();
    const QFontMetrics metrics = fontMetrics();

    if (!parts.title.isEmpty()) {
        QFont bold = font();
        bold.setBold(true);
        painter.setFont(bold);
        painter.setPen(text);
        const QString summary = summaryText();
        const bool countOnTitleLine = metrics.horizontalAdvance(summary) > parts.summary.width();
        const int countWidth =
            countOnTitleLine
                ? metrics.horizontalAdvance(summary.mid(summary.lastIndexOf(QChar(0x00b7)) + 1)) +
                      kGapPx
                : 0;
        painter.drawText(parts.title, Qt::AlignLeft | Qt::AlignVCenter,
                         QFontMetrics(bold).elidedText(m_title, Qt::ElideRight,
                                                       parts.title.width() - countWidth));
        painter.setFont(font());
    }
    const QString summary = summaryText();
    painter.setPen(m_total == 0 ? dim : text);
    if (m_firstBucket < 0) {
        // Nothing to draw but the empty state, in the middle of the chart's area.
        const QRect area(parts.summary.topLeft(), parts.labels.bottomRight());
        painter.drawText(area, Qt::AlignCenter,
                         metrics.elidedText(summary, Qt::ElideRight, area.width()));
        return;
    }
    if (metrics.horizontalAdvance(summary) <= parts.summary.width() || parts.title.isEmpty()) {
        painter.drawText(parts.summary, Qt::AlignLeft | Qt::AlignVCenter,
                         metrics.elidedText(summary, Qt::ElideRight, parts.summary.width()));
    } else {
        // Too narrow for one line: the message count goes to the right of the title.
        const qsizetype split = summary.lastIndexOf(QStringLiteral(" \u00b7 "));
        const QString count = summary.mid(split + 3);
        painter.drawText(parts.title, Qt::AlignRight | Qt::AlignVCenter, count);
        painter.drawText(
            parts.summary, Qt::AlignLeft | Qt::AlignVCenter,
            metrics.elidedText(summary.left(split), Qt::ElideRight, parts.summary.width()));
    }

    qint64 highest = 1;
    for (int bucket = m_firstBucket; bucket <= m_lastBucket; ++bucket)
        highest = std::max(highest, m_histogram.counts[size_t(bucket)]);

    // Counts stand over their bars: the tallest bar leaves a line free above it.
    const int countHeight = metrics.height();
    const int barSpace = std::max(1, parts.bars.height() - countHeight);
    const QColor barColor = pal.color(QPalette::Highlight);
    const QLocale locale = this->locale();
    for (int bucket = m_firstBucket; bucket <= m_lastBucket; ++bucket) {
        const qint64 count = m_histogram.counts[size_t(bucket)];
        if (count == 0)
            continue;
        const QRect slot = slotRect(parts, bucket);
        const int gap = std::clamp(slot.width() / 6, 1, 8);
        const int height =
            std::max(2, int(std::lround(double(barSpace) * double(count) / double(highest))));
        const QRect bar(slot.left() + gap / 2, parts.bars.bottom() - height + 1, slot.width() - gap,
                        height);
        painter.fillRect(bar, barColor);
        const QString countText = compactCount(count, locale);
        if (metrics.horizontalAdvance(countText) <= slot.width()) {
            painter.setPen(text);
            painter.drawText(QRect(slot.left(), bar.top() - countHeight, slot.width(), countHeight),
                             Qt::AlignHCenter | Qt::AlignBottom, countText);
        }
    }

    // Labels centred under their bars and kept inside the widget. Where they would
    // overlap, the buckets with messages get theirs first, and the room a skipped one
    // needed stays empty: a neighbour's label there would read as the bar's.
    const int spacing = metrics.horizontalAdvance(QLatin1Char(' '));
    QList<QPair<int, int>> taken; // [left, right) of each label drawn or skipped
    QList<QPair<int, int>> drawn;
    painter.setPen(dim);
    for (const bool withMessages : {true, false}) {
        for (int bucket = m_firstBucket; bucket <= m_lastBucket; ++bucket) {
            if ((m_histogram.counts[size_t(bucket)] > 0) != withMessages)
                continue;
            const QString label = SizeHistogram::bucketLabel(bucket);
            const int width = metrics.horizontalAdvance(label);
            const int left = std::clamp(slotRect(parts, bucket).center().x() - width / 2, kMarginPx,
                                        std::max(kMarginPx, this->width() - kMarginPx - width));
            const auto overlaps = [&](const QPair<int, int> &other) {
                return left < other.second + spacing && left + width + spacing > other.first;
            };
            const QList<QPair<int, int>> &obstacles = withMessages ? drawn : taken;
            const bool fits = std::none_of(obstacles.cbegin(), obstacles.cend(), overlaps);
            if (fits) {
                painter.drawText(QRect(left, parts.labels.top(), width, parts.labels.height()),
                                 Qt::AlignCenter, label);
                drawn.append({left, left + width});
            }
            if (fits || withMessages)
                taken.append({left, left + width});
        }
    }
    painter.setPen(dim);
    painter.drawLine(parts.bars.left(), parts.bars.bottom() + 1, parts.bars.right(),
                     parts.bars.bottom() + 1);
}

HistogramWidget::Layout HistogramWidget::layout() const
{
    const QRect area = rect().adjusted(kMarginPx, kMarginPx, -kMarginPx, -kMarginPx);
    const int line = fontMetrics().height();
    Layout parts;
    int top = area.top();
    if (!m_title.isEmpty()) {
        parts.title = QRect(area.left(), top, area.width(), line);
        top += line;
    }
    parts.summary = QRect(area.left(), top, area.width(), line);
    top += line + kGapPx;
    parts.labels = QRect(area.left(), area.bottom() - line + 1, area.width(), line);
    parts.bars = QRect(area.left(), top, area.width(), std::max(1, parts.labels.top() - 2 - top));
    return parts;
}

QRect HistogramWidget::slotRect(const Layout &layout, int bucket) const
{
    const int count = m_lastBucket - m_firstBucket + 1;
    const int index = bucket - m_firstBucket;
    const double width = double(layout.bars.width()) / std::max(1, count);
    const int left = layout.bars.left() + int(std::lround(index * width));
    const int right = layout.bars.left() + int(std::lround((index + 1) * width));
    return QRect(left, layout.bars.top(), std::max(1, right - left), layout.bars.height());
}

QString HistogramWidget::sizeText(qint64 bytes) const
{
    return locale().toString(bytes);
}

} // namespace Echoscope
