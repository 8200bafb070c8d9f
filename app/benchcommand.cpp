#include "benchcommand.h"

#include "nativesocket.h"
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

bool parseCount(const QString &text, qint64 low, qint64 high, qint64 *value)
{
    bool ok = false;
    const qint64 number = text.toLongLong(&ok);
    if (!ok || number < low || number > high || text.startsWith(QLatin1Char('+')))
        return false;
    *value = number;
    return true;
}

// "64", "1K", "16KiB", "1M" (1024-based).
bool parseSize(const QString &text, qint64 *bytes)
{
    QString digits = text;
    qint64 unit = 1;
    for (const auto &[suffix, factor] : {std::pair{QStringLiteral("KiB"), qint64(1024)},
                                         std::pair{QStringLiteral("K"), qint64(1024)},
                                         std::pair{QStringLiteral("MiB"), qint64(1 << 20)},
                                         std::pair{QStringLiteral("M"), qint64(1 << 20)},
                                         std::pair{QStringLiteral("B"), qint64(1)}}) {
        if (text.endsWith(suffix, Qt::CaseInsensitive)) {
            digits = text.left(text.size() - suffix.size());
            unit = factor;
            break;
        }
    }
    qint64 count = 0;
    if (!parseCount(digits, 1, (qint64(1) << 30) / unit, &count))
        return false;
    *bytes = count * unit;
    return true;
}

bool parseSeconds(const QString &text, double low, int *milliseconds)
{
    bool ok = false;
    const double seconds = QLocale::c().toDouble(text, &ok);
    if (!ok || seconds < low || seconds > 86400)
        return false;
    *milliseconds = int(seconds * 1000);
    return true;
}

} // namespace

int BenchCommand::run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Load any TCP echo server and verify every byte it echoes.\n"
                       "Modes: pingpong (each connection sends a message and waits for its "
                       "echo), stream (connections write continuously while reading), oneshot "
                       "(connect, send, half-close, read to EOF, close), hold (open idle "
                       "connections, hold them, then check each still echoes).\n"
                       "Exit status: 0 when all went well, 1 when any echo was wrong, short or "
                       "late or a connection failed, 2 for bad arguments."));
    parser.addHelpOption();
    const TargetOptions target;
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
    parser.addOptions({target.host, target.port, mode, connections, size, duration, warmup, timeout,
                       json, quiet});

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
    if (!LoadConfig::parseMode(parser.value(mode), &config.mode))
        return bad(mode, QStringLiteral("expected pingpong, stream, oneshot or hold"));
    if (!parseCount(parser.value(connections), 1, 1000000, &number))
        return bad(connections, QStringLiteral("expected a whole number from 1 to 1,000,000"));
    config.connections = int(number);
    if (!parseSize(parser.value(size), &config.messageBytes))
        return bad(size, QStringLiteral("expected bytes from 1 to 1 GiB, e.g. 64, 16K or 1M"));
    if (!parseSeconds(parser.value(duration), 0.001, &config.durationMs))
        return bad(duration, QStringLiteral("expected seconds, more than 0"));
    if (!parseSeconds(parser.value(warmup), 0, &config.warmupMs))
        return bad(warmup, QStringLiteral("expected seconds, 0 or more"));
    if (!parseSeconds(parser.value(timeout), 0.001, &config.timeoutMs))
        return bad(timeout, QStringLiteral("expected seconds, more than 0"));
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
