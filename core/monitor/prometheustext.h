#pragma once

#include <QByteArray>
#include <QString>
#include <QStringView>

namespace Echoscope {

struct MetricsSnapshot;

// The Prometheus text exposition format (version 0.0.4) of a MetricsSnapshot: one HELP
// and one TYPE line per family, then its samples, `name{label="value"} number`. A pure
// function of the snapshot, so a test can parse it back.
class PrometheusText
{
public:
    // What the endpoint sends as Content-Type.
    static constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

    static QByteArray render(const MetricsSnapshot &snapshot);
    // A label value with \\, \" and \n escaped as the format wants.
    static QString escapeLabelValue(QStringView value);
};

} // namespace Echoscope
