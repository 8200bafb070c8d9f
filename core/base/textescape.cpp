#include "textescape.h"

#include <QChar>

namespace Echoscope {

namespace {

const char kHexDigits[] = "0123456789abcdef";

void appendHexByte(QString *out, uchar byte)
{
    out->append(QLatin1Char(kHexDigits[byte >> 4]));
    out->append(QLatin1Char(kHexDigits[byte & 0xf]));
}

// Printable ASCII but the two written as C escapes: shown as it is, so a run of it is
// appended at once (most of a log line's text, and of many clients' bytes).
bool isPlainAscii(char32_t codePoint)
{
    return codePoint >= 0x20 && codePoint < 0x7f && codePoint != '\\' && codePoint != '"';
}

bool isShownAsIs(char32_t codePoint)
{
    if (codePoint < 0x80)
        return codePoint >= 0x20 && codePoint < 0x7f;
    switch (QChar::category(codePoint)) {
    case QChar::Other_Control:
    case QChar::Other_Format:
    case QChar::Other_Surrogate:
    case QChar::Other_PrivateUse:
    case QChar::Other_NotAssigned:
    case QChar::Separator_Line:
    case QChar::Separator_Paragraph:
        return false;
    default:
        return true;
    }
}

void appendCodePoint(QString *out, char32_t codePoint)
{
    switch (codePoint) {
    case '\n':
        out->append(QLatin1String("\\n"));
        return;
    case '\r':
        out->append(QLatin1String("\\r"));
        return;
    case '\t':
        out->append(QLatin1String("\\t"));
        return;
    case '\0':
        out->append(QLatin1String("\\0"));
        return;
    case '\\':
        out->append(QLatin1String("\\\\"));
        return;
    case '"':
        out->append(QLatin1String("\\\""));
        return;
    default:
        break;
    }
    if (isShownAsIs(codePoint)) {
        if (QChar::requiresSurrogates(codePoint)) {
            out->append(QChar(QChar::highSurrogate(codePoint)));
            out->append(QChar(QChar::lowSurrogate(codePoint)));
        } else {
            out->append(QChar(char16_t(codePoint)));
        }
        return;
    }
    out->append(QLatin1String("\\u{"));
    out->append(QString::number(quint32(codePoint), 16));
    out->append(QLatin1Char('}'));
}

// The length of what appendCodePoint() writes.
int escapedSize(char32_t codePoint)
{
    switch (codePoint) {
    case '\n':
    case '\r':
    case '\t':
    case '\0':
    case '\\':
    case '"':
        return 2;
    default:
        break;
    }
    if (isShownAsIs(codePoint))
        return QChar::requiresSurrogates(codePoint) ? 2 : 1;
    int digits = 1;
    for (char32_t value = codePoint; value >= 16; value >>= 4)
        ++digits;
    return 3 + digits + 1; // "\u{" digits "}"
}

// Decodes one UTF-8 sequence at data[i]; returns its length, or 0 if it is not a
// valid, shortest-form sequence of a Unicode scalar value.
int decodeUtf8(const uchar *data, qsizetype size, qsizetype i, char32_t *codePoint)
{
    const uchar lead = data[i];
    int length;
    char32_t value;
    char32_t minimum;
    if (lead < 0x80) {
        *codePoint = lead;
        return 1;
    } else if ((lead & 0xe0) == 0xc0) {
        length = 2;
        value = lead & 0x1f;
        minimum = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
        length = 3;
        value = lead & 0x0f;
        minimum = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
        length = 4;
        value = lead & 0x07;
        minimum = 0x10000;
    } else {
        return 0;
    }
    if (i + length > size)
        return 0;
    for (int k = 1; k < length; ++k) {
        const uchar next = data[i + k];
        if ((next & 0xc0) != 0x80)
            return 0;
        value = (value << 6) | (next & 0x3f);
    }
    if (value < minimum || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))
        return 0;
    *codePoint = value;
    return length;
}

} // namespace

QString TextEscape::escapeBytes(QByteArrayView bytes, qsizetype maxBytes)
{
    const bool truncated = maxBytes >= 0 && bytes.size() > maxBytes;
    const qsizetype size = truncated ? maxBytes : bytes.size();
    const auto *data = reinterpret_cast<const uchar *>(bytes.data());
    QString out;
    out.reserve(size + 8);
    for (qsizetype i = 0; i < size;) {
        char32_t codePoint = 0;
        const int length = decodeUtf8(data, bytes.size(), i, &codePoint);
        if (length == 0) {
            out.append(QLatin1String("\\x"));
            appendHexByte(&out, data[i]);
            ++i;
            continue;
        }
        if (i + length > size)
            break; // a valid character cut by maxBytes: not shown as invalid bytes
        appendCodePoint(&out, codePoint);
        i += length;
    }
    if (truncated)
        out.append(QChar(0x2026));
    return out;
}

int TextEscape::escapedToken(QByteArrayView bytes, qsizetype i, int *escapedLength)
{
    char32_t codePoint = 0;
    const int length =
        decodeUtf8(reinterpret_cast<const uchar *>(bytes.data()), bytes.size(), i, &codePoint);
    if (length == 0) {
        *escapedLength = 4; // "\xHH"
        return 1;
    }
    *escapedLength = escapedSize(codePoint);
    return length;
}

QString TextEscape::escapeText(QStringView text)
{
    QString out;
    appendEscapedText(out, text);
    return out;
}

void TextEscape::appendEscapedText(QString &out, QStringView text)
{
    if (out.isEmpty())
        out.reserve(text.size()); // not when appending: reserve() would defeat the growth
    for (qsizetype i = 0; i < text.size();) {
        qsizetype plainEnd = i;
        while (plainEnd < text.size() && isPlainAscii(text.at(plainEnd).unicode()))
            ++plainEnd;
        if (plainEnd > i) {
            out.append(text.sliced(i, plainEnd - i));
            i = plainEnd;
            continue;
        }
        char32_t codePoint = text.at(i).unicode();
        if (QChar::isHighSurrogate(codePoint) && i + 1 < text.size() &&
            text.at(i + 1).isLowSurrogate()) {
            codePoint = QChar::surrogateToUcs4(text.at(i), text.at(i + 1));
            ++i;
        }
        appendCodePoint(&out, codePoint);
        ++i;
    }
}

QString TextEscape::hexDump(QByteArrayView bytes, qint64 firstOffset)
{
    const auto *data = reinterpret_cast<const uchar *>(bytes.data());
    QString out;
    const qsizetype lines = (bytes.size() + 15) / 16;
    // One offset width for the whole dump, so the columns line up across 0xffff.
    const qint64 lastOffset = firstOffset + qMax<qsizetype>(0, lines - 1) * 16;
    // Wider still past 4 GiB, so a dump that crosses it keeps its columns.
    const int offsetWidth =
        qMax(lastOffset > 0xffff ? 8 : 4, int(QString::number(lastOffset, 16).size()));
    out.reserve(lines * 76);
    for (qsizetype line = 0; line < lines; ++line) {
        const qsizetype start = line * 16;
        const qsizetype count = qMin<qsizetype>(16, bytes.size() - start);
        if (line > 0)
            out.append(QLatin1Char('\n'));
        const qint64 offset = firstOffset + start;
        out.append(QStringLiteral("%1").arg(offset, offsetWidth, 16, QLatin1Char('0')));
        out.append(QLatin1String("  "));
        for (int k = 0; k < 16; ++k) {
            if (k == 8)
                out.append(QLatin1Char(' '));
            if (k < count) {
                appendHexByte(&out, data[start + k]);
                out.append(QLatin1Char(' '));
            } else {
                out.append(QLatin1String("   "));
            }
        }
        out.append(QLatin1Char(' '));
        for (qsizetype k = 0; k < count; ++k) {
            const uchar byte = data[start + k];
            out.append(QLatin1Char(byte >= 0x20 && byte < 0x7f ? char(byte) : '.'));
        }
    }
    return out;
}

} // namespace Echoscope
