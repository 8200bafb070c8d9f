#pragma once

#include <QString>

#include <functional>

class QIODevice;

namespace Echoscope {

// Writes a file whole or not at all (QSaveFile: a temporary beside it, renamed over it at
// the end), so that a failed export never leaves half a recording or capture where the
// user asked for one. `write` writes the content to the device it is given; false, with
// a reason in its QString, fails the save. On failure returns false and sets *error to
// "cannot write "PATH": REASON" (translated), REASON being write's or the file system's.
bool saveFileAtomically(const QString &path,
                        const std::function<bool(QIODevice *, QString *)> &write, QString *error);

} // namespace Echoscope
