// NumberText::dataSizeText(): the one way the engine writes a byte size (fault descriptions,
// headless log lines, errors), QLocale::c().formattedDataSize() in IEC units; and
// Clock::timeOfDayText(), the one way a log line's time is written.
#include "clock.h"
#include "numbertext.h"

#include <QDateTime>
#include <QLocale>
#include <QTest>
#include <QScopeGuard>

#include <cstring>
#include <ctime>
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
    void dataSizeTextWritesWholeValuesAsQtDoes();
    void timeOfDayTextIsQtsLocalTime();
    void appendersWriteAsQtDoes();
    void digitsAsQtWritesThem();
    void asciiRunKeepsOrderPastItsBuffer();
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
    QTest::newRow("-1023") << qint64(-1023) << QStringLiteral("-1023 bytes");
    QTest::newRow("-2048") << qint64(-2048) << QStringLiteral("-2 KiB");
    QTest::newRow("1 TiB") << (qint64(1) << 40) << QStringLiteral("1 TiB");
    QTest::newRow("3 PiB") << (qint64(3) << 50) << QStringLiteral("3 PiB");
    QTest::newRow("1 EiB") << (qint64(1) << 60) << QStringLiteral("1 EiB");
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

// Whole values are written without formattedDataSize(); every one reads as it would.
void tst_NumberText::dataSizeTextWritesWholeValuesAsQtDoes()
{
    const QLocale c = QLocale::c();
    for (qint64 bytes = -1023; bytes < 1024; ++bytes) {
        if (bytes == 1)
            continue; // "1 byte", above
        QCOMPARE(NumberText::dataSizeText(bytes),
                 c.formattedDataSize(bytes, 0, QLocale::DataSizeIecFormat));
    }
    for (int power = 1; power <= 6; ++power) {
        const qint64 unit = qint64(1) << (10 * power);
        for (qint64 count :
             {qint64(1), qint64(2), qint64(7), qint64(512), qint64(1023), qint64(-3)}) {
            if (power == 6 && count > 7)
                continue; // beyond qint64
            const qint64 bytes = count * unit;
            QCOMPARE(NumberText::dataSizeText(bytes),
                     c.formattedDataSize(bytes, 0, QLocale::DataSizeIecFormat));
        }
    }
}

// The time of a log line is local "hh:mm:ss.zzz" as QDateTime writes it, in any millisecond
// of a second, across seconds, before 1970 and after a change of time zone.
void tst_NumberText::timeOfDayTextIsQtsLocalTime()
{
    const auto qtText = [](qint64 ms) {
        return QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("hh:mm:ss.zzz"));
    };
    const qint64 base = QDateTime(QDate(2026, 3, 29), QTime(0, 59, 58)).toMSecsSinceEpoch();
    for (qint64 ms = base; ms < base + 3000; ms += 7)
        QCOMPARE(Clock::timeOfDayText(ms), qtText(ms));
    for (qint64 ms : {qint64(0), qint64(-1), qint64(-999), qint64(-1000), qint64(-1001),
                      qint64(-86400000 - 5), qint64(999), qint64(1000)}) {
        QCOMPARE(Clock::timeOfDayText(ms), qtText(ms));
    }
    const QByteArray zone = qgetenv("TZ");
    const auto restore = qScopeGuard([&zone] {
        zone.isNull() ? qunsetenv("TZ") : qputenv("TZ", zone);
        tzset();
    });
    for (const char *tz : {"UTC", "Asia/Kolkata", "America/St_Johns"}) {
        qputenv("TZ", tz);
        tzset();
        // A new second of the same time: the zone is read again.
        const qint64 ms = base + 10000 + 1000 * qint64(strlen(tz));
        QCOMPARE(Clock::timeOfDayText(ms), qtText(ms));
    }
}

// The appenders add to what the text holds, and write what QString::number() and friends
// write.
void tst_NumberText::appendersWriteAsQtDoes()
{
    const QString before = QStringLiteral("x=");
    for (qint64 value : {qint64(0), qint64(1), qint64(-1), qint64(9), qint64(10), qint64(99),
                         qint64(100), qint64(65535), qint64(4294967296), qint64(-123456789),
                         std::numeric_limits<qint64>::max(), std::numeric_limits<qint64>::min()}) {
        QString text = before;
        NumberText::appendNumber(text, value);
        QCOMPARE(text, before + QString::number(value));
    }
    for (int value = 0; value < 1000; ++value) {
        QString text = before;
        NumberText::appendThreeDigits(text, value);
        QCOMPARE(text, before + QStringLiteral("%1").arg(value, 3, 10, QLatin1Char('0')));
    }
    for (qint64 bytes :
         {qint64(0), qint64(1), qint64(1023), qint64(1536), qint64(1048575), qint64(3) << 40}) {
        QString text = before;
        NumberText::appendDataSize(text, bytes);
        QCOMPARE(text, before + NumberText::dataSizeText(bytes));
    }
    const qint64 ms = QDateTime(QDate(2026, 12, 7), QTime(4, 5, 6, 7)).toMSecsSinceEpoch();
    QString text = before;
    Clock::appendTimeOfDay(text, ms);
    QCOMPARE(text, before + QStringLiteral("04:05:06.007"));
}

// writeDigits() writes two digits a step: every length, every pair at every position.
void tst_NumberText::digitsAsQtWritesThem()
{
    char buffer[24];
    const auto written = [&buffer](quint64 value) {
        return QString::fromLatin1(buffer, NumberText::writeDigits(buffer, value) - buffer);
    };
    for (quint64 value = 0; value < 100000; ++value)
        QCOMPARE(written(value), QString::number(value));
    quint64 power = 1;
    for (int digits = 1; digits <= 19; ++digits, power *= 10) {
        for (quint64 value : {power - 1, power, power + 1, power * 9 + power / 2})
            QCOMPARE(written(value), QString::number(value));
    }
    for (quint64 value : {std::numeric_limits<quint64>::max(), quint64(10000000000000000000ULL),
                          quint64(9999999999999999999ULL)})
        QCOMPARE(written(value), QString::number(value));
}

// An AsciiRun appends what it gathered before anything written to target(), and when its
// buffer is full; pieces longer than the buffer go straight through.
void tst_NumberText::asciiRunKeepsOrderPastItsBuffer()
{
    QString text = QStringLiteral(">");
    QString expected = text;
    {
        NumberText::AsciiRun run(text);
        for (int i = 0; i < 200; ++i) {
            run << QLatin1String("piece ");
            run.number(i);
            run << ';';
            expected += QStringLiteral("piece %1;").arg(i);
            if (i % 37 == 0) {
                run.target() += QStringLiteral("\u00E9");
                expected += QStringLiteral("\u00E9");
            }
        }
        run << QLatin1String() << QLatin1String(""); // nothing, and nothing read
        const QByteArray longPiece(500, 'z');
        run << QLatin1String(longPiece);
        expected += QString::fromLatin1(longPiece);
        run.dataSize(1536);
        expected += NumberText::dataSizeText(1536);
        run.threeDigits(7);
        expected += QStringLiteral("007");
        QVERIFY(text.size() < expected.size()); // the last pieces wait in the run
    }
    QCOMPARE(text, expected); // and are appended when it goes
}

QTEST_GUILESS_MAIN(tst_NumberText)
#include "tst_numbertext.moc"
