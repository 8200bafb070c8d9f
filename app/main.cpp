#include "commandline.h"
#include "headlessrunner.h"
#include "signalwatcher.h"

#include <QCoreApplication>
#include <QString>

#include <cstdio>

using namespace Echoscope;

namespace {

// Exit status, as --help documents it.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2; // bad arguments, unusable log file, no dashboard
constexpr int kExitCannotListen = 3;

void print(FILE *file, const QString &text)
{
    std::fputs(text.toLocal8Bit().constData(), file);
    std::fflush(file);
}

int runHeadless(const HeadlessOptions &options)
{
    SignalWatcher signalWatcher; // before listening: a signal from then on is an orderly stop
    QObject::connect(&signalWatcher, &SignalWatcher::stopRequested, qApp, &QCoreApplication::quit);
    if (!signalWatcher.isActive())
        print(stderr, QStringLiteral("echoscope: warning: cannot watch for SIGINT and SIGTERM; "
                                     "they will end echoscope without the summary\n"));

    HeadlessRunner runner(options);
    if (!runner.start()) {
        print(stderr, QStringLiteral("echoscope: %1\n").arg(runner.errorString()));
        return runner.error() == HeadlessRunner::Error::ListenFailed ? kExitCannotListen
                                                                     : kExitUsage;
    }
    const int status = QCoreApplication::exec();
    runner.stop(); // each client's disconnect, then the summary line
    return status;
}

} // namespace

int main(int argc, char *argv[])
{
    // The dashboard (not in this build) will need a QApplication, created when argv has
    // no --headless, as in QCommandLineParser's documentation; headless mode keeps this
    // QCoreApplication. --help, --version and argument errors work with either.
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("echoscope"));
    QCoreApplication::setApplicationVersion(QStringLiteral(ECHOSCOPE_VERSION));

    CommandLine commandLine;
    switch (commandLine.parse(QCoreApplication::arguments())) {
    case CommandLine::Action::ShowHelp:
        print(stdout, commandLine.helpText());
        return kExitOk;
    case CommandLine::Action::ShowHelpAll:
        commandLine.showHelpAll(); // does not return
    case CommandLine::Action::ShowVersion:
        print(stdout, commandLine.versionText() + QLatin1Char('\n'));
        return kExitOk;
    case CommandLine::Action::Fail:
        print(stderr, QStringLiteral("echoscope: %1\n\n%2")
                          .arg(commandLine.errorText(), commandLine.helpText()));
        return kExitUsage;
    case CommandLine::Action::Run:
        break;
    }
    for (const QString &warning : commandLine.warnings())
        print(stderr, QStringLiteral("echoscope: warning: %1\n").arg(warning));

    if (!commandLine.isHeadless()) {
        print(stderr, QStringLiteral("echoscope: this build has no dashboard yet; run "
                                     "\"echoscope --headless\" (see --help)\n"));
        return kExitUsage;
    }
    return runHeadless(commandLine.options());
}
