#include "preferencesdialog.h"

#include "palettes.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHostAddress>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

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
                                 "messages, only connections and errors"));
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
    m_metricsAddress = new QComboBox;
    m_metricsAddress->setEditable(true);
    m_metricsAddress->setInsertPolicy(QComboBox::NoInsert);
    m_metricsAddress->addItems({QStringLiteral("127.0.0.1"), QStringLiteral("::1"),
                                QStringLiteral("any"), QStringLiteral("any4"),
                                QStringLiteral("any6")});
    m_metricsAddress->setToolTip(tr("The address to serve the metrics on, in the words of the "
                                    "server's address: loopback (127.0.0.1, ::1) keeps them on "
                                    "this machine"));
    m_metricsNote = new QLabel;
    m_metricsNote->setWordWrap(true);
    m_metricsNote->setTextFormat(Qt::PlainText);
    auto *metricsForm = new QFormLayout(m_metricsBox);
    metricsForm->addRow(tr("P&ort:"), m_metricsPort);
    metricsForm->addRow(tr("A&ddress:"), m_metricsAddress);
    metricsForm->addRow(m_metricsNote);
    connect(m_metricsAddress, &QComboBox::currentTextChanged, this,
            &PreferencesDialog::checkMetricsAddress);
    connect(m_metricsBox, &QGroupBox::toggled, this, &PreferencesDialog::checkMetricsAddress);

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
    checkMetricsAddress();
}

// An address the endpoint cannot use keeps OK disabled and says why; one beyond
// loopback is allowed, with a warning.
void PreferencesDialog::checkMetricsAddress()
{
    QHostAddress address;
    QString error;
    const bool valid =
        ServerConfig::resolveBindAddress(m_metricsAddress->currentText(), &address, &error);
    QString note;
    if (!valid)
        note = error;
    else if (!ServerConfig::isLoopback(address))
        note = tr("⚠ Not loopback: other machines that can reach this one can read the metrics "
                  "(counters and the server's address, no client data).");
    m_metricsNote->setText(note);
    m_metricsNote->setVisible(!note.isEmpty());
    Palettes::setTone(m_metricsNote, valid ? Palettes::Tone::Neutral : Palettes::Tone::Negative);
    m_okButton->setEnabled(valid || !m_metricsBox->isChecked());
    m_okButton->setToolTip(
        valid || !m_metricsBox->isChecked() ? QString() : tr("The metrics address is not valid"));
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
    return result;
}

} // namespace Echoscope
