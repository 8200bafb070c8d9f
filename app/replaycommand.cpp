#include "replaycommand.h"

#include "numbertext.h"
#include "recording.h"
#include "replayer.h"
#include "serverconfig.h"
#include "targetoptions.h"
#include "wsreplayer.h"

#include <QCommandLineParser>
#include <QEventLoop>
#include <QJsonDocument>
#include <QLocale>

#include <cstdio>
#include <type_traits>

namespace Echoscope {

namespace {

void print(FILE *file, const QString &text)
{
    std::fputs(text.toLocal8Bit().constData(), file);
    std::fflush(file);
}

} // namespace

int ReplayCommand::run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Send a recorded client stream (a file from Export recording or "
                       "--record) to any TCP echo server, with the recorded gaps or as fast "
                       "as possible, half-close where the client did, and compare the echo "
                       "with the recorded one byte by byte. A WebSocket client's recording is "
                       "sent to ws://HOST:PORT/ with its recorded path, message by message "
                       "(text or binary, as recorded), and its echo compared message by "
                       "message.\n"
                       "Exit status: 0 when the echo matched, 1 when a byte differed or the "
                       "echo was short or too long, 2 for bad arguments or a file that is not "
                       "a recording, 3 when the connection failed or a wait timed out."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("file"), QStringLiteral("The recording."));
    const TargetOptions target;
    const QCommandLineOption fast(QStringLiteral("as-fast-as-possible"),
                                  QStringLiteral("Send the chunks back to back, without the "
                                                 "recorded gaps."));
    const QCommandLineOption speed(QStringLiteral("speed"),
                                   QStringLiteral("Divide the recorded gaps by this factor, e.g. 2 "
                                                  "for twice as fast (default 1)."),
                                   QStringLiteral("factor"), QStringLiteral("1"));
    const QCommandLineOption timeout(
        QStringLiteral("timeout"),
        QStringLiteral("Seconds any wait on the server may take: the connect, a write, the echo, "
                       "the close (default %1).")
            .arg(ReplayConfig::kDefaultTimeoutMs / 1000),
        QStringLiteral("seconds"), QString::number(ReplayConfig::kDefaultTimeoutMs / 1000));
    const QCommandLineOption json(QStringLiteral("json"),
                                  QStringLiteral("Print the result as one JSON object."));
    parser.addOptions({target.host, target.port, fast, speed, timeout, json});

    QStringList args = arguments;
    args.removeAt(1); // "replay"
    const auto usage = [&](const QString &error) {
        print(stderr, QStringLiteral("echoscope replay: %1\n\n%2").arg(error, parser.helpText()));
        return kExitUsage;
    };
    if (!parser.parse(args))
        return usage(parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        print(stdout, parser.helpText());
        return kExitMatched;
    }
    const QStringList files = parser.positionalArguments();
    if (files.isEmpty())
        return usage(QStringLiteral("the recording to replay is missing"));
    if (files.size() > 1)
        return usage(QStringLiteral("unexpected argument \"%1\": replay takes one recording")
                         .arg(files.at(1)));

    ReplayConfig config;
    const auto bad = [&](const QCommandLineOption &option, const QString &why) {
        return usage(QStringLiteral("--%1 \"%2\": %3")
                         .arg(option.names().constFirst(), parser.value(option), why));
    };
    QString error;
    if (!target.read(parser, &config.host, &config.port, &error))
        return usage(error);
    config.asFastAsPossible = parser.isSet(fast);
    if (parser.isSet(speed)) {
        if (config.asFastAsPossible)
            return usage(QStringLiteral("--speed and --as-fast-as-possible exclude each other"));
        if (!NumberText::parseDecimal(parser.value(speed), &config.speed) ||
            !(config.speed >= 0.001) || config.speed > 1000000)
            return bad(speed, QStringLiteral("expected a factor from 0.001 to 1000000, e.g. 2 "
                                             "for twice as fast"));
    }
    qint64 milliseconds = 0;
    if (!NumberText::parseSeconds(parser.value(timeout), 86400 * 1000, &milliseconds) ||
        milliseconds < 1)
        return bad(timeout, QStringLiteral("expected seconds from 0.001 to 86400"));
    config.timeoutMs = int(milliseconds);

    Recording recording;
    if (!Recording::load(files.constFirst(), &recording, &error)) {
        print(stderr, QStringLiteral("echoscope replay: %1\n").arg(error));
        return kExitUsage;
    }

    if (recording.isWebSocket() && !recording.hasMessages) {
        // Its streams are message payloads without their boundaries: sent as messages
        // they would be other messages, sent to a TCP port they would test something else.
        print(stderr, QStringLiteral("echoscope replay: %1 is a version 1 recording of a "
                                     "WebSocket client, which does not keep where its messages "
                                     "end; record the client again to replay it\n")
                          .arg(files.constFirst()));
        return kExitUsage;
    }

    const auto replay = [](auto &replayer) {
        QEventLoop loop;
        QObject::connect(&replayer, &std::remove_reference_t<decltype(replayer)>::finished, &loop,
                         &QEventLoop::quit);
        replayer.start();
        if (!replayer.isFinished())
            loop.exec();
        return replayer.result();
    };
    ReplayResult result;
    if (recording.isWebSocket()) {
        WebSocketReplayer replayer(recording, config);
        result = replay(replayer);
    } else {
        Replayer replayer(recording, config);
        result = replay(replayer);
    }

    if (parser.isSet(json)) {
        QJsonObject object = result.toJson();
        object.insert(QStringLiteral("file"), files.constFirst());
        print(stdout, QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact)) +
                          QLatin1Char('\n'));
    } else {
        for (const QString &note : result.notes)
            print(stderr, QStringLiteral("echoscope replay: note: %1\n").arg(note));
        for (const QString &line : result.mismatchContext())
            print(stdout, QStringLiteral("  ") + line + QLatin1Char('\n'));
        print(stdout, result.summary() + QLatin1Char('\n'));
    }
    if (result.echoDiffered())
        return kExitEchoDiffered;
    return result.connectionError.isEmpty() ? kExitMatched : kExitConnection;
}

} // namespace Echoscope
