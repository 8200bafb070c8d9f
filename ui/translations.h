#pragma once

#include <QLocale>
#include <QStringList>

class QCoreApplication;

namespace Echoscope {

// Which texts Echoscope shows in which language (translations/README.md).
namespace Translations {

// Installs on app, for the languages of locale (QLocale::uiLanguages(), in order):
// - Echoscope's English plural forms (:/i18n/echoscope_en.qm), always: the source texts are
//   English but "%n client(s)" needs its two English forms written out, and a language
//   Echoscope has no translation for falls back to English;
// - Echoscope's translation for the first of those languages it has one for, if any;
// - Qt's own translation (qtbase_LANG.qm from QLibraryInfo::TranslationsPath: standard
//   buttons, context menus), if that is installed (Debian: qt6-translations-l10n).
// Returns the files loaded, in the order installed (the last one is searched first).
QStringList install(QCoreApplication *app, const QLocale &locale = QLocale());

} // namespace Translations
} // namespace Echoscope
