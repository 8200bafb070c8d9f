// NumberText::dataSizeText(): the one way the engine writes a byte size (fault descriptions,
// headless log lines, errors), QLocale::c().formattedDataSize() in IEC units.
#include "numbertext.h"

#include <QLocale>
#include <QTest>

#include <limits>

using namespace Echoscope;

class tst_NumberText : public QObject
{
    Q_OBJECT

private slots:
    void cleanup() { QLocale::setDefault(QLocale::c()); }
    void dataSizeText_data();
    void dataSizeText();
    void dataSizeTextIgnoresTheUserLocale();
};

void tst_NumberText::dataSizeText_data()
{
    QTest::addColumn<qint64>("bytes");
    QTest::addColumn<QString>("expected");

    // Exact below 1 KiB, in Qt's words ("bytes"), but "1 byte" where Qt says "1 bytes".
    QTest::newRow("0") << qint64(0) << QStringLiteral("0 bytes");
    QTest::newRow("1") << qint64(1) << QStringLiteral("1 byte");
    QTest::newRow("2") << qint64(2) << QStringLiteral("2 bytes");
    QTest::newRow("1023") << qint64(1023) << QStringLiteral("1023 bytes");
    // Whole in its unit: no decimal, as the old texts ("1 KiB", "64 KiB").
    QTest::newRow("1024") << qint64(1024) << QStringLiteral("1 KiB");
    QTest::newRow("64 KiB") << qint64(64 * 1024) << QStringLiteral("64 KiB");
    QTest::newRow("1 MiB") << qint64(1024 * 1024) << QStringLiteral("1 MiB");
    QTest::newRow("1 GiB") << qint64(1024 * 1024 * 1024) << QStringLiteral("1 GiB");
    // Otherwise one decimal.
    QTest::newRow("1536") << qint64(1536) << QStringLiteral("1.5 KiB");
    QTest::newRow("1025") << qint64(1025) << QStringLiteral("1.0 KiB");
    QTest::newRow("1500") << qint64(1500) << QStringLiteral("1.5 KiB");
    QTest::newRow("100000") << qint64(100000) << QStringLiteral("97.7 KiB");
    QTest::newRow("1.5 MiB") << qint64(1536 * 1024) << QStringLiteral("1.5 MiB");
    QTest::newRow("10^9") << qint64(1000000000) << QStringLiteral("953.7 MiB");
    // Just under the rounding edge: stays in KiB, no thousands separator.
    QTest::newRow("1023.9 KiB") << qint64(1048473) << QStringLiteral("1023.9 KiB");
    // Rounds to 1024 of a unit: written in the next one, not "1024.0 KiB".
    QTest::newRow("1 MiB - 1") << qint64(1024 * 1024 - 1) << QStringLiteral("1 MiB");
    QTest::newRow("1 GiB - 1") << qint64(1024 * 1024 * 1024 - 1) << QStringLiteral("1 GiB");
    QTest::newRow("largest") << std::numeric_limits<qint64>::max() << QStringLiteral("8.0 EiB");
    QTest::newRow("-1536") << qint64(-1536) << QStringLiteral("-1.5 KiB");
}

void tst_NumberText::dataSizeText()
{
    QFETCH(qint64, bytes);
    QFETCH(QString, expected);
    QCOMPARE(NumberText::dataSizeText(bytes), expected);
}

void tst_NumberText::dataSizeTextIgnoresTheUserLocale()
{
    // Headless logs are read by scripts: the same text under a German default locale
    // (whose formattedDataSize() would write "1,5 KiB", "1.023 Bytes").
    QLocale::setDefault(QLocale(QLocale::German, QLocale::Germany));
    QCOMPARE(QLocale().formattedDataSize(1536, 1, QLocale::DataSizeIecFormat),
             QStringLiteral("1,5 KiB")); // what the dashboard's locale would say
    QCOMPARE(NumberText::dataSizeText(1536), QStringLiteral("1.5 KiB"));
    QCOMPARE(NumberText::dataSizeText(1023), QStringLiteral("1023 bytes"));
    QCOMPARE(NumberText::dataSizeText(1000000000), QStringLiteral("953.7 MiB"));
}

QTEST_GUILESS_MAIN(tst_NumberText)
#include "tst_numbertext.moc"
