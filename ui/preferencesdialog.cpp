#include "preferencesdialog.h"

#include "controlapi.h"
#include "palettes.h"
#include "units.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QGroupBox>
#include <QHostAddress>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>

namespace Echoscope {

namespace {
QSpinBox *spinBox(int low, int high, const QString &suffix, const QString &toolTip)
{
    auto *spin = new QSpinBox;
    spin->setRange(low, high);
    spin->setSuffix(suffix);
    spin->setToolTip(toolTip);
    spin->setAccelerated(true);
    return spin;
}

// An address field in the words of the server's address, loopback first.
QComboBox *addressBox(const QString &toolTip)
{
    auto *box = new QComboBox;
    box->setEditable(true);
    box->setInsertPolicy(QComboBox::NoInsert);
    box->addItems({QStringLiteral("127.0.0.1"), QStringLiteral("::1"), QStringLiteral("any"),
                   QStringLiteral("any4"), QStringLiteral("any6")});
    box->setToolTip(toolTip);
    return box;
}

// A note under an endpoint's fields: hidden while empty.
QLabel *noteLabel()
{
    auto *note = new QLabel;
    note->setWordWrap(true);
    note->setTextFormat(Qt::PlainText);
    return note;
}

// Empty if the address can be listened on, else why not; the warning for one beyond
// loopback in *warning.
QString checkAddress(const QString &text, const QString &beyondLoopback, QString *warning)
{
    QHostAddress address;
    QString error;
    if (!ServerConfig::resolveBindAddress(text, &address, &error))
        return error;
    if (!ServerConfig::isLoopback(address))
        *warning = beyondLoopback;
    return QString();
}

// `error` is the engine's clause (the address's, the token file's), shown as a sentence.
void showNote(QLabel *note, const QString &error, const QString &warning)
{
    const QString text = error.isEmpty() ? warning : Units::sentence(error);
    note->setText(text);
    note->setVisible(!text.isEmpty());
    Palettes::setTone(note, error.isEmpty() ? Palettes::Tone::Neutral : Palettes::Tone::Negative);
}
} // namespace

PreferencesDialog::PreferencesDialog(const DashboardSettings &settings, QWidget *parent)
    : QDialog(parent), m_settings(settings)
{
    setWindowTitle(tr("Preferences"));
    m_retainSeconds = spinBox(0, 24 * 3600, tr(" s"),
                              tr("How long a disconnected client stays in the table, greyed, "
                                 "with its reason"));
    m_logRows = spinBox(100, 1000000, tr(" rows"),
                        tr("The echo log keeps the newest rows up to this many"));
    m_messageEvents = spinBox(0, 1000, tr(" per client per second"),
                              tr("Messages logged one by one per client each second; beyond "
                                 "this they are counted in one summary row. 0 logs no "
                                 "messages, only connections and errors (a higher number shows "
                                 "in full from the server's next start)"));
    m_captureKiB = spinBox(0, int(ServerConfig::kMaxCaptureBytesPerClient / 1024), tr(" KiB"),
                           tr("The newest bytes each way kept for every client, so a client "
                              "can be inspected after the fact (applies from the next start)"));
    m_inspectedCaptureKiB =
        spinBox(0, int(ServerConfig::kMaxCaptureBytesPerClient / 1024), tr(" KiB"),
                tr("The capture ring of the client being inspected grows to this size"));

    auto *form = new QFormLayout;
    form->addRow(tr("Keep &disconnected clients for:"), m_retainSeconds);
    form->addRow(tr("Echo &log size:"), m_logRows);
    form->addRow(tr("&Message rows:"), m_messageEvents);
    form->addRow(tr("&Capture per client:"), m_captureKiB);
    form->addRow(tr("Capture of the &inspected client:"), m_inspectedCaptureKiB);

    auto *note = new QLabel(
        tr("Memory: capture per client × max clients is the most the "
           "captures can take (%1 KiB × 1,000 clients ≈ %2 MiB by default).")
            .arg(DashboardSettings::kDefaultCaptureBytesPerClient / 1024)
            .arg(DashboardSettings::kDefaultCaptureBytesPerClient * 1000 / (1024 * 1024)));
    note->setWordWrap(true);
    note->setForegroundRole(QPalette::PlaceholderText);

    // The Prometheus endpoint: GET /metrics on its own port.
    m_metricsBox = new QGroupBox(tr("Prometheus &metrics endpoint"));
    m_metricsBox->setCheckable(true);
    m_metricsBox->setToolTip(tr("Serve the server's counters at http://ADDRESS:PORT/metrics for "
                                "Prometheus (the handbook has a scrape configuration)"));
    m_metricsPort = spinBox(0, 65535, QString(), tr("The metrics port; 0 picks a free one"));
    m_metricsPort->setSpecialValueText(tr("any free port"));
    m_metricsPort->setAccelerated(false);
    m_metricsAddress = addressBox(tr("The address to serve the metrics on, in the words of the "
                                     "server's address: loopback (127.0.0.1, ::1) keeps them on "
                                     "this machine"));
    m_metricsNote = noteLabel();
    auto *metricsForm = new QFormLayout(m_metricsBox);
    metricsForm->addRow(tr("P&ort:"), m_metricsPort);
    metricsForm->addRow(tr("A&ddress:"), m_metricsAddress);
    metricsForm->addRow(m_metricsNote);
    connect(m_metricsAddress, &QComboBox::currentTextChanged, this,
            &PreferencesDialog::checkFields);
    connect(m_metricsBox, &QGroupBox::toggled, this, &PreferencesDialog::checkFields);

    // The control API (/api/v1) on a listener of its own: what --control-port runs.
    m_controlBox = new QGroupBox(tr("Control &API (HTTP, for tests and scripts)"));
    m_controlBox->setCheckable(true);
    m_controlBox->setToolTip(tr("Let tests and scripts read the server and change its faults "
                                "over HTTP at http://ADDRESS:PORT/api/v1; changes need the token "
                                "(the handbook's Control API chapter)"));
    m_controlPort = spinBox(0, 65535, QString(), tr("The control API's port; 0 picks a free one"));
    m_controlPort->setSpecialValueText(tr("any free port"));
    m_controlPort->setAccelerated(false);
    m_controlAddress = addressBox(tr("The address the control API listens on, in the words of "
                                     "the server's address: loopback (127.0.0.1, ::1) keeps it "
                                     "on this machine"));
    m_controlTokenFile = new QLineEdit;
    m_controlTokenFile->setClearButtonEnabled(true);
    m_controlTokenFile->setPlaceholderText(tr("none: a new token each run"));
    m_controlTokenFile->setToolTip(
        tr("A file whose first line is the token changes must present (readable by you only); "
           "without one a random token is made each run: right-click the status bar's Control "
           "API to copy it"));
    auto *browse = new QPushButton(tr("&Browse…"));
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Control API token file"),
                                                          m_controlTokenFile->text());
        if (!path.isEmpty())
            m_controlTokenFile->setText(path);
    });
    auto *tokenRow = new QHBoxLayout;
    tokenRow->addWidget(m_controlTokenFile, 1);
    tokenRow->addWidget(browse);
    m_controlNote = noteLabel();
    auto *controlForm = new QFormLayout(m_controlBox);
    controlForm->addRow(tr("Po&rt:"), m_controlPort);
    controlForm->addRow(tr("Addr&ess:"), m_controlAddress);
    auto *tokenLabel = new QLabel(tr("&Token file:"));
    tokenLabel->setBuddy(m_controlTokenFile);
    controlForm->addRow(tokenLabel, tokenRow);
    controlForm->addRow(m_controlNote);
    // The two endpoints' fields line up: both label columns as wide as the wider one.
    int labelWidth = 0;
    QList<QWidget *> labels;
    for (QFormLayout *endpointForm : {metricsForm, controlForm}) {
        for (int row = 0; row < endpointForm->rowCount(); ++row) {
            QLayoutItem *label = endpointForm->itemAt(row, QFormLayout::LabelRole);
            if (label && label->widget()) {
                labels << label->widget();
                labelWidth = std::max(labelWidth, label->widget()->sizeHint().width());
            }
        }
    }
    for (QWidget *label : labels)
        label->setMinimumWidth(labelWidth);
    connect(m_controlAddress, &QComboBox::currentTextChanged, this,
            &PreferencesDialog::checkFields);
    connect(m_controlTokenFile, &QLineEdit::textChanged, this, &PreferencesDialog::checkFields);
    connect(m_controlBox, &QGroupBox::toggled, this, &PreferencesDialog::checkFields);

    auto *buttons = new QDialogButtonBox(
        QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
    m_okButton = buttons->button(QDialogButtonBox::Ok);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this,
            [this] {
                DashboardSettings defaults;
                defaults.config = m_settings.config;
                showSettings(defaults);
            });

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(m_metricsBox);
    layout->addWidget(m_controlBox);
    layout->addWidget(buttons);
    showSettings(settings);
}

void PreferencesDialog::showSettings(const DashboardSettings &settings)
{
    m_retainSeconds->setValue(settings.retainDisconnectedSeconds);
    m_logRows->setValue(settings.eventLogRows);
    m_messageEvents->setValue(settings.messageEventsPerSecond);
    m_captureKiB->setValue(int(settings.captureBytesPerClient / 1024));
    m_inspectedCaptureKiB->setValue(int(settings.inspectedCaptureBytes / 1024));
    m_metricsBox->setChecked(settings.metricsEnabled);
    m_metricsPort->setValue(settings.metricsPort);
    m_metricsAddress->setCurrentText(settings.metricsAddress);
    m_controlBox->setChecked(settings.controlEnabled);
    m_controlPort->setValue(settings.controlPort);
    m_controlAddress->setCurrentText(settings.controlAddress);
    m_controlTokenFile->setText(settings.controlTokenFile);
    checkFields();
}

// An address an endpoint cannot use (or a token file the API cannot read) keeps OK
// disabled and says why; an address beyond loopback is allowed, with a warning.
void PreferencesDialog::checkFields()
{
    QString metricsWarning;
    const QString metricsError = checkAddress(
        m_metricsAddress->currentText(),
        tr("⚠ Not loopback: other machines that can reach this one can read the metrics "
           "(counters and the server's address, no client data)."),
        &metricsWarning);
    showNote(m_metricsNote, metricsError, metricsWarning);

    QString controlWarning;
    QString controlError = checkAddress(
        m_controlAddress->currentText(),
        tr("⚠ Not loopback: other machines that can reach this one can reach the control API "
           "(reading needs no token; changes need it)."),
        &controlWarning);
    const QString tokenFile = m_controlTokenFile->text().trimmed();
    QString token;
    if (controlError.isEmpty() && !tokenFile.isEmpty())
        ControlApi::readTokenFile(tokenFile, &token, &controlError);
    showNote(m_controlNote, controlError, controlWarning);

    QString refused;
    if (m_metricsBox->isChecked() && !metricsError.isEmpty())
        refused = tr("The metrics address is not valid");
    else if (m_controlBox->isChecked() && !controlError.isEmpty())
        refused = tr("The control API's settings are not valid");
    m_okButton->setEnabled(refused.isEmpty());
    m_okButton->setToolTip(refused);
    // A note that appeared (a wrapped sentence or two) gets the room it needs.
    if (layout()) {
        layout()->activate();
        const int needed = layout()->hasHeightForWidth() ? layout()->totalHeightForWidth(width())
                                                         : layout()->totalSizeHint().height();
        if (needed > height())
            resize(width(), needed);
    }
}

DashboardSettings PreferencesDialog::settings() const
{
    DashboardSettings result = m_settings;
    result.retainDisconnectedSeconds = m_retainSeconds->value();
    result.eventLogRows = m_logRows->value();
    result.messageEventsPerSecond = m_messageEvents->value();
    result.captureBytesPerClient = qint64(m_captureKiB->value()) * 1024;
    result.inspectedCaptureBytes = qint64(m_inspectedCaptureKiB->value()) * 1024;
    result.metricsEnabled = m_metricsBox->isChecked();
    result.metricsPort = quint16(m_metricsPort->value());
    QHostAddress address;
    QString error;
    const QString metricsAddress = m_metricsAddress->currentText().trimmed();
    if (ServerConfig::resolveBindAddress(metricsAddress, &address, &error))
        result.metricsAddress = metricsAddress;
    result.controlEnabled = m_controlBox->isChecked();
    result.controlPort = quint16(m_controlPort->value());
    const QString controlAddress = m_controlAddress->currentText().trimmed();
    if (ServerConfig::resolveBindAddress(controlAddress, &address, &error))
        result.controlAddress = controlAddress;
    result.controlTokenFile = m_controlTokenFile->text().trimmed();
    return result;
}

} // namespace Echoscope
