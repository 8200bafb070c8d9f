// Recordings: the file format written and read back, every error the reader reports,
// and `echoscope replay` (the real binary) against a real EchoServer and against echo
// servers that get it wrong.

#include "capturebuffer.h"
#include "clientstats.h"
#include "echotestsupport.h"
#include "recording.h"
#include "replayer.h"
#include "serverconfig.h"
#include "trafficevent.h"
#include "websocketlog.h"

#include <QBuffer>
#include <QDir>
#include <QRegularExpression>
#include <QWebSocket>
#include <QWebSocketServer>
#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace Echoscope;
using EchoTest::kTimeoutMs;
using Direction = CaptureChunk::Direction;

namespace {

constexpr qint64 kT0 = 1718115753000; // 2024-06-11T14:22:33Z

// A client of 11 bytes in, 11 out, a half-close and three events.
Recording sampleRecording()
{
    ClientStats stats(7, QHostAddress(QStringLiteral("::1")), 4242, kT0, 4096);
    CaptureBuffer *capture = stats.capture();
    capture->append(Direction::Received, "hello ", 6, kT0 + 10);
    capture->append(Direction::Echoed, "hello ", 6, kT0 + 11);
    capture->append(Direction::Received, "world", 5, kT0 + 250);
    capture->append(Direction::Echoed, "world", 5, kT0 + 251);
    capture->markReceivedEnd(kT0 + 300);

    QList<TrafficEvent> events;
    TrafficEvent connected;
    connected.kind = TrafficEvent::Kind::Connected;
    connected.timestampMs = kT0;
    connected.clientId = 7;
    connected.address = stats.peerAddress();
    connected.port = 4242;
    events.append(connected);
    TrafficEvent other = connected; // another client's: left out
    other.clientId = 8;
    events.append(other);
    TrafficEvent disconnected = connected;
    disconnected.kind = TrafficEvent::Kind::Disconnected;
    disconnected.timestampMs = kT0 + 301;
    disconnected.disconnect.bytesIn = 11;
    disconnected.disconnect.bytesOut = 11;
    events.append(disconnected);

    ServerConfig config;
    config.framing.mode = FramingMode::Line;
    config.framing.delimiter = QByteArrayLiteral("\r\n");
    return Recording::fromClient(stats, events, config, kT0 + 400);
}

QByteArray written(const Recording &recording)
{
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    QString error;
    if (!recording.write(&buffer, &error))
        qWarning() << error;
    return buffer.data();
}

bool readBack(const QByteArray &bytes, Recording *recording, QString *error)
{
    QBuffer buffer;
    buffer.setData(bytes);
    buffer.open(QIODevice::ReadOnly);
    return Recording::read(&buffer, QStringLiteral("rec.jsonl"), recording, error);
}

// A WebSocket recording as version 1 wrote it: no empty chunk (an empty message was not
// kept), the same bytes.
QByteArray versionOne(const QByteArray &file)
{
    QByteArrayList lines = file.split('\n');
    lines.removeIf([](const QByteArray &line) { return line.contains(R"("data":"")"); });
    return lines.join('\n').replace(R"("version":2)", R"("version":1)");
}

QByteArray header(const QByteArray &in = R"({"start_offset":0,"end_offset":3,"total_bytes":3})",
                  const QByteArray &out = R"({"start_offset":0,"end_offset":0,"total_bytes":0})")
{
    return R"({"format":"echoscope-recording","version":1,"peer":"127.0.0.1","peer_port":5,)"
           R"("connected_at":"2024-06-11T14:22:33.000Z","in":)" +
           in + R"(,"out":)" + out + "}\n";
}

QByteArray chunk(const char *dir, qint64 offset, const QByteArray &data)
{
    return QByteArrayLiteral(R"({"time":"2024-06-11T14:22:33.100Z","dir":")") + dir +
           R"(","offset":)" + QByteArray::number(offset) + R"(,"data":")" + data.toBase64() +
           "\"}\n";
}

// An echo server that gets it wrong: flips one byte of the echo, or echoes only the
// first bytes and closes.
class BrokenEchoServer : public QTcpServer
{
public:
    enum class Fault { FlipByte, Truncate };
    BrokenEchoServer(Fault fault, qint64 offset) : m_fault(fault), m_offset(offset)
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = nextPendingConnection()) {
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
                connect(socket, &QTcpSocket::readyRead, socket, [this, socket] { echo(socket); });
            }
        });
    }

private:
    void echo(QTcpSocket *socket)
    {
        QByteArray bytes = socket->readAll();
        const qint64 start = m_echoed;
        m_echoed += bytes.size();
        if (m_fault == Fault::FlipByte) {
            if (m_offset >= start && m_offset < m_echoed) {
                char &byte = bytes[qsizetype(m_offset - start)];
                byte = char(byte ^ 0x20);
            }
        } else {
            // Reads on (and closes when the client half-closes), echoes no more.
            bytes = bytes.left(qsizetype(qMax<qint64>(0, m_offset - start)));
        }
        socket->write(bytes);
        socket->flush(); // before the client's half-close closes the socket
    }

    const Fault m_fault;
    const qint64 m_offset;
    qint64 m_echoed = 0;
};

// A WebSocket echo server that gets it wrong for one message: flips its byte at
// `offset` (or its last byte, if shorter), or sends it back as the other kind.
class BrokenWebSocketEcho : public QObject
{
public:
    enum class Fault { FlipByte, OtherKind };
    BrokenWebSocketEcho(Fault fault, int message, qint64 offset)
        : m_server(QStringLiteral("broken"), QWebSocketServer::NonSecureMode)
        , m_fault(fault)
        , m_message(message)
        , m_offset(offset)
    {
        connect(&m_server, &QWebSocketServer::newConnection, this, [this] {
            while (QWebSocket *socket = m_server.nextPendingConnection()) {
                connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
                connect(socket, &QWebSocket::textMessageReceived, socket,
                        [this, socket](const QString &text) { echo(socket, text.toUtf8(), true); });
                connect(socket, &QWebSocket::binaryMessageReceived, socket,
                        [this, socket](const QByteArray &data) { echo(socket, data, false); });
            }
        });
    }
    quint16 listen()
    {
        return m_server.listen(QHostAddress::LocalHost, 0) ? m_server.serverPort() : 0;
    }

private:
    void echo(QWebSocket *socket, QByteArray data, bool text)
    {
        if (m_seen++ == m_message) {
            if (m_fault == Fault::OtherKind)
                text = !text;
            else if (!data.isEmpty())
                data[qsizetype(std::min<qint64>(m_offset, data.size() - 1))] ^= 0x20;
        }
        if (text)
            socket->sendTextMessage(QString::fromUtf8(data));
        else
            socket->sendBinaryMessage(data);
    }

    QWebSocketServer m_server;
    const Fault m_fault;
    const int m_message;
    const qint64 m_offset;
    int m_seen = 0;
};

// `echoscope --headless --record DIR --port 0 --ws-port 0`, its output gathered as it
// comes; killed when it goes.
class RecordingServer
{
public:
    explicit RecordingServer(const QString &directory)
    {
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput, &m_process,
                         [this] { m_output += m_process.readAllStandardOutput(); });
        m_process.start(QStringLiteral(ECHOSCOPE_BINARY),
                        {QStringLiteral("--headless"), QStringLiteral("--port"),
                         QStringLiteral("0"), QStringLiteral("--ws-port"), QStringLiteral("0"),
                         QStringLiteral("--threads"), QStringLiteral("1"),
                         QStringLiteral("--record"), directory});
    }
    ~RecordingServer()
    {
        m_process.kill();
        m_process.waitForFinished(kTimeoutMs);
    }
    // The WebSocket port from "listening for WebSocket on 127.0.0.1:PORT (...)"; 0: none.
    quint16 webSocketPort()
    {
        static const QRegularExpression pattern(
            QStringLiteral("listening for WebSocket on 127\\.0\\.0\\.1:(\\d+) "));
        QRegularExpressionMatch match;
        const bool ended = QTest::qWaitFor(
            [&] {
                match = pattern.match(QString::fromUtf8(m_output));
                return match.hasMatch() || m_process.state() == QProcess::NotRunning;
            },
            kTimeoutMs);
        return ended && match.hasMatch() ? quint16(match.captured(1).toUInt()) : 0;
    }

private:
    QProcess m_process;
    QByteArray m_output;
};

// The only recording in `directory` once it is written (bounded wait); empty if none.
QString waitForRecording(const QString &directory)
{
    QString path;
    const bool found = QTest::qWaitFor(
        [&] {
            const QStringList files = QDir(directory).entryList({QStringLiteral("*.jsonl")});
            if (files.size() == 1)
                path = QDir(directory).filePath(files.constFirst());
            return !path.isEmpty();
        },
        kTimeoutMs);
    return found ? path : QString();
}

ServerConfig webSocketConfig()
{
    ServerConfig config = EchoTest::testConfig(1);
    config.webSocketEcho = true;
    config.webSocketPort = 0;
    return config;
}

struct ProcessResult
{
    int exitCode = -1;
    QByteArray output;
    QByteArray errorOutput;
};

// Runs the echoscope binary while this process's event loop keeps serving.
ProcessResult runEchoscope(const QStringList &arguments)
{
    QProcess process;
    process.start(QStringLiteral(ECHOSCOPE_BINARY), arguments);
    ProcessResult result;
    if (!QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, kTimeoutMs * 2)) {
        process.kill();
        process.waitForFinished(kTimeoutMs);
        return result;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.output = process.readAllStandardOutput();
    result.errorOutput = process.readAllStandardError();
    return result;
}

QJsonObject jsonResult(const ProcessResult &result)
{
    return QJsonDocument::fromJson(result.output.trimmed()).object();
}

} // namespace

class tst_Recording : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void roundTrip();
    void splitsLargeChunksIntoLines();
    void ringThatWrappedSaysWhatIsMissing();
    void keepFirstCaptureStopsAtTheLimit();
    void readerErrors_data();
    void readerErrors();
    void loadNamesTheFile();
    void replayMatchesEchoscope();
    void replayHonoursTiming();
    void replayFindsFaults_data();
    void replayFindsFaults();
    void replayWithoutServer();
    void webSocketRecordingKeepsMessages();
    void webSocketPartialMessageIsMissing();
    void webSocketRecordAndReplay();
    void webSocketReplayHonoursTiming();
    void webSocketReplayFindsFaults_data();
    void webSocketReplayFindsFaults();
    void webSocketReplayServerCloses();
    void webSocketReplayConnectionErrors();
    void webSocketRecordingOfPythonClient();

private:
    // A real client against a real server: chunks with gaps, then a half-close.
    Recording recordRealClient(const QList<QByteArray> &chunks, int gapMs);
    // A QWebSocket client of `echoscope --record` (text, binary, empty, fragmented, 200 KiB):
    // the recording's path, empty on failure. *sent: its messages, in order.
    QString recordWebSocketClient(const QString &name, QList<QPair<QByteArray, bool>> *sent);
    QTemporaryDir m_dir;
};

void tst_Recording::initTestCase()
{
    QVERIFY(m_dir.isValid());
}

void tst_Recording::roundTrip()
{
    const Recording original = sampleRecording();
    QCOMPARE(original.events.size(), 3); // connected, half_closed, disconnected; not client 8
    QCOMPARE(original.halfClosedAtMs, kT0 + 300);
    QVERIFY(original.in.isComplete());
    QVERIFY(original.missingParts().isEmpty());

    const QByteArray bytes = written(original);
    const QList<QByteArray> lines = bytes.trimmed().split('\n');
    QCOMPARE(lines.size(), 1 + 4 + 3);
    const QJsonObject header = QJsonDocument::fromJson(lines.first()).object();
    QCOMPARE(header.value("format").toString(), QStringLiteral("echoscope-recording"));
    QCOMPARE(header.value("version").toInt(), 1);
    QCOMPARE(header.value("connected_at").toString(), QStringLiteral("2024-06-11T14:22:33.000Z"));
    // Events are the event log's own lines, in time order with the chunks.
    QCOMPARE(QJsonDocument::fromJson(lines.at(1)).object().value("event").toString(),
             QStringLiteral("connected"));
    const QJsonObject first = QJsonDocument::fromJson(lines.at(2)).object();
    QCOMPARE(first.value("dir").toString(), QStringLiteral("in"));
    QCOMPARE(first.value("time").toString(), QStringLiteral("2024-06-11T14:22:33.010Z"));
    QCOMPARE(QByteArray::fromBase64(first.value("data").toString().toLatin1()),
             QByteArray("hello "));
    QCOMPARE(QJsonDocument::fromJson(lines.at(6)).object().value("event").toString(),
             QStringLiteral("half_closed"));

    Recording read;
    QString error;
    QVERIFY2(readBack(bytes, &read, &error), qPrintable(error));
    QCOMPARE(read.clientId, 7u);
    QCOMPARE(read.peerAddress, QHostAddress(QStringLiteral("::1")));
    QCOMPARE(read.peerPort, 4242);
    QCOMPARE(read.connectedAtMs, kT0);
    QCOMPARE(read.recordedAtMs, kT0 + 400);
    QCOMPARE(read.framing.mode, FramingMode::Line);
    QCOMPARE(read.framing.delimiter, QByteArray("\r\n"));
    QCOMPARE(read.captureLimitBytes, 4096);
    QCOMPARE(read.halfClosedAtMs, kT0 + 300);
    QCOMPARE(read.in.totalBytes, 11);
    QCOMPARE(read.out.endOffset, 11);
    QCOMPARE(read.chunks.size(), 4);
    QCOMPARE(read.chunks.at(2).timestampMs, kT0 + 250);
    QCOMPARE(read.chunks.at(2).streamOffset, 6);
    QCOMPARE(read.streamBytes(Direction::Received), QByteArray("hello world"));
    QCOMPARE(read.streamBytes(Direction::Echoed), QByteArray("hello world"));
    QCOMPARE(read.events, original.events);
    QCOMPARE(written(read), bytes); // nothing lost on the way
}

void tst_Recording::splitsLargeChunksIntoLines()
{
    ClientStats stats(1, QHostAddress::LocalHost, 1000, kT0, 1024 * 1024);
    const QByteArray big = EchoTest::payload(3 * Recording::kMaxBytesPerLine + 17, 5);
    stats.capture()->append(Direction::Received, big.constData(), big.size(), kT0 + 1);
    const Recording recording = Recording::fromClient(stats, {}, ServerConfig(), kT0 + 2);
    const QByteArray bytes = written(recording);
    QCOMPARE(bytes.count('\n'), 1 + 4);
    for (const QByteArray &line : bytes.split('\n'))
        QVERIFY(line.size() < Recording::kMaxLineLength);
    Recording read;
    QString error;
    QVERIFY2(readBack(bytes, &read, &error), qPrintable(error));
    QCOMPARE(read.streamBytes(Direction::Received), big);
    QCOMPARE(read.chunks.at(3).streamOffset, 3 * Recording::kMaxBytesPerLine);
}

void tst_Recording::ringThatWrappedSaysWhatIsMissing()
{
    ClientStats stats(2, QHostAddress::LocalHost, 1000, kT0, 8);
    stats.capture()->append(Direction::Received, "0123456789", 10, kT0 + 1);
    const Recording recording = Recording::fromClient(stats, {}, ServerConfig(), kT0 + 2);
    QCOMPARE(recording.in.startOffset, 2);
    QCOMPARE(recording.in.endOffset, 10);
    QVERIFY(!recording.in.isComplete());
    QCOMPARE(recording.missingParts(),
             QStringList{QStringLiteral("in: bytes 0 to 1 (the capture ring wrapped)")});
    Recording read;
    QString error;
    QVERIFY2(readBack(written(recording), &read, &error), qPrintable(error));
    QCOMPARE(read.streamBytes(Direction::Received), QByteArray("23456789"));
    QCOMPARE(read.in.startOffset, 2);
}

void tst_Recording::keepFirstCaptureStopsAtTheLimit()
{
    ClientStats stats(3, QHostAddress::LocalHost, 1000, kT0, 9, IpProtocol::Tcp,
                      CaptureBuffer::Policy::KeepFirst);
    CaptureBuffer *capture = stats.capture();
    capture->append(Direction::Received, "01234", 5, kT0 + 1);
    capture->append(Direction::Echoed, "012", 3, kT0 + 2);
    capture->append(Direction::Echoed, "34", 2, kT0 + 3);   // 1 fits
    capture->append(Direction::Received, "56", 2, kT0 + 4); // nothing more, either way
    const CaptureSnapshot snapshot = capture->snapshot();
    QCOMPARE(snapshot.heldBytes, 9);
    QCOMPARE(snapshot.droppedBytes, 3);
    QCOMPARE(snapshot.limitReachedAtMs, kT0 + 3);
    QCOMPARE(snapshot.receivedBytes, 7);
    QCOMPARE(snapshot.echoedBytes, 5);

    const Recording recording = Recording::fromClient(stats, {}, ServerConfig(), kT0 + 5);
    QCOMPARE(recording.in.startOffset, 0);
    QCOMPARE(recording.in.endOffset, 5);
    QCOMPARE(recording.in.totalBytes, 7);
    QCOMPARE(recording.out.endOffset, 4);
    QCOMPARE(recording.missingParts(),
             (QStringList{QStringLiteral("in: bytes 5 to 6 (past the recording limit)"),
                          QStringLiteral("out: bytes 4 to 4 (past the recording limit)")}));
    Recording read;
    QString error;
    QVERIFY2(readBack(written(recording), &read, &error), qPrintable(error));
    QVERIFY(read.keepsFirst);
    QCOMPARE(read.limitReachedAtMs, kT0 + 3);
    QCOMPARE(read.streamBytes(Direction::Echoed), QByteArray("0123"));
}

void tst_Recording::readerErrors_data()
{
    QTest::addColumn<QByteArray>("file");
    QTest::addColumn<QString>("error");

    const QByteArray ok = chunk("in", 0, "abc");
    QTest::newRow("empty") << QByteArray()
                           << "rec.jsonl:1: the file is empty, not an echoscope recording";
    QTest::newRow("not json") << QByteArray("{\"format\":\n")
                              << "rec.jsonl:1: not valid JSON: unterminated object at column 11";
    QTest::newRow("array") << QByteArray("[1]\n") << "rec.jsonl:1: not a JSON object";
    QTest::newRow("other format")
        << QByteArray("{\"format\":\"pcap\",\"version\":1}\n")
        << "rec.jsonl:1: not an echoscope recording: the first line has no "
           "\"format\":\"echoscope-recording\"";
    QTest::newRow("unknown version")
        << QByteArray(header()).replace("\"version\":1", "\"version\":3") + ok
        << "rec.jsonl:1: recording version 3 is not supported (this echoscope reads versions 1 "
           "to 2)";
    QTest::newRow("version not a number")
        << QByteArray(header()).replace("\"version\":1", "\"version\":\"1\"") + ok
        << "rec.jsonl:1: \"version\" must be a whole number from 0 to 9007199254740992, not \"1\"";
    QTest::newRow("no in stream") << QByteArray(header()).replace("\"in\":", "\"inn\":") + ok
                                  << "rec.jsonl:1: \"in\" is missing";
    QTest::newRow("stream out of order")
        << header(R"({"start_offset":4,"end_offset":3,"total_bytes":3})")
        << "rec.jsonl:1: in \"in\": start_offset 4, end_offset 3 and total_bytes 3 must be in "
           "that order";
    QTest::newRow("bad peer") << QByteArray(header()).replace("127.0.0.1", "example.org") + ok
                              << "rec.jsonl:1: \"peer\" \"example.org\" is not an IP address";
    QTest::newRow("bad time")
        << header() + QByteArray(ok).replace("2024-06-11T14:22:33.100Z", "yesterday")
        << "rec.jsonl:2: \"time\" must be an ISO 8601 time or milliseconds since 1970, not "
           "\"yesterday\"";
    QTest::newRow("bad base64") << header() + R"({"time":0,"dir":"in","offset":0,"data":"YW*j"})" +
                                       "\n"
                                << "rec.jsonl:2: \"data\" is not valid base64";
    QTest::newRow("bad dir") << header() + QByteArray(ok).replace("\"in\"", "\"up\"")
                             << "rec.jsonl:2: \"dir\" must be \"in\" or \"out\", not \"up\"";
    QTest::newRow("offset missing") << header() + R"({"time":0,"dir":"in","data":"YWJj"})" + "\n"
                                    << "rec.jsonl:2: \"offset\" is missing";
    QTest::newRow("offsets backwards")
        << header(R"({"start_offset":0,"end_offset":5,"total_bytes":5})") + chunk("in", 0, "abc") +
               chunk("in", 2, "cde")
        << "rec.jsonl:3: offsets go backwards: the in chunk at offset 2 overlaps the bytes "
           "before it, which end at 3";
    QTest::newRow("gap") << header(R"({"start_offset":0,"end_offset":6,"total_bytes":6})") +
                                chunk("in", 0, "abc") + chunk("in", 4, "ef")
                         << "rec.jsonl:3: the in chunk at offset 4 leaves a gap: bytes 3 to 3 "
                            "are missing";
    QTest::newRow("starts before header")
        << header(R"({"start_offset":1,"end_offset":3,"total_bytes":3})") + chunk("in", 0, "abc")
        << "rec.jsonl:2: offsets go backwards: the in chunk "
           "at offset 0 overlaps the bytes before it, which "
           "end at 1";
    QTest::newRow("past end") << header() + chunk("in", 0, "abcd")
                              << "rec.jsonl:2: the in chunk at offset 0 ends at 4, past the "
                                 "header's end_offset 3";
    QTest::newRow("cut short") << header()
                               << "rec.jsonl:1: the in data ends at offset 0, but the header "
                                  "says end_offset 3: the file is cut short";
    QTest::newRow("empty data") << header() + chunk("in", 0, "")
                                << "rec.jsonl:2: the in chunk at offset 0 has no data";
    QTest::newRow("neither") << header() + "{\"time\":0}\n"
                             << "rec.jsonl:2: neither a chunk (no \"dir\") nor an event (no "
                                "\"event\")";
    QTest::newRow("empty line") << header() + "\n" + ok << "rec.jsonl:2: the line is empty";
    QTest::newRow("event without time")
        << header() + "{\"event\":\"connected\"}\n" + ok << "rec.jsonl:2: \"time\" is missing";
    QTest::newRow("data after half-close")
        << header() + "{\"event\":\"half_closed\",\"time\":5}\n" + ok
        << "rec.jsonl:3: client data after its half_closed event";
    // A WebSocket recording (version 2): its in chunks carry their messages.
    const QByteArray ws = QByteArray(header(R"({"start_offset":0,"end_offset":5,"total_bytes":5})"))
                              .replace("\"version\":1", "\"version\":2,\"transport\":\"ws\"");
    const auto piece = [](qint64 offset, const QByteArray &data, const QByteArray &more) {
        QByteArray line = chunk("in", offset, data);
        line.chop(2); // "}\n"
        return line + more + "}\n";
    };
    QTest::newRow("ws kind missing")
        << ws + chunk("in", 0, "abcde") << "rec.jsonl:2: \"kind\" is missing";
    QTest::newRow("ws bad kind") << ws + piece(0, "abcde", R"(,"kind":"ping")")
                                 << "rec.jsonl:2: \"kind\" must be \"text\" or \"binary\", not "
                                    "\"ping\"";
    QTest::newRow("ws kind changes") << ws + piece(0, "abc", R"(,"kind":"text")") +
                                            piece(3, "de", R"(,"kind":"binary","end":true)")
                                     << "rec.jsonl:3: the in chunk at offset 3 is binary, but the "
                                        "message it continues is text";
    QTest::newRow("ws bad end") << ws + piece(0, "abcde", R"(,"kind":"text","end":1)")
                                << "rec.jsonl:2: \"end\" must be true or false, not 1";
    QTest::newRow("ws empty piece") << ws + piece(0, "", R"(,"kind":"text")")
                                    << "rec.jsonl:2: the in chunk at offset 0 has no data";
    QTest::newRow("ws bad resource")
        << QByteArray(ws).replace("\"transport\":\"ws\"",
                                  "\"transport\":\"ws\",\"websocket\":{\"resource\":\"chat\"}") +
               piece(0, "abcde", R"(,"kind":"text","end":true)")
        << "rec.jsonl:1: in \"websocket\": \"resource\" must start with \"/\"";
    QTest::newRow("line too long")
        << header() + QByteArray(Recording::kMaxLineLength + 10, 'x') + "\n"
        << "rec.jsonl:2: the line is longer than 1 MiB";
}

void tst_Recording::readerErrors()
{
    QFETCH(QByteArray, file);
    QFETCH(QString, error);
    Recording recording;
    QString got;
    QVERIFY(!readBack(file, &recording, &got));
    QCOMPARE(got, error);
}

void tst_Recording::loadNamesTheFile()
{
    Recording recording;
    QString error;
    const QString missing = m_dir.filePath(QStringLiteral("missing.jsonl"));
    QVERIFY(!Recording::load(missing, &recording, &error));
    QVERIFY2(error.startsWith(QStringLiteral("cannot open \"%1\": ").arg(missing)),
             qPrintable(error));
    QVERIFY(!Recording::load(m_dir.path(), &recording, &error));
    QCOMPARE(error, QStringLiteral("cannot read \"%1\": it is a directory").arg(m_dir.path()));

    const QString path = m_dir.filePath(QStringLiteral("saved.jsonl"));
    QVERIFY2(sampleRecording().save(path, &error), qPrintable(error));
    QVERIFY2(Recording::load(path, &recording, &error), qPrintable(error));
    QCOMPARE(recording.clientId, 7u);
    QVERIFY(!sampleRecording().save(m_dir.filePath(QStringLiteral("no/such/dir/x.jsonl")), &error));
    QVERIFY2(error.startsWith(QStringLiteral("cannot write \"%1\"")
                                  .arg(m_dir.filePath(QStringLiteral("no/such/dir/x.jsonl")))),
             qPrintable(error));
}

Recording tst_Recording::recordRealClient(const QList<QByteArray> &chunks, int gapMs)
{
    ServerConfig config = EchoTest::testConfig(2);
    config.captureBytesPerClient = 256 * 1024;
    QList<TrafficEvent> events; // outlives the server, which reports its stop on the way out
    EchoTest::Running running = EchoTest::startServer(config);
    if (running.port == 0)
        return {};
    connect(running.server.get(), &EchoServer::eventOccurred, this,
            [&](const TrafficEvent &event) { events.append(event); });
    QSignalSpy connected(running.server.get(), &EchoServer::clientConnected);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);

    EchoTest::TestClient client;
    if (!client.connectTo(QHostAddress::LocalHost, running.port) ||
        !(connected.size() > 0 || connected.wait(kTimeoutMs)))
        return {};
    const quint64 id = connected.first().first().value<quint64>();
    const std::shared_ptr<const ClientStats> stats = running.server->clientStats(id);
    QByteArray sent;
    for (const QByteArray &bytes : chunks) {
        if (!sent.isEmpty()) {
            // The recorded gap: a timer, with the echo of the chunk before in between.
            QTimer gap;
            gap.setSingleShot(true);
            gap.setTimerType(Qt::PreciseTimer);
            QSignalSpy gapEnded(&gap, &QTimer::timeout);
            gap.start(gapMs);
            if (!gapEnded.wait(kTimeoutMs))
                return {};
        }
        client.socket.write(bytes);
        sent += bytes;
        if (!QTest::qWaitFor([&] { return client.received.size() == sent.size(); }, kTimeoutMs))
            return {};
    }
    client.halfClose();
    if (!QTest::qWaitFor([&] { return client.closed; }, kTimeoutMs) ||
        !(disconnected.size() > 0 || disconnected.wait(kTimeoutMs)))
        return {};
    return Recording::fromClient(*stats, events, running.server->config(),
                                 QDateTime::currentMSecsSinceEpoch());
}

void tst_Recording::replayMatchesEchoscope()
{
    const QList<QByteArray> chunks = {EchoTest::payload(300, 1), EchoTest::payload(70000, 2),
                                      QByteArray("tail\n")};
    const Recording recording = recordRealClient(chunks, 20);
    QVERIFY(recording.closed);
    QVERIFY(recording.halfClosedAtMs != 0);
    QCOMPARE(recording.in.totalBytes, 70305);
    QVERIFY(recording.in.isComplete());
    QVERIFY(recording.out.isComplete());
    QVERIFY(
        std::any_of(recording.events.cbegin(), recording.events.cend(), [](const QJsonObject &e) {
            return e.value("event").toString() == QLatin1String("disconnected") &&
                   e.value("reason").toString() == QLatin1String("closed by peer");
        }));
    const QString path = m_dir.filePath(QStringLiteral("real.jsonl"));
    QString error;
    QVERIFY2(recording.save(path, &error), qPrintable(error));

    // Another Echoscope server, with another framing that echoes the same bytes.
    ServerConfig config = EchoTest::testConfig(1);
    config.framing.mode = FramingMode::Eof;
    const EchoTest::Running target = EchoTest::startServer(config);
    QVERIFY(target.port != 0);
    const ProcessResult result =
        runEchoscope({QStringLiteral("replay"), path, QStringLiteral("--port"),
                      QString::number(target.port), QStringLiteral("--as-fast-as-possible")});
    QVERIFY2(result.exitCode == 0, (result.output + result.errorOutput).constData());
    QVERIFY2(result.output.startsWith("replay matched: 70305 bytes sent, 70305 echoed of 70305 "
                                      "expected"),
             result.output.constData());
}

// The lower bounds are exact (a replay never sends early). The upper bounds only tell a
// faster replay from a slower one, so the gaps are long (1 s) next to what a loaded
// machine adds to a run (a process start, a connect, scheduling): a 4x replay must beat
// the recorded span by a second, an as-fast-as-possible one must take under half of it.
void tst_Recording::replayHonoursTiming()
{
    constexpr int kGapMs = 1000;
    const Recording recording =
        recordRealClient({QByteArray("one\n"), QByteArray("two\n"), QByteArray("three\n")}, kGapMs);
    QVERIFY(recording.closed);
    const QString path = m_dir.filePath(QStringLiteral("timed.jsonl"));
    QString error;
    QVERIFY2(recording.save(path, &error), qPrintable(error));
    const EchoTest::Running target = EchoTest::startServer(EchoTest::testConfig(1));
    QVERIFY(target.port != 0);
    const QStringList common = {QStringLiteral("replay"), path, QStringLiteral("--port"),
                                QString::number(target.port), QStringLiteral("--json")};

    const ProcessResult timed = runEchoscope(common);
    QVERIFY2(timed.exitCode == 0, (timed.output + timed.errorOutput).constData());
    const QJsonObject original = jsonResult(timed);
    QCOMPARE(original.value("result").toString(), QStringLiteral("matched"));
    QVERIFY(original.value("half_closed").toBool());
    const qint64 span = original.value("recorded_span_ms").toInteger();
    QVERIFY2(span >= 2 * kGapMs - 10, qPrintable(QString::number(span)));
    QVERIFY2(original.value("duration_ms").toInteger() >= span - 20,
             qPrintable(QStringLiteral("%1 ms for a span of %2 ms")
                            .arg(original.value("duration_ms").toInteger())
                            .arg(span)));

    const ProcessResult fast =
        runEchoscope(common + QStringList{QStringLiteral("--speed"), QStringLiteral("4")});
    QVERIFY2(fast.exitCode == 0, (fast.output + fast.errorOutput).constData());
    const qint64 fourTimes = jsonResult(fast).value("duration_ms").toInteger();
    QVERIFY2(
        fourTimes >= span / 4 - 20 && fourTimes < span - kGapMs,
        qPrintable(QStringLiteral("%1 ms at 4x for a span of %2 ms").arg(fourTimes).arg(span)));

    const ProcessResult asap =
        runEchoscope(common + QStringList{QStringLiteral("--as-fast-as-possible")});
    QVERIFY2(asap.exitCode == 0, (asap.output + asap.errorOutput).constData());
    const qint64 asapMs = jsonResult(asap).value("duration_ms").toInteger();
    QVERIFY2(
        asapMs < span / 2,
        qPrintable(QStringLiteral("%1 ms as fast as possible, span %2 ms").arg(asapMs).arg(span)));
}

void tst_Recording::replayFindsFaults_data()
{
    QTest::addColumn<int>("fault");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("flipped byte") << int(BrokenEchoServer::Fault::FlipByte)
                                  << QByteArray("replay failed: 1 byte differs (the first at "
                                                "offset 1000)");
    QTest::newRow("truncated") << int(BrokenEchoServer::Fault::Truncate)
                               << QByteArray("replay failed: short echo: 2000 bytes missing");
}

void tst_Recording::replayFindsFaults()
{
    QFETCH(int, fault);
    QFETCH(QByteArray, expected);
    const Recording recording =
        recordRealClient({EchoTest::payload(1500, 3), EchoTest::payload(1500, 4)}, 10);
    QVERIFY(recording.closed);
    const QString path = m_dir.filePath(QStringLiteral("faults.jsonl"));
    QString error;
    QVERIFY2(recording.save(path, &error), qPrintable(error));

    BrokenEchoServer broken(BrokenEchoServer::Fault(fault), 1000);
    QVERIFY(broken.listen(QHostAddress::LocalHost, 0));
    const ProcessResult result =
        runEchoscope({QStringLiteral("replay"), path, QStringLiteral("--port"),
                      QString::number(broken.serverPort()), QStringLiteral("--as-fast-as-possible"),
                      QStringLiteral("--timeout"), QStringLiteral("5")});
    QCOMPARE(result.exitCode, 1);
    QVERIFY2(result.output.contains(expected), result.output.constData());
    // The hex context of expected and got, around the offset.
    QVERIFY2(result.output.contains("  expected at offset 992: "), result.output.constData());
    QVERIFY2(result.output.contains("  got      at offset 992: "), result.output.constData());
}

void tst_Recording::replayWithoutServer()
{
    // A port nothing listens on: taken and given back.
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    Recording recording = sampleRecording();
    ReplayConfig config;
    config.port = port;
    config.asFastAsPossible = true;
    config.timeoutMs = kTimeoutMs;
    Replayer replayer(recording, config);
    QSignalSpy finished(&replayer, &Replayer::finished);
    replayer.start();
    QVERIFY(finished.wait(kTimeoutMs));
    QVERIFY(!replayer.result().matched());
    QVERIFY2(replayer.result().connectionError.startsWith(
                 QStringLiteral("cannot connect to 127.0.0.1:%1: ").arg(port)),
             qPrintable(replayer.result().connectionError));
    QCOMPARE(replayer.result().bytesSent, 0);
}

// A WebSocket client's recording says it is one and keeps its messages: where each ends,
// its kind, an empty one, one read in two parts and split over several lines; the
// request it came with. Read back, the messages are the same.
void tst_Recording::webSocketRecordingKeepsMessages()
{
    ClientStats stats(9, QHostAddress(QHostAddress::LocalHost), 5151, kT0, 1024 * 1024,
                      IpProtocol::WebSocket);
    WebSocketRequest request;
    request.resource = QStringLiteral("/chat?room=1");
    request.origin = QStringLiteral("http://localhost:3000");
    request.requestedProtocols = {QStringLiteral("chat.v1")};
    stats.webSocket()->setRequest(request);
    CaptureBuffer *capture = stats.capture();
    const quint8 text = CaptureChunk::TextMessage;
    const quint8 end = CaptureChunk::EndsMessage;
    const QByteArray big = EchoTest::payload(120 * 1024, 5); // 3 lines of at most 48 KiB
    capture->append(Direction::Received, "hi", 2, kT0 + 1, text | end);
    capture->append(Direction::Echoed, "hi", 2, kT0 + 2);
    capture->append(Direction::Received, nullptr, 0, kT0 + 3, end); // an empty binary message
    capture->append(Direction::Received, big.constData(), 64 * 1024, kT0 + 4, 0);
    capture->append(Direction::Received, big.constData() + 64 * 1024, big.size() - 64 * 1024,
                    kT0 + 5, end);
    capture->append(Direction::Echoed, big.constData(), big.size(), kT0 + 6);
    const Recording recording = Recording::fromClient(stats, {}, ServerConfig(), kT0 + 7);
    QCOMPARE(recording.transport, QStringLiteral("ws"));
    QVERIFY(recording.hasMessages);
    QVERIFY(recording.missingParts().isEmpty());

    const QByteArray file = written(recording);
    QVERIFY(file.contains(R"("version":2)"));
    QVERIFY2(
        file.contains(R"("websocket":{"origin":"http://localhost:3000","protocols":["chat.v1"],)"
                      R"("resource":"/chat?room=1","secure":false})"),
        file.constData());
    QVERIFY(file.contains(R"("data":"","dir":"in","end":true,"kind":"binary","offset":2)"));
    // The empty message, and the big one's lines: 64 KiB read (48 + 16) and 56 KiB (48 + 8).
    QCOMPARE(file.count(R"("kind":"binary")"), 1 + 4);
    QCOMPARE(file.count(R"("end":true)"), 3);

    Recording loaded;
    QString error;
    QVERIFY2(readBack(file, &loaded, &error), qPrintable(error));
    QCOMPARE(loaded.version, 2);
    QVERIFY(loaded.hasMessages);
    QCOMPARE(loaded.webSocket.resource, QStringLiteral("/chat?room=1"));
    QCOMPARE(loaded.webSocket.origin, QStringLiteral("http://localhost:3000"));
    QCOMPARE(loaded.webSocket.protocols, QStringList{QStringLiteral("chat.v1")});
    const QList<Recording::Message> messages = loaded.messages();
    QCOMPARE(messages.size(), 3);
    QCOMPARE(messages.at(0).data, QByteArray("hi"));
    QVERIFY(messages.at(0).text && messages.at(0).whole);
    QCOMPARE(messages.at(1).data, QByteArray());
    QVERIFY(!messages.at(1).text && messages.at(1).whole);
    QCOMPARE(messages.at(2).offset, 2);
    QCOMPARE(messages.at(2).data, big);
    QVERIFY(!messages.at(2).text && messages.at(2).whole);
    QCOMPARE(messages.at(2).timestampMs, kT0 + 4);
    QCOMPARE(loaded.streamBytes(Direction::Echoed), QByteArray("hi") + big);
    QCOMPARE(sampleRecording().transport, QStringLiteral("tcp"));   // the default, unwritten
    QVERIFY(written(sampleRecording()).contains(R"("version":1)")); // TCP stays version 1

    // A version 1 file of a WebSocket client (before messages were kept) still reads, as
    // a stream without messages.
    QByteArray old = versionOne(file);
    QVERIFY2(readBack(old, &loaded, &error), qPrintable(error));
    QVERIFY(!loaded.hasMessages);
    QVERIFY(loaded.messages().isEmpty());
    QCOMPARE(loaded.streamBytes(Direction::Received), QByteArray("hi") + big);
}

// A message the capture holds only part of (the recording limit was reached inside it)
// is reported as missing, like a gap of bytes, and is not one of the messages replayed.
void tst_Recording::webSocketPartialMessageIsMissing()
{
    ClientStats stats(3, QHostAddress(QHostAddress::LocalHost), 5151, kT0, 1000,
                      IpProtocol::WebSocket, CaptureBuffer::Policy::KeepFirst);
    const quint8 end = CaptureChunk::EndsMessage;
    const QByteArray payload = EchoTest::payload(2000, 6);
    stats.capture()->append(Direction::Received, payload.constData(), 300, kT0 + 1, end);
    stats.capture()->append(Direction::Echoed, payload.constData(), 300, kT0 + 2);
    // 1200 bytes read in one go, of which 400 fit: cut short, it no longer ends a message.
    stats.capture()->append(Direction::Received, payload.constData() + 300, 1200, kT0 + 3, end);
    stats.capture()->append(Direction::Received, payload.constData() + 1500, 10, kT0 + 4, end);
    const Recording recording = Recording::fromClient(stats, {}, ServerConfig(), kT0 + 5);
    QCOMPARE(recording.in.endOffset, 700);
    Recording loaded;
    QString error;
    QVERIFY2(readBack(written(recording), &loaded, &error), qPrintable(error));
    const QList<Recording::Message> messages = loaded.messages();
    QCOMPARE(messages.size(), 2);
    QVERIFY(messages.at(0).whole);
    QVERIFY(!messages.at(1).whole);
    QCOMPARE(messages.at(1).data.size(), 400);
    QCOMPARE(loaded.missingParts(),
             QStringList({QStringLiteral("in: the end of message 1, which starts at byte 300: only "
                                         "400 of its bytes were captured (past the recording "
                                         "limit), so it is not replayed"),
                          QStringLiteral("in: bytes 700 to 1509 (past the recording limit)")}));
}

QString tst_Recording::recordWebSocketClient(const QString &name,
                                             QList<QPair<QByteArray, bool>> *sent)
{
    const QString directory = m_dir.filePath(name);
    RecordingServer recorder(directory);
    const quint16 port = recorder.webSocketPort();
    if (port == 0)
        return {};
    QWebSocket client(QStringLiteral("http://localhost:3000"));
    qsizetype echoes = 0;
    bool closed = false;
    connect(&client, &QWebSocket::textMessageReceived, this, [&] { ++echoes; });
    connect(&client, &QWebSocket::binaryMessageReceived, this, [&] { ++echoes; });
    connect(&client, &QWebSocket::disconnected, this, [&] { closed = true; });
    client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/rec?x=1").arg(port)));
    if (!QTest::qWaitFor(
            [&] { return client.state() == QAbstractSocket::ConnectedState || closed; },
            kTimeoutMs) ||
        closed)
        return {};
    const quint64 defaultFrameSize = client.outgoingFrameSize();
    const auto send = [&](const QByteArray &data, bool text, quint64 frameSize) {
        client.setOutgoingFrameSize(frameSize);
        if (text)
            client.sendTextMessage(QString::fromUtf8(data));
        else
            client.sendBinaryMessage(data);
        sent->append({data, text});
    };
    send(QStringLiteral("h\u00e9llo, w\u00f6rld \U0001F600").toUtf8(), true, defaultFrameSize);
    send(EchoTest::payload(100, 1), false, defaultFrameSize);
    send(QByteArray(), true, defaultFrameSize);                      // an empty message
    send(EchoTest::payload(10 * 1000 + 7, 2), false, 1000);          // in 11 frames
    send(EchoTest::payload(200 * 1024, 3), false, defaultFrameSize); // several reads
    send(QByteArray("bye"), true, defaultFrameSize);
    if (!QTest::qWaitFor([&] { return echoes == sent->size(); }, kTimeoutMs))
        return {};
    client.close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("done"));
    if (!QTest::qWaitFor([&] { return closed; }, kTimeoutMs))
        return {};
    return waitForRecording(directory);
}

// A real QWebSocket client recorded by `echoscope --record`, replayed by `echoscope replay`
// against a fresh echoscope WebSocket server: the recording holds each message whole
// (the 200 KiB one read in several chunks, the fragmented one reassembled), and the server
// the replay talks to sees exactly those messages, as many and as large.
void tst_Recording::webSocketRecordAndReplay()
{
    QList<QPair<QByteArray, bool>> sent;
    const QString path = recordWebSocketClient(QStringLiteral("wsrec"), &sent);
    QVERIFY(!path.isEmpty());
    Recording recording;
    QString error;
    QVERIFY2(Recording::load(path, &recording, &error), qPrintable(error));
    QVERIFY(recording.isWebSocket() && recording.hasMessages);
    QCOMPARE(recording.version, 2);
    QCOMPARE(recording.webSocket.resource, QStringLiteral("/rec?x=1"));
    QCOMPARE(recording.webSocket.origin, QStringLiteral("http://localhost:3000"));
    QVERIFY2(recording.missingParts().isEmpty(), qPrintable(recording.missingParts().join(", ")));
    const QList<Recording::Message> messages = recording.messages();
    QCOMPARE(messages.size(), sent.size());
    qint64 sentBytes = 0;
    for (qsizetype i = 0; i < sent.size(); ++i) {
        QVERIFY(messages.at(i).whole);
        QCOMPARE(messages.at(i).text, sent.at(i).second);
        QCOMPARE(messages.at(i).data, sent.at(i).first);
        sentBytes += sent.at(i).first.size();
    }
    QCOMPARE(recording.streamBytes(Direction::Echoed), recording.streamBytes(Direction::Received));
    // The 200 KiB message was captured in more than one chunk (one per read), yet is one.
    QVERIFY(std::count_if(recording.chunks.cbegin(), recording.chunks.cend(),
                          [](const CaptureChunk &c) {
                              return c.direction == Direction::Received;
                          }) > sent.size());

    EchoTest::Running target = EchoTest::startServer(webSocketConfig());
    QVERIFY(target.port != 0);
    const quint16 port = target.server->webSocketPort();
    const ProcessResult result =
        runEchoscope({QStringLiteral("replay"), path, QStringLiteral("--port"),
                      QString::number(port), QStringLiteral("--as-fast-as-possible")});
    QVERIFY2(result.exitCode == 0, (result.output + result.errorOutput).constData());
    QVERIFY2(result.output.startsWith(QStringLiteral("replay matched: 6 messages (%1 bytes) sent, "
                                                     "6 echoed of 6 expected")
                                          .arg(sentBytes)
                                          .toUtf8()),
             result.output.constData());
    QVERIFY2(result.errorOutput.isEmpty(), result.errorOutput.constData()); // no notes
    // What the server saw, counted by it: the messages and bytes the replay sent.
    QTRY_COMPARE_WITH_TIMEOUT(target.server->totals().messagesOut, qint64(sent.size()), kTimeoutMs);
    QCOMPARE(target.server->totals().messagesIn, qint64(sent.size()));
    QCOMPARE(target.server->totals().bytesIn, sentBytes);

    // As JSON, with the message counts; and at the recorded pace (a few ms here).
    const ProcessResult json =
        runEchoscope({QStringLiteral("replay"), path, QStringLiteral("--port"),
                      QString::number(port), QStringLiteral("--json")});
    QVERIFY2(json.exitCode == 0, (json.output + json.errorOutput).constData());
    const QJsonObject object = jsonResult(json);
    QCOMPARE(object.value("result").toString(), QStringLiteral("matched"));
    QCOMPARE(object.value("protocol").toString(), QStringLiteral("ws"));
    QCOMPARE(object.value("messages_sent").toInteger(), sent.size());
    QCOMPARE(object.value("messages_echoed").toInteger(), sent.size());
    QCOMPARE(object.value("bytes_sent").toInteger(), sentBytes);
    QCOMPARE(object.value("bytes_echoed").toInteger(), sentBytes);

    // A version 1 file of a WebSocket client has no message boundaries: refused.
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray old = versionOne(file.readAll());
    const QString oldPath = m_dir.filePath(QStringLiteral("ws-v1.jsonl"));
    QFile oldFile(oldPath);
    QVERIFY(oldFile.open(QIODevice::WriteOnly) && oldFile.write(old) == old.size());
    oldFile.close();
    const ProcessResult refused = runEchoscope(
        {QStringLiteral("replay"), oldPath, QStringLiteral("--port"), QString::number(port)});
    QCOMPARE(refused.exitCode, 2);
    QVERIFY2(refused.errorOutput.contains("is a version 1 recording of a WebSocket client, which "
                                          "does not keep where its messages end"),
             refused.errorOutput.constData());
}

// The recorded pace: each message at its recorded time after the start (never early),
// scaled by --speed, or back to back. Gaps of 500 ms: a lower bound is exact, an upper
// bound only tells the faster replays from the recorded pace.
void tst_Recording::webSocketReplayHonoursTiming()
{
    constexpr qint64 kGapMs = 500;
    ClientStats stats(4, QHostAddress(QHostAddress::LocalHost), 5151, kT0, 4096,
                      IpProtocol::WebSocket);
    const quint8 end = CaptureChunk::EndsMessage;
    for (int i = 0; i < 3; ++i) {
        const QByteArray data = EchoTest::payload(10, quint32(i));
        stats.capture()->append(Direction::Received, data.constData(), data.size(),
                                kT0 + 10 + i * kGapMs, end);
        stats.capture()->append(Direction::Echoed, data.constData(), data.size(),
                                kT0 + 11 + i * kGapMs);
    }
    const Recording recording = Recording::fromClient(stats, {}, ServerConfig(), kT0 + 1000);
    const QString path = m_dir.filePath(QStringLiteral("ws-timed.jsonl"));
    QString error;
    QVERIFY2(recording.save(path, &error), qPrintable(error));
    EchoTest::Running target = EchoTest::startServer(webSocketConfig());
    QVERIFY(target.port != 0);
    const QStringList common = {QStringLiteral("replay"), path, QStringLiteral("--port"),
                                QString::number(target.server->webSocketPort()),
                                QStringLiteral("--json")};

    const ProcessResult timed = runEchoscope(common);
    QVERIFY2(timed.exitCode == 0, (timed.output + timed.errorOutput).constData());
    const QJsonObject original = jsonResult(timed);
    const qint64 span = original.value("recorded_span_ms").toInteger();
    QCOMPARE(span, 10 + 2 * kGapMs);
    QVERIFY2(original.value("duration_ms").toInteger() >= span - 20,
             qPrintable(QStringLiteral("%1 ms for a span of %2 ms")
                            .arg(original.value("duration_ms").toInteger())
                            .arg(span)));

    const ProcessResult fast =
        runEchoscope(common + QStringList{QStringLiteral("--speed"), QStringLiteral("4")});
    QVERIFY2(fast.exitCode == 0, (fast.output + fast.errorOutput).constData());
    const qint64 fourTimes = jsonResult(fast).value("duration_ms").toInteger();
    QVERIFY2(fourTimes >= span / 4 - 20 && fourTimes < span - kGapMs / 2,
             qPrintable(QStringLiteral("%1 ms at 4x, span %2 ms").arg(fourTimes).arg(span)));

    const ProcessResult asap =
        runEchoscope(common + QStringList{QStringLiteral("--as-fast-as-possible")});
    QVERIFY2(asap.exitCode == 0, (asap.output + asap.errorOutput).constData());
    const qint64 asapMs = jsonResult(asap).value("duration_ms").toInteger();
    QVERIFY2(
        asapMs < span / 2,
        qPrintable(QStringLiteral("%1 ms as fast as possible, span %2 ms").arg(asapMs).arg(span)));
    QTRY_COMPARE_WITH_TIMEOUT(target.server->totals().messagesIn, 9, kTimeoutMs);
}

void tst_Recording::webSocketReplayFindsFaults_data()
{
    QTest::addColumn<int>("fault");
    QTest::addColumn<int>("message");
    QTest::addColumn<QByteArray>("expected");
    QTest::addColumn<QByteArray>("context");
    QTest::newRow("flipped byte")
        << int(BrokenWebSocketEcho::Fault::FlipByte) << 4
        << QByteArray("replay failed: 1 message differs (the first: message 4 differs first at "
                      "byte 100000 of it (offset 110126 of the client stream))")
        << QByteArray("  expected message 4 at byte 99992: ");
    QTest::newRow("other kind") << int(BrokenWebSocketEcho::Fault::OtherKind) << 0
                                << QByteArray("replay failed: 1 message differs (the first: "
                                              "message 0 is binary, expected text)")
                                << QByteArray();
}

// An echo server that gets one message wrong: the replay fails, naming the message.
void tst_Recording::webSocketReplayFindsFaults()
{
    QFETCH(int, fault);
    QFETCH(int, message);
    QFETCH(QByteArray, expected);
    QFETCH(QByteArray, context);
    QList<QPair<QByteArray, bool>> sent;
    const QString path = recordWebSocketClient(QStringLiteral("wsfaults-%1").arg(fault), &sent);
    QVERIFY(!path.isEmpty());
    BrokenWebSocketEcho broken(BrokenWebSocketEcho::Fault(fault), message, 100000);
    const quint16 port = broken.listen();
    QVERIFY(port != 0);
    const ProcessResult result =
        runEchoscope({QStringLiteral("replay"), path, QStringLiteral("--port"),
                      QString::number(port), QStringLiteral("--as-fast-as-possible")});
    QCOMPARE(result.exitCode, 1);
    QVERIFY2(result.output.contains(expected), result.output.constData());
    QVERIFY2(result.output.contains("6 messages (") && result.output.contains(" 6 echoed of 6 "),
             result.output.constData());
    if (!context.isEmpty())
        QVERIFY2(result.output.contains(context), result.output.constData());
}

// A server that closes after some echo (the close fault): the replay fails with the
// messages that did not come, from the first one missing, and says how the server closed.
void tst_Recording::webSocketReplayServerCloses()
{
    QList<QPair<QByteArray, bool>> sent;
    const QString path = recordWebSocketClient(QStringLiteral("wsclose"), &sent);
    QVERIFY(!path.isEmpty());
    EchoTest::Running target = EchoTest::startServer(webSocketConfig());
    QVERIFY(target.port != 0);
    FaultConfig faults;
    QString error;
    QVERIFY(faults.parseCloseAfter(u"200:4000", &error));
    QVERIFY(target.server->setDefaultFaults(faults));
    const ProcessResult result = runEchoscope(
        {QStringLiteral("replay"), path, QStringLiteral("--port"),
         QString::number(target.server->webSocketPort()), QStringLiteral("--as-fast-as-possible")});
    QCOMPARE(result.exitCode, 1);
    // 19 + 100 bytes echoed, then the empty message; the fragmented one passes 200.
    QVERIFY2(result.output.contains("replay failed: short echo: 3 messages missing (214810 bytes), "
                                    "from message 3 on"),
             result.output.constData());
    QVERIFY2(result.errorOutput.contains("the server closed the connection with close frame 4000"),
             result.errorOutput.constData());
}

void tst_Recording::webSocketReplayConnectionErrors()
{
    QList<QPair<QByteArray, bool>> sent;
    const QString path = recordWebSocketClient(QStringLiteral("wserrors"), &sent);
    QVERIFY(!path.isEmpty());
    quint16 port = 0; // nothing listens on it: taken and given back
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    const ProcessResult refused = runEchoscope(
        {QStringLiteral("replay"), path, QStringLiteral("--port"), QString::number(port)});
    QCOMPARE(refused.exitCode, 3);
    QVERIFY2(refused.output.contains(QStringLiteral("cannot connect to 127.0.0.1:%1 "
                                                    "(ws://127.0.0.1:%1/rec?x=1): Connection "
                                                    "refused")
                                         .arg(port)
                                         .toUtf8()),
             refused.output.constData());

    // An upgrade the server refuses (its origin is not allowed) shows the HTTP status.
    ServerConfig config = webSocketConfig();
    config.webSocketOrigins = {QStringLiteral("http://elsewhere.example")};
    EchoTest::Running target = EchoTest::startServer(config);
    QVERIFY(target.port != 0);
    const quint16 wsPort = target.server->webSocketPort();
    const ProcessResult forbidden = runEchoscope(
        {QStringLiteral("replay"), path, QStringLiteral("--port"), QString::number(wsPort)});
    QCOMPARE(forbidden.exitCode, 3);
    QVERIFY2(forbidden.output.contains(QStringLiteral("the server at 127.0.0.1:%1 refused the "
                                                      "WebSocket upgrade of "
                                                      "ws://127.0.0.1:%1/rec?x=1: HTTP 403")
                                           .arg(wsPort)
                                           .toUtf8()),
             forbidden.output.constData());
}

// A client not written for Echoscope (Debian's python3-websockets) recorded and replayed.
void tst_Recording::webSocketRecordingOfPythonClient()
{
    const QString python = QStringLiteral("/usr/bin/python3");
    QProcess check;
    check.start(python, {QStringLiteral("-c"), QStringLiteral("import websockets")});
    if (!check.waitForFinished(kTimeoutMs) || check.exitCode() != 0)
        QSKIP("python3-websockets is not installed: apt-get install python3-websockets");
    const QString directory = m_dir.filePath(QStringLiteral("wspython"));
    RecordingServer recorder(directory);
    const quint16 port = recorder.webSocketPort();
    QVERIFY(port != 0);
    const QString script = QStringLiteral(R"(
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1]) as ws:
        for message in ["hello from python", bytes(range(256)) * 400, b"", "\u00e9t\u00e9"]:
            await ws.send(message)
            assert await ws.recv() == message
asyncio.run(main())
print("ok")
)");
    QProcess client;
    client.start(python,
                 {QStringLiteral("-c"), script, QStringLiteral("ws://127.0.0.1:%1/py").arg(port)});
    QVERIFY(QTest::qWaitFor([&] { return client.state() == QProcess::NotRunning; }, kTimeoutMs));
    QVERIFY2(client.exitCode() == 0 && client.readAllStandardOutput().trimmed() == "ok",
             qPrintable(QString::fromLocal8Bit(client.readAllStandardError())));
    const QString path = waitForRecording(directory);
    QVERIFY(!path.isEmpty());
    Recording recording;
    QString error;
    QVERIFY2(Recording::load(path, &recording, &error), qPrintable(error));
    QCOMPARE(recording.webSocket.resource, QStringLiteral("/py"));
    const QList<Recording::Message> messages = recording.messages();
    QCOMPARE(messages.size(), 4);
    QVERIFY(messages.at(0).text && !messages.at(1).text && !messages.at(2).text &&
            messages.at(3).text);
    QCOMPARE(messages.at(1).data.size(), 256 * 400);
    QCOMPARE(messages.at(3).data, QStringLiteral("\u00e9t\u00e9").toUtf8());

    EchoTest::Running target = EchoTest::startServer(webSocketConfig());
    QVERIFY(target.port != 0);
    const ProcessResult result = runEchoscope(
        {QStringLiteral("replay"), path, QStringLiteral("--port"),
         QString::number(target.server->webSocketPort()), QStringLiteral("--as-fast-as-possible")});
    QVERIFY2(result.exitCode == 0, (result.output + result.errorOutput).constData());
    QVERIFY2(result.output.startsWith("replay matched: 4 messages (102422 bytes) sent, 4 echoed "
                                      "of 4 expected"),
             result.output.constData());
    QTRY_COMPARE_WITH_TIMEOUT(target.server->totals().messagesIn, 4, kTimeoutMs);
    QCOMPARE(target.server->totals().bytesIn, 17 + 102400 + 0 + 5);
}

QTEST_GUILESS_MAIN(tst_Recording)
#include "tst_recording.moc"
