#include "controlapicontroller.h"

#include "controlapi.h"
#include "dashboardsettings.h"
#include "trafficevent.h"
#include "units.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QLabel>

namespace Echoscope {

ControlApiController::ControlApiController(EchoServer *server, QObject *parent)
    : QObject(parent)
    , m_api(new ControlApi(server, this))
    , m_label(new QLabel)
    , m_copyToken(new QAction(tr("Copy &token"), this))
{
    m_label->setTextFormat(Qt::PlainText);
    m_label->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_label->setVisible(false);
    auto *copyUrl = new QAction(tr("&Copy control API URL"), m_label);
    connect(copyUrl, &QAction::triggered, this, [this] {
        if (m_api->isListening())
            QApplication::clipboard()->setText(m_api->url().toString());
    });
    connect(m_copyToken, &QAction::triggered, this, [this] {
        if (m_api->isListening())
            QApplication::clipboard()->setText(m_api->token());
    });
    m_label->addActions({copyUrl, m_copyToken});
}

// The label belongs to the status bar once it is added there (which may be gone already);
// until then, to this.
ControlApiController::~ControlApiController()
{
    if (m_label && !m_label->parent())
        delete m_label;
}

void ControlApiController::setOverride(const QString &address, quint16 port, const QString &token,
                                       const QString &tokenFile)
{
    m_overridden = true;
    m_overrideAddress = address;
    m_overridePort = port;
    m_overrideToken = token;
    m_overrideTokenFile = tokenFile;
    if (tokenFile.isEmpty())
        m_generatedToken = token; // the one printed on the listening line
}

void ControlApiController::clearOverride()
{
    m_overridden = false;
}

DashboardSettings ControlApiController::effective(const DashboardSettings &settings) const
{
    DashboardSettings shown = settings;
    if (m_overridden) {
        shown.controlEnabled = true;
        shown.controlAddress = m_overrideAddress;
        shown.controlPort = m_overridePort;
        shown.controlTokenFile = m_overrideTokenFile;
    }
    return shown;
}

bool ControlApiController::apply(const DashboardSettings &settings)
{
    const DashboardSettings wanted = effective(settings);
    m_error.clear();
    bool ok = true;
    if (!wanted.controlEnabled) {
        m_api->stop();
        m_appliedPort = -1;
    } else {
        QString token = m_overrideToken;
        if (!m_overridden) {
            if (!wanted.controlTokenFile.isEmpty()) {
                token.clear();
                ok = ControlApi::readTokenFile(wanted.controlTokenFile, &token, &m_error);
            } else {
                if (m_generatedToken.isEmpty())
                    m_generatedToken = ControlApi::generateToken();
                token = m_generatedToken;
            }
        }
        if (!ok) {
            m_api->stop();
            m_appliedPort = -1;
        } else if (!m_api->isListening() || wanted.controlAddress != m_appliedAddress ||
                   wanted.controlPort != m_appliedPort || token != m_appliedToken) {
            m_api->stop();
            m_appliedAddress = wanted.controlAddress;
            m_appliedPort = wanted.controlPort;
            m_appliedToken = token;
            ok = m_api->start(wanted.controlAddress, quint16(wanted.controlPort), token);
            if (!ok) {
                m_error = m_api->errorString();
                m_appliedPort = -1;
            }
        }
    }
    updateLabel(wanted.controlEnabled);
    return ok;
}

void ControlApiController::updateLabel(bool enabled)
{
    m_copyToken->setEnabled(m_api->isListening());
    if (m_api->isListening()) {
        m_label->setText(tr("Control API: %1").arg(m_api->url().toString()));
        m_label->setToolTip(
            tr("The control API listens here (%1); changes need its token. Right-click to "
               "copy the address or the token")
                .arg(TrafficEvent::endpoint(m_api->serverAddress(), m_api->serverPort())));
        m_label->setVisible(true);
    } else if (enabled) {
        m_label->setText(tr("Control API: not listening"));
        m_label->setToolTip(Units::sentence(m_error));
        m_label->setVisible(true);
    } else {
        m_label->setVisible(false);
    }
}

} // namespace Echoscope
