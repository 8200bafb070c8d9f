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

using NumberText::isAsciiDigit;
using NumberText::parseByteSize;
using NumberText::parseWholeNumber;

// "2", "0.5", "1.25": seconds, no sign, no exponent. Rounds to whole milliseconds.
bool parseSeconds(QStringView text, qint64 *milliseconds)
{
    if (text.isEmpty() || text.size() > 20)
        return false;
    int dots = 0;
    int digits = 0;
    for (const QChar c : text) {
        if (c == QLatin1Char('.'))
            ++dots;
        else if (isAsciiDigit(c))
            ++digits;
        else
            return false;
    }
    if (dots > 1 || digits == 0)
        return false;
    bool ok = false;
    const double seconds = QLocale::c().toDouble(text, &ok);
    if (!ok || seconds * 1000.0 > double(kMaxInt))
        return false;
    *milliseconds = qRound64(seconds * 1000.0);
    return true;
}

QString defaultSizeText(qint64 bytes)
{
    if (bytes % kMebi == 0)
        return QStringLiteral("%1M").arg(bytes / kMebi);
    if (bytes % kKibi == 0)
        return QStringLiteral("%1K").arg(bytes / kKibi);
    return QString::number(bytes);
}

} // namespace

CommandLine::CommandLine()
    : m_helpOption(m_parser.addHelpOption())
    , m_versionOption(m_parser.addVersionOption())
    , m_headlessOption(QStringLiteral("headless"),
                       QStringLiteral("Run without the dashboard: serve and write one line per "
                                      "event until SIGINT or SIGTERM."))
    , m_bindOption(QStringLiteral("bind"),
                   QStringLiteral("Address to listen on: 127.0.0.1, ::1, any, any4, any6 or a "
                                  "literal IP address (default %1).")
                       .arg(ServerConfig().bindAddress),
                   QStringLiteral("address"))
    , m_portOption(QStringLiteral("port"),
                   QStringLiteral("TCP port; 0 picks a free one (default %1).")
                       .arg(ServerConfig::kDefaultPort),
                   QStringLiteral("port"))
    , m_framingOption(QStringLiteral("framing"),
                      QStringLiteral("Where a message ends: stream (echo bytes as they come), eof "
                                     "(the client's half-close), line, length (a big-endian "
                                     "length header) or fixed:N (blocks of N bytes) "
                                     "(default %1).")
                          .arg(FramingConfig().modeString()),
                      QStringLiteral("mode"))
    , m_delimiterOption(QStringLiteral("delimiter"),
                        QStringLiteral("Line delimiter for --framing line, with the escapes \\n "
                                       "\\r \\t \\0 \\\\ \\xHH, e.g. \\r\\n (default %1).")
                            .arg(FramingConfig::delimiterToString(FramingConfig().delimiter)),
                        QStringLiteral("string"))
    , m_lengthBytesOption(QStringLiteral("length-bytes"),
                          QStringLiteral("Size of the length header for --framing length: 2 or "
                                         "4 (default %1).")
                              .arg(FramingConfig().lengthBytes),
                          QStringLiteral("2|4"))
    , m_maxMessageSizeOption(QStringLiteral("max-message-size"),
                             QStringLiteral("Largest message in the framed modes, in bytes or "
                                            "with K, KiB, M, MiB (1024-based), e.g. 5120 or 5K; "
                                            "a larger one closes the connection (default %1).")
                                 .arg(defaultSizeText(ServerConfig::kDefaultMaxMessageBytes)),
                             QStringLiteral("bytes"))
    , m_maxClientsOption(QStringLiteral("max-clients"),
                         QStringLiteral("Clients served at once; more are refused (default %1).")
                             .arg(ServerConfig::kDefaultMaxClients),
                         QStringLiteral("n"))
    , m_idleTimeoutOption(QStringLiteral("idle-timeout"),
                          QStringLiteral("Close a client after this many seconds without "
                                         "traffic, fractions allowed (0.5); 0 turns it off "
                                         "(default 0)."),
                          QStringLiteral("seconds"))
    , m_threadsOption(QStringLiteral("threads"),
                      QStringLiteral("Worker threads; 0 is one per core (default 0)."),
                      QStringLiteral("n"))
    , m_allowOption(QStringLiteral("allow"),
                    QStringLiteral("Serve only clients in these networks, e.g. 10.0.0.0/8,::1/128 "
                                   "(repeatable); others are refused at once and logged "
                                   "(default: every client)."),
                    QStringLiteral("cidr[,cidr...]"))
    , m_denyOption(QStringLiteral("deny"),
                   QStringLiteral("Refuse clients in these networks (repeatable); wins over "
                                  "--allow."),
                   QStringLiteral("cidr[,cidr...]"))
    , m_tlsCertOption(QStringLiteral("tls-cert"),
                      QStringLiteral("Speak TLS on the port (like ncat --ssl) with this "
                                     "certificate, PEM or DER (a chain: the server's first); "
                                     "needs --tls-key."),
                      QStringLiteral("file"))
    , m_tlsKeyOption(QStringLiteral("tls-key"),
                     QStringLiteral("The private key of --tls-cert (RSA, EC or DSA, PEM or DER, "
                                    "not encrypted)."),
                     QStringLiteral("file"))
    , m_tlsMinVersionOption(QStringLiteral("tls-min-version"),
                            QStringLiteral("Oldest TLS version a client may use: 1.2 or 1.3 "
                                           "(default 1.2)."),
                            QStringLiteral("1.2|1.3"))
    , m_tlsHandshakeTimeoutOption(
          QStringLiteral("tls-handshake-timeout"),
          QStringLiteral("Close a client that has not finished its TLS handshake after this "
                         "many seconds, fractions allowed (default %1).")
              .arg(ServerConfig::kDefaultTlsHandshakeTimeoutMs / 1000),
          QStringLiteral("seconds"))
    , m_udpPortOption(QStringLiteral("udp-port"),
                      QStringLiteral("Also echo UDP datagrams (RFC 862) on this port of the same "
                                     "address; 0 picks a free one, off turns UDP echo off "
                                     "(default off)."),
                      QStringLiteral("port|off"))
    , m_udpIdleTimeoutOption(QStringLiteral("udp-idle-timeout"),
                             QStringLiteral("Forget a UDP peer after this many seconds without a "
                                            "datagram, fractions allowed (default %1).")
                                 .arg(ServerConfig::kDefaultUdpIdleTimeoutMs / 1000),
                             QStringLiteral("seconds"))
    , m_maxUdpPeersOption(QStringLiteral("max-udp-peers"),
                          QStringLiteral("UDP peers tracked at once; datagrams from new ones "
                                         "beyond it are dropped and logged as refused "
                                         "(default %1).")
                              .arg(ServerConfig::kDefaultMaxUdpPeers),
                          QStringLiteral("n"))
    , m_logFormatOption(QStringLiteral("log-format"),
                        QStringLiteral("Event lines as text or json, one object per line "
                                       "(default text)."),
                        QStringLiteral("text|json"))
    , m_logFileOption(QStringLiteral("log-file"),
                      QStringLiteral("Append the events to this file instead of standard output; "
                                     "the listening line goes to standard output too."),
                      QStringLiteral("path"))
    , m_verboseOption(QStringLiteral("verbose"),
                      QStringLiteral("Also show each message (the first %1 per second per client, "
                                     "then a summary per second) and the open-file limit.")
                          .arg(HeadlessOptions::kVerboseMessageEventsPerSecond))
    , m_metricsPortOption(QStringLiteral("metrics-port"),
                          QStringLiteral("Serve Prometheus metrics at http://ADDRESS:PORT/metrics; "
                                         "0 picks a free port (default: no metrics endpoint, "
                                         "or what the dashboard's preferences say)."),
                          QStringLiteral("port"))
    , m_metricsAddressOption(QStringLiteral("metrics-address"),
                             QStringLiteral("Address of the metrics endpoint, in the words of "
                                            "--bind (default 127.0.0.1)."),
                             QStringLiteral("address"))
    , m_recordOption(QStringLiteral("record"),
                     QStringLiteral("Write each client's traffic and events to a recording in "
                                    "this directory (made if missing) when it disconnects, one "
                                    "file per client, for \"echoscope replay\"."),
                     QStringLiteral("dir"))
    , m_recordLimitOption(QStringLiteral("record-limit"),
                          QStringLiteral("Bytes recorded per client, both ways together, with K "
                                         "or M; past it the rest is not recorded and the log "
                                         "says so (default %1, at most %2).")
                              .arg(defaultSizeText(HeadlessOptions().recordLimitBytes),
                                   defaultSizeText(ServerConfig::kMaxCaptureBytesPerClient)),
                          QStringLiteral("bytes"))
    , m_recordTotalOption(QStringLiteral("record-total"),
                          QStringLiteral("Stop writing recordings once those of this run reach "
                                         "this size, with K or M (default %1).")
                              .arg(defaultSizeText(HeadlessOptions().recordTotalBytes)),
                          QStringLiteral("bytes"))
    , m_startOption(QStringLiteral("start"),
                    QStringLiteral("Open the dashboard already listening (a failure to listen is "
                                   "shown in the window)."))
    , m_screenshotOption(QStringLiteral("screenshot"),
                         QStringLiteral("Render the dashboard to this PNG file once it has "
                                        "started, then exit (status 0, or 4 if the file cannot "
                                        "be written)."),
                         QStringLiteral("file"))
    , m_screenshotDelayOption(QStringLiteral("screenshot-delay"),
                              QStringLiteral("Milliseconds to wait before --screenshot renders "
                                             "(default %1).")
                                  .arg(HeadlessOptions::kDefaultScreenshotDelayMs),
                              QStringLiteral("ms"))
{
    m_parser.setApplicationDescription(
        QStringLiteral("Echoscope, an echo server you can watch.\n"
                       "Without --headless it opens the dashboard; the engine options below "
                       "override the settings it remembers. With --headless it listens, prints "
                       "\"listening on ADDRESS:PORT\" when ready, then one line per event.\n"
                       "Exit status: 0 after SIGINT or SIGTERM or when the window closes, 2 for "
                       "bad arguments or an unusable log file, 3 when it cannot listen "
                       "(headless), 4 when --screenshot cannot write its file."));
    // Fault injection: the faults for all clients (see FaultConfig), headless or not.
    m_faultOptions = {
        QCommandLineOption(QStringLiteral("fault-delay"),
                           QStringLiteral("Fault: hold each echo this many milliseconds, "
                                          "optionally plus or minus a jitter, e.g. 200:50 "
                                          "(at most %1).")
                               .arg(FaultConfig::kMaxDelayMs),
                           QStringLiteral("ms[:jitter]")),
        QCommandLineOption(QStringLiteral("fault-bandwidth"),
                           QStringLiteral("Fault: echo at most this many bytes per second per "
                                          "client, with K, M, G (1024-based), e.g. 10K."),
                           QStringLiteral("bytes")),
        QCommandLineOption(QStringLiteral("fault-slice"),
                           QStringLiteral("Fault: write the echo in pieces of at most this many "
                                          "bytes, optionally this many ms apart, e.g. 16:5."),
                           QStringLiteral("bytes[:gap]")),
        QCommandLineOption(QStringLiteral("fault-close-after"),
                           QStringLiteral("Fault: close the connection (FIN) once this many "
                                          "bytes were echoed; 0 closes at once."),
                           QStringLiteral("bytes")),
        QCommandLineOption(QStringLiteral("fault-reset-after"),
                           QStringLiteral("Fault: reset the connection (RST) once this many "
                                          "bytes were echoed; 0 resets at once."),
                           QStringLiteral("bytes")),
        QCommandLineOption(QStringLiteral("fault-reset-probability"),
                           QStringLiteral("Fault: reset the connection instead of echoing a "
                                          "message with this probability, 0 to 1 or 0% to "
                                          "100%."),
                           QStringLiteral("p")),
        QCommandLineOption(QStringLiteral("fault-stop-reading"),
                           QStringLiteral("Fault: read nothing from the clients (a stuck peer): "
                                          "their writes block once the buffers are full.")),
        QCommandLineOption(QStringLiteral("fault-seed"),
                           QStringLiteral("Seed for the faults' random draws (jitter, reset "
                                          "probability), to repeat a run (default: random)."),
                           QStringLiteral("n")),
    };
    m_parser.addOptions({m_headlessOption,       m_bindOption,
                         m_portOption,           m_framingOption,
                         m_delimiterOption,      m_lengthBytesOption,
                         m_maxMessageSizeOption, m_maxClientsOption,
                         m_idleTimeoutOption,    m_threadsOption,
                         m_allowOption,          m_denyOption,
                         m_tlsCertOption,        m_tlsKeyOption,
                         m_tlsMinVersionOption,  m_tlsHandshakeTimeoutOption,
                         m_udpPortOption,        m_udpIdleTimeoutOption,
                         m_maxUdpPeersOption,    m_logFormatOption,
                         m_logFileOption,        m_verboseOption,
                         m_metricsPortOption,    m_metricsAddressOption,
                         m_startOption,          m_screenshotOption,
                         m_screenshotDelayOption});
    m_parser.addOptions(m_faultOptions);
    m_parser.addOptions({m_recordOption, m_recordLimitOption, m_recordTotalOption});
}

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
    if (m_parser.isSet(m_helpOption))
        return Action::ShowHelp;
    if (m_parser.isSet(QStringLiteral("help-all")))
        return Action::ShowHelpAll;
    if (m_parser.isSet(m_versionOption))
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

bool CommandLine::fail(const QCommandLineOption &option, const QString &value,
                       const QString &reason)
{
    m_errorText =
        QStringLiteral("--%1 \"%2\": %3")
            .arg(option.names().constLast(), terminalSafe(value), terminalSafe(asClause(reason)));
    return false;
}

// Options are applied in an order where each one is checked against the ones before it
// (the size limit before the framing that must fit in it), so the first setting the
// engine rejects is the option to name.
bool CommandLine::checkConfig(const QCommandLineOption &option, const QString &value)
{
    const QString invalid = m_options.config.validate();
    return invalid.isEmpty() || fail(option, value, invalid);
}

// Every value of a repeatable --allow/--deny, each a comma-separated list of networks.
bool CommandLine::applyNetworks(const QCommandLineOption &option,
                                QList<QPair<QHostAddress, int>> *networks)
{
    networks->clear();
    const QStringList values = m_parser.values(option);
    for (const QString &value : values) {
        QString error;
        if (!NetworkFilter::parseList(value, networks, &error))
            return fail(option, value, error);
    }
    return checkConfig(option, values.join(QLatin1Char(',')));
}

bool CommandLine::applyOptions()
{
    ServerConfig &config = m_options.config;
    QString error;

    m_headless = m_parser.isSet(m_headlessOption);
    m_options.verbose = m_parser.isSet(m_verboseOption);
    config.messageEventsPerSecond =
        m_options.verbose ? HeadlessOptions::kVerboseMessageEventsPerSecond : 0;

    if (m_parser.isSet(m_bindOption)) {
        const QString value = m_parser.value(m_bindOption);
        config.bindAddress = value;
        if (!checkConfig(m_bindOption, value))
            return false;
    }

    if (m_parser.isSet(m_portOption)) {
        const QString value = m_parser.value(m_portOption);
        qint64 port = 0;
        if (!parseWholeNumber(value, kMaxPort, &port))
            return fail(m_portOption, value,
                        QStringLiteral("expected a port number from 0 (any free port) to %1")
                            .arg(kMaxPort));
        config.port = quint16(port);
    }

    if (m_parser.isSet(m_maxMessageSizeOption)) {
        const QString value = m_parser.value(m_maxMessageSizeOption);
        if (!parseByteSize(value, &config.maxMessageBytes))
            return fail(m_maxMessageSizeOption, value,
                        QStringLiteral("expected a size in bytes, optionally with K, KiB, M or "
                                       "MiB (1024-based), e.g. 5120 or 5K"));
        if (!checkConfig(m_maxMessageSizeOption, value))
            return false;
    }

    if (m_parser.isSet(m_framingOption)) {
        const QString value = m_parser.value(m_framingOption);
        if (!FramingConfig::parseMode(value, &config.framing, &error))
            return fail(m_framingOption, value, error);
        if (!checkConfig(m_framingOption, value))
            return false;
    }

    if (m_parser.isSet(m_delimiterOption)) {
        const QString value = m_parser.value(m_delimiterOption);
        if (!FramingConfig::parseDelimiter(value, &config.framing.delimiter, &error))
            return fail(m_delimiterOption, value, error);
        FramingConfig asLine = config.framing; // checked as if line mode, whatever the mode
        asLine.mode = FramingMode::Line;
        const QString invalid = asLine.validate(config.maxMessageBytes);
        if (!invalid.isEmpty())
            return fail(m_delimiterOption, value, invalid);
        if (config.framing.mode != FramingMode::Line)
            m_warnings.append(QStringLiteral("--delimiter has no effect with --framing %1")
                                  .arg(config.framing.modeString()));
    }

    if (m_parser.isSet(m_lengthBytesOption)) {
        const QString value = m_parser.value(m_lengthBytesOption);
        if (value != QLatin1String("2") && value != QLatin1String("4"))
            return fail(m_lengthBytesOption, value,
                        QStringLiteral("expected 2 or 4 (bytes in the length header)"));
        config.framing.lengthBytes = value.toInt();
        if (config.framing.mode != FramingMode::Length)
            m_warnings.append(QStringLiteral("--length-bytes has no effect with --framing %1")
                                  .arg(config.framing.modeString()));
    }

    if (m_parser.isSet(m_maxClientsOption)) {
        const QString value = m_parser.value(m_maxClientsOption);
        qint64 clients = 0;
        if (!parseWholeNumber(value, kMaxInt, &clients))
            return fail(m_maxClientsOption, value,
                        QStringLiteral("expected a whole number of clients, at least 1"));
        config.maxClients = int(clients);
        if (!checkConfig(m_maxClientsOption, value))
            return false;
    }

    if (m_parser.isSet(m_idleTimeoutOption)) {
        const QString value = m_parser.value(m_idleTimeoutOption);
        qint64 milliseconds = 0;
        if (!parseSeconds(value, &milliseconds))
            return fail(m_idleTimeoutOption, value,
                        QStringLiteral("expected seconds, fractions allowed (e.g. 0.5), at most "
                                       "%1; 0 turns the timeout off")
                            .arg(kMaxInt / 1000));
        if (milliseconds == 0 && QLocale::c().toDouble(value) > 0)
            return fail(m_idleTimeoutOption, value,
                        QStringLiteral("the shortest idle timeout is 0.001 seconds; 0 turns it "
                                       "off"));
        config.idleTimeoutMs = int(milliseconds);
        if (!checkConfig(m_idleTimeoutOption, value))
            return false;
    }

    if (m_parser.isSet(m_threadsOption)) {
        const QString value = m_parser.value(m_threadsOption);
        qint64 threads = 0;
        if (!parseWholeNumber(value, kMaxInt, &threads))
            return fail(m_threadsOption, value,
                        QStringLiteral("expected a whole number of threads, 0 for one per core"));
        config.threads = int(threads);
        if (!checkConfig(m_threadsOption, value))
            return false;
    }

    if (m_parser.isSet(m_allowOption) && !applyNetworks(m_allowOption, &config.allowNetworks))
        return false;
    if (m_parser.isSet(m_denyOption) && !applyNetworks(m_denyOption, &config.denyNetworks))
        return false;
    if (!applyTls())
        return false;
    if (!applyUdpOptions())
        return false;
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

    if (m_parser.isSet(m_logFormatOption)) {
        const QString value = m_parser.value(m_logFormatOption);
        if (value.compare(QLatin1String("text"), Qt::CaseInsensitive) == 0)
            m_options.logFormat = HeadlessOptions::LogFormat::Text;
        else if (value.compare(QLatin1String("json"), Qt::CaseInsensitive) == 0)
            m_options.logFormat = HeadlessOptions::LogFormat::Json;
        else
            return fail(m_logFormatOption, value, QStringLiteral("expected text or json"));
    }

    if (m_parser.isSet(m_logFileOption)) {
        const QString value = m_parser.value(m_logFileOption);
        if (value.isEmpty())
            return fail(m_logFileOption, value, QStringLiteral("expected the path of a file"));
        m_options.logFilePath = value;
    }

    if (!applyMetricsOptions())
        return false;
    if (!applyFaults())
        return false;
    if (m_parser.isSet(m_recordOption)) {
        const QString value = m_parser.value(m_recordOption);
        if (value.isEmpty())
            return fail(m_recordOption, value, QStringLiteral("expected the path of a directory"));
        m_options.recordDirectory = value;
    }
    if (m_parser.isSet(m_recordLimitOption)) {
        const QString value = m_parser.value(m_recordLimitOption);
        qint64 bytes = 0;
        if (!parseByteSize(value, &bytes) || bytes < 1 ||
            bytes > ServerConfig::kMaxCaptureBytesPerClient)
            return fail(m_recordLimitOption, value,
                        QStringLiteral("expected a size from 1 byte to %1, with K or M, e.g. 256K")
                            .arg(defaultSizeText(ServerConfig::kMaxCaptureBytesPerClient)));
        m_options.recordLimitBytes = bytes;
    }
    if (m_parser.isSet(m_recordTotalOption)) {
        const QString value = m_parser.value(m_recordTotalOption);
        qint64 bytes = 0;
        if (!parseByteSize(value, &bytes) || bytes < 1)
            return fail(m_recordTotalOption, value,
                        QStringLiteral("expected a size of at least 1 byte, with K or M, e.g. "
                                       "100M"));
        m_options.recordTotalBytes = bytes;
    }
    for (const QCommandLineOption *option : {&m_recordLimitOption, &m_recordTotalOption}) {
        if (m_parser.isSet(*option) && !m_parser.isSet(m_recordOption))
            m_warnings.append(QStringLiteral("--%1 has no effect without --record")
                                  .arg(option->names().constLast()));
    }

    m_options.start = m_parser.isSet(m_startOption);
    if (m_parser.isSet(m_screenshotOption)) {
        const QString value = m_parser.value(m_screenshotOption);
        if (value.isEmpty())
            return fail(m_screenshotOption, value,
                        QStringLiteral("expected the path of a PNG file"));
        m_options.screenshotPath = value;
    }
    if (m_parser.isSet(m_screenshotDelayOption)) {
        const QString value = m_parser.value(m_screenshotDelayOption);
        qint64 delayMs = 0;
        if (!parseWholeNumber(value, 600000, &delayMs))
            return fail(m_screenshotDelayOption, value,
                        QStringLiteral("expected milliseconds from 0 to 600000"));
        m_options.screenshotDelayMs = int(delayMs);
        if (!m_parser.isSet(m_screenshotOption))
            m_warnings.append(
                QStringLiteral("--screenshot-delay has no effect without --screenshot"));
    }
    if (m_headless) {
        for (const QCommandLineOption *option :
             {&m_startOption, &m_screenshotOption, &m_screenshotDelayOption}) {
            if (m_parser.isSet(*option))
                m_warnings.append(QStringLiteral("--%1 has no effect with --headless")
                                      .arg(option->names().constLast()));
        }
    } else {
        for (const QCommandLineOption *option :
             {&m_logFormatOption, &m_logFileOption, &m_verboseOption}) {
            if (m_parser.isSet(*option))
                m_warnings.append(QStringLiteral("--%1 has no effect without --headless "
                                                 "(the dashboard shows the events)")
                                      .arg(option->names().constLast()));
        }
    }

    if (!m_headless && m_parser.isSet(m_recordOption))
        m_warnings.append(QStringLiteral("--record has no effect without --headless (in the "
                                         "dashboard, Export recording in the client inspector "
                                         "saves one client)"));

    // Each option was checked as it was applied; this catches what none of them owns.
    const QString invalid = config.validate();
    if (!invalid.isEmpty()) {
        m_errorText = terminalSafe(asClause(invalid));
        return false;
    }
    return true;
}

bool CommandLine::applyMetricsOptions()
{
    if (m_parser.isSet(m_metricsPortOption)) {
        const QString value = m_parser.value(m_metricsPortOption);
        qint64 port = 0;
        if (!parseWholeNumber(value, kMaxPort, &port))
            return fail(m_metricsPortOption, value,
                        QStringLiteral("expected a port number from 0 (any free port) to %1")
                            .arg(kMaxPort));
        m_options.metricsPort = int(port);
    }
    if (m_parser.isSet(m_metricsAddressOption)) {
        const QString value = m_parser.value(m_metricsAddressOption);
        QHostAddress address;
        QString error;
        if (!ServerConfig::resolveBindAddress(value, &address, &error))
            return fail(m_metricsAddressOption, value, error);
        m_options.metricsAddress = value.trimmed();
        if (!m_parser.isSet(m_metricsPortOption))
            m_warnings.append(
                QStringLiteral("--metrics-address has no effect without --metrics-port"));
    }
    return true;
}

// The --fault-* options, in the order of m_faultOptions; each refused value names its
// option, and the whole is checked as the engine will check it.
bool CommandLine::applyFaults()
{
    using Parse = bool (FaultConfig::*)(QStringView, QString *);
    static const Parse kParsers[] = {
        &FaultConfig::parseDelay,
        &FaultConfig::parseBandwidth,
        &FaultConfig::parseSlice,
        &FaultConfig::parseCloseAfter,
        &FaultConfig::parseResetAfter,
        &FaultConfig::parseProbability,
        nullptr, // --fault-stop-reading takes no value
        &FaultConfig::parseSeed,
    };
    FaultConfig &faults = m_options.faults;
    for (qsizetype i = 0; i < m_faultOptions.size(); ++i) {
        const QCommandLineOption &option = m_faultOptions.at(i);
        if (!m_parser.isSet(option))
            continue;
        if (!kParsers[i]) {
            faults.stopReading = true;
            continue;
        }
        const QString value = m_parser.value(option);
        QString error;
        if (!(faults.*kParsers[i])(value, &error))
            return fail(option, value, error);
        const QString invalid = faults.validate();
        if (!invalid.isEmpty())
            return fail(option, value, invalid);
    }
    if (faults.isEmpty() && faults.seed != 0)
        m_warnings.append(QStringLiteral("--fault-seed has no effect without a --fault option"));
    return true;
}

// The TLS files are read and checked here, so that a bad one is refused as the option
// that named it (exit status 2) rather than as a failure to listen.
bool CommandLine::applyTls()
{
    ServerConfig &config = m_options.config;
    const QCommandLineOption *options[] = {&m_tlsCertOption, &m_tlsKeyOption};
    QString *files[] = {&config.tlsCertificateFile, &config.tlsKeyFile};
    for (int i = 0; i < 2; ++i) {
        if (!m_parser.isSet(*options[i]))
            continue;
        const QString value = m_parser.value(*options[i]);
        if (value.isEmpty())
            return fail(*options[i], value, QStringLiteral("expected the path of a file"));
        *files[i] = value;
    }
    if (m_parser.isSet(m_tlsCertOption) && !m_parser.isSet(m_tlsKeyOption))
        return fail(m_tlsCertOption, config.tlsCertificateFile,
                    QStringLiteral("TLS needs the certificate's private key too: add --tls-key "
                                   "FILE"));
    if (m_parser.isSet(m_tlsKeyOption) && !m_parser.isSet(m_tlsCertOption))
        return fail(m_tlsKeyOption, config.tlsKeyFile,
                    QStringLiteral("TLS needs the certificate too: add --tls-cert FILE"));

    if (m_parser.isSet(m_tlsMinVersionOption)) {
        const QString value = m_parser.value(m_tlsMinVersionOption);
        if (!ServerConfig::parseTlsVersion(value, &config.tlsMinimumVersion))
            return fail(m_tlsMinVersionOption, value, QStringLiteral("expected 1.2 or 1.3"));
    }
    if (m_parser.isSet(m_tlsHandshakeTimeoutOption)) {
        const QString value = m_parser.value(m_tlsHandshakeTimeoutOption);
        qint64 milliseconds = 0;
        if (!parseSeconds(value, &milliseconds) || milliseconds < 1)
            return fail(
                m_tlsHandshakeTimeoutOption, value,
                QStringLiteral("expected seconds, at least 0.001, at most %1").arg(kMaxInt / 1000));
        config.tlsHandshakeTimeoutMs = int(milliseconds);
    }
    if (!config.isTls()) {
        for (const QCommandLineOption *option :
             {&m_tlsMinVersionOption, &m_tlsHandshakeTimeoutOption}) {
            if (m_parser.isSet(*option))
                m_warnings.append(QStringLiteral("--%1 has no effect without --tls-cert")
                                      .arg(option->names().constLast()));
        }
        return true;
    }
    if (!checkConfig(m_tlsCertOption, config.tlsCertificateFile))
        return false;

    TlsCredentials credentials;
    TlsCredentials::Problem problem = TlsCredentials::Problem::None;
    const QString error =
        TlsCredentials::load(config.tlsCertificateFile, config.tlsKeyFile, &credentials, &problem);
    if (error.isEmpty())
        return true;
    if (problem == TlsCredentials::Problem::Key || problem == TlsCredentials::Problem::Mismatch)
        return fail(m_tlsKeyOption, config.tlsKeyFile, error);
    return fail(m_tlsCertOption, config.tlsCertificateFile, error);
}

bool CommandLine::applyUdpOptions()
{
    ServerConfig &config = m_options.config;
    if (m_parser.isSet(m_udpPortOption)) {
        const QString value = m_parser.value(m_udpPortOption);
        qint64 port = 0;
        if (value.compare(QLatin1String("off"), Qt::CaseInsensitive) == 0) {
            config.udpEcho = false;
        } else if (parseWholeNumber(value, kMaxPort, &port)) {
            config.udpEcho = true;
            config.udpPort = quint16(port);
        } else {
            return fail(m_udpPortOption, value,
                        QStringLiteral("expected a port number from 0 (any free port) to %1, or "
                                       "off")
                            .arg(kMaxPort));
        }
    }
    if (m_parser.isSet(m_udpIdleTimeoutOption)) {
        const QString value = m_parser.value(m_udpIdleTimeoutOption);
        qint64 milliseconds = 0;
        if (!parseSeconds(value, &milliseconds) || milliseconds < 1 ||
            milliseconds > ServerConfig::kMaxUdpIdleTimeoutMs)
            return fail(m_udpIdleTimeoutOption, value,
                        QStringLiteral("expected seconds from 0.001 to %1, fractions allowed "
                                       "(e.g. 0.5)")
                            .arg(ServerConfig::kMaxUdpIdleTimeoutMs / 1000));
        config.udpIdleTimeoutMs = int(milliseconds);
        if (!checkConfig(m_udpIdleTimeoutOption, value))
            return false;
    }
    if (m_parser.isSet(m_maxUdpPeersOption)) {
        const QString value = m_parser.value(m_maxUdpPeersOption);
        qint64 peers = 0;
        if (!parseWholeNumber(value, kMaxInt, &peers) || peers < 1)
            return fail(m_maxUdpPeersOption, value,
                        QStringLiteral("expected a whole number of UDP peers, at least 1"));
        config.maxUdpPeers = int(peers);
        if (!checkConfig(m_maxUdpPeersOption, value))
            return false;
    }
    if (m_headless && !config.udpEcho) {
        for (const QCommandLineOption *option : {&m_udpIdleTimeoutOption, &m_maxUdpPeersOption}) {
            if (m_parser.isSet(*option))
                m_warnings.append(QStringLiteral("--%1 has no effect without --udp-port")
                                      .arg(option->names().constLast()));
        }
    }
    return true;
}

void CommandLine::overrideConfig(ServerConfig *config) const
{
    const ServerConfig &given = m_options.config;
    if (m_parser.isSet(m_bindOption))
        config->bindAddress = given.bindAddress;
    if (m_parser.isSet(m_portOption))
        config->port = given.port;
    if (m_parser.isSet(m_framingOption)) {
        config->framing.mode = given.framing.mode;
        config->framing.fixedBytes = given.framing.fixedBytes;
    }
    if (m_parser.isSet(m_delimiterOption))
        config->framing.delimiter = given.framing.delimiter;
    if (m_parser.isSet(m_lengthBytesOption))
        config->framing.lengthBytes = given.framing.lengthBytes;
    if (m_parser.isSet(m_maxMessageSizeOption))
        config->maxMessageBytes = given.maxMessageBytes;
    if (m_parser.isSet(m_maxClientsOption))
        config->maxClients = given.maxClients;
    if (m_parser.isSet(m_idleTimeoutOption))
        config->idleTimeoutMs = given.idleTimeoutMs;
    if (m_parser.isSet(m_threadsOption))
        config->threads = given.threads;
    if (m_parser.isSet(m_allowOption))
        config->allowNetworks = given.allowNetworks;
    if (m_parser.isSet(m_denyOption))
        config->denyNetworks = given.denyNetworks;
    if (m_parser.isSet(m_tlsCertOption) || m_parser.isSet(m_tlsKeyOption)) {
        config->tlsCertificateFile = given.tlsCertificateFile;
        config->tlsKeyFile = given.tlsKeyFile;
    }
    if (m_parser.isSet(m_tlsMinVersionOption))
        config->tlsMinimumVersion = given.tlsMinimumVersion;
    if (m_parser.isSet(m_tlsHandshakeTimeoutOption))
        config->tlsHandshakeTimeoutMs = given.tlsHandshakeTimeoutMs;
    if (m_parser.isSet(m_udpPortOption)) {
        config->udpEcho = given.udpEcho;
        if (given.udpEcho)
            config->udpPort = given.udpPort;
    }
    if (m_parser.isSet(m_udpIdleTimeoutOption))
        config->udpIdleTimeoutMs = given.udpIdleTimeoutMs;
    if (m_parser.isSet(m_maxUdpPeersOption))
        config->maxUdpPeers = given.maxUdpPeers;
}

} // namespace Echoscope
