#pragma once

#include <QString>
#include <QWidget>

#include <deque>

namespace Echoscope {

// Bytes per second in and out, and the clients connected, over the last minute: two
// lines on a byte-rate axis (left) and a step area on a client axis (right).
class ThroughputChart : public QWidget
{
    Q_OBJECT

public:
    static constexpr qint64 kDefaultWindowMs = 60000;
    // The most samples kept, however often they come: samples closer than
    // windowMs / (kMaxSamples / 2) are merged, so the window holds about half of this.
    static constexpr int kMaxSamples = 4096;

    explicit ThroughputChart(QWidget *parent = nullptr);

    // Samples come in time order; a timestamp older than the newest starts over.
    void addSample(qint64 timestampMs, double bytesInPerSecond, double bytesOutPerSecond,
                   int clients);
    void clear();

    qint64 windowMs() const { return m_windowMs; }
    void setWindowMs(qint64 windowMs); // at least one second

    int sampleCount() const { return int(m_samples.size()); }
    qint64 spanMs() const; // from the oldest sample kept to the newest
    // The top of the byte-rate axis: a round value at or above the highest rate shown.
    double maxBytesPerSecondShown() const;
    int maxClientsShown() const; // the top of the client axis
    // "in 12.3 MiB/s · out 12.3 MiB/s · 104 clients", from the newest sample.
    QString legendText() const;
    // The byte-rate axis's labels, from 0 up: "0", then each gridline's rate as every byte
    // rate in the dashboard is written (Units::bytesPerSecond).
    QStringList rateAxisLabels() const;
    // The accessible description: legendText().
    void updateAccessibleText();

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    struct Sample
    {
        qint64 timestampMs;
        double bytesIn;
        double bytesOut;
        int clients;
    };
    // A byte-rate axis from 0 in steps of step * unitBytes.
    struct Axis
    {
        double step = 1;      // in units
        int steps = 4;        // intervals from 0 to the top
        double unitBytes = 1; // 1, 1024, 1024^2, ...
    };
    Axis byteAxis() const;
    int clientStep(int steps) const;
    void trim();

    std::deque<Sample> m_samples; // oldest first
    qint64 m_windowMs = kDefaultWindowMs;
};

} // namespace Echoscope
