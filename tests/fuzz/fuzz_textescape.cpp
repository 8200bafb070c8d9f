// libFuzzer target for TextEscape (core/base/textescape.h): escapeBytes(), escapeText(), hexDump().
//
// The input is the bytes a client sent; its first bytes also choose escapeBytes()'s
// maxBytes and hexDump()'s firstOffset. Beyond "no crash" it checks:
//  - the escaped text holds no C0/C1 control, DEL, ESC, bidi, format, separator, private
//    use, unassigned or lone surrogate character: nothing that can move a cursor, change
//    colours or reorder text;
//  - it reads back to exactly the input (a small unescaper below), so no two inputs look
//    the same; with maxBytes it is the escape of a prefix of at least maxBytes - 3 bytes,
//    then "…"; valid UTF-8 escapes the same as bytes and as text;
//  - hexDump() has ceil(n / 16) lines in the Wireshark layout, one offset width for the
//    whole dump, offsets counting up by 16, hex bytes that parse back to the input and
//    an ASCII column with '.' for every other byte.
// A broken invariant prints what broke and aborts, which libFuzzer reports as a crash.

#include "textescape.h"

#include <QByteArray>
#include <QChar>
#include <QList>
#include <QString>
#include <QStringDecoder>
#include <QStringList>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace Echoscope;

namespace {

void check(bool ok, const char *invariant)
{
    if (ok)
        return;
    std::fprintf(stderr, "fuzz_textescape: invariant broken: %s\n", invariant);
    std::abort();
}

// Characters that reorder or hide text, named one by one so that a change in how
// TextEscape classifies characters cannot let them through unnoticed.
bool isBidiOrInvisible(char32_t c)
{
    struct Range
    {
        char32_t first;
        char32_t last;
    };
    static const Range kRanges[] = {
        {0x00ad, 0x00ad},   // soft hyphen
        {0x061c, 0x061c},   // Arabic letter mark
        {0x180e, 0x180e},   // Mongolian vowel separator
        {0x200b, 0x200f},   // zero-width space and joiners, LRM, RLM
        {0x2028, 0x202e},   // line and paragraph separators, LRE, RLE, PDF, LRO, RLO
        {0x2060, 0x2069},   // word joiner, invisible operators, LRI, RLI, FSI, PDI
        {0xfeff, 0xfeff},   // byte order mark
        {0xfff9, 0xfffb},   // interlinear annotations
        {0xe0001, 0xe0001}, // language tag
        {0xe0020, 0xe007f}, // tag characters
    };
    for (const Range &range : kRanges) {
        if (c >= range.first && c <= range.last)
            return true;
    }
    return false;
}

void checkSafe(const QString &text)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        char32_t c = text.at(i).unicode();
        if (QChar::isHighSurrogate(c)) {
            check(i + 1 < text.size() && text.at(i + 1).isLowSurrogate(), "no lone surrogate");
            c = QChar::surrogateToUcs4(text.at(i), text.at(i + 1));
            ++i;
        } else {
            check(!QChar::isLowSurrogate(c), "no lone surrogate");
        }
        check(c >= 0x20 && !(c >= 0x7f && c <= 0x9f), "no C0, DEL or C1 control character");
        check(!isBidiOrInvisible(c), "no bidi or invisible formatting character");
        switch (QChar::category(c)) {
        case QChar::Other_Control:
        case QChar::Other_Format:
        case QChar::Other_Surrogate:
        case QChar::Other_PrivateUse:
        case QChar::Other_NotAssigned:
        case QChar::Separator_Line:
        case QChar::Separator_Paragraph:
            check(false, "no control, format, separator, private or unassigned character");
            break;
        default:
            break;
        }
    }
}

int hexValue(QChar c)
{
    const char16_t u = c.unicode();
    if (u >= '0' && u <= '9')
        return u - '0';
    if (u >= 'a' && u <= 'f')
        return u - 'a' + 10;
    return -1; // TextEscape writes lowercase hex only
}

// One unit of escaped text read back: a raw byte (\xHH) or a character.
struct Unit
{
    bool isByte;
    char32_t value;
};

// Reads back what TextEscape writes: characters as they are, \n \r \t \0 \\ \" \xHH and
// \u{X}. Anything else (an unknown escape, bad hex, a lone backslash) breaks an invariant.
QList<Unit> unescape(const QString &text)
{
    QList<Unit> units;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (c != QLatin1Char('\\')) {
            char32_t value = c.unicode();
            if (c.isHighSurrogate() && i + 1 < text.size() && text.at(i + 1).isLowSurrogate())
                value = QChar::surrogateToUcs4(c, text.at(++i));
            units.append(Unit{false, value});
            continue;
        }
        check(i + 1 < text.size(), "no lone backslash at the end");
        const char16_t escape = text.at(++i).unicode();
        switch (escape) {
        case 'n':
            units.append(Unit{false, '\n'});
            break;
        case 'r':
            units.append(Unit{false, '\r'});
            break;
        case 't':
            units.append(Unit{false, '\t'});
            break;
        case '0':
            units.append(Unit{false, 0});
            break;
        case '\\':
        case '"':
            units.append(Unit{false, escape});
            break;
        case 'x': {
            check(i + 2 < text.size(), "\\x has two hex digits");
            const int high = hexValue(text.at(i + 1));
            const int low = hexValue(text.at(i + 2));
            check(high >= 0 && low >= 0, "\\x has two hex digits");
            units.append(Unit{true, char32_t(high * 16 + low)});
            i += 2;
            break;
        }
        case 'u': {
            check(i + 1 < text.size() && text.at(i + 1) == QLatin1Char('{'), "\\u is \\u{X}");
            i += 2;
            char32_t value = 0;
            int digits = 0;
            for (; i < text.size() && text.at(i) != QLatin1Char('}'); ++i, ++digits) {
                const int digit = hexValue(text.at(i));
                check(digit >= 0 && digits < 6, "\\u{X} holds at most 6 hex digits");
                check(digits > 0 || digit > 0, "\\u{X} has no leading zero");
                value = value << 4 | char32_t(digit);
            }
            check(i < text.size() && digits > 0, "\\u{X} is closed and not empty");
            check(value <= 0x10ffff, "\\u{X} is a code point");
            units.append(Unit{false, value});
            break;
        }
        default:
            check(false, "only the escapes \\n \\r \\t \\0 \\\\ \\\" \\xHH \\u{X}");
        }
    }
    return units;
}

void appendUtf8(QByteArray *bytes, char32_t c)
{
    if (c < 0x80) {
        bytes->append(char(c));
    } else if (c < 0x800) {
        bytes->append(char(0xc0 | c >> 6));
        bytes->append(char(0x80 | (c & 0x3f)));
    } else if (c < 0x10000) {
        bytes->append(char(0xe0 | c >> 12));
        bytes->append(char(0x80 | (c >> 6 & 0x3f)));
        bytes->append(char(0x80 | (c & 0x3f)));
    } else {
        bytes->append(char(0xf0 | c >> 18));
        bytes->append(char(0x80 | (c >> 12 & 0x3f)));
        bytes->append(char(0x80 | (c >> 6 & 0x3f)));
        bytes->append(char(0x80 | (c & 0x3f)));
    }
}

// The bytes escapeBytes() was given; *valid says whether no byte needed \xHH.
QByteArray unescapeBytes(const QString &text, bool *valid)
{
    QByteArray bytes;
    *valid = true;
    for (const Unit &unit : unescape(text)) {
        if (unit.isByte) {
            bytes.append(char(unit.value));
            *valid = false;
        } else {
            check(!QChar::isSurrogate(unit.value), "escapeBytes() shows no surrogate");
            appendUtf8(&bytes, unit.value);
        }
    }
    return bytes;
}

// The UTF-16 text escapeText() was given.
QString unescapeText(const QString &text)
{
    QString result;
    for (const Unit &unit : unescape(text)) {
        check(!unit.isByte, "escapeText() writes no \\xHH");
        if (QChar::requiresSurrogates(unit.value)) {
            result.append(QChar(QChar::highSurrogate(unit.value)));
            result.append(QChar(QChar::lowSurrogate(unit.value)));
        } else {
            result.append(QChar(char16_t(unit.value))); // a lone surrogate stays one
        }
    }
    return result;
}

void checkEscapeBytes(const QByteArray &bytes, qsizetype maxBytes)
{
    const QString escaped = TextEscape::escapeBytes(bytes);
    checkSafe(escaped);
    bool valid = false;
    check(unescapeBytes(escaped, &valid) == bytes, "escapeBytes() reads back to its input");
    if (valid) {
        // Not QString::fromUtf8(): it drops a byte order mark at the start.
        QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::ConvertInitialBom);
        const QString text = decoder(bytes);
        check(TextEscape::escapeText(text) == escaped,
              "valid UTF-8 escapes the same as bytes and as text");
    }

    const QString shortened = TextEscape::escapeBytes(bytes, maxBytes);
    checkSafe(shortened);
    if (bytes.size() <= maxBytes) {
        check(shortened == escaped, "escapeBytes() within maxBytes shows everything");
        return;
    }
    const QChar ellipsis(0x2026);
    check(shortened.endsWith(ellipsis), "escapeBytes() past maxBytes ends with an ellipsis");
    const QByteArray shown = unescapeBytes(shortened.chopped(1), &valid);
    check(shown.size() <= maxBytes && shown.size() >= maxBytes - 3,
          "escapeBytes() shows maxBytes, less a character cut at the end");
    check(bytes.startsWith(shown), "escapeBytes() past maxBytes shows a prefix");
    check(shortened == TextEscape::escapeBytes(shown) + ellipsis,
          "escapeBytes() past maxBytes is the escape of the prefix it shows");
}

void checkEscapeText(const QByteArray &bytes)
{
    // Any UTF-16, lone surrogates included, two bytes per code unit.
    QString text;
    for (qsizetype i = 0; i + 1 < bytes.size(); i += 2)
        text.append(QChar(char16_t(uchar(bytes.at(i)) << 8 | uchar(bytes.at(i + 1)))));
    const QString escaped = TextEscape::escapeText(text);
    checkSafe(escaped);
    check(unescapeText(escaped) == text, "escapeText() reads back to its input");
}

void checkHexDump(const QByteArray &bytes, qint64 firstOffset)
{
    const QString dump = TextEscape::hexDump(bytes, firstOffset);
    if (bytes.isEmpty()) {
        check(dump.isEmpty(), "hexDump() of nothing is empty");
        return;
    }
    const QStringList lines = dump.split(QLatin1Char('\n'));
    check(lines.size() == (bytes.size() + 15) / 16, "hexDump() has one line per 16 bytes");
    const qsizetype offsetWidth = lines.first().indexOf(QLatin1Char(' '));
    check(offsetWidth >= 4, "hexDump() offsets have at least 4 digits");
    const qsizetype asciiColumn = offsetWidth + 2 + 16 * 3 + 2;
    for (qsizetype line = 0; line < lines.size(); ++line) {
        const QString &text = lines.at(line);
        const qsizetype start = line * 16;
        const qsizetype count = qMin<qsizetype>(16, bytes.size() - start);
        check(text.size() == asciiColumn + count, "hexDump() lines line up");
        for (const QChar c : text)
            check(c.unicode() >= 0x20 && c.unicode() < 0x7f, "hexDump() is printable ASCII");
        bool ok = false;
        const qint64 offset = text.left(offsetWidth).toLongLong(&ok, 16);
        check(ok && offset == firstOffset + start, "hexDump() offsets count up by 16");
        check(text.mid(offsetWidth, 2) == QLatin1String("  "), "two spaces after the offset");
        for (qsizetype k = 0; k < 16; ++k) {
            const qsizetype at = offsetWidth + 2 + k * 3 + (k >= 8 ? 1 : 0);
            if (k < count) {
                const int high = hexValue(text.at(at));
                const int low = hexValue(text.at(at + 1));
                check(high >= 0 && low >= 0, "hexDump() shows two hex digits a byte");
                check(uchar(high * 16 + low) == uchar(bytes.at(start + k)),
                      "hexDump() hex bytes are the input");
            } else {
                check(text.mid(at, 2) == QLatin1String("  "), "hexDump() pads a short line");
            }
            check(text.at(at + 2) == QLatin1Char(' '), "a space after each byte");
        }
        check(text.at(offsetWidth + 2 + 8 * 3) == QLatin1Char(' '), "two groups of 8");
        check(text.at(asciiColumn - 1) == QLatin1Char(' '), "a space before the ASCII column");
        for (qsizetype k = 0; k < count; ++k) {
            const uchar byte = uchar(bytes.at(start + k));
            const QChar expected = QLatin1Char(byte >= 0x20 && byte < 0x7f ? char(byte) : '.');
            check(text.at(asciiColumn + k) == expected, "hexDump() ASCII column");
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto control = [&bytes](qsizetype i) { return i < bytes.size() ? uchar(bytes[i]) : 0; };

    checkEscapeBytes(bytes, control(0));
    checkEscapeText(bytes);

    // Offsets just below where the offset column would grow: 0x10000, 4 GiB and 1 TiB.
    static const qint64 kOffsetBases[] = {0, 0x10000, Q_INT64_C(0x100000000),
                                          Q_INT64_C(0x10000000000)};
    const qint64 below = qint64(control(2)) << 4 | (control(1) >> 2);
    checkHexDump(bytes, qMax<qint64>(0, kOffsetBases[control(1) & 3] - below));
    return 0;
}
