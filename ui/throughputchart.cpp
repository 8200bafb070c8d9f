#include "throughputchart.h"

#include "palettes.h"
#include "units.h"

#include <QFontMetrics>
#include <QLocale>
#include <QPainter>
#include <QPainterPath>
#include <QPolygonF>

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>

namespace Echoscope {

namespace {

constexpr int kMarginPx = 6;
constexpr int kSpacingPx = 6;
constexpr qint64 kMinWindowMs = 1000;
constexpr int kLastRateUnit = 4; // TiB/s, the largest unit the byte axis counts in

// The hues of the hex view: received (in) red, echoed (out) blue; clients green.
QColor inColor(const QPalette &palette)
{
    return Palettes::isDark(palette) ? QColor(0xff, 0x87, 0x87) : QColor(0xc9, 0x2a, 0x2a);
}

QColor outColor(const QPalette &palette)
{
    return Palettes::isDark(palette) ? QColor(0x74, 0xc0, 0xfc) : QColor(0x19, 0x71, 0xc2);
}

QColor clientColor(const QPalette &palette)
{
    return Palettes::isDark(palette) ? QColor(0x8c, 0xe9, 0x9a) : QColor(0x2b, 0x8a, 0x3e);
}

// The smallest of 1, 2, 2.5, 5 times a power of ten at or above minimum; whole numbers
// only when integral.
double niceStep(double minimum, bool integral)
{
    if (!(minimum > 0))
        return 1;
    const double magnitude = std::pow(10.0, std::floor(std::log10(minimum)));
    for (const double mantissa : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        const double step = mantissa * magnitude;
        if (step < minimum * (1 - 1e-9))
            continue;
        if (integral && (step < 1 || step != std::floor(step)))
            continue;
        return step;
    }
    return integral ? std::max(1.0, std::ceil(10 * magnitude)) : 10 * magnitude;
}

} // namespace

ThroughputChart::ThroughputChart(QWidget *parent) : QWidget(parent)
{
    setAccessibleName(tr("Throughput over the last minute"));
    updateAccessibleText();
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void ThroughputChart::addSample(qint64 timestampMs, double bytesInPerSecond,
                                double bytesOutPerSecond, int clients)
{
    if (!m_samples.empty() && timestampMs < m_samples.back().timestampMs)
        m_samples.clear(); // the clock went back: start over rather than draw backwards
    const Sample sample{timestampMs, std::max(0.0, bytesInPerSecond),
                        std::max(0.0, bytesOutPerSecond), std::max(0, clients)};
    // Keep samples at least minSpacing apart: while the newest is closer than that to
    // the one before it, a new sample replaces it. So the window holds at most about
    // kMaxSamples / 2 + 2 samples, however often they come (every one at 20 per second).
    const qint64 minSpacing = m_windowMs / (kMaxSamples / 2) + 1;
    const size_t count = m_samples.size();
    if (count >= 2 &&
        m_samples[count - 1].timestampMs - m_samples[count - 2].timestampMs < minSpacing)
        m_samples.back() = sample;
    else
        m_samples.push_back(sample);
    trim();
    updateAccessibleText();
    update();
}

void ThroughputChart::clear()
{
    m_samples.clear();
    updateAccessibleText();
    update();
}

// A screen reader gets the legend: the latest rates and clients.
void ThroughputChart::updateAccessibleText()
{
    const QString description = legendText();
    if (accessibleDescription() != description)
        setAccessibleDescription(description);
}

void ThroughputChart::setWindowMs(qint64 windowMs)
{
    windowMs = std::max(kMinWindowMs, windowMs);
    if (windowMs == m_windowMs)
        return;
    m_windowMs = windowMs;
    trim();
    update();
}

qint64 ThroughputChart::spanMs() const
{
    if (m_samples.empty())
        return 0;
    return m_samples.back().timestampMs - m_samples.front().timestampMs;
}

double ThroughputChart::maxBytesPerSecondShown() const
{
    const Axis axis = byteAxis();
    return axis.step * axis.steps * axis.unitBytes;
}

int ThroughputChart::maxClientsShown() const
{
    const int steps = byteAxis().steps;
    return clientStep(steps) * steps;
}

QString ThroughputChart::legendText() const
{
    const Sample last = m_samples.empty() ? Sample{0, 0, 0, 0} : m_samples.back();
    const QString clients = tr("%Ln client(s)", nullptr, last.clients);
    return tr("in %1 \u00b7 out %2 \u00b7 %3")
        .arg(Units::bytesPerSecond(last.bytesIn), Units::bytesPerSecond(last.bytesOut), clients);
}

QStringList ThroughputChart::rateAxisLabels() const
{
    const Axis axis = byteAxis();
    QStringList labels;
    for (int i = 0; i <= axis.steps; ++i) {
        // A step under the axis unit reads in the unit below ("256 bytes/s").
        labels.append(i == 0 ? QStringLiteral("0")
                             : Units::bytesPerSecond(i * axis.step * axis.unitBytes));
    }
    return labels;
}

QSize ThroughputChart::sizeHint() const
{
    return QSize(480, 200);
}

QSize ThroughputChart::minimumSizeHint() const
{
    return QSize(240, 5 * fontMetrics().height() + 2 * kMarginPx);
}

void ThroughputChart::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    const QPalette &pal = palette();
    const QColor text = pal.color(QPalette::WindowText);
    const QColor dim = Palettes::mixed(text, pal.color(QPalette::Window), 0.35);
    const QColor grid = Palettes::mixed(pal.color(QPalette::Base), text, 0.12);
    const QFontMetrics metrics = fontMetrics();
    const QLocale locale = this->locale();
    const int line = metrics.height();
    const QRect area = rect().adjusted(kMarginPx, kMarginPx, -kMarginPx, -kMarginPx);

    if (m_samples.empty()) {
        painter.setPen(dim);
        painter.drawText(area, Qt::AlignCenter, tr("No traffic yet"));
        return;
    }
    painter.setRenderHint(QPainter::Antialiasing);

    // The legend: a sample of each line and the newest values.
    const Sample &last = m_samples.back();
    const QColor in = inColor(pal);
    const QColor out = outColor(pal);
    const QColor clients = clientColor(pal);
    // An echo server sends what it receives: "out" is dashed over a wider "in" so both
    // stay visible where they are equal.
    const QPen inPen(in, 3);
    QPen outPen(out, 1.5, Qt::CustomDashLine);
    outPen.setDashPattern({4, 3});
    const struct
    {
        QString label;
        QPen pen;
        bool area;
    } legend[] = {
        {tr("in %1").arg(Units::bytesPerSecond(last.bytesIn)), inPen, false},
        {tr("out %1").arg(Units::bytesPerSecond(last.bytesOut)), outPen, false},
        {tr("%Ln client(s)", nullptr, last.clients), QPen(clients, 1), true},
    };
    const int swatchWidth = 18;
    int x = area.left();
    const int legendMiddle = area.top() + line / 2;
    for (const auto &item : legend) {
        const int width = swatchWidth + 4 + metrics.horizontalAdvance(item.label);
        if (x + width > area.right() + 1)
            break;
        if (item.area) {
            QColor fill = clients;
            fill.setAlpha(70);
            painter.fillRect(QRect(x, legendMiddle - 4, swatchWidth, 9), fill);
        }
        painter.setPen(item.pen);
        painter.drawLine(QPointF(x, legendMiddle + (item.area ? -4 : 0.5)),
                         QPointF(x + swatchWidth, legendMiddle + (item.area ? -4 : 0.5)));
        painter.setPen(text);
        painter.drawText(QRect(x + swatchWidth + 4, area.top(), width, line),
                         Qt::AlignLeft | Qt::AlignVCenter, item.label);
        x += width + 3 * kSpacingPx;
    }

    // Axes: byte rates on the left, clients on the right, the same gridlines.
    const Axis axis = byteAxis();
    const int clientsPerStep = clientStep(axis.steps);
    const QStringList rateLabels = rateAxisLabels();
    QStringList clientLabels;
    int rateWidth = 0;
    int clientWidth = 0;
    for (int i = 0; i <= axis.steps; ++i) {
        clientLabels.append(locale.toString(i * clientsPerStep));
        rateWidth = std::max(rateWidth, metrics.horizontalAdvance(rateLabels.at(i)));
        clientWidth = std::max(clientWidth, metrics.horizontalAdvance(clientLabels.last()));
    }
    const QRect plot(
        QPoint(area.left() + rateWidth + kSpacingPx, area.top() + line + kSpacingPx + line / 2),
        QPoint(area.right() - clientWidth - kSpacingPx, area.bottom() - line - kSpacingPx / 2));
    if (plot.width() < 10 || plot.height() < 10)
        return;
    painter.fillRect(plot, pal.color(QPalette::Base));

    for (int i = 0; i <= axis.steps; ++i) {
        const qreal y = plot.bottom() - qreal(i) * plot.height() / axis.steps;
        painter.setPen(grid);
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
        const QRectF label(area.left(), y - line / 2.0, rateWidth, line);
        painter.setPen(dim);
        painter.drawText(label, Qt::AlignRight | Qt::AlignVCenter, rateLabels.at(i));
        painter.setPen(clients);
        painter.drawText(QRectF(plot.right() + kSpacingPx, y - line / 2.0, clientWidth, line),
                         Qt::AlignLeft | Qt::AlignVCenter, clientLabels.at(i));
    }

    // Time: "-60 s" at the left edge to "now" at the right.
    constexpr int kTimeTicks = 4;
    int labelsRight = std::numeric_limits<int>::min();
    for (int i = 0; i <= kTimeTicks; ++i) {
        const qreal x = plot.left() + qreal(i) * plot.width() / kTimeTicks;
        if (i > 0 && i < kTimeTicks) {
            painter.setPen(grid);
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        }
        const qint64 agoMs = m_windowMs - m_windowMs * i / kTimeTicks;
        const QString label = i == kTimeTicks
                                  ? tr("now")
                                  : tr("-%1 s").arg(locale.toString(double(agoMs) / 1000, 'g', 4));
        const int width = metrics.horizontalAdvance(label);
        const int left = std::clamp(int(x) - width / 2, area.left(), area.right() - width);
        if (left <= labelsRight + kSpacingPx)
            continue;
        painter.setPen(dim);
        painter.drawText(QRect(left, plot.bottom() + kSpacingPx / 2, width, line), Qt::AlignCenter,
                         label);
        labelsRight = left + width;
    }

    // The data, clipped to the plot: the oldest sample may lie left of the window.
    painter.save();
    painter.setClipRect(plot);
    const qint64 newest = last.timestampMs;
    const double topBytes = axis.step * axis.steps * axis.unitBytes;
    const double topClients = clientsPerStep * axis.steps;
    auto xFor = [&](qint64 timestampMs) {
        return plot.right() + 1 - double(newest - timestampMs) * plot.width() / double(m_windowMs);
    };
    auto yFor = [&](double value, double top) {
        return plot.bottom() + 1 - value * plot.height() / top;
    };

    // A minute at 20 Hz is 1,200 samples, more than the plot has pixels: each line keeps
    // the lowest and highest point per pixel column (in the order they came), and the
    // clients' steps only where the count changes, so a repaint strokes a few hundred
    // points whatever the sample rate.
    struct Column
    {
        int x = INT_MIN;
        QPointF first, low, high, last;
    };
    const auto flush = [](const Column &column, QPolygonF *line) {
        if (column.x == INT_MIN)
            return;
        line->append(column.first);
        const bool lowFirst = column.low.x() <= column.high.x();
        for (const QPointF &point : {lowFirst ? column.low : column.high,
                                     lowFirst ? column.high : column.low, column.last}) {
            if (point != line->constLast())
                line->append(point);
        }
    };
    const auto add = [&flush](Column *column, QPolygonF *line, const QPointF &point) {
        const int x = int(std::floor(point.x()));
        if (x != column->x) {
            flush(*column, line);
            *column = Column{x, point, point, point, point};
            return;
        }
        if (point.y() < column->high.y()) // screen y grows downwards
            column->high = point;
        if (point.y() > column->low.y())
            column->low = point;
        column->last = point;
    };

    QPainterPath clientArea;
    QPainterPath clientLine;
    QPolygonF inLine;
    QPolygonF outLine;
    Column inColumn;
    Column outColumn;
    qreal previousY = 0;
    int previousClients = -1;
    for (size_t i = 0; i < m_samples.size(); ++i) {
        const Sample &sample = m_samples[i];
        const qreal sampleX = xFor(sample.timestampMs);
        const qreal clientY = yFor(sample.clients, topClients);
        if (i == 0) {
            clientArea.moveTo(sampleX, plot.bottom() + 1);
            clientArea.lineTo(sampleX, clientY);
            clientLine.moveTo(sampleX, clientY);
        } else if (sample.clients != previousClients) {
            clientArea.lineTo(sampleX, previousY);
            clientArea.lineTo(sampleX, clientY);
            clientLine.lineTo(sampleX, previousY);
            clientLine.lineTo(sampleX, clientY);
        }
        previousY = clientY;
        previousClients = sample.clients;
        add(&inColumn, &inLine, QPointF(sampleX, yFor(sample.bytesIn, topBytes)));
        add(&outColumn, &outLine, QPointF(sampleX, yFor(sample.bytesOut, topBytes)));
    }
    flush(inColumn, &inLine);
    flush(outColumn, &outLine);
    if (!m_samples.empty()) {
        clientArea.lineTo(xFor(newest), previousY);
        clientLine.lineTo(xFor(newest), previousY);
    }
    clientArea.lineTo(xFor(newest), plot.bottom() + 1);
    clientArea.closeSubpath();
    QColor clientFill = clients;
    clientFill.setAlpha(Palettes::isDark(pal) ? 50 : 40);
    painter.fillPath(clientArea, clientFill);
    QColor clientStroke = clients;
    clientStroke.setAlpha(170);
    painter.setPen(QPen(clientStroke, 1));
    painter.drawPath(clientLine);
    painter.setPen(inPen);
    painter.drawPolyline(inLine);
    painter.setPen(outPen);
    painter.drawPolyline(outLine);
    painter.restore();

    painter.setPen(dim);
    painter.drawRect(QRectF(plot).adjusted(0.5, 0.5, -0.5, -0.5));
}

ThroughputChart::Axis ThroughputChart::byteAxis() const
{
    double highest = 0;
    for (const Sample &sample : m_samples)
        highest = std::max({highest, sample.bytesIn, sample.bytesOut});
    if (!(highest > 0))
        highest = 1024; // idle: up to 1 KiB/s
    Axis axis;
    int unit = 0;
    while (unit < kLastRateUnit && highest / axis.unitBytes >= 1000) {
        axis.unitBytes *= 1024;
        ++unit;
    }
    const double value = highest / axis.unitBytes;
    axis.step = niceStep(value / 4, unit == 0);
    axis.steps = std::max(1, int(std::ceil(value / axis.step - 1e-9)));
    return axis;
}

int ThroughputChart::clientStep(int steps) const
{
    int highest = 0;
    for (const Sample &sample : m_samples)
        highest = std::max(highest, sample.clients);
    return int(niceStep(double(highest) / std::max(1, steps), true));
}

void ThroughputChart::trim()
{
    if (m_samples.empty())
        return;
    // Keep one sample at or before the window's left edge so the lines reach it.
    const qint64 edge = m_samples.back().timestampMs - m_windowMs;
    while (m_samples.size() >= 2 && m_samples[1].timestampMs <= edge)
        m_samples.pop_front();
    while (m_samples.size() > size_t(kMaxSamples))
        m_samples.pop_front();
}

} // namespace Echoscope
