#pragma once

#include <QWidget>

QT_BEGIN_NAMESPACE
class QLabel;
QT_END_NAMESPACE

namespace Echoscope {

// The banners above the status panel: a warning that other machines can reach the server
// or its metrics (neutral, shown while it applies), and the last error (negative, with a
// dismiss button, shown until dismissed or hidden by its owner). The area takes no room
// while neither is shown.
class NotificationArea : public QWidget
{
    Q_OBJECT

public:
    explicit NotificationArea(QWidget *parent = nullptr);

    void showError(const QString &text);
    void hideError();
    // The error shown, empty when there is none.
    QString errorText() const;

    // The exposure warning, one line per exposed endpoint; empty hides it.
    void setExposureWarning(const QString &text);
    bool isExposureWarningShown() const;

private:
    void updateVisibility();

    QLabel *m_exposureWarning;
    QWidget *m_errorBanner;
    QLabel *m_errorLabel;
};

} // namespace Echoscope
