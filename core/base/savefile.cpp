#include "savefile.h"

#include <QCoreApplication>
#include <QSaveFile>

namespace Echoscope {

bool saveFileAtomically(const QString &path,
                        const std::function<bool(QIODevice *, QString *)> &write, QString *error)
{
    QSaveFile file(path);
    QString reason;
    if (file.open(QIODevice::WriteOnly) && write(&file, &reason) && file.commit())
        return true;
    if (error)
        *error = QCoreApplication::translate("Echoscope::SaveFile", "cannot write \"%1\": %2")
                     .arg(path, reason.isEmpty() ? file.errorString() : reason);
    return false;
}

} // namespace Echoscope
