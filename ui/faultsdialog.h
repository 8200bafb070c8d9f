#pragma once

#include "faultconfig.h"

#include <QDialog>

#include <optional>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;
QT_END_NAMESPACE

namespace Echoscope {

class EchoServer;

// Edits the faults injected into one client's echo (clientId != 0) or every client's
// (0), and applies them to the running server at once (see EchoServer's fault calls).
// Shows the faults in force when it opens; says what is wrong before applying.
class FaultsDialog : public QDialog
{
    Q_OBJECT

public:
    FaultsDialog(EchoServer *server, quint64 clientId, QWidget *parent = nullptr);

    quint64 clientId() const { return m_clientId; }
    // The faults as the fields say now.
    FaultConfig faults() const;
    void setFaults(const FaultConfig &faults);
    // Applies the fields; false (and the reason shown) if they are invalid or the
    // client has gone.
    bool apply();
    QPushButton *applyButton() const { return m_apply; }
    QString errorText() const;

private:
    void updateState();
    void clearFaults();
    void followDefaults();

    EchoServer *m_server;
    quint64 m_clientId;
    QSpinBox *m_delay;
    QSpinBox *m_jitter;
    QSpinBox *m_bandwidth; // KiB/s
    QSpinBox *m_sliceBytes;
    QSpinBox *m_sliceGap;
    QCheckBox *m_closeOn;
    QSpinBox *m_closeAfter;
    QCheckBox *m_resetOn;
    QSpinBox *m_resetAfter;
    QDoubleSpinBox *m_probability; // percent
    QCheckBox *m_stopReading;
    QCheckBox *m_blackhole;
    QCheckBox *m_timeoutOn;
    QSpinBox *m_timeout;
    QSpinBox *m_slowClose;
    QDoubleSpinBox *m_toxicity; // percent of messages
    QDoubleSpinBox *m_udpLoss;  // percent of echoes, as the next three
    QDoubleSpinBox *m_udpDuplicate;
    QDoubleSpinBox *m_udpReorder;
    QDoubleSpinBox *m_udpCorrupt;
    quint16 m_closeCode = FaultConfig::kDefaultCloseCode; // kept as loaded: no field for it
    // One client's dialog: its transport, whose faults alone it shows and gives
    // (FaultConfig::forTransport); none for the faults for all clients, which hold both kinds.
    std::optional<IpProtocol> m_transport;
    QSpinBox *m_seed;
    QLabel *m_summary;
    QLabel *m_error;
    QPushButton *m_apply;
};

} // namespace Echoscope
