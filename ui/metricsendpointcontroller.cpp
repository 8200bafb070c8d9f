#include "metricsendpointcontroller.h"

#include "dashboardsettings.h"
#include "metricsexporter.h"
#include "units.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDesktopServices>
#include <QLabel>
#include <QUrl>

namespace Echoscope {

MetricsEndpointController::MetricsEndpointController(EchoServer *server, QObject *parent)
    : QObject(parent), m_exporter(new MetricsExporter(server, this)), m_label(new QLabel)
{
    m_label->setTextFormat(Qt::RichText);
    m_label->setTextInteractionFlags(Qt::TextBrowserInteraction);
    m_label->setOpenExternalLinks(true);
    m_label->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_label->setVisible(false);
    auto *copyUrl = new QAction(tr("&Copy metrics URL"), m_label);
    connect(copyUrl, &QAction::triggered, this, [this] {
        if (m_exporter->isListening())
            QApplication::clipboard()->setText(m_exporter->url().toString());
    });
    auto *openUrl = new QAction(tr("&Open in browser"), m_label);
    connect(openUrl, &QAction::triggered, this, [this] {
        if (m_exporter->isListening())
            QDesktopServices::openUrl(m_exporter->url());
    });
    m_label->addActions({copyUrl, openUrl});
}

// The label belongs to the status bar once it is added there; until then, to this.
MetricsEndpointController::~MetricsEndpointController()
{
    if (!m_label->parent())
        delete m_label;
}

void MetricsEndpointController::setOverride(const QString &address, quint16 port)
{
    m_overridden = true;
    m_overrideAddress = address;
    m_overridePort = port;
}

void MetricsEndpointController::clearOverride()
{
    m_overridden = false;
}

DashboardSettings MetricsEndpointController::effective(const DashboardSettings &settings) const
{
    DashboardSettings shown = settings;
    if (m_overridden) {
        shown.metricsEnabled = true;
        shown.metricsAddress = m_overrideAddress;
        shown.metricsPort = m_overridePort;
    }
    return shown;
}

bool MetricsEndpointController::apply(const DashboardSettings &settings)
{
    const DashboardSettings wanted = effective(settings);
    bool ok = true;
    if (!wanted.metricsEnabled) {
        m_exporter->stop();
        m_appliedPort = -1;
    } else if (!m_exporter->isListening() || wanted.metricsAddress != m_appliedAddress ||
               wanted.metricsPort != m_appliedPort) {
        m_appliedAddress = wanted.metricsAddress;
        m_appliedPort = wanted.metricsPort;
        ok = m_exporter->start(wanted.metricsAddress, quint16(wanted.metricsPort));
    }
    updateLabel(wanted.metricsEnabled);
    return ok;
}

void MetricsEndpointController::updateLabel(bool enabled)
{
    if (m_exporter->isListening()) {
        const QString url = m_exporter->url().toString().toHtmlEscaped();
        m_label->setText(tr("Metrics: <a href=\"%1\">%1</a>").arg(url));
        m_label->setToolTip(tr("Prometheus metrics are served here; right-click to copy the "
                               "address"));
        m_label->setVisible(true);
    } else if (enabled) {
        m_label->setText(tr("Metrics: not serving"));
        m_label->setToolTip(Units::sentence(m_exporter->errorString()));
        m_label->setVisible(true);
    } else {
        m_label->setVisible(false);
    }
}

} // namespace Echoscope
