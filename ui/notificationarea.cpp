#include "notificationarea.h"

#include "palettes.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

namespace Echoscope {

NotificationArea::NotificationArea(QWidget *parent) : QWidget(parent)
{
    m_exposureWarning = new QLabel(this);
    m_exposureWarning->setWordWrap(true);
    m_exposureWarning->setTextFormat(Qt::PlainText);
    m_exposureWarning->setMargin(6);
    m_exposureWarning->setAutoFillBackground(true);
    Palettes::setTone(m_exposureWarning, Palettes::Tone::Neutral, true);
    m_exposureWarning->setObjectName(QStringLiteral("exposureWarning"));
    m_exposureWarning->setVisible(false);

    m_errorBanner = new QWidget(this);
    m_errorBanner->setAutoFillBackground(true);
    m_errorBanner->setObjectName(QStringLiteral("errorBanner"));
    Palettes::setTone(m_errorBanner, Palettes::Tone::Negative, true);
    m_errorLabel = new QLabel(m_errorBanner);
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setTextFormat(Qt::PlainText);
    m_errorLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *dismiss = new QToolButton(m_errorBanner);
    dismiss->setText(QStringLiteral("✕"));
    dismiss->setAutoRaise(true);
    dismiss->setToolTip(tr("Dismiss"));
    connect(dismiss, &QToolButton::clicked, this, &NotificationArea::hideError);
    auto *errorLayout = new QHBoxLayout(m_errorBanner);
    errorLayout->setContentsMargins(6, 4, 4, 4);
    errorLayout->addWidget(m_errorLabel, 1);
    errorLayout->addWidget(dismiss, 0, Qt::AlignTop);
    m_errorBanner->setVisible(false);

    // The same spacing as the window's layout around it: the banners look as they did
    // when they were two rows of it.
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(m_exposureWarning);
    layout->addWidget(m_errorBanner);
    updateVisibility();
}

void NotificationArea::showError(const QString &text)
{
    m_errorLabel->setText(text);
    m_errorBanner->show();
    updateVisibility();
}

void NotificationArea::hideError()
{
    m_errorBanner->hide();
    updateVisibility();
}

QString NotificationArea::errorText() const
{
    return m_errorBanner->isHidden() ? QString() : m_errorLabel->text();
}

void NotificationArea::setExposureWarning(const QString &text)
{
    m_exposureWarning->setText(text);
    m_exposureWarning->setVisible(!text.isEmpty());
    updateVisibility();
}

bool NotificationArea::isExposureWarningShown() const
{
    return !m_exposureWarning->isHidden();
}

// Hidden while both banners are, so that the window's layout gives it no row (and no
// spacing) then.
void NotificationArea::updateVisibility()
{
    setVisible(!m_exposureWarning->isHidden() || !m_errorBanner->isHidden());
}

} // namespace Echoscope
