#pragma once

#include "dashboardsettings.h"

#include <QDialog>

QT_BEGIN_NAMESPACE
class QComboBox;
class QGroupBox;
class QLabel;
class QPushButton;
class QSpinBox;
QT_END_NAMESPACE

namespace Echoscope {

// The settings that are not in the control bar: how long gone clients stay in the
// table, how many rows the log keeps, how much traffic is captured per client, and the
// Prometheus metrics endpoint.
class PreferencesDialog : public QDialog
{
    Q_OBJECT

public:
    explicit PreferencesDialog(const DashboardSettings &settings, QWidget *parent = nullptr);

    // The settings passed in, with this dialog's fields applied.
    DashboardSettings settings() const;

    // The metrics endpoint's fields, for tests.
    QGroupBox *metricsBox() const { return m_metricsBox; }
    QSpinBox *metricsPortBox() const { return m_metricsPort; }
    QComboBox *metricsAddressBox() const { return m_metricsAddress; }

private:
    void showSettings(const DashboardSettings &settings);
    void checkMetricsAddress();

    DashboardSettings m_settings;
    QSpinBox *m_retainSeconds;
    QSpinBox *m_logRows;
    QSpinBox *m_messageEvents;
    QSpinBox *m_captureKiB;
    QSpinBox *m_inspectedCaptureKiB;
    QGroupBox *m_metricsBox;
    QSpinBox *m_metricsPort;
    QComboBox *m_metricsAddress;
    QLabel *m_metricsNote;
    QPushButton *m_okButton;
};

} // namespace Echoscope
