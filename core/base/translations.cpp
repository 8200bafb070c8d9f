#include "translations.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QTranslator>

#include <atomic>
#include <cstdlib>
#include <limits>

namespace Echoscope::Translations {

namespace {
const QString kResourceDir = QStringLiteral(":/i18n");
std::atomic<quint64> g_generation{1};

// Loads one translation and installs it on app; null when there is none for locale.
QTranslator *installOne(QCoreApplication *app, const QLocale &locale, const QString &name,
                        const QString &directory)
{
    auto *translator = new QTranslator(app);
    if (!translator->load(locale, name, QStringLiteral("_"), directory) ||
        !installTranslator(translator)) {
        delete translator;
        return nullptr;
    }
    return translator;
}
} // namespace

QStringList install(QCoreApplication *app, const QLocale &locale)
{
    QStringList loaded;
    const QTranslator *english =
        installOne(app, QLocale(QLocale::English), QStringLiteral("echoscope"), kResourceDir);
    if (english)
        loaded << english->filePath();
    // Installed after the English one, so searched before it.
    auto *own = new QTranslator(app);
    if (own->load(locale, QStringLiteral("echoscope"), QStringLiteral("_"), kResourceDir) &&
        (!english || own->filePath() != english->filePath()) && installTranslator(own))
        loaded << own->filePath();
    else
        delete own;
    if (const QTranslator *qt = installOne(app, locale, QStringLiteral("qtbase"),
                                           QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        loaded << qt->filePath();
    return loaded;
}

bool installTranslator(QTranslator *translator)
{
    const bool installed = QCoreApplication::installTranslator(translator);
    g_generation.fetch_add(1, std::memory_order_acq_rel);
    return installed;
}

bool removeTranslator(QTranslator *translator)
{
    const bool removed = QCoreApplication::removeTranslator(translator);
    g_generation.fetch_add(1, std::memory_order_acq_rel);
    return removed;
}

quint64 generation()
{
    return g_generation.load(std::memory_order_acquire);
}

int pluralCount(qint64 count)
{
    constexpr qint64 kMillion = 1000000;
    if (count >= 0 && count <= std::numeric_limits<int>::max())
        return int(count);
    return int(std::abs(count % kMillion) + kMillion);
}

QString counted(const char *context, const char *text, qint64 count)
{
    return QCoreApplication::translate(context, text, nullptr, pluralCount(count)).arg(count);
}

} // namespace Echoscope::Translations
