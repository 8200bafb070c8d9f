#pragma once

#include <QColor>
#include <QPalette>

QT_BEGIN_NAMESPACE
class QAbstractButton;
class QWidget;
QT_END_NAMESPACE

namespace Echoscope {

// Colour helpers the dashboard's hand-drawn widgets share, so they read well in light
// and dark palettes alike.
namespace Palettes {

// True when the palette draws light text on a dark background.
bool isDark(const QPalette &palette);
// a and b blended: bWeight 0 is a, 1 is b.
QColor mixed(const QColor &a, const QColor &b, qreal bWeight);
// The dashboard's dark palette (View > Dark palette), for the Fusion style.
QPalette dark();

// What a coloured text or banner says; the colour itself comes from the palette (a light
// tint on dark palettes, a dark one on light palettes) so it reads on Base and Window.
enum class Tone {
    Negative, // errors, refused input
    Neutral,  // warnings, notices
    Fault,    // faults injected on purpose, apart from real errors
};
QColor toneText(Tone tone, const QPalette &palette);
// A banner's background of this tone; its text is the palette's WindowText.
QColor toneBackground(Tone tone, const QPalette &palette);
// WCAG contrast ratio of two colours, 1 to 21 (4.5 is enough for body text).
qreal contrast(const QColor &a, const QColor &b);
// Colours widget in this tone from the application's palette, and again whenever that
// changes: its WindowText (a label's text) or, with banner, its Window behind the palette's
// own WindowText and ButtonText.
void setTone(QWidget *widget, Tone tone, bool banner = false);
// Makes a checkable button's checked state plain to see in every palette: checked, its
// Button colour leans towards Highlight (Fusion draws "on" only a shade darker, which the
// dark palette's buttons do not show), again whenever the application's palette changes.
void showCheckedState(QAbstractButton *button);

} // namespace Palettes
} // namespace Echoscope
