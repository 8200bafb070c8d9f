#pragma once

#include "dashboardsettings.h"

#include <QDialog>

QT_BEGIN_NAMESPACE
class QSpinBox;
QT_END_NAMESPACE

namespace Echoscope {

// The settings that are not in the control bar: how long gone clients stay in the
// table, how many rows the log keeps, how much traffic is captured per client.
class PreferencesDialog : public QDialog
{
    Q_OBJECT

public:
    explicit PreferencesDialog(const DashboardSettings &settings, QWidget *parent = nullptr);

    // The settings passed in, with this dialog's fields applied.
    DashboardSettings settings() const;

private:
    void showSettings(const DashboardSettings &settings);

    DashboardSettings m_settings;
    QSpinBox *m_retainSeconds;
    QSpinBox *m_logRows;
    QSpinBox *m_messageEvents;
    QSpinBox *m_captureKiB;
    QSpinBox *m_inspectedCaptureKiB;
};

} // namespace Echoscope
