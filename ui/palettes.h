#pragma once

#include <QColor>
#include <QPalette>

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

} // namespace Palettes
} // namespace Echoscope
