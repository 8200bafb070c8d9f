#pragma once

#include <QByteArray>
#include <QStringConverter>
#include <QStringView>

class QIODevice;

namespace Echoscope {

// Lines of text for one file (standard output, a log file): encoded to UTF-8 straight into
// one buffer as they come, and handed to the device in one write when flushed. A burst of
// short connections logs two lines each; held until the thread is about to wait, they cost
// one write(2) for the burst, and no QTextStream (whose flush re-encodes its whole buffer
// through a new QByteArray and a second buffer in the device: half the log's cost before).
// Not thread-safe: one thread writes.
class LineWriter
{
public:
    // device: open for writing, not owned; nullptr or closed: lines are dropped.
    explicit LineWriter(QIODevice *device = nullptr) : m_device(device) {}
    ~LineWriter() { flush(); }
    LineWriter(const LineWriter &) = delete;
    LineWriter &operator=(const LineWriter &) = delete;

    // Which file the lines go to; what is pending goes to the old one first.
    void setDevice(QIODevice *device);
    QIODevice *device() const { return m_device; }

    // line and a "\n", held until flush().
    void append(QStringView line);
    // line and a "\n", then everything pending: for lines a reader waits for.
    void writeLine(QStringView line)
    {
        append(line);
        flush();
    }
    bool hasPending() const { return !m_pending.isEmpty(); }
    // Writes what is pending and flushes the device. Returns false if the device took less
    // than all of it (a full disk, a closed pipe); what it did not take is dropped, so a log
    // nobody can read never grows without bound.
    bool flush();

private:
    static constexpr qsizetype kKeptCapacity = 64 * 1024;

    QIODevice *m_device = nullptr;
    // Stateless: a line is encoded whole; an unpaired surrogate at its end (the log escapes
    // them, but not every line is the log's) becomes U+FFFD there, not a byte of the next.
    QStringEncoder m_encoder{QStringEncoder::Utf8, QStringEncoder::Flag::Stateless};
    QByteArray m_pending;
};

} // namespace Echoscope
