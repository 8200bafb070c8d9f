#include "statuspanel.h"

#include "trafficevent.h"
#include "trafficmonitor.h"
#include "units.h"

#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

namespace Echoscope {

StatusPanel::StatusPanel(QWidget *parent) : QWidget(parent)
{
    const QString captions[FieldCount] = {tr("Server"),
                                          tr("Uptime"),
                                          tr("Clients now / peak / total"),
                                          tr("Bytes in / out"),
                                          tr("Messages in / out"),
                                          tr("Throughput in / out")};
    const QString toolTips[FieldCount] = {
        tr("Where the server listens: the TCP address and port, the UDP echo port when UDP "
           "echo is on, and the WebSocket URL (ws://, or wss:// with TLS) when WebSocket echo "
           "is on"),
        tr("Time since the server started listening"),
        tr("Connected now, the most at once, and every client since the start (refused ones "
           "are counted in the log)"),
        tr("Bytes received from and echoed to every client since the start"),
        tr("Messages framed and echoed per second, over the last second"),
        tr("Bytes received and echoed per second, over the last second")};
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(6, 2, 6, 2);
    layout->setSpacing(6);
    for (int field = 0; field < FieldCount; ++field) {
        auto *tile = new QFrame(this);
        tile->setFrameShape(QFrame::StyledPanel);
        tile->setToolTip(toolTips[field]);
        auto *tileLayout = new QVBoxLayout(tile);
        tileLayout->setContentsMargins(8, 3, 8, 3);
        tileLayout->setSpacing(0);
        auto *caption = new QLabel(captions[field], tile);
        QFont small = caption->font();
        small.setPointSizeF(small.pointSizeF() * 0.85);
        caption->setFont(small);
        caption->setForegroundRole(QPalette::PlaceholderText);
        m_values[field] = new QLabel(tile);
        m_values[field]->setTextFormat(Qt::PlainText);
        m_values[field]->setTextInteractionFlags(Qt::TextSelectableByMouse);
        // Updated 20 times a second: its width must not move the layout.
        m_values[field]->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
        QFont big = m_values[field]->font();
        big.setBold(true);
        m_values[field]->setFont(big);
        caption->setMinimumWidth(caption->sizeHint().width());
        tileLayout->addWidget(caption);
        tileLayout->addWidget(m_values[field]);
        layout->addWidget(tile, field == ServerField ? 2 : 1);
    }
    setSnapshot(TrafficSnapshot());
}

void StatusPanel::setSnapshot(const TrafficSnapshot &snapshot)
{
    const ServerTotals &totals = snapshot.totals;
    const QString endpoint = TrafficEvent::endpoint(snapshot.address, snapshot.port);
    QString server = !snapshot.listening ? tr("Stopped")
                     : snapshot.tls      ? tr("Listening on %1 (TLS)").arg(endpoint)
                                         : tr("Listening on %1").arg(endpoint);
    if (snapshot.listening && snapshot.udpPort != 0)
        server += tr(", UDP %1").arg(snapshot.udpPort);
    // Short, as UDP's, so that it fits the tile; the URL to paste is in the tooltip.
    QString serverTip;
    if (snapshot.listening && snapshot.webSocketPort != 0) {
        server += snapshot.webSocketScheme == QLatin1String("wss")
                      ? tr(", WebSocket %1 (wss)").arg(snapshot.webSocketPort)
                      : tr(", WebSocket %1").arg(snapshot.webSocketPort);
        serverTip = tr("WebSocket echo at %1://%2/")
                        .arg(snapshot.webSocketScheme,
                             TrafficEvent::endpoint(snapshot.address, snapshot.webSocketPort));
    }
    m_values[ServerField]->setText(server);
    m_values[ServerField]->setToolTip(serverTip.isEmpty() ? server
                                                          : server + QLatin1Char('\n') + serverTip);
    m_values[UptimeField]->setText(snapshot.listening ? Units::clock(snapshot.uptimeMs)
                                                      : QStringLiteral("—"));
    m_values[ClientsField]->setText(QStringLiteral("%1 / %2 / %3")
                                        .arg(Units::count(totals.clientsNow),
                                             Units::count(totals.clientsPeak),
                                             Units::count(totals.clientsTotal)));
    m_values[BytesField]->setText(
        inOutText(Units::bytes(totals.bytesIn), Units::bytes(totals.bytesOut)));
    m_values[BytesField]->setToolTip(
        tr("%1 in, %2 out")
            .arg(Units::exactBytes(totals.bytesIn), Units::exactBytes(totals.bytesOut)));
    m_values[MessagesField]->setText(
        QStringLiteral("%1 / %2").arg(Units::perSecond(snapshot.messagesInPerSecond),
                                      Units::perSecond(snapshot.messagesOutPerSecond)));
    m_values[MessagesField]->setToolTip(
        tr("%1 in, %2 out since the start")
            .arg(Units::messages(totals.messagesIn), Units::count(totals.messagesOut)));
    const QString rateIn = Units::bytesPerSecond(snapshot.bytesInPerSecond);
    const QString rateOut = Units::bytesPerSecond(snapshot.bytesOutPerSecond);
    m_values[RateField]->setText(inOutText(rateIn, rateOut));
    m_values[RateField]->setToolTip(tr("%1 in, %2 out").arg(rateIn, rateOut));
}

QString StatusPanel::inOutText(const QString &in, const QString &out)
{
    // "887.7 / 887.7 KiB/s", not "887.7 KiB/s / 887.7 KiB/s": the unit once when both
    // sides share it, so that the tile holds it at the window's usual widths.
    const qsizetype space = in.lastIndexOf(QLatin1Char(' '));
    if (space > 0) {
        const QStringView unit = QStringView(in).mid(space);
        if (out.size() > unit.size() && out.endsWith(unit))
            return in.left(space) + QStringLiteral(" / ") + out;
    }
    return in + QStringLiteral(" / ") + out;
}

QString StatusPanel::fieldText(Field field) const
{
    return m_values[field]->text();
}

QString StatusPanel::fieldToolTip(Field field) const
{
    return m_values[field]->toolTip();
}

} // namespace Echoscope
