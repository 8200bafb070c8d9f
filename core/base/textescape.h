#pragma once

#include <QByteArrayView>
#include <QString>
#include <QStringView>

namespace Echoscope {

// Client bytes never reach a terminal, a log or a widget raw: these turn them into
// text that shows every byte and cannot move a cursor, change colours or reorder text.
class TextEscape
{
public:
    // Printable ASCII and printable UTF-8 as they are; \n \r \t \0 \\ and \" as C
    // escapes; other control and format characters as \u{XXXX}; bytes that are not
    // valid UTF-8 as \xHH. At most maxBytes input bytes are shown, then "…".
    static QString escapeBytes(QByteArrayView bytes, qsizetype maxBytes = -1);
    // The token of bytes at i that escapeBytes() writes as one piece (a character, or an
    // invalid byte): returns its length in bytes and sets *escapedLength to the length of
    // what escapeBytes() writes for it, without writing it. Escaping bytes cut at token
    // boundaries gives the pieces of escaping them whole, so a view can measure and wrap
    // lines over the raw bytes and escape only the lines it shows.
    static int escapedToken(QByteArrayView bytes, qsizetype i, int *escapedLength);
    // The same for text that came from outside (peer names, file names).
    static QString escapeText(QStringView text);
    static void appendEscapedText(QString &out, QStringView text); // the same, appended
    // The Wireshark layout: "0000  68 65 6c 6c 6f 0a 00 ff  ...  hello..", one line
    // per 16 bytes, offsets counted from firstOffset, lines joined with '\n'.
    static QString hexDump(QByteArrayView bytes, qint64 firstOffset = 0);
};

} // namespace Echoscope
