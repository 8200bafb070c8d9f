#include "commandline.h"

#include "networkfilter.h"
#include "numbertext.h"
#include "textescape.h"
#include "tlscredentials.h"

#include <QCoreApplication>
#include <QLocale>

#include <cstdlib>
#include <limits>

namespace Echoscope {

namespace {

constexpr qint64 kKibi = 1024;
constexpr qint64 kMebi = 1024 * 1024;
constexpr qint64 kMaxPort = 65535;
constexpr qint64 kMaxInt = std::numeric_limits<int>::max();

// Escapes what could move a terminal's cursor or change its colours, and nothing else:
// quotes and backslashes in our own sentences stay as they are.
QString terminalSafe(QStringView text)
{
    QString safe;
    safe.reserve(text.size());
    for (qsizetype i = 0; i < text.size();) {
        const qsizetype length =
            text.at(i).isHighSurrogate() && i + 1 < text.size() && text.at(i + 1).isLowSurrogate()
                ? 2
                : 1;
        const QStringView piece = text.mid(i, length);
        if (piece == u"\"" || piece == u"\\")
            safe += piece;
        else
            safe += TextEscape::escapeText(piece);
        i += length;
    }
    return safe;
}

// The engine's sentences ("Unknown framing mode ...") as a clause after a colon.
QString asClause(const QString &sentence)
{
    QString clause = sentence.trimmed();
    if (clause.endsWith(QLatin1Char('.')))
        clause.chop(1);
    if (clause.size() > 1 && clause.at(0).isUpper() && clause.at(1).isLower())
        clause[0] = clause.at(0).toLower();
    return clause;
}

using NumberText::parseByteSize;
using NumberText::parseWholeNumber;

QString defaultSizeText(qint64 bytes)
{
    if (bytes % kMebi == 0)
        return QStringLiteral("%1M").arg(bytes / kMebi);
    if (bytes % kKibi == 0)
        return QStringLiteral("%1K").arg(bytes / kKibi);
    return QString::number(bytes);
}

// An option: a flag without valueName, else one that takes a value.
QCommandLineOption option(const char *name, const QString &help, const char *valueName = nullptr)
{
    return valueName ? QCommandLineOption(QLatin1String(name), help, QLatin1String(valueName))
                     : QCommandLineOption(QLatin1String(name), help);
}

// Sets one field of an object (the options, their config, their faults) from a number.
template<typename Object, typename T>
std::function<void(qint64)> into(Object *object, T Object::*field)
{
    return [object, field](qint64 value) { object->*field = T(value); };
}

// The override of an engine setting that is one field of ServerConfig.
template<typename T>
std::function<void(const ServerConfig &, ServerConfig *)> copies(T ServerConfig::*field)
{
    return [field](const ServerConfig &from, ServerConfig *to) { to->*field = from.*field; };
}

} // namespace

// One option, all of it: see the class comment. Rows are applied in table order, each
// checked against the ones before it (the size limit before the framing that must fit in
// it), so the first setting the engine rejects is the option to name; --help lists them in
// the same order.
struct CommandLine::Row
{
    enum class Where {
        Anywhere,
        HeadlessOnly,  // a warning without --headless, saying why (whyNot)
        DashboardOnly, // a warning with --headless
    };

    QCommandLineOption option;
    // Reads the value (empty for a flag) into m_options; null for --help and --version.
    Apply apply = nullptr;
    // An engine setting the dashboard remembers: copies it between configs, for
    // overrideConfig(); after apply the whole config is checked. Null for the rest.
    Override overrides = nullptr;
    Where where = Where::Anywhere;
    // The option without which this one has no effect (a warning names it). When that
    // one is a remembered setting the dashboard may have it, so only headless warns.
    const char *needs = nullptr;
    const char *whyNot = nullptr; // HeadlessOnly: what the dashboard does instead
};

CommandLine::CommandLine()
{
    using Where = Row::Where;
    ServerConfig &config = m_options.config;
    FaultConfig &faults = m_options.faults;
    const auto fault = [this, &faults](bool (FaultConfig::*parse)(QStringView, QString *)) {
        return Apply([this, &faults, parse](const Row &row, const QString &value) {
            QString error;
            if (!(faults.*parse)(value, &error))
                return fail(row, value, error);
            const QString invalid = faults.validate();
            return invalid.isEmpty() || fail(row, value, invalid);
        });
    };
    const QString port = QStringLiteral("a port number from 0 (any free port) to %1").arg(kMaxPort);
    // A listener beside the TCP one (UDP, WebSocket): its port, or off.
    const auto portOrOff = [this, &config, port](bool ServerConfig::*enabled,
                                                 quint16 ServerConfig::*number) {
        return Apply([this, &config, port, enabled, number](const Row &row, const QString &value) {
            qint64 parsed = 0;
            if (value.compare(QLatin1String("off"), Qt::CaseInsensitive) == 0) {
                config.*enabled = false;
            } else if (parseWholeNumber(value, kMaxPort, &parsed)) {
                config.*enabled = true;
                config.*number = quint16(parsed);
            } else {
                return fail(row, value, QStringLiteral("expected %1, or off").arg(port));
            }
            return true;
        });
    };
    const auto copiesPortOrOff = [](bool ServerConfig::*enabled, quint16 ServerConfig::*number) {
        return Override([enabled, number](const ServerConfig &from, ServerConfig *to) {
            to->*enabled = from.*enabled;
            if (from.*enabled)
                to->*number = from.*number;
        });
    };

    // Adding an option: one row here (and, for an engine setting, its field in
    // ServerConfig and DashboardSettings).
    m_rows = {
        {m_parser.addHelpOption(), nullptr, nullptr},
        {m_parser.addVersionOption(), nullptr, nullptr},
        {option("headless", QStringLiteral("Run without the dashboard: serve and write one line "
                                           "per event until SIGINT or SIGTERM.")),
         [this](const Row &, const QString &) { return m_headless = true; }, nullptr},
        {option("bind",
                QStringLiteral("Address to listen on: 127.0.0.1, ::1, any, any4, any6 or a "
                               "literal IP address (default %1).")
                    .arg(ServerConfig().bindAddress),
                "address"),
         [&config](const Row &, const QString &value) {
             config.bindAddress = value; // checked with the config
             return true;
         },
         copies(&ServerConfig::bindAddress)},
        {option("port",
                QStringLiteral("TCP port; 0 picks a free one (default %1).")
                    .arg(ServerConfig::kDefaultPort),
                "port"),
         wholeNumber(0, kMaxPort, port, into(&config, &ServerConfig::port)),
         copies(&ServerConfig::port)},
        {option("max-message-size",
                QStringLiteral("Largest message in the framed modes, in bytes or with K, KiB, M, "
                               "MiB (1024-based), e.g. 5120 or 5K; a larger one closes the "
                               "connection (default %1).")
                    .arg(defaultSizeText(ServerConfig::kDefaultMaxMessageBytes)),
                "bytes"),
         byteSize(1, std::numeric_limits<qint64>::max(),
                  QStringLiteral("a size in bytes, optionally with K, KiB, M or MiB "
                                 "(1024-based), e.g. 5120 or 5K"),
                  into(&config, &ServerConfig::maxMessageBytes)),
         copies(&ServerConfig::maxMessageBytes)},
        {option("framing",
                QStringLiteral("Where a message ends: stream (echo bytes as they come), eof (the "
                               "client's half-close), line, length (a big-endian length header) "
                               "or fixed:N (blocks of N bytes) (default %1).")
                    .arg(FramingConfig().modeString()),
                "mode"),
         [this, &config](const Row &row, const QString &value) {
             QString error;
             return FramingConfig::parseMode(value, &config.framing, &error) ||
                    fail(row, value, error);
         },
         [](const ServerConfig &from, ServerConfig *to) {
             to->framing.mode = from.framing.mode;
             to->framing.fixedBytes = from.framing.fixedBytes;
         }},
        {option("delimiter",
                QStringLiteral("Line delimiter for --framing line, with the escapes \\n \\r \\t "
                               "\\0 \\\\ \\xHH, e.g. \\r\\n (default %1).")
                    .arg(FramingConfig::delimiterToString(FramingConfig().delimiter)),
                "string"),
         [this, &config](const Row &row, const QString &value) {
             QString error;
             if (!FramingConfig::parseDelimiter(value, &config.framing.delimiter, &error))
                 return fail(row, value, error);
             FramingConfig asLine = config.framing; // checked as if line mode, whatever the mode
             asLine.mode = FramingMode::Line;
             const QString invalid = asLine.validate(config.maxMessageBytes);
             if (!invalid.isEmpty())
                 return fail(row, value, invalid);
             if (config.framing.mode != FramingMode::Line)
                 m_warnings.append(QStringLiteral("--delimiter has no effect with --framing %1")
                                       .arg(config.framing.modeString()));
             return true;
         },
         [](const ServerConfig &from, ServerConfig *to) {
             to->framing.delimiter = from.framing.delimiter;
         }},
        {option("length-bytes",
                QStringLiteral("Size of the length header for --framing length: 2 or 4 "
                               "(default %1).")
                    .arg(FramingConfig().lengthBytes),
                "2|4"),
         [this, &config](const Row &row, const QString &value) {
             if (value != QLatin1String("2") && value != QLatin1String("4"))
                 return fail(row, value,
                             QStringLiteral("expected 2 or 4 (bytes in the length header)"));
             config.framing.lengthBytes = value.toInt();
             if (config.framing.mode != FramingMode::Length)
                 m_warnings.append(QStringLiteral("--length-bytes has no effect with --framing %1")
                                       .arg(config.framing.modeString()));
             return true;
         },
         [](const ServerConfig &from, ServerConfig *to) {
             to->framing.lengthBytes = from.framing.lengthBytes;
         }},
        {option("max-clients",
                QStringLiteral("Clients served at once; more are refused (default %1).")
                    .arg(ServerConfig::kDefaultMaxClients),
                "n"),
         wholeNumber(1, kMaxInt, QStringLiteral("a whole number of clients, at least 1"),
                     into(&config, &ServerConfig::maxClients)),
         copies(&ServerConfig::maxClients)},
        {option("idle-timeout",
                QStringLiteral("Close a client after this many seconds without traffic, "
                               "fractions allowed (0.5); 0 turns it off (default 0)."),
                "seconds"),
         seconds(0, kMaxInt,
                 QStringLiteral("seconds from 0.001 to %1, fractions allowed (e.g. 0.5); 0 turns "
                                "the timeout off")
                     .arg(kMaxInt / 1000),
                 into(&config, &ServerConfig::idleTimeoutMs)),
         copies(&ServerConfig::idleTimeoutMs)},
        {option("threads",
                QStringLiteral("Worker threads; 0 (the default) is one per core "
                               "but one, at least 1. Headless, 1 serves in the main thread; the "
                               "dashboard always serves in threads of their own."),
                "n"),
         wholeNumber(0, kMaxInt, QStringLiteral("a whole number of threads, 0 for the default"),
                     into(&config, &ServerConfig::threads)),
         copies(&ServerConfig::threads)},
        {option("allow",
                QStringLiteral("Serve only clients in these networks, e.g. 10.0.0.0/8,::1/128 "
                               "(repeatable); others are refused at once and logged (default: "
                               "every client)."),
                "cidr[,cidr...]"),
         networks(&config.allowNetworks), copies(&ServerConfig::allowNetworks)},
        {option("deny",
                QStringLiteral("Refuse clients in these networks (repeatable); wins over "
                               "--allow."),
                "cidr[,cidr...]"),
         networks(&config.denyNetworks), copies(&ServerConfig::denyNetworks)},
        {option("udp-port",
                QStringLiteral("Also echo UDP datagrams (RFC 862) on this port of the same "
                               "address; 0 picks a free one, off turns UDP echo off (default "
                               "off)."),
                "port|off"),
         portOrOff(&ServerConfig::udpEcho, &ServerConfig::udpPort),
         copiesPortOrOff(&ServerConfig::udpEcho, &ServerConfig::udpPort)},
        {option("udp-idle-timeout",
                QStringLiteral("Forget a UDP peer after this many seconds without a datagram, "
                               "fractions allowed (default %1).")
                    .arg(ServerConfig::kDefaultUdpIdleTimeoutMs / 1000),
                "seconds"),
         seconds(1, ServerConfig::kMaxUdpIdleTimeoutMs,
                 QStringLiteral("seconds from 0.001 to %1, fractions allowed (e.g. 0.5)")
                     .arg(ServerConfig::kMaxUdpIdleTimeoutMs / 1000),
                 into(&config, &ServerConfig::udpIdleTimeoutMs)),
         copies(&ServerConfig::udpIdleTimeoutMs), Where::Anywhere, "udp-port"},
        {option("max-udp-peers",
                QStringLiteral("UDP peers tracked at once; datagrams from new ones beyond it are "
                               "dropped and logged as refused (default %1).")
                    .arg(ServerConfig::kDefaultMaxUdpPeers),
                "n"),
         wholeNumber(1, kMaxInt, QStringLiteral("a whole number of UDP peers, at least 1"),
                     into(&config, &ServerConfig::maxUdpPeers)),
         copies(&ServerConfig::maxUdpPeers), Where::Anywhere, "udp-port"},
        {option("ws-port",
                QStringLiteral("Also echo WebSocket messages (RFC 6455) on this port of the same "
                               "address: ws://, or wss:// with --tls-cert; text as text, binary "
                               "as binary, any path; 0 picks a free one, off turns it off "
                               "(default off)."),
                "port|off"),
         portOrOff(&ServerConfig::webSocketEcho, &ServerConfig::webSocketPort),
         copiesPortOrOff(&ServerConfig::webSocketEcho, &ServerConfig::webSocketPort)},
        {option("ws-origin",
                QStringLiteral("Accept WebSocket upgrades only from these origins, as browsers "
                               "send them, e.g. http://localhost:8080 (repeatable); others are "
                               "answered 403 and logged (default: any origin)."),
                "origin[,origin...]"),
         [&config](const Row &, const QString &value) {
             for (const QString &origin : value.split(QLatin1Char(','), Qt::SkipEmptyParts))
                 config.webSocketOrigins.append(origin.trimmed());
             return true;
         },
         copies(&ServerConfig::webSocketOrigins), Where::Anywhere, "ws-port"},
        {option("ws-handshake-timeout",
                QStringLiteral("Close a WebSocket client that has not finished its upgrade (and "
                               "its TLS handshake, for wss://) after this many seconds, "
                               "fractions allowed (default %1).")
                    .arg(ServerConfig::kDefaultWebSocketHandshakeTimeoutMs / 1000),
                "seconds"),
         seconds(1, kMaxInt,
                 QStringLiteral("seconds, at least 0.001, at most %1").arg(kMaxInt / 1000),
                 into(&config, &ServerConfig::webSocketHandshakeTimeoutMs)),
         copies(&ServerConfig::webSocketHandshakeTimeoutMs), Where::Anywhere, "ws-port"},
        {option("tls-min-version",
                QStringLiteral("Oldest TLS version a client may use: 1.2 or 1.3 (default 1.2)."),
                "1.2|1.3"),
         [this, &config](const Row &row, const QString &value) {
             return ServerConfig::parseTlsVersion(value, &config.tlsMinimumVersion) ||
                    fail(row, value, QStringLiteral("expected 1.2 or 1.3"));
         },
         copies(&ServerConfig::tlsMinimumVersion), Where::Anywhere, "tls-cert"},
        {option("tls-handshake-timeout",
                QStringLiteral("Close a client that has not finished its TLS handshake after "
                               "this many seconds, fractions allowed (default %1).")
                    .arg(ServerConfig::kDefaultTlsHandshakeTimeoutMs / 1000),
                "seconds"),
         seconds(1, kMaxInt,
                 QStringLiteral("seconds, at least 0.001, at most %1").arg(kMaxInt / 1000),
                 into(&config, &ServerConfig::tlsHandshakeTimeoutMs)),
         copies(&ServerConfig::tlsHandshakeTimeoutMs), Where::Anywhere, "tls-cert"},
        // The certificate and its key are checked together once all rows are read
        // (checkTls()), so that a missing one is named as such.
        {option("tls-cert",
                QStringLiteral("Speak TLS on the port (like ncat --ssl) with this certificate, "
                               "PEM or DER (a chain: the server's first); needs --tls-key."),
                "file"),
         path(QStringLiteral("the path of a file"), &config.tlsCertificateFile),
         copies(&ServerConfig::tlsCertificateFile)},
        {option("tls-key",
                QStringLiteral("The private key of --tls-cert (RSA, EC or DSA, PEM or DER, not "
                               "encrypted)."),
                "file"),
         path(QStringLiteral("the path of a file"), &config.tlsKeyFile),
         copies(&ServerConfig::tlsKeyFile)},
        {option("log-format",
                QStringLiteral("Event lines as text or json, one object per line (default "
                               "text)."),
                "text|json"),
         [this](const Row &row, const QString &value) {
             if (value.compare(QLatin1String("text"), Qt::CaseInsensitive) == 0)
                 m_options.logFormat = HeadlessOptions::LogFormat::Text;
             else if (value.compare(QLatin1String("json"), Qt::CaseInsensitive) == 0)
                 m_options.logFormat = HeadlessOptions::LogFormat::Json;
             else
                 return fail(row, value, QStringLiteral("expected text or json"));
             return true;
         },
         nullptr, Where::HeadlessOnly, nullptr, "the dashboard shows the events"},
        {option("log-file",
                QStringLiteral("Append the events to this file instead of standard output; the "
                               "listening line goes to standard output too."),
                "path"),
         path(QStringLiteral("the path of a file"), &m_options.logFilePath), nullptr,
         Where::HeadlessOnly, nullptr, "the dashboard shows the events"},
        {option("verbose",
                QStringLiteral("Also show each message (the first %1 per second per client, then "
                               "a summary per second) and the open-file limit.")
                    .arg(HeadlessOptions::kVerboseMessageEventsPerSecond)),
         [this, &config](const Row &, const QString &) {
             config.messageEventsPerSecond = HeadlessOptions::kVerboseMessageEventsPerSecond;
             return m_options.verbose = true;
         },
         nullptr, Where::HeadlessOnly, nullptr, "the dashboard shows the events"},
        {option("metrics-port",
                QStringLiteral("Serve Prometheus metrics at http://ADDRESS:PORT/metrics; 0 picks "
                               "a free port (default: no metrics endpoint, or what the "
                               "dashboard's preferences say)."),
                "port"),
         wholeNumber(0, kMaxPort, port, into(&m_options, &HeadlessOptions::metricsPort))},
        {option("metrics-address",
                QStringLiteral("Address of the metrics endpoint, in the words of --bind (default "
                               "127.0.0.1)."),
                "address"),
         [this](const Row &row, const QString &value) {
             QHostAddress address;
             QString error;
             if (!ServerConfig::resolveBindAddress(value, &address, &error))
                 return fail(row, value, error);
             m_options.metricsAddress = value.trimmed();
             return true;
         },
         nullptr, Where::Anywhere, "metrics-port"},
        {option("control-port",
                QStringLiteral("Serve the control API (JSON over HTTP under /api/v1: clients, "
                               "kicks, faults, events; see docs/control-api.yaml) on this port; "
                               "0 picks a free port (default: no control API)."),
                "port"),
         wholeNumber(0, kMaxPort, port, into(&m_options, &HeadlessOptions::controlPort))},
        {option("control-address",
                QStringLiteral("Address of the control API, in the words of --bind (default "
                               "127.0.0.1; anything else can be reached from other machines)."),
                "address"),
         [this](const Row &row, const QString &value) {
             QHostAddress address;
             QString error;
             if (!ServerConfig::resolveBindAddress(value, &address, &error))
                 return fail(row, value, error);
             m_options.controlAddress = value.trimmed();
             return true;
         },
         nullptr, Where::Anywhere, "control-port"},
        {option("capture-bytes",
                QStringLiteral("Keep the newest bytes each client sent and was sent, this many "
                               "per client (both ways together; K, M 1024-based), for the "
                               "control API's capture endpoint and the inspector (default: 0 "
                               "headless, none kept; the dashboard's preferences otherwise)."),
                "bytes"),
         byteSize(0, ServerConfig::kMaxCaptureBytesPerClient,
                  QStringLiteral("a size in bytes up to 64M, optionally with K or M"),
                  into(&config, &ServerConfig::captureBytesPerClient)),
         copies(&ServerConfig::captureBytesPerClient)},
        {option("control-token-file",
                QStringLiteral("Changes through the control API need the token on the first "
                               "line of this file (default: a random token, printed once on "
                               "the control API's line)."),
                "file"),
         path(QStringLiteral("the path of a file"), &m_options.controlTokenFile), nullptr,
         Where::Anywhere, "control-port"},
        {option("start",
                QStringLiteral("Open the dashboard already listening (a failure to listen is "
                               "shown in the window).")),
         [this](const Row &, const QString &) { return m_options.start = true; }, nullptr,
         Where::DashboardOnly},
        {option("screenshot",
                QStringLiteral("Render the dashboard to this PNG file once it has started, then "
                               "exit (status 0, or 4 if the file cannot be written)."),
                "file"),
         path(QStringLiteral("the path of a PNG file"), &m_options.screenshotPath), nullptr,
         Where::DashboardOnly},
        {option("screenshot-delay",
                QStringLiteral("Milliseconds to wait before --screenshot renders (default %1).")
                    .arg(HeadlessOptions::kDefaultScreenshotDelayMs),
                "ms"),
         wholeNumber(0, 600000, QStringLiteral("milliseconds from 0 to 600000"),
                     into(&m_options, &HeadlessOptions::screenshotDelayMs)),
         nullptr, Where::DashboardOnly, "screenshot"},
        // Fault injection: the faults for all clients (see FaultConfig), headless or not.
        {option("fault-delay",
                QStringLiteral("Fault: hold each echo this many milliseconds, optionally plus or "
                               "minus a jitter, e.g. 200:50 (at most %1).")
                    .arg(FaultConfig::kMaxDelayMs),
                "ms[:jitter]"),
         fault(&FaultConfig::parseDelay)},
        {option("fault-bandwidth",
                QStringLiteral("Fault: echo at most this many bytes per second per client, with "
                               "K, M, G (1024-based), e.g. 10K."),
                "bytes"),
         fault(&FaultConfig::parseBandwidth)},
        {option("fault-slice",
                QStringLiteral("Fault: write the echo in pieces of at most this many bytes, "
                               "optionally this many ms apart, e.g. 16:5."),
                "bytes[:gap]"),
         fault(&FaultConfig::parseSlice)},
        {option("fault-close-after",
                QStringLiteral("Fault: close the connection (FIN) once this many bytes were "
                               "echoed; 0 closes at once. WebSocket clients get a close frame "
                               "with :CODE (default 1000), e.g. 1K:4000."),
                "bytes[:code]"),
         fault(&FaultConfig::parseCloseAfter)},
        {option("fault-reset-after",
                QStringLiteral("Fault: reset the connection (RST) once this many bytes were "
                               "echoed; 0 resets at once."),
                "bytes"),
         fault(&FaultConfig::parseResetAfter)},
        {option("fault-reset-probability",
                QStringLiteral("Fault: reset the connection instead of echoing a message with "
                               "this probability, 0 to 1 or 0% to 100%."),
                "p"),
         fault(&FaultConfig::parseProbability)},
        {option("fault-stop-reading",
                QStringLiteral("Fault: read nothing from the clients (a stuck peer): their "
                               "writes block once the buffers are full.")),
         [&faults](const Row &, const QString &) { return faults.stopReading = true; }},
        {option("fault-blackhole",
                QStringLiteral("Fault: read and discard what the clients send, echo nothing, "
                               "keep the connection (toxiproxy's blackhole).")),
         [&faults](const Row &, const QString &) { return faults.blackhole = true; }},
        {option("fault-timeout",
                QStringLiteral("Fault: read and echo nothing and close the connection after "
                               "this many milliseconds; 0 holds it open forever (toxiproxy's "
                               "timeout, at most %1).")
                    .arg(FaultConfig::kMaxTimeoutMs),
                "ms"),
         fault(&FaultConfig::parseTimeout)},
        {option("fault-slow-close",
                QStringLiteral("Fault: delay the server's close (after the client's end and the "
                               "last echo, or a close fault) by this many milliseconds (at most "
                               "%1).")
                    .arg(FaultConfig::kMaxSlowCloseMs),
                "ms"),
         fault(&FaultConfig::parseSlowClose)},
        {option("fault-toxicity",
                QStringLiteral("Fault: the probability per message, 0 to 1 or 0% to 100%, that "
                               "the delay, bandwidth and slice faults apply to it (default 1)."),
                "p"),
         fault(&FaultConfig::parseToxicity)},
        {option("fault-udp-loss",
                QStringLiteral("Fault: drop each UDP echo with this probability, 0 to 1 or 0% "
                               "to 100% (netem's loss)."),
                "p"),
         fault(&FaultConfig::parseUdpLoss)},
        {option("fault-udp-duplicate",
                QStringLiteral("Fault: send each UDP echo twice with this probability (netem's "
                               "duplicate)."),
                "p"),
         fault(&FaultConfig::parseUdpDuplicate)},
        {option("fault-udp-reorder",
                QStringLiteral("Fault: hold each UDP echo with this probability and send it "
                               "after the next one (netem's reorder)."),
                "p"),
         fault(&FaultConfig::parseUdpReorder)},
        {option("fault-udp-corrupt",
                QStringLiteral("Fault: flip one random bit of each UDP echo with this "
                               "probability (netem's corrupt)."),
                "p"),
         fault(&FaultConfig::parseUdpCorrupt)},
        {option("fault-seed",
                QStringLiteral("Seed for the faults' random draws (jitter, probabilities), "
                               "to repeat a run (default: random)."),
                "n"),
         fault(&FaultConfig::parseSeed)},
        {option("record",
                QStringLiteral("Write each client's traffic and events to a recording in this "
                               "directory (made if missing) when it disconnects, one file per "
                               "client, for \"echoscope replay\"."),
                "dir"),
         path(QStringLiteral("the path of a directory"), &m_options.recordDirectory), nullptr,
         Where::HeadlessOnly, nullptr,
         "in the dashboard, Export recording in the client inspector saves one client"},
        {option("record-limit",
                QStringLiteral("Bytes recorded per client, both ways together, with K or M; past "
                               "it the rest is not recorded and the log says so (default %1, at "
                               "most %2).")
                    .arg(defaultSizeText(HeadlessOptions().recordLimitBytes),
                         defaultSizeText(ServerConfig::kMaxCaptureBytesPerClient)),
                "bytes"),
         byteSize(1, ServerConfig::kMaxCaptureBytesPerClient,
                  QStringLiteral("a size from 1 byte to %1, with K or M, e.g. 256K")
                      .arg(defaultSizeText(ServerConfig::kMaxCaptureBytesPerClient)),
                  into(&m_options, &HeadlessOptions::recordLimitBytes)),
         nullptr, Where::Anywhere, "record"},
        {option("record-total",
                QStringLiteral("Stop writing recordings once those of this run reach this size, "
                               "with K or M (default %1).")
                    .arg(defaultSizeText(HeadlessOptions().recordTotalBytes)),
                "bytes"),
         byteSize(1, std::numeric_limits<qint64>::max(),
                  QStringLiteral("a size of at least 1 byte, with K or M, e.g. 100M"),
                  into(&m_options, &HeadlessOptions::recordTotalBytes)),
         nullptr, Where::Anywhere, "record"},
        {option("record-format",
                QStringLiteral("What --record writes: jsonl, Echoscope's recordings for "
                               "\"echoscope replay\", or pcapng, files Wireshark opens (the "
                               "bytes under synthetic IP and TCP or UDP headers, no events) "
                               "(default jsonl)."),
                "jsonl|pcapng"),
         [this](const Row &row, const QString &value) {
             if (value.compare(QLatin1String("jsonl"), Qt::CaseInsensitive) == 0)
                 m_options.recordFormat = HeadlessOptions::RecordFormat::Recording;
             else if (value.compare(QLatin1String("pcapng"), Qt::CaseInsensitive) == 0)
                 m_options.recordFormat = HeadlessOptions::RecordFormat::Pcapng;
             else
                 return fail(row, value, QStringLiteral("expected jsonl or pcapng"));
             return true;
         },
         nullptr, Where::Anywhere, "record"},
    };
    for (const Row &row : m_rows) {
        if (row.apply) // --help and --version were added by addHelpOption() and the like
            m_parser.addOption(row.option);
    }
    m_parser.setApplicationDescription(
        QStringLiteral("Echoscope, an echo server you can watch.\n"
                       "Without --headless it opens the dashboard; the engine options below "
                       "override the settings it remembers, for that run only. With --headless "
                       "it listens, prints \"listening on ADDRESS:PORT\" when ready, then one "
                       "line per event.\n"
                       "Exit status: 0 after SIGINT or SIGTERM or when the window closes, 2 for "
                       "bad arguments or an unusable log file, 3 when it cannot listen "
                       "(headless), 4 when --screenshot cannot write its file."));
}

CommandLine::~CommandLine() = default;

CommandLine::Action CommandLine::parse(const QStringList &arguments)
{
    m_arguments = arguments;
    m_headless = false;
    m_options = HeadlessOptions();
    m_errorText.clear();
    m_warnings.clear();

    if (!m_parser.parse(arguments)) {
        m_errorText = terminalSafe(m_parser.errorText());
        return Action::Fail;
    }
    if (isSet(QStringLiteral("help")))
        return Action::ShowHelp;
    if (isSet(QStringLiteral("help-all")))
        return Action::ShowHelpAll;
    if (isSet(QStringLiteral("version")))
        return Action::ShowVersion;
    const QStringList positional = m_parser.positionalArguments();
    if (!positional.isEmpty()) {
        m_errorText = QStringLiteral("unexpected argument \"%1\": echoscope takes options only")
                          .arg(terminalSafe(positional.constFirst()));
        return Action::Fail;
    }
    return applyOptions() ? Action::Run : Action::Fail;
}

QString CommandLine::versionText() const
{
    return QCoreApplication::applicationName() + QLatin1Char(' ') +
           QCoreApplication::applicationVersion();
}

void CommandLine::showHelpAll()
{
    m_parser.process(m_arguments); // shows the help with Qt's options and exits with 0
    std::exit(EXIT_SUCCESS);
}

const CommandLine::Row *CommandLine::findRow(const QString &name) const
{
    for (const Row &row : m_rows) {
        if (row.option.names().contains(name))
            return &row;
    }
    return nullptr;
}

bool CommandLine::isSet(const QString &name) const
{
    return m_parser.isSet(name);
}

bool CommandLine::fail(const Row &row, const QString &value, const QString &reason)
{
    m_errorText = QStringLiteral("--%1 \"%2\": %3")
                      .arg(row.option.names().constLast(), terminalSafe(value),
                           terminalSafe(asClause(reason)));
    return false;
}

bool CommandLine::checkConfig(const Row &row, const QString &value)
{
    const ServerConfig &config = m_options.config;
    // Half a TLS setting: the other half may come in a later row; checkTls() names
    // whichever is missing.
    if (config.tlsCertificateFile.isEmpty() != config.tlsKeyFile.isEmpty())
        return true;
    const QString invalid = config.validate();
    return invalid.isEmpty() || fail(row, value, invalid);
}

CommandLine::Apply CommandLine::wholeNumber(qint64 low, qint64 high, const QString &expected,
                                            std::function<void(qint64)> set)
{
    return [this, low, high, expected, set](const Row &row, const QString &value) {
        qint64 number = 0;
        if (!parseWholeNumber(value, high, &number) || number < low)
            return fail(row, value, QStringLiteral("expected %1").arg(expected));
        set(number);
        return true;
    };
}

CommandLine::Apply CommandLine::seconds(qint64 lowMs, qint64 highMs, const QString &expected,
                                        std::function<void(qint64)> set)
{
    return [this, lowMs, highMs, expected, set](const Row &row, const QString &value) {
        qint64 milliseconds = 0;
        if (!NumberText::parseSeconds(value, highMs, &milliseconds) || milliseconds < lowMs)
            return fail(row, value, QStringLiteral("expected %1").arg(expected));
        set(milliseconds);
        return true;
    };
}

CommandLine::Apply CommandLine::byteSize(qint64 low, qint64 high, const QString &expected,
                                         std::function<void(qint64)> set)
{
    return [this, low, high, expected, set](const Row &row, const QString &value) {
        qint64 bytes = 0;
        if (!parseByteSize(value, &bytes) || bytes < low || bytes > high)
            return fail(row, value, QStringLiteral("expected %1").arg(expected));
        set(bytes);
        return true;
    };
}

CommandLine::Apply CommandLine::path(const QString &expected, QString *target)
{
    return [this, expected, target](const Row &row, const QString &value) {
        if (value.isEmpty())
            return fail(row, value, QStringLiteral("expected %1").arg(expected));
        *target = value;
        return true;
    };
}

// Every value of a repeatable --allow/--deny, each a comma-separated list of networks.
CommandLine::Apply CommandLine::networks(QList<QPair<QHostAddress, int>> *target)
{
    return [this, target](const Row &row, const QString &) {
        target->clear();
        const QStringList values = m_parser.values(row.option);
        for (const QString &value : values) {
            QString error;
            if (!NetworkFilter::parseList(value, target, &error))
                return fail(row, value, error);
        }
        return true;
    };
}

bool CommandLine::applyOptions()
{
    for (const Row &row : m_rows) {
        if (!row.apply || !m_parser.isSet(row.option))
            continue;
        const QStringList values = m_parser.values(row.option);
        const QString value = values.isEmpty() ? QString() : values.constLast();
        if (!row.apply(row, value))
            return false;
        if (row.overrides && !checkConfig(row, values.join(QLatin1Char(','))))
            return false;
    }
    if (!checkTls())
        return false;
    warnAboutUnusedOptions();

    const ServerConfig &config = m_options.config;
    const NetworkFilter filter(config.allowNetworks, config.denyNetworks);
    QHostAddress bound;
    if (!filter.isEmpty() &&
        ServerConfig::resolveBindAddress(config.bindAddress, &bound, nullptr) &&
        bound.isLoopback()) {
        // Listening on loopback while refusing loopback clients serves nobody: say so.
        const QString refusal = filter.refusalReason(bound);
        if (!refusal.isEmpty())
            m_warnings.append(QStringLiteral("--allow/--deny refuse every client of --bind %1: %2")
                                  .arg(terminalSafe(config.bindAddress), refusal));
    }
    if (m_options.faults.isEmpty() && m_options.faults.seed != 0)
        m_warnings.append(QStringLiteral("--fault-seed has no effect without a --fault option"));

    // Each option was checked as it was applied; this catches what none of them owns.
    const QString invalid = config.validate();
    if (!invalid.isEmpty()) {
        m_errorText = terminalSafe(asClause(invalid));
        return false;
    }
    return true;
}

// The TLS files are read and checked here, so that a bad one is refused as the option
// that named it (exit status 2) rather than as a failure to listen.
bool CommandLine::checkTls()
{
    const ServerConfig &config = m_options.config;
    const Row &cert = *findRow(QStringLiteral("tls-cert"));
    const Row &key = *findRow(QStringLiteral("tls-key"));
    if (config.tlsKeyFile.isEmpty() && !config.tlsCertificateFile.isEmpty())
        return fail(cert, config.tlsCertificateFile,
                    QStringLiteral("TLS needs the certificate's private key too: add --tls-key "
                                   "FILE"));
    if (config.tlsCertificateFile.isEmpty() && !config.tlsKeyFile.isEmpty())
        return fail(key, config.tlsKeyFile,
                    QStringLiteral("TLS needs the certificate too: add --tls-cert FILE"));
    if (!config.isTls())
        return true;
    if (!checkConfig(cert, config.tlsCertificateFile))
        return false;

    TlsCredentials credentials;
    TlsCredentials::Problem problem = TlsCredentials::Problem::None;
    const QString error =
        TlsCredentials::load(config.tlsCertificateFile, config.tlsKeyFile, &credentials, &problem);
    if (error.isEmpty())
        return true;
    if (problem == TlsCredentials::Problem::Key || problem == TlsCredentials::Problem::Mismatch)
        return fail(key, config.tlsKeyFile, error);
    return fail(cert, config.tlsCertificateFile, error);
}

void CommandLine::warnAboutUnusedOptions()
{
    for (const Row &row : m_rows) {
        if (!row.apply || !m_parser.isSet(row.option))
            continue;
        const QString name = row.option.names().constLast();
        if (row.where == Row::Where::HeadlessOnly && !m_headless)
            m_warnings.append(QStringLiteral("--%1 has no effect without --headless (%2)")
                                  .arg(name, QLatin1String(row.whyNot)));
        if (row.where == Row::Where::DashboardOnly && m_headless)
            m_warnings.append(QStringLiteral("--%1 has no effect with --headless").arg(name));
        if (!row.needs || isSet(QLatin1String(row.needs)))
            continue;
        const Row *needed = findRow(QLatin1String(row.needs));
        if (m_headless || !needed->overrides)
            m_warnings.append(QStringLiteral("--%1 has no effect without --%2")
                                  .arg(name, QLatin1String(row.needs)));
    }
}

void CommandLine::overrideConfig(ServerConfig *config) const
{
    for (const Row &row : m_rows) {
        if (row.overrides && m_parser.isSet(row.option))
            row.overrides(m_options.config, config);
    }
}

} // namespace Echoscope
