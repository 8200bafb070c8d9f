#pragma once

#include "clientstats.h"

#include <QRect>
#include <QString>
#include <QWidget>

namespace Echoscope {

// Message sizes as bars, one per power-of-two bucket, from the smallest to the largest
// bucket in use; min, mean and max in a line above, the exact counts in tooltips.
class HistogramWidget : public QWidget
{
    Q_OBJECT

public:
    // Fewer buckets than this look lost: the range is widened around the data.
    static constexpr int kMinVisibleBuckets = 5;

    explicit HistogramWidget(QWidget *parent = nullptr);

    // minBytes and maxBytes are -1 while there is no message.
    void setHistogram(const SizeHistogram &histogram, qint64 minBytes, double meanBytes,
                      qint64 maxBytes);
    void clear();
    const SizeHistogram &histogram() const { return m_histogram; }

    QString title() const { return m_title; }
    void setTitle(const QString &title);

    // The buckets drawn, -1 when there is nothing to draw.
    int visibleFirstBucket() const { return m_firstBucket; }
    int visibleLastBucket() const { return m_lastBucket; }
    // "min 12 B · mean 1.2 KiB · max 64 KiB · 4,812 messages", or "No messages yet".
    QString summaryText() const;
    // The accessible name (the title) and description (summaryText()).
    void updateAccessibleText();
    // "1,024–2,047 bytes: 310 messages (12.5%)"
    QString toolTipForBucket(int bucket) const;
    int bucketAt(const QPoint &pos) const; // -1 outside the bars

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    bool event(QEvent *event) override;
    void paintEvent(QPaintEvent *event) override;

private:
    struct Layout
    {
        QRect title;   // empty without a title
        QRect summary; // the summary line
        QRect bars;    // the bars grow up from its bottom; counts above them
        QRect labels;  // bucket labels under the bars
    };
    Layout layout() const;
    QRect slotRect(const Layout &layout, int bucket) const; // a bucket's column in bars
    QString sizeText(qint64 bytes) const;                   // "1,024"

    SizeHistogram m_histogram;
    qint64 m_total = 0;
    qint64 m_minBytes = -1;
    double m_meanBytes = 0;
    qint64 m_maxBytes = -1;
    int m_firstBucket = -1;
    int m_lastBucket = -1;
    QString m_title;
};

} // namespace Echoscope
