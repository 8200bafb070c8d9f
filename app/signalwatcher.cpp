#include "signalwatcher.h"

#include <QCoreApplication>
#include <QSocketNotifier>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>
#endif
#ifdef Q_OS_WIN
#include <QPointer>
#include <atomic>
#include <windows.h>
#endif

namespace Echoscope {

#ifdef Q_OS_UNIX

namespace {

constexpr int kWatchedSignals[] = {SIGINT, SIGTERM};
constexpr int kWatchedCount = int(sizeof(kWatchedSignals) / sizeof(kWatchedSignals[0]));

// Process-wide because signal handlers are; written only while no handler is installed.
int s_pipe[2] = {-1, -1};
struct sigaction s_previous[kWatchedCount];

// Async-signal-safe: write(2) and errno only.
void handleSignal(int signalNumber)
{
    const int savedErrno = errno;
    const char byte = char(signalNumber);
    // A full pipe already holds a request: a failed write loses nothing.
    [[maybe_unused]] const ssize_t written = ::write(s_pipe[1], &byte, 1);
    errno = savedErrno;
}

bool setDescriptorFlags(int fd)
{
    const int fdFlags = ::fcntl(fd, F_GETFD);
    const int flFlags = ::fcntl(fd, F_GETFL);
    return fdFlags != -1 && flFlags != -1 && ::fcntl(fd, F_SETFD, fdFlags | FD_CLOEXEC) != -1 &&
           ::fcntl(fd, F_SETFL, flFlags | O_NONBLOCK) != -1;
}

void closePipe()
{
    for (int &fd : s_pipe) {
        if (fd != -1)
            ::close(fd);
        fd = -1;
    }
}

} // namespace

void SignalWatcher::install()
{
    if (s_pipe[0] != -1)
        return; // another watcher has them
    if (::pipe(s_pipe) != 0) {
        s_pipe[0] = s_pipe[1] = -1;
        return;
    }
    if (!setDescriptorFlags(s_pipe[0]) || !setDescriptorFlags(s_pipe[1])) {
        closePipe();
        return;
    }
    m_notifier = new QSocketNotifier(s_pipe[0], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &SignalWatcher::readPipe);

    struct sigaction action = {};
    action.sa_handler = handleSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int i = 0; i < kWatchedCount; ++i)
        ::sigaction(kWatchedSignals[i], &action, &s_previous[i]);
    m_active = true;
}

void SignalWatcher::uninstall()
{
    if (!m_active)
        return;
    m_active = false;
    for (int i = 0; i < kWatchedCount; ++i)
        ::sigaction(kWatchedSignals[i], &s_previous[i], nullptr);
    // No handler can write any more; a byte still in the pipe is dropped with it. This
    // may run in the notifier's own activated(): disable it now, delete it later.
    if (m_notifier) {
        m_notifier->setEnabled(false);
        m_notifier->deleteLater();
        m_notifier = nullptr;
    }
    closePipe();
}

void SignalWatcher::readPipe()
{
    char bytes[16];
    bool received = false;
    while (::read(s_pipe[0], bytes, sizeof(bytes)) > 0)
        received = true;
    if (!received)
        return;
    uninstall();
    emit stopRequested();
}

#elif defined(Q_OS_WIN)

namespace {

// Process-wide because the console control handler is. Read by the handler's thread,
// but the lambda it posts runs in the application's thread, where the watcher lives.
QPointer<SignalWatcher> s_watcher;
std::atomic<bool> s_requested{false};

BOOL WINAPI handleConsoleControl(DWORD type)
{
    switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        if (s_requested.exchange(true))
            return FALSE; // the second one: the default handler ends the process
        QMetaObject::invokeMethod(
            qApp,
            [] {
                if (s_watcher)
                    emit s_watcher->stopRequested();
                else
                    QCoreApplication::quit();
            },
            Qt::QueuedConnection);
        return TRUE;
    default:
        return FALSE;
    }
}

} // namespace

void SignalWatcher::install()
{
    if (s_watcher)
        return; // another watcher has it
    if (!::SetConsoleCtrlHandler(handleConsoleControl, TRUE))
        return;
    s_watcher = this;
    s_requested = false;
    m_active = true;
}

void SignalWatcher::uninstall()
{
    if (!m_active)
        return;
    m_active = false;
    ::SetConsoleCtrlHandler(handleConsoleControl, FALSE);
    s_watcher = nullptr;
}

void SignalWatcher::readPipe() {}

#else

void SignalWatcher::install() {}
void SignalWatcher::uninstall() {}
void SignalWatcher::readPipe() {}

#endif

SignalWatcher::SignalWatcher(QObject *parent) : QObject(parent)
{
    install();
}

SignalWatcher::~SignalWatcher()
{
    uninstall();
}

} // namespace Echoscope
