#pragma once

#include <QByteArray>
#include <QMetaType>
#include <QString>
#include <QtGlobal>

namespace Echoscope {

// How the engine finds where one message ends and the next begins.
enum class FramingMode {
    Stream, // RFC 862: echo bytes as they arrive, no message boundaries
    Eof,    // one message per connection, ended by the client's half-close
    Line,   // messages ended by a delimiter (default "\n"), echoed with it
    Length, // a big-endian length header (2 or 4 bytes) before each payload
    Fixed,  // blocks of exactly fixedBytes bytes
};

struct FramingConfig
{
    FramingMode mode = FramingMode::Stream;
    QByteArray delimiter = QByteArrayLiteral("\n"); // Line mode
    int lengthBytes = 4;                            // Length mode: 2 or 4
    qint64 fixedBytes = 0;                          // Fixed mode: > 0

    // Parses "stream", "eof", "line", "length" or "fixed:N" into mode (and
    // fixedBytes). On failure returns false and sets *error to a sentence.
    static bool parseMode(const QString &text, FramingConfig *config, QString *error);
    // Parses a delimiter as typed by a person: C escapes \n \r \t \0 \\ and \xHH.
    static bool parseDelimiter(const QString &text, QByteArray *delimiter, QString *error);
    // The inverse of parseDelimiter: a printable, escaped form.
    static QString delimiterToString(const QByteArray &delimiter);

    // "stream", "eof", "line", "length" or "fixed:N".
    QString modeString() const;
    // A short human description, e.g. "line (delimiter \\r\\n)".
    QString description() const;
    // Empty when valid, else a sentence naming the bad setting.
    QString validate(qint64 maxMessageBytes) const;
    // Bytes a message carries on the wire besides its payload (header or delimiter).
    qint64 overheadBytes() const;
};

bool operator==(const FramingConfig &a, const FramingConfig &b);
inline bool operator!=(const FramingConfig &a, const FramingConfig &b)
{
    return !(a == b);
}

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::FramingConfig)
