#include "palettes.h"

#include <QAbstractButton>
#include <QApplication>
#include <QEvent>
#include <QWidget>

#include <cmath>
#include <functional>

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

// Keeps some roles of its widget's palette derived from the application's palette: sets
// them now, and again whenever that palette changes. One keeper per purpose a widget.
class PaletteKeeper : public QObject
{
public:
    using Adjust = std::function<void(QPalette *palette, const QPalette &application)>;
    enum class Purpose { Tone, CheckedState };

    PaletteKeeper(QWidget *widget, Purpose purpose, Adjust adjust)
        : QObject(widget), m_widget(widget), m_purpose(purpose), m_adjust(std::move(adjust))
    {
        widget->installEventFilter(this);
        apply();
    }

    Purpose purpose() const { return m_purpose; }

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

    void apply()
    {
        QPalette palette = m_widget->palette();
        m_adjust(&palette, QApplication::palette(m_widget));
        if (palette == m_widget->palette())
            return;
        m_applying = true;
        m_widget->setPalette(palette);
        m_applying = false;
    }

private:
    QWidget *m_widget;
    Purpose m_purpose;
    Adjust m_adjust;
    bool m_applying = false;
};
} // namespace

// A checkable button's Button colour: the application's, or towards Highlight while checked.
void showCheckedState(QAbstractButton *button)
{
    auto *keeper =
        new PaletteKeeper(button, PaletteKeeper::Purpose::CheckedState,
                          [button](QPalette *palette, const QPalette &application) {
                              QColor colour = application.color(QPalette::Button);
                              if (button->isChecked())
                                  colour =
                                      mixed(colour, application.color(QPalette::Highlight), 0.4);
                              palette->setColor(QPalette::Active, QPalette::Button, colour);
                              palette->setColor(QPalette::Inactive, QPalette::Button, colour);
                          });
    QObject::connect(button, &QAbstractButton::toggled, keeper, &PaletteKeeper::apply);
}

qreal contrast(const QColor &a, const QColor &b)
{
    const qreal la = luminance(a);
    const qreal lb = luminance(b);
    return (qMax(la, lb) + 0.05) / (qMin(la, lb) + 0.05);
}

void setTone(QWidget *widget, Tone tone, bool banner)
{
    for (QObject *child : widget->children()) { // one tone keeper a widget
        if (auto *keeper = dynamic_cast<PaletteKeeper *>(child);
            keeper && keeper->purpose() == PaletteKeeper::Purpose::Tone)
            delete keeper;
    }
    new PaletteKeeper(widget, PaletteKeeper::Purpose::Tone,
                      [tone, banner](QPalette *palette, const QPalette &application) {
                          if (banner) {
                              palette->setColor(QPalette::Window,
                                                toneBackground(tone, application));
                              const QColor text = application.color(QPalette::WindowText);
                              palette->setColor(QPalette::WindowText, text);
                              palette->setColor(QPalette::ButtonText, text);
                          } else {
                              palette->setColor(QPalette::WindowText, toneText(tone, application));
                          }
                      });
}

} // namespace Echoscope::Palettes
