#include "disconnectinfo.h"
#include "textescape.h"
#include "trafficevent.h"
#include "translations.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QScopeGuard>
#include <QStringList>
#include <QTest>
#include <QThread>
#include <QTranslator>

using namespace Echoscope;

namespace {

// The first character in `text` that could move a terminal's cursor, change its
// colours, reorder the text around it or break a line, described; empty if none.
// C0 and C1 controls, DEL, bidi embeddings/overrides/isolates/marks, line and
// paragraph separators, the BOM and unpaired surrogates all count.
QString unsafeCharacter(const QString &text)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t c = text.at(i).unicode();
        if (QChar::isHighSurrogate(c)) {
            if (i + 1 < text.size() && text.at(i + 1).isLowSurrogate()) {
                ++i; // a pair: outside the BMP, nothing here is a control
                continue;
            }
            return QStringLiteral("unpaired surrogate U+%1 at %2").arg(int(c), 4, 16).arg(i);
        }
        const bool unsafe = c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
                            QChar::isLowSurrogate(c) || c == 0x061c || c == 0x200e || c == 0x200f ||
                            (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
                            c == 0x2028 || c == 0x2029 || c == 0xfeff;
        if (unsafe)
            return QStringLiteral("U+%1 at %2").arg(int(c), 4, 16, QLatin1Char('0')).arg(i);
    }
    return QString();
}

// UTF-8 bytes for any value up to 0x1fffff, surrogates included (which makes it
// invalid UTF-8 for them, on purpose).
QByteArray encodeUtf8(char32_t c)
{
    QByteArray out;
    if (c < 0x80) {
        out.append(char(c));
    } else if (c < 0x800) {
        out.append(char(0xc0 | (c >> 6)));
        out.append(char(0x80 | (c & 0x3f)));
    } else if (c < 0x10000) {
        out.append(char(0xe0 | (c >> 12)));
        out.append(char(0x80 | ((c >> 6) & 0x3f)));
        out.append(char(0x80 | (c & 0x3f)));
    } else {
        out.append(char(0xf0 | (c >> 18)));
        out.append(char(0x80 | ((c >> 12) & 0x3f)));
        out.append(char(0x80 | ((c >> 6) & 0x3f)));
        out.append(char(0x80 | (c & 0x3f)));
    }
    return out;
}

QString utf8(const char *text)
{
    return QString::fromUtf8(text);
}

QString spaces(int count)
{
    return QString(count, QLatin1Char(' '));
}

// Bytes a hostile client might send to take over a terminal or a log viewer.
QByteArray hostilePayload()
{
    return QByteArrayLiteral("\x1b[2J\x1b]0;pwned\x07\x1b[31mred\xe2\x80\xae"
                             "evil\xc2\x9b"
                             "0m\r\n\0\x7f\xff\xc0\xaf");
}

} // namespace

class tst_TextEscape : public QObject
{
    Q_OBJECT

private slots:
    void escapeBytes_data();
    void escapeBytes();
    void escapeBytesOfEveryCodePointIsSafe();
    void escapeBytesOfEveryBytePairIsSafe();
    void escapedTokenMeasuresEscapeBytes();
    void escapeText_data();
    void escapeText();
    void hexDump_data();
    void hexDump();
    void hexDumpColumnsLineUp_data();
    void hexDumpColumnsLineUp();
    void messageEventTextIsSafe_data();
    void messageEventTextIsSafe();
    void everyEventTextIsSafe_data();
    void everyEventTextIsSafe();
    void disconnectedEventText();
    void reasonTextFollowsTheTranslators();
    void clientLineText_data();
    void clientLineText();
    void everyKindLineText();
    void endpointText_data();
    void endpointText();
    void disconnectedEventJson_data();
    void disconnectedEventJson();
    void messageEventJson();
};

void tst_TextEscape::escapeBytes_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("maxBytes");
    QTest::addColumn<QString>("expected");

    // Plain and C escapes.
    QTest::newRow("empty") << QByteArray() << -1 << QString();
    QTest::newRow("printable ascii")
        << QByteArray("Hello, world! ~{}") << -1 << QStringLiteral("Hello, world! ~{}");
    QTest::newRow("nul") << QByteArray("a\0b", 3) << -1 << QStringLiteral("a\\0b");
    QTest::newRow("c escapes") << QByteArray("\n\r\t\\\"") << -1
                               << QStringLiteral("\\n\\r\\t\\\\\\\"");
    QTest::newRow("0xff") << QByteArray("\xff") << -1 << QStringLiteral("\\xff");
    QTest::newRow("0xff 0xfe") << QByteArray("\xff\xfe") << -1 << QStringLiteral("\\xff\\xfe");
    QTest::newRow("del") << QByteArray("\x7f") << -1 << QStringLiteral("\\u{7f}");
    QTest::newRow("bell, backspace")
        << QByteArray("\x07\x08") << -1 << QStringLiteral("\\u{7}\\u{8}");
    // Plain ASCII is appended a run at a time: runs begin and end at every kind of escape.
    QTest::newRow("runs between escapes")
        << QByteArray("\"a b\" \\ x\x01y\xffz caf\xc3\xa9 \x1b[0m end") << -1
        << QStringLiteral("\\\"a b\\\" \\\\ x\\u{1}y\\xffz caf") + QChar(0xe9) +
               QStringLiteral(" \\u{1b}[0m end");
    QTest::newRow("run cut by maxBytes")
        << QByteArray("abcdef\n") << 4 << QStringLiteral("abcd") + QChar(0x2026);

    // Terminal escape sequences: the ESC (and BEL, CSI) must never get through.
    QTest::newRow("clear screen") << QByteArray("\x1b[2J") << -1 << QStringLiteral("\\u{1b}[2J");
    QTest::newRow("window title") << QByteArray("\x1b]0;title\x07") << -1
                                  << QStringLiteral("\\u{1b}]0;title\\u{7}");
    QTest::newRow("c1 csi") << QByteArray("\xc2\x9b"
                                          "31m")
                            << -1 << QStringLiteral("\\u{9b}31m");
    QTest::newRow("c1 next line") << QByteArray("\xc2\x85") << -1 << QStringLiteral("\\u{85}");

    // Characters that reorder or break text.
    QTest::newRow("bidi override") << QByteArray("abc\xe2\x80\xae"
                                                 "def")
                                   << -1 << QStringLiteral("abc\\u{202e}def");
    QTest::newRow("bidi isolate") << QByteArray("\xe2\x81\xa6") << -1
                                  << QStringLiteral("\\u{2066}");
    QTest::newRow("right-to-left mark")
        << QByteArray("\xe2\x80\x8f") << -1 << QStringLiteral("\\u{200f}");
    QTest::newRow("line separator")
        << QByteArray("\xe2\x80\xa8") << -1 << QStringLiteral("\\u{2028}");
    QTest::newRow("zero width space")
        << QByteArray("\xe2\x80\x8b") << -1 << QStringLiteral("\\u{200b}");
    QTest::newRow("byte order mark")
        << QByteArray("\xef\xbb\xbf") << -1 << QStringLiteral("\\u{feff}");
    QTest::newRow("private use") << QByteArray("\xee\x80\x80") << -1 << QStringLiteral("\\u{e000}");

    // Invalid UTF-8: every byte as \xHH.
    QTest::newRow("overlong slash") << QByteArray("\xc0\xaf") << -1 << QStringLiteral("\\xc0\\xaf");
    QTest::newRow("overlong nul") << QByteArray("\xc0\x80") << -1 << QStringLiteral("\\xc0\\x80");
    QTest::newRow("overlong 3 bytes")
        << QByteArray("\xe0\x80\xaf") << -1 << QStringLiteral("\\xe0\\x80\\xaf");
    QTest::newRow("overlong 4 bytes")
        << QByteArray("\xf0\x82\x82\xac") << -1 << QStringLiteral("\\xf0\\x82\\x82\\xac");
    QTest::newRow("truncated sequence")
        << QByteArray("\xe6\xbc") << -1 << QStringLiteral("\\xe6\\xbc");
    QTest::newRow("truncated, then ascii") << QByteArray("\xe6\xbc"
                                                         "A")
                                           << -1 << QStringLiteral("\\xe6\\xbcA");
    QTest::newRow("lone continuation bytes")
        << QByteArray("\x80\xbf") << -1 << QStringLiteral("\\x80\\xbf");
    QTest::newRow("high surrogate")
        << QByteArray("\xed\xa0\x80") << -1 << QStringLiteral("\\xed\\xa0\\x80");
    QTest::newRow("low surrogate")
        << QByteArray("\xed\xbf\xbf") << -1 << QStringLiteral("\\xed\\xbf\\xbf");
    QTest::newRow("surrogate pair (CESU-8)") << QByteArray("\xed\xa0\xbd\xed\xb8\x80") << -1
                                             << QStringLiteral("\\xed\\xa0\\xbd\\xed\\xb8\\x80");
    QTest::newRow("above U+10FFFF")
        << QByteArray("\xf4\x90\x80\x80") << -1 << QStringLiteral("\\xf4\\x90\\x80\\x80");
    QTest::newRow("five-byte form")
        << QByteArray("\xf8\x88\x80\x80\x80") << -1 << QStringLiteral("\\xf8\\x88\\x80\\x80\\x80");

    // Valid UTF-8 is kept.
    QTest::newRow("e acute") << QByteArray("caf\xc3\xa9") << -1 << utf8("caf\xc3\xa9");
    QTest::newRow("han") << QByteArray("\xe6\xbc\xa2\xe5\xad\x97") << -1
                         << utf8("\xe6\xbc\xa2\xe5\xad\x97");
    QTest::newRow("emoji") << QByteArray("\xf0\x9f\x98\x80") << -1 << utf8("\xf0\x9f\x98\x80");
    QTest::newRow("no-break space") << QByteArray("a\xc2\xa0"
                                                  "b")
                                    << -1
                                    << utf8("a\xc2\xa0"
                                            "b");
    QTest::newRow("valid around invalid")
        << QByteArray("\xc3\xa9\xff\xe6\xbc\xa2") << -1
        << utf8("\xc3\xa9") + QStringLiteral("\\xff") + utf8("\xe6\xbc\xa2");

    // Truncation: maxBytes counts input bytes, "…" marks the cut.
    const QString ellipsis(QChar(0x2026));
    QTest::newRow("max 3 of 6") << QByteArray("abcdef") << 3 << QStringLiteral("abc") + ellipsis;
    QTest::newRow("max equal to size") << QByteArray("abcdef") << 6 << QStringLiteral("abcdef");
    QTest::newRow("max above size") << QByteArray("abc") << 10 << QStringLiteral("abc");
    QTest::newRow("max 0") << QByteArray("abc") << 0 << ellipsis;
    QTest::newRow("max 0 of nothing") << QByteArray() << 0 << QString();
    QTest::newRow("escapes count input bytes")
        << QByteArray("\n\n\n\n") << 2 << QStringLiteral("\\n\\n") + ellipsis;
    QTest::newRow("invalid bytes up to the cut")
        << QByteArray("\xff\xfe\xfd") << 2 << QStringLiteral("\\xff\\xfe") + ellipsis;
    QTest::newRow("cut inside a character")
        << QByteArray("\xc3\xa9\xc3\xa9") << 3 << utf8("\xc3\xa9") + ellipsis;
    QTest::newRow("cut inside an emoji") << QByteArray("\xf0\x9f\x98\x80!") << 2 << ellipsis;
    QTest::newRow("cut inside an escape sequence")
        << QByteArray("ok\x1b[2J") << 3 << QStringLiteral("ok\\u{1b}") + ellipsis;
}

void tst_TextEscape::escapeBytes()
{
    QFETCH(QByteArray, input);
    QFETCH(int, maxBytes);
    QFETCH(QString, expected);

    const QString escaped = TextEscape::escapeBytes(input, maxBytes);
    QCOMPARE(escaped, expected);
    const QString unsafe = unsafeCharacter(escaped);
    QVERIFY2(unsafe.isEmpty(), qPrintable(unsafe));
}

void tst_TextEscape::escapeBytesOfEveryCodePointIsSafe()
{
    // Every value up to U+10FFFF, surrogates included, encoded as UTF-8 and followed by
    // a letter: nothing dangerous comes out; valid characters are either kept as they
    // are or escaped; invalid sequences come out byte by byte.
    int kept = 0;
    for (char32_t c = 0; c <= 0x10ffff; ++c) {
        const QByteArray bytes = encodeUtf8(c) + 'z';
        const QString escaped = TextEscape::escapeBytes(bytes);
        const QString unsafe = unsafeCharacter(escaped);
        if (!unsafe.isEmpty())
            QFAIL(qPrintable(QStringLiteral("U+%1: %2").arg(quint32(c), 0, 16).arg(unsafe)));
        if (!escaped.endsWith(QLatin1Char('z')))
            QFAIL(qPrintable(QStringLiteral("U+%1: lost what followed").arg(quint32(c), 0, 16)));
        const QString shown = escaped.chopped(1);
        if (c >= 0xd800 && c <= 0xdfff) {
            if (!shown.startsWith(QLatin1String("\\xed")) || shown.size() != 12)
                QFAIL(qPrintable(QStringLiteral("surrogate U+%1 shown as %2")
                                     .arg(quint32(c), 0, 16)
                                     .arg(shown)));
            continue;
        }
        if (shown == QString::fromUcs4(&c, 1)) {
            ++kept;
            continue;
        }
        if (!shown.startsWith(QLatin1Char('\\')))
            QFAIL(
                qPrintable(QStringLiteral("U+%1 changed to %2").arg(quint32(c), 0, 16).arg(shown)));
    }
    // Most of Unicode's assigned characters are shown as they are.
    QVERIFY2(kept > 100000, qPrintable(QString::number(kept)));
}

void tst_TextEscape::escapeBytesOfEveryBytePairIsSafe()
{
    QByteArray bytes(2, '\0');
    for (int first = 0; first < 256; ++first) {
        for (int second = 0; second < 256; ++second) {
            bytes[0] = char(first);
            bytes[1] = char(second);
            const QString unsafe = unsafeCharacter(TextEscape::escapeBytes(bytes));
            if (!unsafe.isEmpty())
                QFAIL(qPrintable(QStringLiteral("%1 %2: %3").arg(first).arg(second).arg(unsafe)));
        }
    }
}

// escapedToken() measures what escapeBytes() writes token by token, and escaping the
// bytes cut at token boundaries gives the pieces of escaping them whole (what the
// inspector's Text mode relies on to escape only the lines it shows): every code point's
// UTF-8 (surrogates too) followed by a letter, every byte pair, and a hostile payload.
void tst_TextEscape::escapedTokenMeasuresEscapeBytes()
{
    const auto check = [](const QByteArray &bytes) -> QString {
        QString pieces;
        for (qsizetype i = 0; i < bytes.size();) {
            int escaped = -1;
            const int length = TextEscape::escapedToken(bytes, i, &escaped);
            if (length < 1 || i + length > bytes.size())
                return QStringLiteral("a token of %1 bytes at %2").arg(length).arg(i);
            const QString piece = TextEscape::escapeBytes(QByteArrayView(bytes).sliced(i, length));
            if (piece.size() != escaped)
                return QStringLiteral("measured %1, written %2").arg(escaped).arg(piece);
            pieces += piece;
            i += length;
        }
        if (pieces != TextEscape::escapeBytes(bytes))
            return QStringLiteral("pieces %1, whole %2")
                .arg(pieces, TextEscape::escapeBytes(bytes));
        return QString();
    };
    for (char32_t c = 0; c <= 0x10ffff; ++c) {
        const QString error = check(encodeUtf8(c) + 'z');
        if (!error.isEmpty())
            QFAIL(qPrintable(QStringLiteral("U+%1: %2").arg(quint32(c), 0, 16).arg(error)));
    }
    QByteArray pair(2, '\0');
    for (int first = 0; first < 256; ++first) {
        for (int second = 0; second < 256; ++second) {
            pair[0] = char(first);
            pair[1] = char(second);
            const QString error = check(pair);
            if (!error.isEmpty())
                QFAIL(qPrintable(QStringLiteral("%1 %2: %3").arg(first).arg(second).arg(error)));
        }
    }
    const QByteArray hostile = hostilePayload();
    for (qsizetype size = 0; size <= hostile.size(); ++size) {
        const QString error = check(hostile.left(size));
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }
}

void tst_TextEscape::escapeText_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");

    const char32_t grinning = 0x1f600;
    QTest::newRow("plain") << QStringLiteral("peer-01.example")
                           << QStringLiteral("peer-01.example");
    QTest::newRow("accents and han")
        << utf8("caf\xc3\xa9 \xe6\xbc\xa2") << utf8("caf\xc3\xa9 \xe6\xbc\xa2");
    QTest::newRow("emoji") << QString::fromUcs4(&grinning, 1) << QString::fromUcs4(&grinning, 1);
    QTest::newRow("escape sequence") << QStringLiteral("\x1b[2J") << QStringLiteral("\\u{1b}[2J");
    QTest::newRow("c escapes") << QStringLiteral("a\nb\tc\r\\\"")
                               << QStringLiteral("a\\nb\\tc\\r\\\\\\\"");
    QTest::newRow("runs between escapes") << QStringLiteral("\"a b\" \\ x\x01y caf") + QChar(0xe9) +
                                                 QChar(0x202e) + QStringLiteral("z end")
                                          << QStringLiteral("\\\"a b\\\" \\\\ x\\u{1}y caf") +
                                                 QChar(0xe9) + QStringLiteral("\\u{202e}z end");
    QTest::newRow("nul") << QString(QChar(0)) << QStringLiteral("\\0");
    QTest::newRow("del") << QString(QChar(0x7f)) << QStringLiteral("\\u{7f}");
    QTest::newRow("c1 csi") << QString(QChar(0x9b)) << QStringLiteral("\\u{9b}");
    QTest::newRow("bidi override") << QStringLiteral("a") + QChar(0x202e) + QStringLiteral("b")
                                   << QStringLiteral("a\\u{202e}b");
    QTest::newRow("lone high surrogate")
        << QString(QChar(0xd800)) + QStringLiteral("x") << QStringLiteral("\\u{d800}x");
    QTest::newRow("lone low surrogate") << QString(QChar(0xdc00)) << QStringLiteral("\\u{dc00}");
    QTest::newRow("high surrogate at the end")
        << QStringLiteral("a") + QChar(0xd83d) << QStringLiteral("a\\u{d83d}");
    QTest::newRow("surrogates reversed")
        << QString(QChar(0xde00)) + QChar(0xd83d) << QStringLiteral("\\u{de00}\\u{d83d}");
}

void tst_TextEscape::escapeText()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);

    const QString escaped = TextEscape::escapeText(input);
    QCOMPARE(escaped, expected);
    const QString unsafe = unsafeCharacter(escaped);
    QVERIFY2(unsafe.isEmpty(), qPrintable(unsafe));
}

void tst_TextEscape::hexDump_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<qint64>("firstOffset");
    QTest::addColumn<QString>("expected");

    QTest::newRow("empty") << QByteArray() << qint64(0) << QString();
    QTest::newRow("one full line")
        << QByteArray("0123456789abcdef") << qint64(0)
        << QStringLiteral(
               "0000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  0123456789abcdef");
    // The ASCII column stays where a full line has it: column 56.
    QTest::newRow("half a line") << QByteArray("hello\n\0\xff", 8) << qint64(0)
                                 << QStringLiteral("0000  68 65 6c 6c 6f 0a 00 ff") + spaces(27) +
                                        QStringLiteral("hello...");
    QTest::newRow("partial last line")
        << QByteArray("ABCDEFGHIJKLMNOPQRST") << qint64(0)
        << QStringLiteral(
               "0000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP\n"
               "0010  51 52 53 54") +
               spaces(39) + QStringLiteral("QRST");
    QTest::newRow("printable edges")
        << QByteArray("\x1f\x20\x7e\x7f\x80") << qint64(0)
        << QStringLiteral("0000  1f 20 7e 7f 80") + spaces(36) + QStringLiteral(". ~..");
    QTest::newRow("offset counted from firstOffset")
        << QByteArray("abcdefghijklmnopq") << qint64(0x20)
        << QStringLiteral(
               "0020  61 62 63 64 65 66 67 68  69 6a 6b 6c 6d 6e 6f 70  abcdefghijklmnop\n"
               "0030  71") +
               spaces(48) + QStringLiteral("q");
    QTest::newRow("offset above 0xffff")
        << QByteArray("\x00\x01\x7f\x80", 4) << qint64(0x12340)
        << QStringLiteral("00012340  00 01 7f 80") + spaces(39) + QStringLiteral("....");
    QTest::newRow("crossing 0xffff")
        << QByteArray("0123456789abcdefghijklmnopqrstuv") << qint64(0xfff0)
        << QStringLiteral(
               "0000fff0  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  0123456789abcdef\n"
               "00010000  67 68 69 6a 6b 6c 6d 6e  6f 70 71 72 73 74 75 76  ghijklmnopqrstuv");
}

void tst_TextEscape::hexDump()
{
    QFETCH(QByteArray, bytes);
    QFETCH(qint64, firstOffset);
    QFETCH(QString, expected);

    QCOMPARE(TextEscape::hexDump(bytes, firstOffset), expected);
}

void tst_TextEscape::hexDumpColumnsLineUp_data()
{
    QTest::addColumn<int>("size");
    QTest::addColumn<qint64>("firstOffset");
    QTest::newRow("100 bytes") << 100 << qint64(0);
    QTest::newRow("100 bytes across 0xffff") << 100 << qint64(0xffc0);
    QTest::newRow("1 byte") << 1 << qint64(0);
    QTest::newRow("large offset") << 40 << qint64(0x123456789);
    QTest::newRow("across 4 GiB") << 64 << qint64(0xffffffe0);
    QTest::newRow("across 1 TiB") << 64 << qint64(0xffffffffe0);
}

void tst_TextEscape::hexDumpColumnsLineUp()
{
    QFETCH(int, size);
    QFETCH(qint64, firstOffset);

    QByteArray bytes(size, Qt::Uninitialized);
    for (int i = 0; i < size; ++i)
        bytes[i] = char(i * 37); // controls, printable, high bytes
    const QStringList lines = TextEscape::hexDump(bytes, firstOffset).split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), (size + 15) / 16);

    const qsizetype offsetWidth = lines.first().indexOf(QLatin1Char(' '));
    QVERIFY(offsetWidth >= 4);
    const qsizetype asciiColumn = offsetWidth + 2 + 16 * 3 + 2;
    for (int line = 0; line < lines.size(); ++line) {
        const QString &text = lines.at(line);
        const int count = qMin(16, size - line * 16);
        QCOMPARE(text.size(), asciiColumn + count);
        bool ok = false;
        QCOMPARE(text.left(offsetWidth).toLongLong(&ok, 16), firstOffset + line * 16);
        QVERIFY(ok);
        QCOMPARE(text.mid(offsetWidth, 2), QStringLiteral("  "));
        QCOMPARE(text.mid(asciiColumn - 2, 2), QStringLiteral("  "));
        for (int k = 0; k < count; ++k) {
            const uchar byte = uchar(bytes.at(line * 16 + k));
            const qsizetype at = offsetWidth + 2 + k * 3 + (k >= 8 ? 1 : 0);
            QCOMPARE(text.mid(at, 2),
                     QStringLiteral("%1").arg(uint(byte), 2, 16, QLatin1Char('0')));
            const QChar shown = text.at(asciiColumn + k);
            QCOMPARE(shown, QLatin1Char(byte >= 0x20 && byte < 0x7f ? char(byte) : '.'));
        }
        QVERIFY(unsafeCharacter(text).isEmpty());
    }
}

void tst_TextEscape::messageEventTextIsSafe_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<qint64>("bytes");
    QTest::addColumn<QString>("size"); // as the line writes it
    QTest::addColumn<QString>("expectedEnd");

    QTest::newRow("hostile, whole")
        << hostilePayload() << qint64(hostilePayload().size()) << QStringLiteral("40 bytes")
        << QStringLiteral("\\r\\n\\0\\u{7f}\\xff\\xc0\\xaf\"");
    QTest::newRow("hostile, preview of more")
        << hostilePayload() << qint64(100000) << QStringLiteral("97.7 KiB")
        << QStringLiteral("\\xc0\\xaf") + QChar(0x2026) + QLatin1Char('"');
    QTest::newRow("empty message") << QByteArray() << qint64(0) << QStringLiteral("0 bytes")
                                   << QStringLiteral(" 0 bytes: \"\"");
}

void tst_TextEscape::messageEventTextIsSafe()
{
    QFETCH(QByteArray, payload);
    QFETCH(qint64, bytes);
    QFETCH(QString, size);
    QFETCH(QString, expectedEnd);

    TrafficEvent event;
    event.kind = TrafficEvent::Kind::MessageEchoed;
    event.timestampMs = 1000;
    event.clientId = 7;
    event.address = QHostAddress(QHostAddress::LocalHost);
    event.port = 5000;
    event.bytes = bytes;
    event.payload = payload;

    const QString text = event.toText();
    const QString unsafe = unsafeCharacter(text);
    QVERIFY2(unsafe.isEmpty(), qPrintable(unsafe + QStringLiteral(" in ") + text));
    QVERIFY2(text.startsWith(QStringLiteral("client 7 (127.0.0.1:5000) message %1: \"").arg(size)),
             qPrintable(text));
    QVERIFY2(text.endsWith(expectedEnd), qPrintable(text));
    if (!payload.isEmpty()) {
        QVERIFY2(text.contains(QStringLiteral("\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{1b}[31mred"
                                              "\\u{202e}evil\\u{9b}0m")),
                 qPrintable(text));
    }
}

void tst_TextEscape::everyEventTextIsSafe_data()
{
    QTest::addColumn<int>("kind");
    QTest::newRow("listening") << int(TrafficEvent::Kind::Listening);
    QTest::newRow("stopped") << int(TrafficEvent::Kind::Stopped);
    QTest::newRow("connected") << int(TrafficEvent::Kind::Connected);
    QTest::newRow("refused") << int(TrafficEvent::Kind::Refused);
    QTest::newRow("disconnected") << int(TrafficEvent::Kind::Disconnected);
    QTest::newRow("message") << int(TrafficEvent::Kind::MessageEchoed);
    QTest::newRow("summary") << int(TrafficEvent::Kind::MessagesSummarised);
    QTest::newRow("error") << int(TrafficEvent::Kind::Error);
    QTest::newRow("warning") << int(TrafficEvent::Kind::Warning);
}

void tst_TextEscape::everyEventTextIsSafe()
{
    QFETCH(int, kind);

    // Every text field holds something hostile; whatever the kind shows, it is escaped.
    const QString hostileText =
        QString::fromLatin1(hostilePayload()) + QChar(0x202e) + QChar(0x2028) + QChar(0xd800);
    TrafficEvent event;
    event.kind = TrafficEvent::Kind(kind);
    event.timestampMs = 1000;
    event.clientId = 3;
    event.address = QHostAddress(QStringLiteral("::1"));
    event.port = 40000;
    event.bytes = 4096;
    event.count = 12;
    event.payload = hostilePayload();
    event.text = hostileText;
    event.disconnect.reason = DisconnectReason::SocketError;
    event.disconnect.detail = hostileText;

    const QString text = event.toText();
    QVERIFY(!text.isEmpty());
    const QString unsafe = unsafeCharacter(text);
    QVERIFY2(unsafe.isEmpty(), qPrintable(unsafe + QStringLiteral(" in ") + text));
    // The JSON form keeps text raw (the JSON writer escapes it); its fields are right.
    const QJsonObject json = event.toJson();
    QCOMPARE(json.value(QStringLiteral("event")).toString(), TrafficEvent::kindName(event.kind));
    QCOMPARE(json.value(QStringLiteral("time")).toString(),
             QStringLiteral("1970-01-01T00:00:01.000Z"));
}

void tst_TextEscape::disconnectedEventText()
{
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Disconnected;
    event.timestampMs = 1234;
    event.clientId = 42;
    event.address = QHostAddress(QStringLiteral("::1"));
    event.port = 6000;
    event.disconnect.reason = DisconnectReason::MessageTooLarge;
    event.disconnect.detail = QStringLiteral("a message of 2048 bytes or more exceeds the limit");
    event.disconnect.bytesIn = 100;
    event.disconnect.bytesOut = 60;
    event.disconnect.messagesIn = 3;
    event.disconnect.messagesOut = 2;
    event.disconnect.durationMs = 1500;
    QCOMPARE(event.toText(),
             QStringLiteral("client 42 ([::1]:6000) disconnected: message too large: a message of "
                            "2048 bytes or more exceeds the limit; in 100 bytes, out 60 bytes, 3 "
                            "messages in, 2 out, 1.500 s; 40 bytes not echoed"));
}

// reasonText() keeps what it translated, in each thread, until a translator comes or goes.
void tst_TextEscape::reasonTextFollowsTheTranslators()
{
    class Translator : public QTranslator
    {
    public:
        bool isEmpty() const override { return false; }
        QString translate(const char *context, const char *sourceText, const char *,
                          int) const override
        {
            if (qstrcmp(context, "DisconnectReason") == 0 &&
                qstrcmp(sourceText, "closed by peer") == 0)
                return QStringLiteral("vom Gegen\u00FCber geschlossen");
            return QString();
        }
    };
    const QString english = QStringLiteral("closed by peer");
    const QString translated = QStringLiteral("vom Gegen\u00FCber geschlossen");
    const auto inAnotherThread = [](DisconnectReason reason) {
        QString text;
        std::unique_ptr<QThread> thread(
            QThread::create([&text, reason] { text = DisconnectInfo::reasonText(reason); }));
        thread->start();
        return thread->wait(QDeadlineTimer(30000)) ? text : QStringLiteral("(no answer)");
    };

    QCOMPARE(DisconnectInfo::reasonText(DisconnectReason::ClosedByPeer), english); // cached now
    QCOMPARE(inAnotherThread(DisconnectReason::ClosedByPeer), english);
    Translator translator;
    QVERIFY(Translations::installTranslator(&translator));
    auto removeAtEnd = qScopeGuard([&translator] { Translations::removeTranslator(&translator); });
    QCOMPARE(DisconnectInfo::reasonText(DisconnectReason::ClosedByPeer), translated);
    QCOMPARE(DisconnectInfo::reasonText(DisconnectReason::ClosedByPeer), translated); // cached
    QCOMPARE(DisconnectInfo::reasonText(DisconnectReason::ResetByPeer),
             QStringLiteral("reset by peer")); // not translated: the source text
    QCOMPARE(inAnotherThread(DisconnectReason::ClosedByPeer), translated);
    DisconnectInfo info;
    info.reason = DisconnectReason::ClosedByPeer;
    info.detail = QStringLiteral("detail");
    QCOMPARE(info.describe(), translated + QStringLiteral(": detail"));
    QVERIFY(Translations::removeTranslator(&translator));
    removeAtEnd.dismiss();
    QCOMPARE(DisconnectInfo::reasonText(DisconnectReason::ClosedByPeer), english);
    QCOMPARE(info.describe(), english + QStringLiteral(": detail"));
}

// The connect and disconnect lines of every transport and address family, word for word:
// scripts match them, and they are built by appending, not by QString::arg().
void tst_TextEscape::clientLineText_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("transport");
    QTest::addColumn<QHostAddress>("address");
    QTest::addColumn<qint64>("durationMs");
    QTest::addColumn<QString>("expected");

    const auto tcp = int(IpProtocol::Tcp);
    const auto udp = int(IpProtocol::Udp);
    const auto ws = int(IpProtocol::WebSocket);
    const auto connected = int(TrafficEvent::Kind::Connected);
    const auto disconnected = int(TrafficEvent::Kind::Disconnected);
    const QHostAddress v4(QStringLiteral("192.0.2.7"));
    const QHostAddress v6(QStringLiteral("2001:db8::7"));
    QTest::newRow("TCP connected, IPv4")
        << connected << tcp << v4 << qint64(0) << "client 9 (192.0.2.7:40001) connected";
    QTest::newRow("TCP connected, IPv6")
        << connected << tcp << v6 << qint64(0) << "client 9 ([2001:db8::7]:40001) connected";
    QTest::newRow("UDP seen") << connected << udp << v4 << qint64(0)
                              << "client 9 (192.0.2.7:40001 UDP) seen: its first datagram arrived";
    QTest::newRow("WebSocket connected") << connected << ws << v6 << qint64(0)
                                         << "client 9 ([2001:db8::7]:40001 WebSocket) connected";
    QTest::newRow("unknown address") << connected << tcp << QHostAddress() << qint64(0)
                                     << "client 9 (unknown address) connected";
    QTest::newRow("TCP disconnected, 12.005 s")
        << disconnected << tcp << v4 << qint64(12005)
        << "client 9 (192.0.2.7:40001) disconnected: closed by peer; in 1 KiB, out 1.5 KiB, 1 "
           "messages in, 65536 out, 12.005 s";
    QTest::newRow("UDP forgotten, 0 s")
        << disconnected << udp << v6 << qint64(0)
        << "client 9 ([2001:db8::7]:40001 UDP) forgotten: closed by peer; in 1 KiB, out 1.5 KiB, "
           "1 messages in, 65536 out, 0.000 s";
    QTest::newRow("disconnected after 61 min")
        << disconnected << ws << v4 << qint64(3660042)
        << "client 9 (192.0.2.7:40001 WebSocket) disconnected: closed by peer; in 1 KiB, out "
           "1.5 KiB, 1 messages in, 65536 out, 3660.042 s";
}

void tst_TextEscape::clientLineText()
{
    QFETCH(int, kind);
    QFETCH(int, transport);
    QFETCH(QHostAddress, address);
    QFETCH(qint64, durationMs);
    QFETCH(QString, expected);

    TrafficEvent event;
    event.kind = TrafficEvent::Kind(kind);
    event.transport = IpProtocol(transport);
    event.clientId = 9;
    event.address = address;
    event.port = address.isNull() ? 0 : 40001;
    event.disconnect.reason = DisconnectReason::ClosedByPeer;
    event.disconnect.bytesIn = 1024;
    event.disconnect.bytesOut = 1536;
    event.disconnect.messagesIn = 1;
    event.disconnect.messagesOut = 65536;
    event.disconnect.durationMs = durationMs;
    QCOMPARE(event.toText(), expected);
}

// Every kind's line, word for word (Connected and Disconnected: above and below), and
// appendText() appends it after what the line holds.
void tst_TextEscape::everyKindLineText()
{
    const QHostAddress v4(QStringLiteral("192.0.2.7"));
    const auto event = [&v4](TrafficEvent::Kind kind, const QString &text = QString()) {
        TrafficEvent e;
        e.kind = kind;
        e.clientId = 9;
        e.address = v4;
        e.port = 40001;
        e.text = text;
        return e;
    };
    using Kind = TrafficEvent::Kind;
    QList<QPair<TrafficEvent, QString>> cases;

    TrafficEvent listening = event(Kind::Listening);
    listening.address = QHostAddress(QHostAddress::LocalHost);
    listening.port = 5000;
    cases.append({listening, QStringLiteral("listening on 127.0.0.1:5000")});
    listening.address = QHostAddress(QHostAddress::Any);
    cases.append({listening, QStringLiteral("listening on [::]:5000")});
    listening.address = QHostAddress(QHostAddress::LocalHostIPv6);
    listening.transport = IpProtocol::Udp;
    cases.append({listening, QStringLiteral("listening for UDP on [::1]:5000")});
    listening.address = QHostAddress(QHostAddress::LocalHost);
    listening.transport = IpProtocol::WebSocket;
    cases.append({listening, QStringLiteral("listening for WebSocket on 127.0.0.1:5000")});
    listening.text = QStringLiteral("ws://127.0.0.1:5000/");
    cases.append(
        {listening,
         QStringLiteral("listening for WebSocket on 127.0.0.1:5000 (ws://127.0.0.1:5000/)")});

    cases.append({event(Kind::Stopped, QStringLiteral("port closed\n")),
                  QStringLiteral("stopped: port closed\\n")});
    cases.append({event(Kind::Refused, QStringLiteral("too many clients")),
                  QStringLiteral("refused 192.0.2.7:40001: too many clients")});
    TrafficEvent refusals = event(Kind::Refused, QStringLiteral("3 more refused"));
    refusals.count = 3;
    cases.append({refusals, QStringLiteral("3 more refused")});

    TrafficEvent message = event(Kind::MessageEchoed);
    message.bytes = 5;
    message.payload = QByteArray("hi\x1b");
    cases.append(
        {message, QStringLiteral("client 9 (192.0.2.7:40001) message 5 bytes: \"hi\\u{1b}") +
                      QChar(0x2026) + QLatin1Char('"')});
    message.bytes = 3;
    cases.append(
        {message, QStringLiteral("client 9 (192.0.2.7:40001) message 3 bytes: \"hi\\u{1b}\"")});
    TrafficEvent summary = event(Kind::MessagesSummarised);
    summary.count = 120;
    summary.bytes = 120 * 1024;
    cases.append({summary, QStringLiteral("client 9 (192.0.2.7:40001) +120 messages (120 KiB) in "
                                          "the last second, not shown one by one")});

    cases.append({event(Kind::Error, QStringLiteral("bind: in use")),
                  QStringLiteral("error: bind: in use")});
    cases.append(
        {event(Kind::Warning, QStringLiteral("low limit")), QStringLiteral("warning: low limit")});
    cases.append({event(Kind::FaultInjected, QStringLiteral("delay 5 ms")),
                  QStringLiteral("client 9 (192.0.2.7:40001) fault: delay 5 ms")});
    TrafficEvent allClients = event(Kind::FaultInjected, QStringLiteral("delay 5 ms"));
    allClients.clientId = 0;
    cases.append({allClients, QStringLiteral("fault: delay 5 ms")});
    cases.append({event(Kind::TlsEstablished, QStringLiteral("TLSv1.3")),
                  QStringLiteral("client 9 (192.0.2.7:40001) TLS established: TLSv1.3")});
    TrafficEvent upgraded = event(Kind::WebSocketEstablished, QStringLiteral("/echo"));
    upgraded.transport = IpProtocol::WebSocket;
    cases.append({upgraded, QStringLiteral("client 9 (192.0.2.7:40001 WebSocket) WebSocket "
                                           "established: /echo")});

    for (const auto &[e, expected] : std::as_const(cases)) {
        QCOMPARE(e.toText(), expected);
        QString line = QStringLiteral("12:00:00.000 ");
        e.appendText(line);
        QCOMPARE(line, QStringLiteral("12:00:00.000 ") + expected);
    }
}

// The endpoint text of an address is Qt's text for it: IPv4 is written without
// QHostAddress::toString(), and must read the same.
void tst_TextEscape::endpointText_data()
{
    QTest::addColumn<QHostAddress>("address");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("expected");
    for (const char *ip : {"0.0.0.0", "255.255.255.255", "127.0.0.1", "10.0.0.1", "192.0.2.7",
                           "1.20.100.9", "100.10.1.0"}) {
        QTest::newRow(ip) << QHostAddress(QLatin1String(ip)) << 65535
                          << QLatin1String(ip) + QStringLiteral(":65535");
    }
    QTest::newRow("IPv4-mapped IPv6") << QHostAddress(QStringLiteral("::ffff:192.0.2.7")) << 1
                                      << QStringLiteral("[::ffff:192.0.2.7]:1");
    QTest::newRow("IPv6 scope") << QHostAddress(QStringLiteral("fe80::1%lo")) << 0
                                << QStringLiteral("[fe80::1%lo]:0");
    QTest::newRow("any, both stacks")
        << QHostAddress(QHostAddress::Any) << 0 << QStringLiteral("[::]:0");
    QTest::newRow("null, a port") << QHostAddress() << 7 << QStringLiteral(":7");
    QTest::newRow("null, no port") << QHostAddress() << 0 << QStringLiteral("unknown address");
}

void tst_TextEscape::endpointText()
{
    QFETCH(QHostAddress, address);
    QFETCH(int, port);
    QFETCH(QString, expected);
    QCOMPARE(TrafficEvent::endpoint(address, quint16(port)), expected);
    QString text = QStringLiteral("at ");
    TrafficEvent::appendEndpoint(text, address, quint16(port));
    QCOMPARE(text, QStringLiteral("at ") + expected);
}

void tst_TextEscape::disconnectedEventJson_data()
{
    QTest::addColumn<DisconnectInfo>("info");
    QTest::addColumn<QString>("reason");

    DisconnectInfo closed;
    closed.reason = DisconnectReason::ClosedByPeer;
    closed.bytesIn = 10;
    closed.bytesOut = 5;
    closed.messagesIn = 1;
    closed.messagesOut = 0;
    closed.durationMs = 20;
    closed.incompleteBytes = 5;
    QTest::newRow("closed by peer") << closed << QStringLiteral("closed by peer");

    DisconnectInfo tooLarge;
    tooLarge.reason = DisconnectReason::MessageTooLarge;
    tooLarge.detail = QStringLiteral("too big");
    tooLarge.bytesIn = 100;
    tooLarge.bytesOut = 60;
    tooLarge.messagesIn = 3;
    tooLarge.messagesOut = 2;
    tooLarge.durationMs = 1500;
    tooLarge.oversizeBytes = 2048;
    QTest::newRow("message too large") << tooLarge << QStringLiteral("message too large");

    DisconnectInfo reset;
    reset.reason = DisconnectReason::ResetByPeer;
    reset.bytesIn = 1;
    reset.bytesOut = 1;
    QTest::newRow("reset by peer") << reset << QStringLiteral("reset by peer");

    DisconnectInfo stopped;
    stopped.reason = DisconnectReason::ServerStopped;
    QTest::newRow("server stopped") << stopped << QStringLiteral("server stopped");
}

void tst_TextEscape::disconnectedEventJson()
{
    QFETCH(DisconnectInfo, info);
    QFETCH(QString, reason);

    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Disconnected;
    event.timestampMs = 1234;
    event.clientId = 42;
    event.address = QHostAddress(QStringLiteral("::1"));
    event.port = 6000;
    event.disconnect = info;
    const QJsonObject json = event.toJson();

    QCOMPARE(json.value(QStringLiteral("event")).toString(), QStringLiteral("disconnected"));
    QCOMPARE(json.value(QStringLiteral("time")).toString(),
             QStringLiteral("1970-01-01T00:00:01.234Z"));
    QCOMPARE(json.value(QStringLiteral("client")).toInteger(), 42);
    QCOMPARE(json.value(QStringLiteral("peer")).toString(), QStringLiteral("::1"));
    QCOMPARE(json.value(QStringLiteral("peer_port")).toInteger(), 6000);
    QCOMPARE(json.value(QStringLiteral("reason")).toString(), reason);
    QCOMPARE(json.value(QStringLiteral("bytes_in")).toInteger(), info.bytesIn);
    QCOMPARE(json.value(QStringLiteral("bytes_out")).toInteger(), info.bytesOut);
    QCOMPARE(json.value(QStringLiteral("messages_in")).toInteger(), info.messagesIn);
    QCOMPARE(json.value(QStringLiteral("messages_out")).toInteger(), info.messagesOut);
    QCOMPARE(json.value(QStringLiteral("duration_ms")).toInteger(), info.durationMs);
    QCOMPARE(json.value(QStringLiteral("unechoed_bytes")).toInteger(),
             info.bytesIn - info.bytesOut);
    // Optional fields appear only when they say something.
    QCOMPARE(json.contains(QStringLiteral("detail")), !info.detail.isEmpty());
    QCOMPARE(json.value(QStringLiteral("detail")).toString(), info.detail);
    QCOMPARE(json.contains(QStringLiteral("oversize_bytes")), info.oversizeBytes > 0);
    QCOMPARE(json.value(QStringLiteral("oversize_bytes")).toInteger(), info.oversizeBytes);
    QCOMPARE(json.contains(QStringLiteral("incomplete_bytes")), info.incompleteBytes > 0);
    QCOMPARE(json.value(QStringLiteral("incomplete_bytes")).toInteger(), info.incompleteBytes);
    QVERIFY(!json.contains(QStringLiteral("text")));
    QVERIFY(!json.contains(QStringLiteral("payload_base64")));
}

void tst_TextEscape::messageEventJson()
{
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::MessageEchoed;
    event.timestampMs = 0;
    event.clientId = 9;
    event.address = QHostAddress(QHostAddress::LocalHost);
    event.port = 1234;
    event.bytes = 1000;
    event.payload = hostilePayload();
    const QJsonObject json = event.toJson();
    QCOMPARE(json.value(QStringLiteral("event")).toString(), QStringLiteral("message"));
    QCOMPARE(json.value(QStringLiteral("bytes")).toInteger(), 1000);
    QCOMPARE(
        QByteArray::fromBase64(json.value(QStringLiteral("payload_base64")).toString().toLatin1()),
        hostilePayload());
    QCOMPARE(json.value(QStringLiteral("payload_truncated")).toBool(), true);

    event.bytes = event.payload.size();
    QCOMPARE(event.toJson().value(QStringLiteral("payload_truncated")).toBool(), false);
}

QTEST_GUILESS_MAIN(tst_TextEscape)
#include "tst_textescape.moc"
