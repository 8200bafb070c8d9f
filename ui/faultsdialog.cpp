#include "faultsdialog.h"

#include "palettes.h"

#include "clientstats.h"
#include "echoserver.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <limits>

namespace Echoscope {

namespace {
constexpr int kMaxSpinBytes = std::numeric_limits<int>::max();

QSpinBox *spinBox(QWidget *parent, int maximum, const QString &suffix,
                  const QString &offText = QString())
{
    auto *box = new QSpinBox(parent);
    box->setRange(0, maximum);
    box->setSuffix(suffix);
    box->setSpecialValueText(offText);
    box->setGroupSeparatorShown(true);
    box->setAccelerated(true);
    return box;
}

QWidget *row(QWidget *parent, std::initializer_list<QWidget *> widgets)
{
    auto *holder = new QWidget(parent);
    auto *layout = new QHBoxLayout(holder);
    layout->setContentsMargins(0, 0, 0, 0);
    for (QWidget *widget : widgets)
        layout->addWidget(widget);
    layout->addStretch(1);
    return holder;
}
} // namespace

FaultsDialog::FaultsDialog(EchoServer *server, quint64 clientId, QWidget *parent)
    : QDialog(parent), m_server(server), m_clientId(clientId)
{
    setWindowTitle(clientId != 0 ? tr("Faults for client %1").arg(clientId)
                                 : tr("Faults for all clients"));

    m_delay = spinBox(this, FaultConfig::kMaxDelayMs, tr(" ms"), tr("none"));
    m_jitter = spinBox(this, FaultConfig::kMaxDelayMs, tr(" ms"));
    m_jitter->setPrefix(QStringLiteral("\u00b1 "));
    m_bandwidth = spinBox(this, int(FaultConfig::kMaxBandwidthBytesPerSecond), tr(" bytes/s"),
                          tr("unlimited"));
    m_sliceBytes = spinBox(this, int(FaultConfig::kMaxSliceBytes), tr(" bytes"), tr("whole"));
    m_sliceGap = spinBox(this, FaultConfig::kMaxSliceGapMs, tr(" ms apart"));
    m_closeOn = new QCheckBox(tr("after"), this);
    m_closeAfter = spinBox(this, kMaxSpinBytes, tr(" echoed bytes"));
    m_resetOn = new QCheckBox(tr("after"), this);
    m_resetAfter = spinBox(this, kMaxSpinBytes, tr(" echoed bytes"));
    m_probability = new QDoubleSpinBox(this);
    m_probability->setRange(0.0, 100.0);
    m_probability->setDecimals(2);
    m_probability->setSuffix(tr(" % of messages"));
    m_probability->setSpecialValueText(tr("never"));
    m_stopReading = new QCheckBox(tr("Stop reading (a stuck peer: its writes block once the "
                                     "buffers are full)"),
                                  this);
    m_seed = spinBox(this, std::numeric_limits<int>::max(), QString(), tr("random"));

    m_delay->setToolTip(tr("Each echo waits this long (plus or minus the jitter); echoes keep "
                           "their order"));
    m_bandwidth->setToolTip(tr("Echo at most this many bytes per second (bursts of a tenth of "
                               "a second)"));
    m_sliceBytes->setToolTip(tr("Write the echo in pieces of at most this size, with the gap "
                                "between them"));
    m_closeAfter->setToolTip(tr("Close the connection (FIN) once this many bytes were echoed "
                                "since the fault was set"));
    m_resetAfter->setToolTip(tr("Reset the connection (RST) once this many bytes were echoed "
                                "since the fault was set"));
    m_probability->setToolTip(tr("Each message resets the connection instead of being echoed "
                                 "with this probability"));
    m_seed->setToolTip(tr("Seed of the random jitter and resets, to repeat a run"));

    auto *form = new QFormLayout;
    form->addRow(tr("&Delay:"), row(this, {m_delay, m_jitter}));
    form->addRow(tr("&Bandwidth:"), row(this, {m_bandwidth}));
    form->addRow(tr("S&lices:"), row(this, {m_sliceBytes, m_sliceGap}));
    form->addRow(tr("&Close:"), row(this, {m_closeOn, m_closeAfter}));
    form->addRow(tr("&Reset:"), row(this, {m_resetOn, m_resetAfter}));
    form->addRow(tr("Reset &randomly:"), row(this, {m_probability}));
    form->addRow(QString(), m_stopReading);
    form->addRow(tr("S&eed:"), row(this, {m_seed}));

    m_summary = new QLabel(this);
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setWordWrap(true);
    m_error = new QLabel(this);
    m_error->setTextFormat(Qt::PlainText);
    m_error->setWordWrap(true);
    Palettes::setTone(m_error, Palettes::Tone::Negative);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    m_apply = buttons->addButton(tr("&Apply"), QDialogButtonBox::ApplyRole);
    m_apply->setDefault(true);
    QPushButton *clear = buttons->addButton(tr("Clea&r faults"), QDialogButtonBox::ResetRole);
    clear->setToolTip(clientId != 0 ? tr("No faults for this client, whatever the faults for "
                                         "all clients")
                                    : tr("No faults for the clients without faults of their own"));
    connect(m_apply, &QPushButton::clicked, this, &FaultsDialog::apply);
    connect(clear, &QPushButton::clicked, this, &FaultsDialog::clearFaults);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    if (clientId != 0) {
        QPushButton *follow =
            buttons->addButton(tr("Use faults for &all clients"), QDialogButtonBox::ResetRole);
        follow->setToolTip(tr("Give this client the faults for all clients again"));
        connect(follow, &QPushButton::clicked, this, &FaultsDialog::followDefaults);
    }

    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(
        clientId != 0
            ? tr("Injected into this client's echo, live, until cleared. Every change and every "
                 "close or reset is logged.")
            : tr("Injected into the echo of every client without faults of its own, current and "
                 "new, until cleared. Every change and every close or reset is logged."),
        this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addWidget(m_summary);
    layout->addWidget(m_error);
    layout->addWidget(buttons);

    bool perClient = false;
    FaultConfig current = server->defaultFaults();
    if (clientId != 0) {
        if (const auto stats = server->clientStats(clientId))
            current = stats->faults(&perClient);
    }
    setFaults(current);

    for (QSpinBox *box : {m_delay, m_jitter, m_bandwidth, m_sliceBytes, m_sliceGap, m_closeAfter,
                          m_resetAfter, m_seed})
        connect(box, &QSpinBox::valueChanged, this, &FaultsDialog::updateState);
    connect(m_probability, &QDoubleSpinBox::valueChanged, this, &FaultsDialog::updateState);
    for (QCheckBox *box : {m_closeOn, m_resetOn, m_stopReading})
        connect(box, &QCheckBox::toggled, this, &FaultsDialog::updateState);
    updateState();
}

FaultConfig FaultsDialog::faults() const
{
    FaultConfig faults;
    faults.delayMs = m_delay->value();
    faults.jitterMs = m_jitter->value();
    faults.bandwidthBytesPerSecond = m_bandwidth->value();
    faults.sliceBytes = m_sliceBytes->value();
    faults.sliceGapMs = m_sliceGap->value();
    faults.closeAfterBytes = m_closeOn->isChecked() ? m_closeAfter->value() : -1;
    faults.resetAfterBytes = m_resetOn->isChecked() ? m_resetAfter->value() : -1;
    faults.resetProbability = m_probability->value() / 100.0;
    faults.stopReading = m_stopReading->isChecked();
    faults.seed = quint32(m_seed->value());
    return faults;
}

void FaultsDialog::setFaults(const FaultConfig &faults)
{
    m_delay->setValue(faults.delayMs);
    m_jitter->setValue(faults.jitterMs);
    m_bandwidth->setValue(int(qMin<qint64>(faults.bandwidthBytesPerSecond, qint64(kMaxSpinBytes))));
    m_sliceBytes->setValue(int(faults.sliceBytes));
    m_sliceGap->setValue(faults.sliceGapMs);
    m_closeOn->setChecked(faults.closeAfterBytes >= 0);
    m_closeAfter->setValue(int(qBound<qint64>(0, faults.closeAfterBytes, qint64(kMaxSpinBytes))));
    m_resetOn->setChecked(faults.resetAfterBytes >= 0);
    m_resetAfter->setValue(int(qBound<qint64>(0, faults.resetAfterBytes, qint64(kMaxSpinBytes))));
    m_probability->setValue(faults.resetProbability * 100.0);
    m_stopReading->setChecked(faults.stopReading);
    m_seed->setValue(int(qMin<quint32>(faults.seed, quint32(std::numeric_limits<int>::max()))));
    updateState();
}

QString FaultsDialog::errorText() const
{
    return m_error->text();
}

void FaultsDialog::updateState()
{
    m_jitter->setEnabled(m_delay->value() > 0);
    m_sliceGap->setEnabled(m_sliceBytes->value() > 0);
    m_closeAfter->setEnabled(m_closeOn->isChecked());
    m_resetAfter->setEnabled(m_resetOn->isChecked());
    const FaultConfig config = faults();
    const QString invalid = config.validate();
    m_error->setText(invalid);
    m_error->setVisible(!invalid.isEmpty());
    m_apply->setEnabled(invalid.isEmpty());
    m_summary->setText(tr("Faults: %1").arg(config.describe()));
}

bool FaultsDialog::apply()
{
    const FaultConfig config = faults();
    QString error;
    const bool applied = m_clientId != 0 ? m_server->setClientFaults(m_clientId, config, &error)
                                         : m_server->setDefaultFaults(config, &error);
    m_error->setText(error);
    m_error->setVisible(!applied);
    return applied;
}

void FaultsDialog::clearFaults()
{
    setFaults(FaultConfig());
    apply();
}

void FaultsDialog::followDefaults()
{
    if (!m_server->followDefaultFaults(m_clientId)) {
        m_error->setText(tr("client %1 is not connected").arg(m_clientId));
        m_error->setVisible(true);
        return;
    }
    setFaults(m_server->defaultFaults());
}

} // namespace Echoscope
