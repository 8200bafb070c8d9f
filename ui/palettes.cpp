#include "palettes.h"

#include <QAbstractButton>
#include <QApplication>
#include <QEvent>
#include <QWidget>

#include <cmath>

namespace Echoscope::Palettes {

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Base).lightness() < 128;
}

QColor mixed(const QColor &a, const QColor &b, qreal bWeight)
{
    const qreal aWeight = 1.0 - bWeight;
    return QColor::fromRgbF(float(a.redF() * aWeight + b.redF() * bWeight),
                            float(a.greenF() * aWeight + b.greenF() * bWeight),
                            float(a.blueF() * aWeight + b.blueF() * bWeight));
}

QPalette dark()
{
    QPalette palette;
    const QColor window(0x2b, 0x2d, 0x30);
    const QColor base(0x1e, 0x1f, 0x22);
    const QColor text(0xdf, 0xe1, 0xe5);
    const QColor disabled(0x7f, 0x84, 0x8e);
    palette.setColor(QPalette::Window, window);
    palette.setColor(QPalette::WindowText, text);
    palette.setColor(QPalette::Base, base);
    palette.setColor(QPalette::AlternateBase, QColor(0x26, 0x28, 0x2b));
    palette.setColor(QPalette::ToolTipBase, window);
    palette.setColor(QPalette::ToolTipText, text);
    palette.setColor(QPalette::PlaceholderText, disabled);
    palette.setColor(QPalette::Text, text);
    palette.setColor(QPalette::Button, QColor(0x3c, 0x3f, 0x41));
    palette.setColor(QPalette::ButtonText, text);
    palette.setColor(QPalette::BrightText, QColor(0xff, 0x6b, 0x6b));
    palette.setColor(QPalette::Link, QColor(0x58, 0x9d, 0xf6));
    palette.setColor(QPalette::Highlight, QColor(0x2f, 0x65, 0xca));
    palette.setColor(QPalette::HighlightedText, Qt::white);
    palette.setColor(QPalette::Light, QColor(0x4a, 0x4d, 0x50));
    palette.setColor(QPalette::Midlight, QColor(0x3c, 0x3f, 0x41));
    palette.setColor(QPalette::Mid, QColor(0x32, 0x34, 0x37));
    palette.setColor(QPalette::Dark, QColor(0x1a, 0x1b, 0x1d));
    palette.setColor(QPalette::Shadow, Qt::black);
    for (QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        palette.setColor(QPalette::Disabled, role, disabled);
    // A locked field (the control bar while listening) sits on the window's colour, as in
    // the light palettes, rather than looking like an editable one.
    palette.setColor(QPalette::Disabled, QPalette::Base, window);
    return palette;
}

QColor toneText(Tone tone, const QPalette &palette)
{
    const bool dark = isDark(palette);
    switch (tone) {
    case Tone::Negative:
        return dark ? QColor(0xff, 0x87, 0x87) : QColor(0xb0, 0x10, 0x10);
    case Tone::Neutral:
        return dark ? QColor(0xff, 0xc0, 0x78) : QColor(0x8a, 0x52, 0x00);
    case Tone::Fault:
        return dark ? QColor(0xd0, 0xa8, 0xff) : QColor(0x8a, 0x2b, 0xa8);
    }
    return palette.color(QPalette::Text);
}

QColor toneBackground(Tone tone, const QPalette &palette)
{
    const bool dark = isDark(palette);
    const QColor window = palette.color(QPalette::Window);
    switch (tone) {
    case Tone::Negative:
        return mixed(window, QColor(0xf0, 0x40, 0x40), dark ? 0.25 : 0.22);
    case Tone::Neutral:
        return mixed(window, QColor(0xff, 0xc1, 0x07), dark ? 0.22 : 0.45);
    case Tone::Fault:
        return mixed(window, QColor(0xa0, 0x50, 0xe0), dark ? 0.25 : 0.2);
    }
    return window;
}

namespace {
qreal luminance(const QColor &color)
{
    const auto channel = [](float value) {
        return value <= 0.03928f ? value / 12.92 : std::pow((value + 0.055) / 1.055, 2.4);
    };
    const QColor rgb = color.toRgb();
    return 0.2126 * channel(rgb.redF()) + 0.7152 * channel(rgb.greenF()) +
           0.0722 * channel(rgb.blueF());
}

// Re-colours its widget when the application's palette changes.
class ToneKeeper : public QObject
{
public:
    ToneKeeper(QWidget *widget, Tone tone, bool banner)
        : QObject(widget), m_widget(widget), m_tone(tone), m_banner(banner)
    {
        widget->installEventFilter(this);
        apply();
    }

    bool eventFilter(QObject *watched, QEvent *event) override
    {
        // The application's palette reaches the widget as a PaletteChange (the roles it
        // does not set follow it); setting ours sends one too, which changes nothing.
        if (watched == m_widget && !m_applying &&
            (event->type() == QEvent::PaletteChange ||
             event->type() == QEvent::ApplicationPaletteChange))
            apply();
        return false;
    }

private:
    void apply()
    {
        const QPalette application = QApplication::palette(m_widget);
        QPalette palette = m_widget->palette();
        if (m_banner) {
            palette.setColor(QPalette::Window, toneBackground(m_tone, application));
            palette.setColor(QPalette::WindowText, application.color(QPalette::WindowText));
            palette.setColor(QPalette::ButtonText, application.color(QPalette::WindowText));
        } else {
            palette.setColor(QPalette::WindowText, toneText(m_tone, application));
        }
        if (palette == m_widget->palette())
            return;
        m_applying = true;
        m_widget->setPalette(palette);
        m_applying = false;
    }

    QWidget *m_widget;
    Tone m_tone;
    bool m_banner;
    bool m_applying = false;
};
// Keeps a checkable button's Button colour: the application's, or towards Highlight while
// checked.
class CheckedKeeper : public QObject
{
public:
    explicit CheckedKeeper(QAbstractButton *button) : QObject(button), m_button(button)
    {
        button->installEventFilter(this);
        connect(button, &QAbstractButton::toggled, this, [this] { apply(); });
        apply();
    }

    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (watched == m_button && !m_applying &&
            (event->type() == QEvent::PaletteChange ||
             event->type() == QEvent::ApplicationPaletteChange))
            apply();
        return false;
    }

private:
    void apply()
    {
        const QPalette application = QApplication::palette(m_button);
        QColor button = application.color(QPalette::Button);
        if (m_button->isChecked())
            button = mixed(button, application.color(QPalette::Highlight), 0.4);
        QPalette palette = m_button->palette();
        palette.setColor(QPalette::Active, QPalette::Button, button);
        palette.setColor(QPalette::Inactive, QPalette::Button, button);
        if (palette == m_button->palette())
            return;
        m_applying = true;
        m_button->setPalette(palette);
        m_applying = false;
    }

    QAbstractButton *m_button;
    bool m_applying = false;
};
} // namespace

void showCheckedState(QAbstractButton *button)
{
    new CheckedKeeper(button);
}

qreal contrast(const QColor &a, const QColor &b)
{
    const qreal la = luminance(a);
    const qreal lb = luminance(b);
    return (qMax(la, lb) + 0.05) / (qMin(la, lb) + 0.05);
}

void setTone(QWidget *widget, Tone tone, bool banner)
{
    for (QObject *child : widget->children()) { // one keeper a widget
        if (auto *keeper = dynamic_cast<ToneKeeper *>(child))
            delete keeper;
    }
    new ToneKeeper(widget, tone, banner);
}

} // namespace Echoscope::Palettes
