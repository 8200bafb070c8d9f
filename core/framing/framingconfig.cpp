#include "framingconfig.h"

#include <QLatin1String>

namespace Echoscope {

namespace {

constexpr qsizetype kMaxDelimiterBytes = 16;

const char kHexDigits[] = "0123456789abcdef";

QString acceptedModes()
{
    return QStringLiteral("stream, eof, line, length and fixed:N");
}

void setError(QString *error, const QString &text)
{
    if (error)
        *error = text;
}

int hexValue(QChar c)
{
    const char16_t u = c.unicode();
    if (u >= '0' && u <= '9')
        return u - '0';
    if (u >= 'a' && u <= 'f')
        return u - 'a' + 10;
    if (u >= 'A' && u <= 'F')
        return u - 'A' + 10;
    return -1;
}

// Only ASCII digits: QString::toLongLong() would also take signs and spaces.
bool parsePositiveNumber(QStringView text, qint64 *value)
{
    if (text.isEmpty())
        return false;
    for (const QChar c : text) {
        if (c < QLatin1Char('0') || c > QLatin1Char('9'))
            return false;
    }
    bool ok = false;
    const qint64 number = text.toLongLong(&ok);
    if (!ok || number <= 0)
        return false;
    *value = number;
    return true;
}

} // namespace

bool FramingConfig::parseMode(const QString &text, FramingConfig *config, QString *error)
{
    const QString name = text.trimmed().toLower();
    FramingMode mode;
    qint64 fixedBytes = config->fixedBytes;
    if (name == QLatin1String("stream")) {
        mode = FramingMode::Stream;
    } else if (name == QLatin1String("eof")) {
        mode = FramingMode::Eof;
    } else if (name == QLatin1String("line")) {
        mode = FramingMode::Line;
    } else if (name == QLatin1String("length")) {
        mode = FramingMode::Length;
    } else if (name == QLatin1String("fixed") || name.startsWith(QLatin1String("fixed:"))) {
        if (!parsePositiveNumber(QStringView(name).mid(6), &fixedBytes)) {
            setError(error, QStringLiteral("Invalid framing mode \"%1\": N in fixed:N must be a "
                                           "positive whole number of bytes; the accepted modes "
                                           "are %2.")
                                .arg(text, acceptedModes()));
            return false;
        }
        mode = FramingMode::Fixed;
    } else {
        setError(error, QStringLiteral("Unknown framing mode \"%1\": the accepted modes are %2, "
                                       "with N a positive number of bytes.")
                            .arg(text, acceptedModes()));
        return false;
    }
    config->mode = mode;
    config->fixedBytes = fixedBytes;
    return true;
}

bool FramingConfig::parseDelimiter(const QString &text, QByteArray *delimiter, QString *error)
{
    const auto fail = [&](const QString &reason) {
        setError(error, QStringLiteral("Invalid delimiter \"%1\": %2; use plain characters and "
                                       "the escapes \\n, \\r, \\t, \\0, \\\\ and \\xHH.")
                            .arg(text, reason));
        return false;
    };
    if (text.isEmpty()) {
        setError(error, QStringLiteral("The delimiter must not be empty."));
        return false;
    }
    QByteArray result;
    qsizetype plainStart = 0; // characters other than escapes go in as UTF-8
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text.at(i) != QLatin1Char('\\'))
            continue;
        result.append(QStringView(text).mid(plainStart, i - plainStart).toUtf8());
        if (i + 1 == text.size())
            return fail(QStringLiteral("it ends with a lone backslash"));
        const QChar escape = text.at(++i);
        switch (escape.unicode()) {
        case 'n':
            result.append('\n');
            break;
        case 'r':
            result.append('\r');
            break;
        case 't':
            result.append('\t');
            break;
        case '0':
            result.append('\0');
            break;
        case '\\':
            result.append('\\');
            break;
        case 'x': {
            const int high = i + 1 < text.size() ? hexValue(text.at(i + 1)) : -1;
            const int low = i + 2 < text.size() ? hexValue(text.at(i + 2)) : -1;
            if (high < 0 || low < 0)
                return fail(QStringLiteral("\\x must be followed by two hex digits"));
            result.append(char(high * 16 + low));
            i += 2;
            break;
        }
        default:
            return fail(QStringLiteral("\\%1 is not a known escape").arg(escape));
        }
        plainStart = i + 1;
    }
    result.append(QStringView(text).mid(plainStart).toUtf8());
    *delimiter = result;
    return true;
}

QString FramingConfig::delimiterToString(const QByteArray &delimiter)
{
    QString text;
    text.reserve(delimiter.size() * 2);
    for (const char byte : delimiter) {
        switch (byte) {
        case '\n':
            text.append(QLatin1String("\\n"));
            break;
        case '\r':
            text.append(QLatin1String("\\r"));
            break;
        case '\t':
            text.append(QLatin1String("\\t"));
            break;
        case '\0':
            text.append(QLatin1String("\\0"));
            break;
        case '\\':
            text.append(QLatin1String("\\\\"));
            break;
        default: {
            const uchar u = uchar(byte);
            if (u >= 0x20 && u < 0x7f) {
                text.append(QLatin1Char(byte));
            } else {
                text.append(QLatin1String("\\x"));
                text.append(QLatin1Char(kHexDigits[u >> 4]));
                text.append(QLatin1Char(kHexDigits[u & 0xf]));
            }
            break;
        }
        }
    }
    return text;
}

QString FramingConfig::modeString() const
{
    switch (mode) {
    case FramingMode::Stream:
        return QStringLiteral("stream");
    case FramingMode::Eof:
        return QStringLiteral("eof");
    case FramingMode::Line:
        return QStringLiteral("line");
    case FramingMode::Length:
        return QStringLiteral("length");
    case FramingMode::Fixed:
        return QStringLiteral("fixed:%1").arg(fixedBytes);
    }
    return QStringLiteral("unknown");
}

QString FramingConfig::description() const
{
    switch (mode) {
    case FramingMode::Stream:
        return QStringLiteral("stream (no message boundaries)");
    case FramingMode::Eof:
        return QStringLiteral("eof (one message per connection)");
    case FramingMode::Line:
        return QStringLiteral("line (delimiter %1)").arg(delimiterToString(delimiter));
    case FramingMode::Length:
        return QStringLiteral("length (%1-byte big-endian header)").arg(lengthBytes);
    case FramingMode::Fixed:
        return QStringLiteral("fixed (%1-byte blocks)").arg(fixedBytes);
    }
    return QStringLiteral("unknown");
}

QString FramingConfig::validate(qint64 maxMessageBytes) const
{
    if (maxMessageBytes < 1) {
        return QStringLiteral("The maximum message size must be at least 1 byte, not %1.")
            .arg(maxMessageBytes);
    }
    switch (mode) {
    case FramingMode::Stream:
    case FramingMode::Eof:
        break;
    case FramingMode::Line:
        if (delimiter.isEmpty())
            return QStringLiteral("The line delimiter must not be empty.");
        if (delimiter.size() > kMaxDelimiterBytes) {
            return QStringLiteral("The line delimiter \"%1\" is %2 bytes long; at most %3 bytes "
                                  "are allowed.")
                .arg(delimiterToString(delimiter))
                .arg(delimiter.size())
                .arg(kMaxDelimiterBytes);
        }
        break;
    case FramingMode::Length:
        if (lengthBytes != 2 && lengthBytes != 4) {
            return QStringLiteral("The length header must be 2 or 4 bytes long, not %1.")
                .arg(lengthBytes);
        }
        break;
    case FramingMode::Fixed:
        if (fixedBytes < 1) {
            return QStringLiteral("The fixed message size must be at least 1 byte, not %1.")
                .arg(fixedBytes);
        }
        if (fixedBytes > maxMessageBytes) {
            return QStringLiteral("The fixed message size of %1 bytes exceeds the maximum message "
                                  "size of %2 bytes.")
                .arg(fixedBytes)
                .arg(maxMessageBytes);
        }
        break;
    }
    return QString();
}

qint64 FramingConfig::overheadBytes() const
{
    switch (mode) {
    case FramingMode::Line:
        return delimiter.size();
    case FramingMode::Length:
        return lengthBytes;
    case FramingMode::Stream:
    case FramingMode::Eof:
    case FramingMode::Fixed:
        break;
    }
    return 0;
}

bool operator==(const FramingConfig &a, const FramingConfig &b)
{
    return a.mode == b.mode && a.delimiter == b.delimiter && a.lengthBytes == b.lengthBytes &&
           a.fixedBytes == b.fixedBytes;
}

} // namespace Echoscope
