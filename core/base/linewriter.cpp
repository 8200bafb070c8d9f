#include "linewriter.h"

#include <QFileDevice>
#include <QIODevice>

namespace Echoscope {

void LineWriter::setDevice(QIODevice *device)
{
    flush();
    m_device = device;
}

void LineWriter::append(QStringView line)
{
    // Encoded in place: grown to the most the line can take, cut back to what it took.
    const qsizetype used = m_pending.size();
    m_pending.resize(used + m_encoder.requiredSpace(line.size()) + 1);
    char *const start = m_pending.data();
    char *end = m_encoder.appendToBuffer(start + used, line);
    *end++ = '\n';
    m_pending.truncate(end - start);
}

bool LineWriter::flush()
{
    if (m_pending.isEmpty())
        return true;
    bool complete = false;
    if (m_device && m_device->isWritable()) {
        complete = m_device->write(m_pending) == m_pending.size();
        // A QFile buffers what it is given; the reader is waiting for it now.
        if (auto *file = qobject_cast<QFileDevice *>(m_device))
            complete = file->flush() && complete;
    }
    // The buffer keeps its capacity for the next burst, unless a rare one (every client's
    // disconnect at stop) made it large.
    if (m_pending.capacity() > kKeptCapacity)
        m_pending = QByteArray();
    else
        m_pending.resize(0);
    return complete;
}

} // namespace Echoscope
