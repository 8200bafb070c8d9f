#include "faultsdialog.h"

#include "palettes.h"
#include "units.h"

#include "clientstats.h"
#include "echoserver.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
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

// A percentage, 0 to 100, shown with `zeroText` at 0.
QDoubleSpinBox *percentBox(QWidget *parent, const QString &suffix, const QString &zeroText)
{
    auto *box = new QDoubleSpinBox(parent);
    box->setRange(0.0, 100.0);
    box->setDecimals(2);
    box->setSuffix(suffix);
    box->setSpecialValueText(zeroText);
    return box;
}

QFormLayout *formIn(QGroupBox *group)
{
    auto *form = new QFormLayout(group);
    form->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
    return form;
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
    m_probability = percentBox(this, tr(" % of messages"), tr("never"));
    m_stopReading = new QCheckBox(tr("Stop readi&ng"), this);
    m_blackhole = new QCheckBox(tr("Blac&khole"), this);
    m_timeoutOn = new QCheckBox(tr("close after"), this);
    m_timeout = spinBox(this, FaultConfig::kMaxTimeoutMs, tr(" ms"), tr("never (hold)"));
    m_slowClose = spinBox(this, FaultConfig::kMaxSlowCloseMs, tr(" ms"), tr("none"));
    m_toxicity = percentBox(this, tr(" % of messages"), tr("no message"));
    m_udpLoss = percentBox(this, tr(" % of echoes"), tr("none"));
    m_udpDuplicate = percentBox(this, tr(" % of echoes"), tr("none"));
    m_udpReorder = percentBox(this, tr(" % of echoes"), tr("none"));
    m_udpCorrupt = percentBox(this, tr(" % of echoes"), tr("none"));
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
    m_stopReading->setToolTip(tr("Read nothing from the client (a stuck peer): its writes "
                                 "block once the buffers are full"));
    m_blackhole->setToolTip(tr("Read and discard what the client sends, echo nothing, keep the "
                               "connection (UDP peers too)"));
    m_timeout->setToolTip(tr("From now on read and echo nothing, and close the connection "
                             "after this long; 0 holds it open forever"));
    m_slowClose->setToolTip(tr("The server's close (after the client's end and the last echo, "
                               "or a close fault) waits this long"));
    m_toxicity->setToolTip(tr("The share of messages the delay, bandwidth and slice faults "
                              "apply to; the others pass untouched"));
    // In the "UDP peers" (or "UDP peer") box: they act on UDP peers only.
    m_udpLoss->setToolTip(tr("The share of echoes not sent"));
    m_udpDuplicate->setToolTip(tr("The share of echoes sent twice"));
    m_udpReorder->setToolTip(tr("The share of echoes held and sent after the next one"));
    m_udpCorrupt->setToolTip(tr("The share of echoes with one random bit flipped"));
    m_seed->setToolTip(tr("Seed of the random draws (jitter, resets, toxicity, UDP rates), to "
                          "repeat a run"));

    auto *echo = new QGroupBox(tr("Echo"), this);
    QFormLayout *echoForm = formIn(echo);
    echoForm->addRow(tr("&Delay:"), row(echo, {m_delay, m_jitter}));
    echoForm->addRow(tr("&Bandwidth:"), row(echo, {m_bandwidth}));
    echoForm->addRow(tr("S&lices:"), row(echo, {m_sliceBytes, m_sliceGap}));
    echoForm->addRow(tr("To&xicity:"), row(echo, {m_toxicity}));

    auto *connection = new QGroupBox(tr("Connection"), this);
    QFormLayout *connectionForm = formIn(connection);
    connectionForm->addRow(tr("&Close:"), row(connection, {m_closeOn, m_closeAfter}));
    connectionForm->addRow(tr("Rese&t:"), row(connection, {m_resetOn, m_resetAfter}));
    connectionForm->addRow(tr("Reset rando&mly:"), row(connection, {m_probability}));
    connectionForm->addRow(tr("T&imeout:"), row(connection, {m_timeoutOn, m_timeout}));
    connectionForm->addRow(tr("Slo&w close:"), row(connection, {m_slowClose}));
    connectionForm->addRow(QString(), row(connection, {m_blackhole, m_stopReading}));

    auto *udp = new QGroupBox(tr("UDP peers"), this);
    QFormLayout *udpForm = formIn(udp);
    udpForm->addRow(tr("Lo&ss:"), m_udpLoss);
    udpForm->addRow(tr("D&uplicate:"), m_udpDuplicate);
    udpForm->addRow(tr("Re&order:"), m_udpReorder);
    udpForm->addRow(tr("Corru&pt:"), m_udpCorrupt);

    // A client's dialog shows the faults that act on it: a UDP peer's the blackhole, the
    // UDP rates and the seed; a stream client's all but the UDP rates.
    if (clientId != 0) {
        if (const auto stats = server->clientStats(clientId))
            m_transport = stats->transport();
    }
    const bool udpPeer = m_transport == IpProtocol::Udp;
    if (udpPeer) {
        // Its texts speak of datagrams and echoes only: no connection to close or reset.
        echo->hide();
        connection->hide();
        m_stopReading->hide();
        udp->setTitle(tr("UDP peer"));
        udpForm->insertRow(0, QString(), m_blackhole);
        m_blackhole->setToolTip(tr("Read and discard each datagram the peer sends, echo none "
                                   "(the peer stays tracked while it sends)"));
        m_seed->setToolTip(tr("Seed of the UDP rates' random draws, to repeat a run"));
    } else if (m_transport) {
        udp->hide();
    }

    auto *form = new QGridLayout;
    form->addWidget(echo, 0, 0);
    form->addWidget(udp, 1, 0);
    form->addWidget(connection, 0, 1, 2, 1);
    auto *seedRow = new QFormLayout;
    seedRow->addRow(tr("S&eed:"), row(this, {m_seed}));
    form->addLayout(seedRow, 2, 0, 1, 2);

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
        follow->setToolTip(m_transport == IpProtocol::Udp
                               ? tr("Give this peer the faults for all clients again: those that "
                                    "act on a UDP peer")
                               : tr("Give this client the faults for all clients again"));
        connect(follow, &QPushButton::clicked, this, &FaultsDialog::followDefaults);
    }

    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(
        udpPeer ? tr("Injected into this UDP peer's echoes, live, until cleared. Every change is "
                     "logged, and what the faults did is summed up once a second.")
        : clientId != 0
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
                          m_resetAfter, m_timeout, m_slowClose, m_seed})
        connect(box, &QSpinBox::valueChanged, this, &FaultsDialog::updateState);
    for (QDoubleSpinBox *box :
         {m_probability, m_toxicity, m_udpLoss, m_udpDuplicate, m_udpReorder, m_udpCorrupt})
        connect(box, &QDoubleSpinBox::valueChanged, this, &FaultsDialog::updateState);
    for (QCheckBox *box : {m_closeOn, m_resetOn, m_stopReading, m_blackhole, m_timeoutOn})
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
    faults.closeCode = m_closeCode;
    faults.blackhole = m_blackhole->isChecked();
    faults.timeoutMs = m_timeoutOn->isChecked() ? m_timeout->value() : -1;
    faults.slowCloseMs = m_slowClose->value();
    faults.toxicity = m_toxicity->value() / 100.0;
    faults.udpLoss = m_udpLoss->value() / 100.0;
    faults.udpDuplicate = m_udpDuplicate->value() / 100.0;
    faults.udpReorder = m_udpReorder->value() / 100.0;
    faults.udpCorrupt = m_udpCorrupt->value() / 100.0;
    faults.seed = quint32(m_seed->value());
    return m_transport ? faults.forTransport(*m_transport) : faults;
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
    m_closeCode = faults.closeCode;
    m_blackhole->setChecked(faults.blackhole);
    m_timeoutOn->setChecked(faults.timeoutMs >= 0);
    m_timeout->setValue(qMax(0, faults.timeoutMs));
    m_slowClose->setValue(faults.slowCloseMs);
    m_toxicity->setValue(faults.toxicity * 100.0);
    m_udpLoss->setValue(faults.udpLoss * 100.0);
    m_udpDuplicate->setValue(faults.udpDuplicate * 100.0);
    m_udpReorder->setValue(faults.udpReorder * 100.0);
    m_udpCorrupt->setValue(faults.udpCorrupt * 100.0);
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
    m_timeout->setEnabled(m_timeoutOn->isChecked());
    m_toxicity->setEnabled(m_delay->value() > 0 || m_bandwidth->value() > 0 ||
                           m_sliceBytes->value() > 0);
    const FaultConfig config = faults();
    const QString invalid = config.validate();
    m_error->setText(Units::sentence(invalid));
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
    m_error->setText(Units::sentence(error));
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
        m_error->setText(m_transport == IpProtocol::Udp
                             ? tr("UDP peer %1 was forgotten (idle, kicked, or the server stopped)")
                                   .arg(m_clientId)
                             : tr("Client %1 is not connected").arg(m_clientId));
        m_error->setVisible(true);
        return;
    }
    setFaults(m_server->defaultFaults());
}

} // namespace Echoscope
