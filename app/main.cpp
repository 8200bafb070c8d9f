#include "benchcommand.h"
#include "commandline.h"
#include "controlapi.h"
#include "controlapicontroller.h"
#include "ctlcommand.h"
#include "echoserver.h"
#include "headlessrunner.h"
#include "mainwindow.h"
#include "replaycommand.h"
#include "serverconfig.h"
#include "signalwatcher.h"
#include "textescape.h"
#include "trafficevent.h"
#include "translations.h"
#include "units.h"
#include "workerdispatcher.h"

#include <QAbstractEventDispatcher>
#include <QApplication>
#include <QCoreApplication>
#include <QPixmap>
#include <QSettings>
#include <QString>
#include <QTimer>

#include <cstdio>
#include <cstring>
#include <memory>

using namespace Echoscope;

namespace {

// Exit status, as --help documents it.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2; // bad arguments, unusable log file, no display
constexpr int kExitCannotListen = 3;
constexpr int kExitScreenshotFailed = 4;

void print(FILE *file, const QString &text)
{
    std::fputs(text.toLocal8Bit().constData(), file);
    std::fflush(file);
}

int runHeadless(const HeadlessOptions &options)
{
    SignalWatcher signalWatcher; // before listening: a signal from then on is an orderly stop
    // Not qApp: in a file that includes <QApplication> it casts to QApplication, and headless
    // mode has a QCoreApplication (UBSan reports the downcast).
    QObject::connect(&signalWatcher, &SignalWatcher::stopRequested, QCoreApplication::instance(),
                     &QCoreApplication::quit);
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

bool hasArgument(int argc, char *argv[], std::initializer_list<const char *> names)
{
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--") == 0)
            return false;
        for (const char *name : names) {
            if (std::strcmp(argv[i], name) == 0)
                return true;
        }
    }
    return false;
}

// True when a QApplication could not open a window: on X11/Wayland systems with
// neither display set and no platform plugin chosen (QT_QPA_PLATFORM, -platform).
bool lacksDisplay(int argc, char *argv[])
{
#if defined(Q_OS_UNIX) && !defined(Q_OS_MACOS)
    return qEnvironmentVariableIsEmpty("DISPLAY") &&
           qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") &&
           qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") &&
           !hasArgument(argc, argv, {"-platform"});
#else
    Q_UNUSED(argc);
    Q_UNUSED(argv);
    return false;
#endif
}

// Parses the command line and handles what ends the program at once (help, version,
// bad arguments). Returns -1 to go on, else the exit status.
int parse(CommandLine &commandLine)
{
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
    return -1;
}

int runDashboard(const CommandLine &commandLine)
{
    const HeadlessOptions options = commandLine.options();
    SignalWatcher signalWatcher; // SIGINT/SIGTERM close the window like the Quit action
    QSettings settings;
    EchoServer server;
    MainWindow window(&server, &settings);
    QObject::connect(&signalWatcher, &SignalWatcher::stopRequested, &window, &QWidget::close);

    if (!options.screenshotPath.isEmpty())
        window.setSavesSettings(false); // a screenshot run leaves the user's settings alone
    DashboardSettings dashboard = window.dashboardSettings();
    commandLine.overrideConfig(&dashboard.config);
    window.setRunOnlySettings(dashboard); // shown for this run, not remembered
    if (options.metricsPort >= 0 &&
        !window.setMetricsOverride(options.metricsAddress, quint16(options.metricsPort)))
        print(stderr, QStringLiteral("echoscope: %1\n").arg(window.errorText()));
    server.setDefaultFaults(options.faults); // --fault-*: the dashboard can change them
    // --control-port: the control API beside the window for this run, whatever Preferences
    // say (not saved: issue 14's rule, as --metrics-port).
    if (options.controlPort >= 0) {
        QString token = ControlApi::generateToken();
        QString error;
        if (!options.controlTokenFile.isEmpty() &&
            !ControlApi::readTokenFile(options.controlTokenFile, &token, &error)) {
            print(stderr, QStringLiteral("echoscope: %1\n").arg(error)); // file name escaped
            return kExitUsage;
        }
        if (!window.setControlOverride(options.controlAddress, quint16(options.controlPort), token,
                                       options.controlTokenFile)) {
            print(stderr,
                  QStringLiteral("echoscope: %1\n")
                      .arg(TextEscape::escapeText(window.controlApiController()->errorString())));
            return kExitCannotListen;
        }
        const ControlApi *control = window.controlApi();
        print(stdout, options.controlTokenFile.isEmpty()
                          ? QStringLiteral("control API at %1 token %2\n")
                                .arg(control->url().toString(), token)
                          : QStringLiteral("control API at %1 token from %2\n")
                                .arg(control->url().toString(),
                                     TextEscape::escapeText(options.controlTokenFile)));
        if (!ServerConfig::isLoopback(control->serverAddress()))
            print(stderr, QStringLiteral("echoscope: warning: control API %1 is not a loopback "
                                         "address: other machines can reach it (changes need "
                                         "the token)\n")
                              .arg(TrafficEvent::endpoint(control->serverAddress(),
                                                          control->serverPort())));
    }
    window.show();
    if (options.start && !window.startServer())
        print(stderr, QStringLiteral("echoscope: %1\n").arg(window.errorText()));

    int screenshotStatus = kExitOk;
    if (!options.screenshotPath.isEmpty()) {
        QTimer::singleShot(options.screenshotDelayMs, &window, [&] {
            if (!window.grab().save(options.screenshotPath, "PNG")) {
                print(stderr, QStringLiteral("echoscope: cannot write the screenshot to \"%1\"\n")
                                  .arg(options.screenshotPath));
                screenshotStatus = kExitScreenshotFailed;
            }
            window.close();
        });
    }
    const int status = QApplication::exec();
    return status != kExitOk ? status : screenshotStatus;
}

// The echo workers' threads never need Qt's GLib event loop integration, and without a GUI
// no thread does; Qt's own poll()-based dispatcher costs less per wake-up (bench_echo
// oneshot: -19 % CPU per connection with --threads 1, -34 % with 2, measured with
// QT_NO_GLIB=1; see benchmarks/README-echo.md). Threads made later follow the variables. A
// value the user set is left alone.
void preferPlainEventDispatcher(bool mainThreadToo)
{
    if (!qEnvironmentVariableIsSet("QT_NO_THREADED_GLIB"))
        qputenv("QT_NO_THREADED_GLIB", "1");
    if (mainThreadToo && !qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
}

} // namespace

int main(int argc, char *argv[])
{
#if defined(Q_OS_LINUX)
    // With TZ unset glibc re-reads /etc/localtime for every local time it formats (one per
    // event line: 6 % of the server's CPU under connection churn, measured). Naming the
    // same file once lets it cache the zone.
    if (qEnvironmentVariableIsEmpty("TZ"))
        qputenv("TZ", ":/etc/localtime");
#endif
    QCoreApplication::setApplicationName(QStringLiteral("echoscope"));
    QCoreApplication::setOrganizationName(QStringLiteral("Echoscope"));
    QCoreApplication::setApplicationVersion(QStringLiteral(ECHOSCOPE_VERSION));

    // `echoscope bench ...`: the load generator, no server, no window.
    if (argc > 1 && std::strcmp(argv[1], "bench") == 0) {
        preferPlainEventDispatcher(true);
        QCoreApplication app(argc, argv);
        Translations::install(&app, QLocale(QLocale::English)); // as the command line below
        return BenchCommand::run(QCoreApplication::arguments());
    }
    // `echoscope ctl ...`: a client of a running echoscope's control API.
    if (argc > 1 && std::strcmp(argv[1], "ctl") == 0) {
        preferPlainEventDispatcher(true);
        QCoreApplication app(argc, argv);
        Translations::install(&app, QLocale(QLocale::English));
        return CtlCommand::run(QCoreApplication::arguments());
    }
    // `echoscope replay FILE ...`: a recorded client stream against an echo server.
    if (argc > 1 && std::strcmp(argv[1], "replay") == 0) {
        QCoreApplication app(argc, argv);
        Translations::install(&app, QLocale(QLocale::English));
        return ReplayCommand::run(QCoreApplication::arguments());
    }

    // The dashboard needs a QApplication, made before parsing so that it takes its own
    // options (-platform, -style) out of argv. Headless mode, help and version need
    // none, and must work where there is no display.
    const bool headless = hasArgument(argc, argv, {"--headless"});
    const bool informational =
        hasArgument(argc, argv, {"-h", "--help", "-?", "--help-all", "-v", "--version"});
    if (headless || informational || lacksDisplay(argc, argv)) {
        preferPlainEventDispatcher(true);
        // Headless, this thread registers every client and writes its lines, and with
        // --threads 1 it serves them too: it waits in epoll as the workers do, and what it
        // posts to itself needs no wake-up (workerdispatcher.h; Qt's dispatcher where that
        // is not enabled).
        if (headless) {
            if (QAbstractEventDispatcher *dispatcher = WorkerDispatcher::create())
                QCoreApplication::setEventDispatcher(dispatcher);
        }
        QCoreApplication app(argc, argv);
        // The command line speaks English in every locale, for the scripts that read it; the
        // English translation gives its plural forms.
        Translations::install(&app, QLocale(QLocale::English));
        CommandLine commandLine;
        const int status = parse(commandLine);
        if (status >= 0)
            return status;
        if (!commandLine.isHeadless()) {
            print(stderr, QStringLiteral("echoscope: no display to open the dashboard on "
                                         "(DISPLAY and WAYLAND_DISPLAY are not set); run "
                                         "\"echoscope --headless\", or set QT_QPA_PLATFORM\n"));
            return kExitUsage;
        }
        return runHeadless(commandLine.options());
    }

    preferPlainEventDispatcher(false); // the GUI thread keeps GLib for the platform's sake
    QApplication app(argc, argv);
    // The dashboard speaks the user's language (translations/README.md); its numbers, %Ln in
    // the translations included, keep their thousands separators (Units::locale()).
    Translations::install(&app);
    QLocale::setDefault(Units::locale());
    QApplication::setApplicationDisplayName(QStringLiteral("Echoscope"));
    QApplication::setDesktopFileName(QStringLiteral("echoscope"));
    CommandLine commandLine;
    const int status = parse(commandLine);
    if (status >= 0)
        return status;
    if (commandLine.isHeadless()) // "--headless" written as a value elsewhere, e.g. after --
        return runHeadless(commandLine.options());
    return runDashboard(commandLine);
}
