#include "benchcommand.h"

#include "nativesocket.h"
#include "numbertext.h"
#include "serverconfig.h"
#include "targetoptions.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonDocument>
#include <QLocale>

#include <csignal>
#include <cstdio>

namespace Echoscope {

namespace {

LoadGenerator *g_running = nullptr; // for the signal handler only

extern "C" void stopOnSignal(int)
{
    if (g_running)
        g_running->stop(); // an atomic store: async-signal-safe
}

void print(FILE *file, const QString &text)
{
    std::fputs(text.toLocal8Bit().constData(), file);
    std::fflush(file);
}

// Seconds from the command line, as every echoscope command reads them (NumberText).
bool readSeconds(const QString &text, qint64 lowMs, int *milliseconds)
{
    qint64 value = 0;
    if (!NumberText::parseSeconds(text, 86400 * 1000, &value) || value < lowMs)
        return false;
    *milliseconds = int(value);
    return true;
}

} // namespace

int BenchCommand::run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Load any TCP or WebSocket echo server and verify every byte it echoes.\n"
                       "Modes: pingpong (each connection sends a message and waits for its "
                       "echo), stream (connections write continuously while reading), oneshot "
                       "(connect, send, half-close, read to EOF, close), hold (open idle "
                       "connections, hold them, then check each still echoes).\n"
                       "With --protocol ws each connection first upgrades to WebSocket (RFC "
                       "6455); each message is then one binary WebSocket message whose echo must "
                       "come back as one, and the bytes counted are payload.\n"
                       "Exit status: 0 when all went well, 1 when any echo was wrong, short or "
                       "late or a connection failed, 2 for bad arguments."));
    parser.addHelpOption();
    const TargetOptions target;
    const QCommandLineOption protocol(
        QStringLiteral("protocol"),
        QStringLiteral("tcp (the bytes as they are) or ws (WebSocket: an upgrade, then binary "
                       "messages) (default tcp)."),
        QStringLiteral("protocol"), QStringLiteral("tcp"));
    const QCommandLineOption wsPath(
        QStringLiteral("ws-path"),
        QStringLiteral("With --protocol ws: the path (and query) of the upgrade request "
                       "(default /)."),
        QStringLiteral("path"), QStringLiteral("/"));
    const QCommandLineOption mode(
        QStringLiteral("mode"),
        QStringLiteral("pingpong, stream, oneshot or hold (default pingpong)."),
        QStringLiteral("mode"), QStringLiteral("pingpong"));
    const QCommandLineOption connections(
        QStringLiteral("connections"),
        QStringLiteral(
            "Connections (oneshot: workers, each one connection at a time) (default 1)."),
        QStringLiteral("n"), QStringLiteral("1"));
    const QCommandLineOption size(QStringLiteral("size"),
                                  QStringLiteral("Bytes per message (stream: per write), with K or "
                                                 "M for 1024-based units (default 64)."),
                                  QStringLiteral("bytes"), QStringLiteral("64"));
    const QCommandLineOption duration(QStringLiteral("duration"),
                                      QStringLiteral("Seconds measured (hold: seconds held) "
                                                     "(default 5)."),
                                      QStringLiteral("seconds"), QStringLiteral("5"));
    const QCommandLineOption warmup(QStringLiteral("warmup"),
                                    QStringLiteral("Seconds run before measuring (default 0)."),
                                    QStringLiteral("seconds"), QStringLiteral("0"));
    const QCommandLineOption timeout(QStringLiteral("timeout"),
                                     QStringLiteral("Seconds an echo or a connect may take before "
                                                    "it counts as an error (default 10)."),
                                     QStringLiteral("seconds"), QStringLiteral("10"));
    const QCommandLineOption json(QStringLiteral("json"),
                                  QStringLiteral("Print the summary as one JSON object."));
    const QCommandLineOption quiet(QStringLiteral("quiet"),
                                   QStringLiteral("No progress line every second."));
    parser.addOptions({target.host, target.port, protocol, wsPath, mode, connections, size,
                       duration, warmup, timeout, json, quiet});

    QStringList args = arguments;
    args.removeAt(1); // "bench"
    const auto usage = [&](const QString &error) {
        print(stderr, QStringLiteral("echoscope bench: %1\n\n%2").arg(error, parser.helpText()));
        return 2;
    };
    if (!parser.parse(args))
        return usage(parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        print(stdout, parser.helpText());
        return 0;
    }
    if (!parser.positionalArguments().isEmpty())
        return usage(QStringLiteral("unexpected argument \"%1\"")
                         .arg(parser.positionalArguments().constFirst()));

    LoadConfig config;
    const auto bad = [&](const QCommandLineOption &option, const QString &why) {
        return usage(QStringLiteral("--%1 \"%2\": %3")
                         .arg(option.names().constFirst(), parser.value(option), why));
    };
    QString error;
    if (!target.read(parser, &config.host, &config.port, &error))
        return usage(error);
    qint64 number = 0;
    if (!LoadConfig::parseProtocol(parser.value(protocol), &config.protocol))
        return bad(protocol, QStringLiteral("expected tcp or ws"));
    if (parser.isSet(wsPath) && config.protocol != LoadConfig::Protocol::WebSocket)
        return bad(wsPath, QStringLiteral("only with --protocol ws"));
    config.wsPath = parser.value(wsPath);
    if (!LoadConfig::isValidWsPath(config.wsPath))
        return bad(wsPath, QStringLiteral("expected a path that starts with / and holds printable "
                                          "ASCII without spaces, e.g. /echo?room=1"));
    if (!LoadConfig::parseMode(parser.value(mode), &config.mode))
        return bad(mode, QStringLiteral("expected pingpong, stream, oneshot or hold"));
    if (!NumberText::parseWholeNumber(parser.value(connections), 1000000, &number) || number < 1)
        return bad(connections, QStringLiteral("expected a whole number from 1 to 1,000,000"));
    config.connections = int(number);
    if (!NumberText::parseByteSize(parser.value(size), &config.messageBytes) ||
        config.messageBytes < 1 || config.messageBytes > qint64(1) << 30)
        return bad(size, QStringLiteral("expected bytes from 1 to 1 GiB, e.g. 64, 16K or 1M"));
    if (!readSeconds(parser.value(duration), 1, &config.durationMs))
        return bad(duration,
                   QStringLiteral("expected seconds from 0.001 to 86400, fractions allowed"));
    if (!readSeconds(parser.value(warmup), 0, &config.warmupMs))
        return bad(warmup, QStringLiteral("expected seconds from 0 to 86400, fractions allowed"));
    if (!readSeconds(parser.value(timeout), 1, &config.timeoutMs))
        return bad(timeout,
                   QStringLiteral("expected seconds from 0.001 to 86400, fractions allowed"));
    const QString invalid = config.validate();
    if (!invalid.isEmpty())
        return usage(invalid);

    NativeSocket::raiseOpenFileLimit(); // a hold of 10,000 connections needs the descriptors
    LoadGenerator generator(config);
    g_running = &generator;
    std::signal(SIGINT, stopOnSignal);
    std::signal(SIGTERM, stopOnSignal);
    const bool showProgress = !parser.isSet(quiet);
    const LoadResult result = generator.run([&](const LoadResult &soFar) {
        if (!showProgress)
            return;
        print(stderr, QStringLiteral("[%1 s] %2 round trips/s, %3 MB/s echoed, %4 errors\n")
                          .arg(soFar.seconds, 0, 'f', 0)
                          .arg(soFar.roundTripsPerSecond(), 0, 'f', 0)
                          .arg(soFar.megabytesPerSecond(), 0, 'f', 2)
                          .arg(soFar.errors()));
    });
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    g_running = nullptr;

    if (parser.isSet(json))
        print(stdout,
              QString::fromUtf8(QJsonDocument(result.toJson()).toJson(QJsonDocument::Compact)) +
                  QLatin1Char('\n'));
    else
        print(stdout, result.summary() + QLatin1Char('\n'));
    const bool allHeld = config.mode != LoadConfig::Mode::Hold || result.held == config.connections;
    return result.errors() == 0 && allHeld ? 0 : 1;
}

} // namespace Echoscope
