#pragma once

#include "dashboardsettings.h"

#include <QDialog>

QT_BEGIN_NAMESPACE
class QComboBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
QT_END_NAMESPACE

namespace Echoscope {

// The settings that are not in the control bar: how long gone clients stay in the
// table, how many rows the log keeps, how much traffic is captured per client, the
// Prometheus metrics endpoint and the control API.
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
    // The control API's fields, for tests.
    QGroupBox *controlBox() const { return m_controlBox; }
    QSpinBox *controlPortBox() const { return m_controlPort; }
    QComboBox *controlAddressBox() const { return m_controlAddress; }
    QLineEdit *controlTokenFileEdit() const { return m_controlTokenFile; }
    QLabel *controlNote() const { return m_controlNote; }

private:
    void showSettings(const DashboardSettings &settings);
    // Says what is wrong with, or risky about, the endpoints' fields; OK only while the
    // fields of an endpoint that is turned on are valid.
    void checkFields();

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
    QGroupBox *m_controlBox;
    QSpinBox *m_controlPort;
    QComboBox *m_controlAddress;
    QLineEdit *m_controlTokenFile;
    QLabel *m_controlNote;
    QPushButton *m_okButton;
};

} // namespace Echoscope
