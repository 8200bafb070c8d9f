#pragma once

#include <QLocale>
#include <QStringList>

class QCoreApplication;
class QTranslator;

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

// QCoreApplication::installTranslator() and removeTranslator(), and the caches of translated
// texts (generation()) told to translate again. Echoscope installs and removes translators
// through these only (install() too). A translator deleted while installed removes itself
// without telling the caches: remove it here first.
bool installTranslator(QTranslator *translator);
bool removeTranslator(QTranslator *translator);

// Changes each time a translator was installed or removed (above): a text translated under
// one generation is translated again under the next. For caches of texts translated on a
// hot path (a disconnect's reason, once per connection), where QCoreApplication::translate()
// would search every translator each time. Any thread.
quint64 generation();

// tr()'s n (an int) for a 64-bit count: the count itself when it fits, else a number with
// the same last six digits, which every plural rule Qt knows puts in the same form (they
// look at n % 10, n % 100 and at small values). A count that may not fit is then written
// into the text as %1, not as %n, which would show that other number.
int pluralCount(qint64 count);

// A text with one 64-bit count in it as %1, translated in context with the plural form
// for that count (pluralCount()), the count filled in; further %2, %3 are the caller's.
// Mark the text for lupdate where it is written: QT_TRANSLATE_N_NOOP(context, "...").
QString counted(const char *context, const char *text, qint64 count);

} // namespace Translations
} // namespace Echoscope
