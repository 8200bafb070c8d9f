#include "preferencesdialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
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

    auto *buttons = new QDialogButtonBox(
        QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
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
}

DashboardSettings PreferencesDialog::settings() const
{
    DashboardSettings result = m_settings;
    result.retainDisconnectedSeconds = m_retainSeconds->value();
    result.eventLogRows = m_logRows->value();
    result.messageEventsPerSecond = m_messageEvents->value();
    result.captureBytesPerClient = qint64(m_captureKiB->value()) * 1024;
    result.inspectedCaptureBytes = qint64(m_inspectedCaptureKiB->value()) * 1024;
    return result;
}

} // namespace Echoscope
