#pragma once

#include <QObject>

QT_BEGIN_NAMESPACE
class QSocketNotifier;
QT_END_NAMESPACE

namespace Echoscope {

// Turns SIGINT and SIGTERM (Unix) or Ctrl+C, Ctrl+Break and closing the console
// (Windows) into the stopRequested() signal, delivered in the thread that created the
// watcher, where it is safe to stop the server.
//
// Unix: the signal handler only writes a byte to a pipe (the self-pipe trick); a
// QSocketNotifier on the pipe's read end wakes the event loop. Windows: the console
// control handler, which runs in a thread of its own, posts to the application.
// After the first request the previous handlers are back, so a second Ctrl+C ends a
// stop that hangs.
//
// The OS handlers are process-wide: one watcher at a time.
class SignalWatcher : public QObject
{
    Q_OBJECT

public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

    // False if the handlers could not be installed (or another watcher has them).
    bool isActive() const { return m_active; }

signals:
    void stopRequested();

private:
    void install();
    void uninstall();
    void readPipe();

    bool m_active = false;
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace Echoscope
