#include "ctlcommand.h"

#include "controlapi.h"
#include "numbertext.h"
#include "savefile.h"
#include "targetoptions.h"
#include "textescape.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QTimer>
#include <QUrl>
#include <QUrlQuery>

#include <cstdio>
#include <unistd.h>
#include <memory>

namespace Echoscope {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;

void print(FILE *file, const QString &text)
{
    std::fputs(text.toLocal8Bit().constData(), file);
    std::fflush(file);
}

// One command: its words, what it asks, and how.
struct Command
{
    const char *name;
    const char *arguments; // for the help: "ID", "ID JSON"
    const char *help;
    QByteArray verb;
    // The path under /api/v1, with %1 for the id.
    const char *path;
    bool takesId = false;
    bool takesBody = false;
    bool bodyOptional = false; // "faults ID [JSON]": GET without, PUT with
};

const QList<Command> &commands()
{
    static const QList<Command> list = {
        {"server", "", "state, listeners, configuration, totals", "GET", "/server"},
        {"clients", "", "the connected clients (--peer, --state, --protocol filter)", "GET",
         "/clients"},
        {"client", "ID", "one client: counters, histogram, faults, TLS, WebSocket", "GET",
         "/clients/%1", true},
        {"capture", "ID",
         "a client's captured bytes (base64 in JSON; --format pcapng: a pcapng file), "
         "--output to a file",
         "GET", "/clients/%1/capture", true},
        {"kick", "ID", "disconnect a client (reason \"kicked\")", "DELETE", "/clients/%1", true},
        {"faults", "ID [JSON]",
         "a client's faults; with a fault object, set them (e.g. '{\"delay_ms\": 200}')", "GET",
         "/clients/%1/faults", true, true, true},
        {"clear-faults", "ID", "the client follows the faults for all clients again", "DELETE",
         "/clients/%1/faults", true},
        {"default-faults", "[JSON]", "the faults for all clients; with a fault object, set them",
         "GET", "/faults", false, true, true},
        {"clear-default-faults", "", "clear the faults for all clients", "DELETE", "/faults"},
        {"events", "", "the event log (--since, --timeout-ms: a long poll)", "GET", "/events"},
    };
    return list;
}

QString commandsHelp()
{
    QString text = QStringLiteral("Commands:\n");
    for (const Command &command : commands()) {
        const QString words = QStringLiteral("%1 %2").arg(QLatin1String(command.name),
                                                          QLatin1String(command.arguments));
        text += QStringLiteral("  %1%2\n")
                    .arg(words.trimmed().leftJustified(26), QLatin1String(command.help));
    }
    return text;
}

} // namespace

int CtlCommand::run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Talk to the control API of an echoscope started with --control-port.\n"
                       "Prints the answer's JSON. Changes (kick, faults, clear-*) need the token: "
                       "--token-file, or the environment variable ECHOSCOPE_CONTROL_TOKEN.\n"
                       "Exit status: 0 done, 1 refused by the API (the error is printed) or "
                       "--output not written, 2 bad arguments, 3 the API cannot be reached or "
                       "did not answer in time.\n\n") +
        commandsHelp());
    parser.addHelpOption();
    const TargetOptions target;
    const QCommandLineOption tokenFile(
        QStringLiteral("token-file"),
        QStringLiteral("Read the token from the first line of this file (as "
                       "--control-token-file gave it to the server)."),
        QStringLiteral("file"));
    const QCommandLineOption timeout(
        QStringLiteral("timeout"),
        QStringLiteral("Give up when no answer came within this many seconds, beyond "
                       "--timeout-ms for events (default 10)."),
        QStringLiteral("seconds"), QStringLiteral("10"));
    const QCommandLineOption peer(QStringLiteral("peer"),
                                  QStringLiteral("clients: only this address, or address:port."),
                                  QStringLiteral("address"));
    const QCommandLineOption state(
        QStringLiteral("state"),
        QStringLiteral("clients: only in this state (connected, paused, draining, "
                       "handshaking, stopped, closed)."),
        QStringLiteral("state"));
    const QCommandLineOption protocol(QStringLiteral("protocol"),
                                      QStringLiteral("clients: only tcp, udp or ws."),
                                      QStringLiteral("protocol"));
    const QCommandLineOption since(QStringLiteral("since"),
                                   QStringLiteral("events: from this sequence number on."),
                                   QStringLiteral("seq"));
    const QCommandLineOption timeoutMs(
        QStringLiteral("timeout-ms"),
        QStringLiteral("events: wait up to this long for an event (0-60000, default 0: "
                       "answer at once)."),
        QStringLiteral("ms"), QStringLiteral("0"));
    const QCommandLineOption format(
        QStringLiteral("format"),
        QStringLiteral("capture: json (the chunks in base64, the default) or pcapng (a file "
                       "Wireshark opens)."),
        QStringLiteral("format"), QStringLiteral("json"));
    const QCommandLineOption output(
        {QStringLiteral("o"), QStringLiteral("output")},
        QStringLiteral("capture: write the answer to this file (whole or not at all) instead of "
                       "the standard output."),
        QStringLiteral("file"));
    parser.addOptions({target.host, target.port, tokenFile, timeout, peer, state, protocol, since,
                       timeoutMs, format, output});
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("See the list above."),
                                 QStringLiteral("COMMAND [ID] [JSON]"));

    QStringList args = arguments;
    args.removeAt(1); // "ctl"
    const auto usage = [&](const QString &error) {
        print(stderr, QStringLiteral("echoscope ctl: %1\n\n%2")
                          .arg(TextEscape::escapeText(error), parser.helpText()));
        return kExitUsage;
    };
    if (!parser.parse(args))
        return usage(parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        print(stdout, parser.helpText());
        return kExitOk;
    }
    QHostAddress host;
    quint16 port = 0;
    QString error;
    if (!target.read(parser, &host, &port, &error))
        return usage(error);
    qint64 timeoutValue = 0;
    if (!NumberText::parseSeconds(parser.value(timeout), 3600 * 1000, &timeoutValue) ||
        timeoutValue < 1)
        return usage(QStringLiteral("--timeout \"%1\": expected seconds from 0.001 to 3600")
                         .arg(parser.value(timeout)));

    QStringList positional = parser.positionalArguments();
    if (positional.isEmpty())
        return usage(QStringLiteral("a command is required"));
    const QString name = positional.takeFirst();
    const auto found = std::find_if(commands().begin(), commands().end(), [&](const Command &c) {
        return name == QLatin1String(c.name);
    });
    if (found == commands().end())
        return usage(QStringLiteral("unknown command \"%1\"").arg(name));
    const Command &command = *found;

    QString path = QLatin1String(command.path);
    if (command.takesId) {
        if (positional.isEmpty())
            return usage(QStringLiteral("%1 needs a client id").arg(name));
        // Digits only: "1/faults" or "1?x" would make another request.
        const QString id = positional.takeFirst();
        static const QRegularExpression digits(QStringLiteral("^[0-9]{1,20}$"));
        bool inRange = false;
        if (digits.match(id).hasMatch())
            inRange = id.toULongLong(&inRange) != 0 && inRange;
        if (!inRange)
            return usage(QStringLiteral("%1: client id \"%2\" is not a client id: expected a "
                                        "whole number from 1 to 18446744073709551615")
                             .arg(name, id.left(64)));
        path = path.arg(id);
    }
    QByteArray verb = command.verb;
    QByteArray body;
    if (command.takesBody && !positional.isEmpty()) {
        body = positional.takeFirst().toUtf8();
        verb = "PUT";
    }
    if (!positional.isEmpty())
        return usage(QStringLiteral("unexpected argument \"%1\"").arg(positional.constFirst()));
    const bool capture = name == QLatin1String("capture");
    for (const QCommandLineOption *option : {&format, &output}) {
        if (parser.isSet(*option) && !capture)
            return usage(
                QStringLiteral("--%1 is for capture only").arg(option->names().constLast()));
    }
    const QString formatName = parser.value(format);
    const bool pcapng = formatName == QLatin1String("pcapng");
    if (!pcapng && formatName != QLatin1String("json"))
        return usage(QStringLiteral("--format \"%1\": expected json or pcapng").arg(formatName));
    const QString outputPath = parser.value(output);
    if (parser.isSet(output) && outputPath.isEmpty())
        return usage(QStringLiteral("--output needs a file name"));
    if (capture && pcapng && outputPath.isEmpty() && isatty(fileno(stdout)))
        return usage(QStringLiteral("--format pcapng is a binary file: give --output FILE, or "
                                    "send the standard output to a file or a pipe"));

    QUrl url;
    url.setScheme(QStringLiteral("http"));
    url.setHost(host.toString());
    url.setPort(port);
    url.setPath(QStringLiteral("/api/v1") + path);
    QUrlQuery query;
    if (name == QLatin1String("clients")) {
        for (const QCommandLineOption *filter : {&peer, &state, &protocol}) {
            if (parser.isSet(*filter))
                query.addQueryItem(filter->names().constFirst(), parser.value(*filter));
        }
    }
    qint64 pollMs = 0;
    if (capture && pcapng)
        query.addQueryItem(QStringLiteral("format"), formatName);
    if (name == QLatin1String("events")) {
        if (parser.isSet(since))
            query.addQueryItem(QStringLiteral("since"), parser.value(since));
        query.addQueryItem(QStringLiteral("timeout_ms"), parser.value(timeoutMs));
        pollMs = qBound(qint64(0), parser.value(timeoutMs).toLongLong(), qint64(60000));
    }
    url.setQuery(query);

    QByteArray token = qgetenv("ECHOSCOPE_CONTROL_TOKEN");
    if (parser.isSet(tokenFile)) {
        QString fileToken;
        if (!ControlApi::readTokenFile(parser.value(tokenFile), &fileToken, &error)) {
            print(stderr, QStringLiteral("echoscope ctl: %1\n").arg(error)); // file name escaped
            return kExitUsage;
        }
        token = fileToken.toUtf8();
    }

    QNetworkAccessManager manager;
    QNetworkRequest request(url);
    if (!token.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + token);
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    request.setTransferTimeout(int(qMin<qint64>(timeoutValue + pollMs, 3600 * 1000)));
    std::unique_ptr<QNetworkReply> reply(manager.sendCustomRequest(request, verb, body));
    QObject::connect(reply.get(), &QNetworkReply::finished, QCoreApplication::instance(),
                     &QCoreApplication::quit);
    if (!reply->isFinished())
        QCoreApplication::exec();

    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray answer = reply->readAll();
    if (status == 0) {
        print(stderr, QStringLiteral("echoscope ctl: no answer from %1: %2\n")
                          .arg(url.toString(QUrl::RemoveQuery), reply->errorString()));
        return kExitUnreachable;
    }
    const QJsonDocument document = QJsonDocument::fromJson(answer);
    if (status >= 200 && status < 300) {
        // A pcapng file as it came; JSON indented.
        const QByteArray content =
            pcapng || document.isNull() ? answer : document.toJson(QJsonDocument::Indented);
        if (!outputPath.isEmpty()) {
            const bool saved = saveFileAtomically(
                outputPath,
                [&content](QIODevice *device, QString *reason) {
                    if (device->write(content) == content.size())
                        return true;
                    *reason = device->errorString();
                    return false;
                },
                &error);
            if (!saved) {
                print(stderr,
                      QStringLiteral("echoscope ctl: %1\n").arg(TextEscape::escapeText(error)));
                return kExitRefused;
            }
            return kExitOk;
        }
        std::fwrite(content.constData(), 1, size_t(content.size()), stdout);
        std::fflush(stdout);
        return kExitOk;
    }
    const QString message = document.object().value(QStringLiteral("error")).toString();
    print(stderr, QStringLiteral("echoscope ctl: %1 %2: %3\n")
                      .arg(status)
                      .arg(reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString(),
                           TextEscape::escapeText(message.isEmpty() ? QString::fromUtf8(answer)
                                                                    : message)));
    return kExitRefused;
}

} // namespace Echoscope
