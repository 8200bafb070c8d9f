#include "framer.h"
#include "framingconfig.h"
#include "transportmessageframer.h"
#include "wsframescanner.h"

#include <QByteArray>
#include <QByteArrayList>
#include <QList>
#include <QObject>
#include <QRandomGenerator>
#include <QTest>

#include <memory>

using namespace Echoscope;

namespace {

// Records every message; the wire bytes are copied because the view dies with the call.
class RecordingSink : public MessageSink
{
public:
    void messageFramed(QByteArrayView wire, qint64 payloadBytes) override
    {
        wires.append(wire.toByteArray());
        payloads.append(payloadBytes);
        pointers.append(wire.data());
    }

    QByteArrayList wires;
    QList<qint64> payloads;
    QList<const char *> pointers;
};

FramingConfig streamConfig()
{
    FramingConfig config;
    config.mode = FramingMode::Stream;
    return config;
}

FramingConfig eofConfig()
{
    FramingConfig config;
    config.mode = FramingMode::Eof;
    return config;
}

FramingConfig lineConfig(const QByteArray &delimiter)
{
    FramingConfig config;
    config.mode = FramingMode::Line;
    config.delimiter = delimiter;
    return config;
}

FramingConfig lengthConfig(int lengthBytes)
{
    FramingConfig config;
    config.mode = FramingMode::Length;
    config.lengthBytes = lengthBytes;
    return config;
}

FramingConfig fixedConfig(qint64 fixedBytes)
{
    FramingConfig config;
    config.mode = FramingMode::Fixed;
    config.fixedBytes = fixedBytes;
    return config;
}

QByteArray hex(const char *digits)
{
    return QByteArray::fromHex(digits);
}

QString show(const QByteArray &bytes)
{
    return QLatin1Char('[') + QString::fromLatin1(bytes.toHex(' ')) + QLatin1Char(']');
}

QString show(const QByteArrayList &list)
{
    QStringList parts;
    for (const QByteArray &bytes : list)
        parts.append(show(bytes));
    return QLatin1Char('(') + parts.join(QLatin1String(", ")) + QLatin1Char(')');
}

QString show(const QList<qint64> &list)
{
    QStringList parts;
    for (const qint64 value : list)
        parts.append(QString::number(value));
    return QLatin1Char('(') + parts.join(QLatin1String(", ")) + QLatin1Char(')');
}

// input[0, cuts[0]), input[cuts[0], cuts[1]), ... input[cuts.last(), end).
QByteArrayList piecesOf(const QByteArray &input, const QList<qsizetype> &cuts)
{
    QByteArrayList pieces;
    qsizetype start = 0;
    for (qsizetype i = 0; i <= cuts.size(); ++i) {
        const qsizetype end = i < cuts.size() ? cuts.at(i) : input.size();
        pieces.append(QByteArray(input.constData() + start, end - start));
        start = end;
    }
    return pieces;
}

// One pass of a framer over an input cut into pieces.
struct Run
{
    RecordingSink sink;
    bool failed = false;
    qsizetype failedAfterBytes = -1; // bytes fed when MessageTooLarge came
    qint64 oversizeBytes = 0;
    qint64 bufferedAfterFinish = -1;
};

// Feeds input cut into piecesOf(input, cuts), one piece at a time, then calls finish().
Run runPieces(const FramingConfig &config, qint64 maxMessageBytes, const QByteArray &input,
              const QList<qsizetype> &cuts)
{
    Run run;
    const std::unique_ptr<Framer> framer = Framer::create(config, maxMessageBytes);
    if (!framer) {
        run.failed = true;
        return run;
    }
    qsizetype start = 0;
    for (qsizetype i = 0; i <= cuts.size(); ++i) {
        const qsizetype end = i < cuts.size() ? cuts.at(i) : input.size();
        // A copy of its own, freed right after the feed: a framer that kept a view
        // into an old chunk would read freed memory (and the sanitizers would say so).
        const QByteArray piece(input.constData() + start, end - start);
        if (framer->feed(piece, run.sink) != Framer::Status::Ok) {
            run.failed = true;
            run.failedAfterBytes = end;
            run.oversizeBytes = framer->oversizeBytes();
            return run;
        }
        start = end;
    }
    if (framer->finish(run.sink) != Framer::Status::Ok)
        run.failed = true;
    run.bufferedAfterFinish = framer->bufferedBytes();
    return run;
}

// Empty if the run framed exactly the expected messages, else what went wrong.
QString checkRun(const Run &run, const QByteArray &input, const QByteArrayList &wires,
                 const QList<qint64> &payloads, qint64 remainder)
{
    if (run.failed)
        return QStringLiteral("failed after %1 bytes").arg(run.failedAfterBytes);
    if (run.sink.wires != wires) {
        return QStringLiteral("wires %1, expected %2").arg(show(run.sink.wires), show(wires));
    }
    if (run.sink.payloads != payloads) {
        return QStringLiteral("payloads %1, expected %2")
            .arg(show(run.sink.payloads), show(payloads));
    }
    if (run.bufferedAfterFinish != remainder) {
        return QStringLiteral("%1 bytes buffered, expected %2")
            .arg(run.bufferedAfterFinish)
            .arg(remainder);
    }
    if (run.sink.wires.join() != input.left(input.size() - remainder))
        return QStringLiteral("the echoed bytes differ from the input");
    return QString();
}

QList<qsizetype> everyByte(qsizetype size)
{
    QList<qsizetype> cuts;
    for (qsizetype i = 1; i < size; ++i)
        cuts.append(i);
    return cuts;
}

} // namespace

class tst_Framers : public QObject
{
    Q_OBJECT

private slots:
    void wsFrameScanner_data();
    void wsFrameScanner();
    void wsFrameScannerFailsOnLongControlFrame();
    void transportMessageFramer();
    void parseMode_data();
    void parseMode();
    void parseDelimiter_data();
    void parseDelimiter();
    void delimiterToString_data();
    void delimiterToString();
    void delimiterRoundTripsEveryByte();
    void validate_data();
    void validate();
    void overheadBytes_data();
    void overheadBytes();
    void equality_data();
    void equality();
    void modeStringAndDescription_data();
    void modeStringAndDescription();

    void framesAtEveryBoundary_data();
    void framesAtEveryBoundary();
    void streamPassesChunksThrough_data();
    void streamPassesChunksThrough();
    void rejectsOversize_data();
    void rejectsOversize();
    void bufferedBytesAfterEachChunk_data();
    void bufferedBytesAfterEachChunk();
    void finish_data();
    void finish();
    void wholeMessagesAreViewsIntoInput_data();
    void wholeMessagesAreViewsIntoInput();
    void echoEqualsInput_data();
    void echoEqualsInput();
};

// ---- FramingConfig ----

namespace {
QByteArray hexBytes(const char *hex)
{
    return QByteArray::fromHex(hex);
}

struct SeenFrame
{
    quint8 opcode;
    bool fin;
    bool masked;
    quint64 length;
    QByteArray controlPayload;
};
} // namespace

// RFC 6455, 5.7's examples and the length forms, fed whole and one byte at a time.
void tst_Framers::wsFrameScanner_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<int>("opcode");
    QTest::addColumn<bool>("fin");
    QTest::addColumn<bool>("masked");
    QTest::addColumn<quint64>("length");
    QTest::addColumn<QByteArray>("controlPayload");
    QTest::newRow("unmasked text Hello")
        << hexBytes("810548656c6c6f") << 0x1 << true << false << quint64(5) << QByteArray();
    QTest::newRow("masked text Hello")
        << hexBytes("818537fa213d7f9f4d5158") << 0x1 << true << true << quint64(5) << QByteArray();
    QTest::newRow("first fragment Hel")
        << hexBytes("010348656c") << 0x1 << false << false << quint64(3) << QByteArray();
    QTest::newRow("masked ping Hello") << hexBytes("898537fa213d7f9f4d5158") << 0x9 << true << true
                                       << quint64(5) << QByteArray("Hello");
    QTest::newRow("binary 256 (16-bit length)")
        << (hexBytes("827e0100") + QByteArray(256, 'x')) << 0x2 << true << false << quint64(256)
        << QByteArray();
    QTest::newRow("binary 65536 (64-bit length)")
        << (hexBytes("827f0000000000010000") + QByteArray(65536, 'y')) << 0x2 << true << false
        << quint64(65536) << QByteArray();
    QTest::newRow("masked close 1001 bye")
        << hexBytes("88850102030402eb617d64") // 1001 "bye", masked with 01020304
        << 0x8 << true << true << quint64(5)
        << QByteArray("\x03\xe9"
                      "bye",
                      5);
}

void tst_Framers::wsFrameScanner()
{
    QFETCH(QByteArray, wire);
    QFETCH(int, opcode);
    QFETCH(bool, fin);
    QFETCH(bool, masked);
    QFETCH(quint64, length);
    QFETCH(QByteArray, controlPayload);
    for (const qsizetype step : {qsizetype(0), qsizetype(1), qsizetype(7)}) {
        WsFrameScanner scanner;
        QList<SeenFrame> frames;
        const auto onFrame = [&frames](const WsFrameHeader &frame) {
            frames.append(
                {frame.opcode, frame.fin, frame.masked, frame.length, frame.controlPayload});
        };
        if (step == 0) {
            scanner.feed(wire, onFrame);
        } else {
            for (qsizetype at = 0; at < wire.size(); at += step)
                scanner.feed(QByteArrayView(wire).sliced(at, qMin(step, wire.size() - at)),
                             onFrame);
        }
        QCOMPARE(frames.size(), 1);
        QCOMPARE(int(frames[0].opcode), opcode);
        QCOMPARE(frames[0].fin, fin);
        QCOMPARE(frames[0].masked, masked);
        QCOMPARE(frames[0].length, length);
        QCOMPARE(frames[0].controlPayload, controlPayload);
        QCOMPARE(scanner.skippable(), quint64(0)); // the whole frame went by
        QVERIFY(!scanner.hasFailed());
    }
    // A close frame's code and reason.
    if (opcode == WsFrameHeader::Close) {
        WsFrameHeader close;
        close.opcode = WsFrameHeader::Close;
        close.controlPayload = controlPayload;
        QCOMPARE(close.closeCode(), quint16(1001));
        QCOMPARE(close.closeReason(), QByteArray("bye"));
    }
}

// A control frame over 125 bytes cannot be WebSocket: reported, then nothing more is read.
void tst_Framers::wsFrameScannerFailsOnLongControlFrame()
{
    WsFrameScanner scanner;
    int frames = 0;
    scanner.feed(hexBytes("897e0100") + QByteArray(256, 'p') + hexBytes("810548656c6c6f"),
                 [&frames](const WsFrameHeader &) { ++frames; });
    QVERIFY(scanner.hasFailed());
    QCOMPARE(frames, 1);
}

// Messages a transport delimits: pieces gathered, delivered at the end; a whole one
// without a copy; the limit enforced.
void tst_Framers::transportMessageFramer()
{
    struct Sink : MessageSink
    {
        QByteArrayList messages;
        void messageFramed(QByteArrayView wire, qint64 payloadBytes) override
        {
            QCOMPARE(payloadBytes, wire.size());
            messages.append(wire.toByteArray());
        }
    } sink;
    TransportMessageFramer framer(10);
    QCOMPARE(framer.feedEnd("whole", sink), Framer::Status::Ok);
    QCOMPARE(framer.feed("pie", sink), Framer::Status::Ok);
    QCOMPARE(framer.bufferedBytes(), 3);
    QCOMPARE(framer.feedEnd("ces", sink), Framer::Status::Ok);
    QCOMPARE(framer.feedEnd(QByteArrayView(), sink), Framer::Status::Ok); // an empty message
    QCOMPARE(sink.messages, QByteArrayList({"whole", "pieces", ""}));
    QCOMPARE(framer.feed("0123456", sink), Framer::Status::Ok);
    QCOMPARE(framer.feedEnd("7890", sink), Framer::Status::MessageTooLarge);
    QCOMPARE(framer.oversizeBytes(), 11);
}

void tst_Framers::parseMode_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("modeString");

    QTest::newRow("stream") << "stream" << true << "stream";
    QTest::newRow("eof") << "eof" << true << "eof";
    QTest::newRow("line") << "line" << true << "line";
    QTest::newRow("length") << "length" << true << "length";
    QTest::newRow("fixed:1") << "fixed:1" << true << "fixed:1";
    QTest::newRow("fixed:512") << "fixed:512" << true << "fixed:512";
    QTest::newRow("fixed leading zeros") << "fixed:007" << true << "fixed:7";
    QTest::newRow("upper case") << "LINE" << true << "line";
    QTest::newRow("surrounding spaces") << " eof " << true << "eof";

    QTest::newRow("empty") << "" << false << "";
    QTest::newRow("unknown") << "udp" << false << "";
    QTest::newRow("plural") << "lines" << false << "";
    QTest::newRow("fixed without size") << "fixed" << false << "";
    QTest::newRow("fixed with colon only") << "fixed:" << false << "";
    QTest::newRow("fixed:0") << "fixed:0" << false << "";
    QTest::newRow("fixed:-3") << "fixed:-3" << false << "";
    QTest::newRow("fixed:+3") << "fixed:+3" << false << "";
    QTest::newRow("fixed:abc") << "fixed:abc" << false << "";
    QTest::newRow("fixed:3x") << "fixed:3x" << false << "";
    QTest::newRow("fixed: 3") << "fixed: 3" << false << "";
    QTest::newRow("fixed:1.5") << "fixed:1.5" << false << "";
    QTest::newRow("fixed overflow") << "fixed:99999999999999999999" << false << "";
    QTest::newRow("fixed with space") << "fixed 4" << false << "";
}

void tst_Framers::parseMode()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(QString, modeString);

    // Start from a config that differs from every parse result, to see what is written.
    FramingConfig config = lengthConfig(2);
    config.fixedBytes = 99;
    const FramingConfig before = config;
    QString error = QStringLiteral("untouched");
    QCOMPARE(FramingConfig::parseMode(text, &config, &error), valid);
    if (valid) {
        QCOMPARE(config.modeString(), modeString);
        QCOMPARE(error, QStringLiteral("untouched"));
        // Only the mode (and fixedBytes for fixed:N) change.
        QCOMPARE(config.delimiter, before.delimiter);
        QCOMPARE(config.lengthBytes, before.lengthBytes);
        if (config.mode != FramingMode::Fixed)
            QCOMPARE(config.fixedBytes, before.fixedBytes);
        // modeString() parses back to the same config.
        FramingConfig reparsed = before;
        QVERIFY(FramingConfig::parseMode(config.modeString(), &reparsed, nullptr));
        QVERIFY(reparsed == config);
    } else {
        QVERIFY(config == before);
        QVERIFY2(error.contains(QLatin1Char('"') + text + QLatin1Char('"')), qPrintable(error));
        QVERIFY2(error.contains(QLatin1String("fixed:N")), qPrintable(error));
        QVERIFY2(error.contains(QLatin1String("stream")), qPrintable(error));
        QVERIFY2(error.endsWith(QLatin1Char('.')), qPrintable(error));
        // A null error pointer is allowed.
        QVERIFY(!FramingConfig::parseMode(text, &config, nullptr));
    }
}

void tst_Framers::parseDelimiter_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("errorFragment");

    QTest::newRow("\\n") << "\\n" << true << QByteArray("\n") << "";
    QTest::newRow("\\r\\n") << "\\r\\n" << true << QByteArray("\r\n") << "";
    QTest::newRow("\\t") << "\\t" << true << QByteArray("\t") << "";
    QTest::newRow("\\0") << "\\0" << true << hex("00") << "";
    QTest::newRow("\\0 then digits") << "\\012" << true << hex("003132") << "";
    QTest::newRow("backslash") << "\\\\" << true << QByteArray("\\") << "";
    QTest::newRow("\\xHH") << "\\x00\\xff\\x7F\\xAb" << true << hex("00ff7fab") << "";
    QTest::newRow("plain") << "END" << true << QByteArray("END") << "";
    QTest::newRow("mixed") << "a\\x41b\\r\\n" << true << QByteArray("aAb\r\n") << "";
    QTest::newRow("non-ASCII as UTF-8") << QString(QChar(0xa7)) << true << hex("c2a7") << "";

    QTest::newRow("empty") << "" << false << QByteArray() << "empty";
    QTest::newRow("lone backslash") << "\\" << false << QByteArray() << "\"\\\"";
    QTest::newRow("trailing backslash") << "ab\\" << false << QByteArray() << "\"ab\\\"";
    QTest::newRow("unknown escape") << "\\q" << false << QByteArray() << "\"\\q\"";
    QTest::newRow("upper-case escape") << "\\N" << false << QByteArray() << "\"\\N\"";
    QTest::newRow("\\x without digits") << "\\x" << false << QByteArray() << "\"\\x\"";
    QTest::newRow("\\x one digit") << "\\x4" << false << QByteArray() << "\"\\x4\"";
    QTest::newRow("\\x bad digit") << "\\xg0" << false << QByteArray() << "\"\\xg0\"";
    QTest::newRow("bad escape after good") << "\\r\\y" << false << QByteArray() << "\"\\r\\y\"";
}

void tst_Framers::parseDelimiter()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(QByteArray, bytes);
    QFETCH(QString, errorFragment);

    QByteArray delimiter = QByteArrayLiteral("unchanged");
    QString error;
    QCOMPARE(FramingConfig::parseDelimiter(text, &delimiter, &error), valid);
    if (valid) {
        QCOMPARE(delimiter, bytes);
        QVERIFY(error.isEmpty());
    } else {
        QCOMPARE(delimiter, QByteArrayLiteral("unchanged"));
        QVERIFY2(error.contains(errorFragment), qPrintable(error));
        QVERIFY2(error.endsWith(QLatin1Char('.')), qPrintable(error));
    }
}

void tst_Framers::delimiterToString_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("text");

    QTest::newRow("\\n") << QByteArray("\n") << "\\n";
    QTest::newRow("\\r\\n") << QByteArray("\r\n") << "\\r\\n";
    QTest::newRow("\\t") << QByteArray("\t") << "\\t";
    QTest::newRow("\\0") << hex("00") << "\\0";
    QTest::newRow("\\0 then digit") << hex("0031") << "\\01";
    QTest::newRow("backslash") << QByteArray("\\") << "\\\\";
    QTest::newRow("printable") << QByteArray("END |~ !") << "END |~ !";
    QTest::newRow("escape char") << hex("1b") << "\\x1b";
    QTest::newRow("DEL") << hex("7f") << "\\x7f";
    QTest::newRow("high bytes") << hex("ff80c3") << "\\xff\\x80\\xc3";
    QTest::newRow("empty") << QByteArray() << "";
}

void tst_Framers::delimiterToString()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, text);

    QCOMPARE(FramingConfig::delimiterToString(bytes), text);
    if (!bytes.isEmpty()) {
        QByteArray parsed;
        QVERIFY(FramingConfig::parseDelimiter(text, &parsed, nullptr));
        QCOMPARE(parsed, bytes);
    }
}

void tst_Framers::delimiterRoundTripsEveryByte()
{
    for (int value = 0; value < 256; ++value) {
        // Each byte alone, and between letters so escapes must end where they should.
        const QByteArray bytes[] = {QByteArray(1, char(value)),
                                    QByteArray("a") + char(value) + QByteArray("0f")};
        for (const QByteArray &original : bytes) {
            const QString text = FramingConfig::delimiterToString(original);
            for (const QChar c : text)
                QVERIFY2(c.unicode() >= 0x20 && c.unicode() < 0x7f, qPrintable(text));
            QByteArray parsed;
            QString error;
            QVERIFY2(FramingConfig::parseDelimiter(text, &parsed, &error), qPrintable(error));
            QCOMPARE(parsed, original);
        }
    }
}

void tst_Framers::validate_data()
{
    QTest::addColumn<FramingConfig>("config");
    QTest::addColumn<qint64>("maxMessageBytes");
    QTest::addColumn<QStringList>("errorFragments"); // empty: valid

    const QStringList valid;
    QTest::newRow("stream") << streamConfig() << qint64(1) << valid;
    QTest::newRow("eof") << eofConfig() << qint64(1 << 20) << valid;
    QTest::newRow("max 0") << streamConfig() << qint64(0) << QStringList{"at least 1", "0"};
    QTest::newRow("max negative") << eofConfig() << qint64(-5) << QStringList{"-5"};
    QTest::newRow("line \\n") << lineConfig("\n") << qint64(1) << valid;
    QTest::newRow("line 16 bytes") << lineConfig(QByteArray(16, '#')) << qint64(10) << valid;
    QTest::newRow("line 17 bytes") << lineConfig(QByteArray(16, '#') + '\r') << qint64(10)
                                   << QStringList{"17 bytes", "################\\r", "16"};
    QTest::newRow("line empty") << lineConfig(QByteArray()) << qint64(10)
                                << QStringList{"delimiter", "empty"};
    QTest::newRow("line with max 0") << lineConfig("\n") << qint64(0) << QStringList{"0"};
    QTest::newRow("length 2") << lengthConfig(2) << qint64(10) << valid;
    QTest::newRow("length 4") << lengthConfig(4) << qint64(10) << valid;
    QTest::newRow("length 3") << lengthConfig(3) << qint64(10) << QStringList{"2 or 4", "3"};
    QTest::newRow("length 0") << lengthConfig(0) << qint64(10) << QStringList{"2 or 4", "0"};
    QTest::newRow("length 8") << lengthConfig(8) << qint64(10) << QStringList{"2 or 4", "8"};
    QTest::newRow("fixed 1, max 1") << fixedConfig(1) << qint64(1) << valid;
    QTest::newRow("fixed at max") << fixedConfig(100) << qint64(100) << valid;
    QTest::newRow("fixed over max")
        << fixedConfig(101) << qint64(100) << QStringList{"101", "100", "maximum"};
    QTest::newRow("fixed 0") << fixedConfig(0) << qint64(100) << QStringList{"at least 1", "0"};
    QTest::newRow("fixed -1") << fixedConfig(-1) << qint64(100) << QStringList{"-1"};
}

void tst_Framers::validate()
{
    QFETCH(FramingConfig, config);
    QFETCH(qint64, maxMessageBytes);
    QFETCH(QStringList, errorFragments);

    const QString error = config.validate(maxMessageBytes);
    if (errorFragments.isEmpty()) {
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const std::unique_ptr<Framer> framer = Framer::create(config, maxMessageBytes);
        QVERIFY(framer);
        QCOMPARE(framer->maxMessageBytes(), maxMessageBytes);
        QCOMPARE(framer->bufferedBytes(), qint64(0));
    } else {
        QVERIFY(!error.isEmpty());
        for (const QString &fragment : errorFragments)
            QVERIFY2(error.contains(fragment), qPrintable(error));
        QVERIFY2(error.endsWith(QLatin1Char('.')), qPrintable(error));
        QVERIFY(!Framer::create(config, maxMessageBytes));
    }
}

void tst_Framers::overheadBytes_data()
{
    QTest::addColumn<FramingConfig>("config");
    QTest::addColumn<qint64>("overhead");

    QTest::newRow("stream") << streamConfig() << qint64(0);
    QTest::newRow("eof") << eofConfig() << qint64(0);
    QTest::newRow("line \\n") << lineConfig("\n") << qint64(1);
    QTest::newRow("line \\r\\n") << lineConfig("\r\n") << qint64(2);
    QTest::newRow("line NUL") << lineConfig(hex("00")) << qint64(1);
    QTest::newRow("length 2") << lengthConfig(2) << qint64(2);
    QTest::newRow("length 4") << lengthConfig(4) << qint64(4);
    QTest::newRow("fixed 8") << fixedConfig(8) << qint64(0);
}

void tst_Framers::overheadBytes()
{
    QFETCH(FramingConfig, config);
    QFETCH(qint64, overhead);

    QCOMPARE(config.overheadBytes(), overhead);
}

void tst_Framers::equality_data()
{
    QTest::addColumn<FramingConfig>("a");
    QTest::addColumn<FramingConfig>("b");
    QTest::addColumn<bool>("equal");

    FramingConfig otherDelimiter;
    otherDelimiter.delimiter = "\r\n";
    FramingConfig otherLength;
    otherLength.lengthBytes = 2;
    FramingConfig otherFixed;
    otherFixed.fixedBytes = 4;

    QTest::newRow("defaults") << FramingConfig() << FramingConfig() << true;
    QTest::newRow("same line") << lineConfig("\r\n") << lineConfig("\r\n") << true;
    QTest::newRow("same fixed") << fixedConfig(8) << fixedConfig(8) << true;
    QTest::newRow("mode") << streamConfig() << eofConfig() << false;
    QTest::newRow("delimiter") << FramingConfig() << otherDelimiter << false;
    QTest::newRow("line delimiter") << lineConfig("\n") << lineConfig(hex("00")) << false;
    QTest::newRow("lengthBytes") << FramingConfig() << otherLength << false;
    QTest::newRow("fixedBytes") << FramingConfig() << otherFixed << false;
    QTest::newRow("fixed size") << fixedConfig(8) << fixedConfig(9) << false;
}

void tst_Framers::equality()
{
    QFETCH(FramingConfig, a);
    QFETCH(FramingConfig, b);
    QFETCH(bool, equal);

    QCOMPARE(a == b, equal);
    QCOMPARE(b == a, equal);
    QCOMPARE(a != b, !equal);
}

void tst_Framers::modeStringAndDescription_data()
{
    QTest::addColumn<FramingConfig>("config");
    QTest::addColumn<QString>("modeString");
    QTest::addColumn<QString>("description");

    QTest::newRow("stream") << streamConfig() << "stream"
                            << "stream (no message boundaries)";
    QTest::newRow("eof") << eofConfig() << "eof"
                         << "eof (one message per connection)";
    QTest::newRow("line") << lineConfig("\r\n") << "line"
                          << "line (delimiter \\r\\n)";
    QTest::newRow("line NUL") << lineConfig(hex("00")) << "line"
                              << "line (delimiter \\0)";
    QTest::newRow("length") << lengthConfig(2) << "length"
                            << "length (2-byte big-endian header)";
    QTest::newRow("fixed") << fixedConfig(512) << "fixed:512"
                           << "fixed (512-byte blocks)";
}

void tst_Framers::modeStringAndDescription()
{
    QFETCH(FramingConfig, config);
    QFETCH(QString, modeString);
    QFETCH(QString, description);

    QCOMPARE(config.modeString(), modeString);
    QCOMPARE(config.description(), description);
}

// ---- Framers ----

void tst_Framers::framesAtEveryBoundary_data()
{
    QTest::addColumn<FramingConfig>("config");
    QTest::addColumn<qint64>("maxMessageBytes");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArrayList>("wires");
    QTest::addColumn<QList<qint64>>("payloads");
    QTest::addColumn<qint64>("remainder"); // bytesBuffered() after finish()

    const qint64 big = 1 << 20;
    const QByteArray binary = hex("00ff00c328fe80");

    QTest::newRow("eof nothing sent")
        << eofConfig() << big << QByteArray() << QByteArrayList{QByteArray()} << QList<qint64>{0}
        << qint64(0);
    QTest::newRow("eof text") << eofConfig() << big << QByteArray("hello\nworld\r\n")
                              << QByteArrayList{"hello\nworld\r\n"} << QList<qint64>{13}
                              << qint64(0);
    QTest::newRow("eof binary") << eofConfig() << big << binary << QByteArrayList{binary}
                                << QList<qint64>{7} << qint64(0);
    QTest::newRow("eof at limit") << eofConfig() << qint64(5) << QByteArray("abcde")
                                  << QByteArrayList{"abcde"} << QList<qint64>{5} << qint64(0);

    QTest::newRow("line merged") << lineConfig("\n") << big << QByteArray("ab\ncde\nf\n")
                                 << QByteArrayList{"ab\n", "cde\n", "f\n"} << QList<qint64>{2, 3, 1}
                                 << qint64(0);
    QTest::newRow("line empty lines")
        << lineConfig("\n") << big << QByteArray("\n\nx\n\n")
        << QByteArrayList{"\n", "\n", "x\n", "\n"} << QList<qint64>{0, 0, 1, 0} << qint64(0);
    QTest::newRow("line partial tail") << lineConfig("\n") << big << QByteArray("ab\ncd")
                                       << QByteArrayList{"ab\n"} << QList<qint64>{2} << qint64(2);
    QTest::newRow("line at limit")
        << lineConfig("\n") << qint64(4) << QByteArray("abcd\n\nwxyz\n")
        << QByteArrayList{"abcd\n", "\n", "wxyz\n"} << QList<qint64>{4, 0, 4} << qint64(0);
    QTest::newRow("line partial at limit")
        << lineConfig("\r\n") << qint64(4) << QByteArray("ab\r\nabcd\r") << QByteArrayList{"ab\r\n"}
        << QList<qint64>{2} << qint64(5);
    QTest::newRow("line binary") << lineConfig("\n") << big << binary + "\n" + binary + "\n"
                                 << QByteArrayList{binary + "\n", binary + "\n"}
                                 << QList<qint64>{7, 7} << qint64(0);
    QTest::newRow("line NUL delimiter")
        << lineConfig(hex("00")) << big << QByteArray("abc") + hex("0000ff00")
        << QByteArrayList{QByteArray("abc") + hex("00"), hex("00"), hex("ff00")}
        << QList<qint64>{3, 0, 1} << qint64(0);
    QTest::newRow("crlf") << lineConfig("\r\n") << big << QByteArray("GET /\r\nHost: x\r\n\r\n")
                          << QByteArrayList{"GET /\r\n", "Host: x\r\n", "\r\n"}
                          << QList<qint64>{5, 7, 0} << qint64(0);
    QTest::newRow("crlf lone cr in payload")
        << lineConfig("\r\n") << big << QByteArray("a\rb\r\n\r\r\n\rx\r\n")
        << QByteArrayList{"a\rb\r\n", "\r\r\n", "\rx\r\n"} << QList<qint64>{3, 1, 2} << qint64(0);
    QTest::newRow("crlf lone lf in payload")
        << lineConfig("\r\n") << big << QByteArray("a\nb\r\n\n\r\n")
        << QByteArrayList{"a\nb\r\n", "\n\r\n"} << QList<qint64>{3, 1} << qint64(0);
    QTest::newRow("crlf at limit")
        << lineConfig("\r\n") << qint64(4) << QByteArray("abcd\r\n\r\r\r\n\r\n")
        << QByteArrayList{"abcd\r\n", "\r\r\r\n", "\r\n"} << QList<qint64>{4, 2, 0} << qint64(0);
    QTest::newRow("crlf partial delimiter tail")
        << lineConfig("\r\n") << big << QByteArray("ab\r\ncd\r") << QByteArrayList{"ab\r\n"}
        << QList<qint64>{2} << qint64(3);
    QTest::newRow("four-byte delimiter")
        << lineConfig("\r\n\r\n") << big << QByteArray("head\r\n\r\nx\r\n\r\r\n\r\n\r\n")
        << QByteArrayList{"head\r\n\r\n", "x\r\n\r\r\n\r\n"} << QList<qint64>{4, 4} << qint64(2);
    QTest::newRow("self-overlapping delimiter")
        << lineConfig("aa") << big << QByteArray("baaabaaaa") << QByteArrayList{"baa", "abaa", "aa"}
        << QList<qint64>{1, 2, 0} << qint64(0);
    QTest::newRow("long delimiter")
        << lineConfig("<<END-OF-MSG>>") << big << QByteArray("one<<END-OF-MSG>>two<<END<<END-OF")
        << QByteArrayList{"one<<END-OF-MSG>>"} << QList<qint64>{3} << qint64(16);

    const QByteArray payload300(300, 'p');
    QTest::newRow("length2 merged")
        << lengthConfig(2) << big << hex("0003") + "abc" + hex("0001") + "z"
        << QByteArrayList{hex("0003") + "abc", hex("0001") + "z"} << QList<qint64>{3, 1}
        << qint64(0);
    QTest::newRow("length2 zero") << lengthConfig(2) << big << hex("0000")
                                  << QByteArrayList{hex("0000")} << QList<qint64>{0} << qint64(0);
    QTest::newRow("length2 zeros between")
        << lengthConfig(2) << big << hex("0000") + hex("0001") + "a" + hex("0000")
        << QByteArrayList{hex("0000"), hex("0001") + "a", hex("0000")} << QList<qint64>{0, 1, 0}
        << qint64(0);
    QTest::newRow("length2 at limit")
        << lengthConfig(2) << qint64(5) << hex("0005") + "hello" + hex("0005") + "world"
        << QByteArrayList{hex("0005") + "hello", hex("0005") + "world"} << QList<qint64>{5, 5}
        << qint64(0);
    QTest::newRow("length2 binary")
        << lengthConfig(2) << big << hex("0007") + binary + hex("000a") + hex("0a0a0a")
        << QByteArrayList{hex("0007") + binary} << QList<qint64>{7} << qint64(5);
    QTest::newRow("length2 partial header")
        << lengthConfig(2) << big << hex("0001") + "a" + hex("00")
        << QByteArrayList{hex("0001") + "a"} << QList<qint64>{1} << qint64(1);
    QTest::newRow("length2 two-byte value")
        << lengthConfig(2) << qint64(300) << hex("012c") + payload300
        << QByteArrayList{hex("012c") + payload300} << QList<qint64>{300} << qint64(0);
    QTest::newRow("length4 merged")
        << lengthConfig(4) << big
        << hex("00000002") + "hi" + hex("00000000") + hex("00000001") + "!"
        << QByteArrayList{hex("00000002") + "hi", hex("00000000"), hex("00000001") + "!"}
        << QList<qint64>{2, 0, 1} << qint64(0);
    QTest::newRow("length4 zero") << lengthConfig(4) << big << hex("00000000")
                                  << QByteArrayList{hex("00000000")} << QList<qint64>{0}
                                  << qint64(0);
    QTest::newRow("length4 at limit")
        << lengthConfig(4) << qint64(300) << hex("0000012c") + payload300
        << QByteArrayList{hex("0000012c") + payload300} << QList<qint64>{300} << qint64(0);
    QTest::newRow("length4 partial payload")
        << lengthConfig(4) << big << hex("00000001") + "a" + hex("00000003") + "bc"
        << QByteArrayList{hex("00000001") + "a"} << QList<qint64>{1} << qint64(6);

    QTest::newRow("fixed4 merged")
        << fixedConfig(4) << big << QByteArray("abcdefghijkl")
        << QByteArrayList{"abcd", "efgh", "ijkl"} << QList<qint64>{4, 4, 4} << qint64(0);
    QTest::newRow("fixed4 partial") << fixedConfig(4) << big << QByteArray("abcdefg")
                                    << QByteArrayList{"abcd"} << QList<qint64>{4} << qint64(3);
    QTest::newRow("fixed binary") << fixedConfig(7) << big << binary + binary
                                  << QByteArrayList{binary, binary} << QList<qint64>{7, 7}
                                  << qint64(0);
    QTest::newRow("fixed1") << fixedConfig(1) << big << hex("00ff0a")
                            << QByteArrayList{hex("00"), hex("ff"), hex("0a")}
                            << QList<qint64>{1, 1, 1} << qint64(0);
    QTest::newRow("fixed at limit")
        << fixedConfig(5) << qint64(5) << QByteArray("abcdefghij")
        << QByteArrayList{"abcde", "fghij"} << QList<qint64>{5, 5} << qint64(0);
}

void tst_Framers::framesAtEveryBoundary()
{
    QFETCH(FramingConfig, config);
    QFETCH(qint64, maxMessageBytes);
    QFETCH(QByteArray, input);
    QFETCH(QByteArrayList, wires);
    QFETCH(QList<qint64>, payloads);
    QFETCH(qint64, remainder);

    QCOMPARE(payloads.size(), wires.size()); // the row itself is consistent

    const auto check = [&](const QList<qsizetype> &cuts) {
        const Run run = runPieces(config, maxMessageBytes, input, cuts);
        QString problem = checkRun(run, input, wires, payloads, remainder);
        if (!problem.isEmpty()) {
            QStringList offsets;
            for (const qsizetype cut : cuts)
                offsets.append(QString::number(cut));
            problem += QStringLiteral(" (input %1 cut at %2)")
                           .arg(show(input), offsets.join(QLatin1Char(',')));
        }
        return problem;
    };

    QString problem = check({});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    problem = check(everyByte(input.size()));
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    // Two pieces, cut at every offset (including empty first and last pieces).
    for (qsizetype i = 0; i <= input.size(); ++i) {
        problem = check({i});
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }
    // Three pieces at every pair of offsets, for the short inputs: catches a delimiter
    // or header spread over three chunks.
    if (input.size() <= 64) {
        for (qsizetype i = 0; i <= input.size(); ++i) {
            for (qsizetype j = i; j <= input.size(); ++j) {
                problem = check({i, j});
                QVERIFY2(problem.isEmpty(), qPrintable(problem));
            }
        }
    }
}

void tst_Framers::streamPassesChunksThrough_data()
{
    QTest::addColumn<qint64>("maxMessageBytes");
    QTest::addColumn<QByteArray>("input");

    QTest::newRow("text") << qint64(1 << 20) << QByteArray("hello\r\nworld");
    QTest::newRow("binary") << qint64(1 << 20) << hex("00ff00c328fe800a0d");
    QTest::newRow("no limit") << qint64(1) << QByteArray(100, 'x');
}

void tst_Framers::streamPassesChunksThrough()
{
    QFETCH(qint64, maxMessageBytes);
    QFETCH(QByteArray, input);

    for (qsizetype cut = 0; cut <= input.size(); ++cut) {
        const Run run = runPieces(streamConfig(), maxMessageBytes, input, {cut});
        QVERIFY(!run.failed);
        QByteArrayList chunks{input.left(cut), input.mid(cut)};
        chunks.removeAll(QByteArray()); // an empty chunk yields nothing
        QCOMPARE(run.sink.wires, chunks);
        QList<qint64> sizes;
        for (const QByteArray &chunk : chunks)
            sizes.append(chunk.size());
        QCOMPARE(run.sink.payloads, sizes);
        QCOMPARE(run.bufferedAfterFinish, qint64(0));
    }

    const Run bytewise = runPieces(streamConfig(), maxMessageBytes, input, everyByte(input.size()));
    QVERIFY(!bytewise.failed);
    QCOMPARE(bytewise.sink.wires.size(), input.size());
    QCOMPARE(bytewise.sink.wires.join(), input);
    QCOMPARE(bytewise.sink.payloads, QList<qint64>(input.size(), 1));
}

void tst_Framers::rejectsOversize_data()
{
    QTest::addColumn<FramingConfig>("config");
    QTest::addColumn<qint64>("maxMessageBytes");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArrayList>("before");   // messages framed before the refusal
    QTest::addColumn<qint64>("oversizeWhole");    // input fed in one chunk
    QTest::addColumn<qint64>("oversizeBytewise"); // input fed one byte at a time
    QTest::addColumn<qsizetype>("failAtByte");    // ... refused when this many bytes are in

    const QByteArrayList none;
    QTest::newRow("eof one over") << eofConfig() << qint64(4) << QByteArray("abcde") << none
                                  << qint64(5) << qint64(5) << qsizetype(5);
    QTest::newRow("eof far over") << eofConfig() << qint64(4) << QByteArray("abcdefghij") << none
                                  << qint64(10) << qint64(5) << qsizetype(5);
    QTest::newRow("line one over") << lineConfig("\n") << qint64(4) << QByteArray("abcde\n") << none
                                   << qint64(5) << qint64(5) << qsizetype(5);
    QTest::newRow("line one over after one at limit")
        << lineConfig("\n") << qint64(4) << QByteArray("abcd\nabcde\n") << QByteArrayList{"abcd\n"}
        << qint64(5) << qint64(5) << qsizetype(10);
    QTest::newRow("line no delimiter") << lineConfig("\n") << qint64(4) << QByteArray("abcdefgh")
                                       << none << qint64(8) << qint64(5) << qsizetype(5);
    QTest::newRow("crlf one over") << lineConfig("\r\n") << qint64(4) << QByteArray("abcde\r\n")
                                   << none << qint64(5) << qint64(6) << qsizetype(6);
    QTest::newRow("crlf no delimiter") << lineConfig("\r\n") << qint64(4) << QByteArray("abcdefgh")
                                       << none << qint64(8) << qint64(6) << qsizetype(6);
    QTest::newRow("crlf lone cr makes it too large")
        << lineConfig("\r\n") << qint64(4) << QByteArray("abcd\rx\r\n") << none << qint64(6)
        << qint64(6) << qsizetype(6);
    QTest::newRow("length2 one over") << lengthConfig(2) << qint64(4) << hex("0005") + "hello"
                                      << none << qint64(5) << qint64(5) << qsizetype(2);
    QTest::newRow("length2 0xFFFF") << lengthConfig(2) << qint64(10) << hex("ffff") + "abc" << none
                                    << qint64(65535) << qint64(65535) << qsizetype(2);
    QTest::newRow("length4 one over after ok")
        << lengthConfig(4) << qint64(4) << hex("00000004") + "abcd" + hex("00000005") + "hello"
        << QByteArrayList{hex("00000004") + "abcd"} << qint64(5) << qint64(5) << qsizetype(12);
    QTest::newRow("length4 0x80000000")
        << lengthConfig(4) << qint64(1 << 20) << hex("80000000") << none << qint64(2147483648LL)
        << qint64(2147483648LL) << qsizetype(4);
    QTest::newRow("length4 0xFFFFFFFF")
        << lengthConfig(4) << qint64(10) << hex("ffffffff") + "x" << none << qint64(4294967295LL)
        << qint64(4294967295LL) << qsizetype(4);
}

void tst_Framers::rejectsOversize()
{
    QFETCH(FramingConfig, config);
    QFETCH(qint64, maxMessageBytes);
    QFETCH(QByteArray, input);
    QFETCH(QByteArrayList, before);
    QFETCH(qint64, oversizeWhole);
    QFETCH(qint64, oversizeBytewise);
    QFETCH(qsizetype, failAtByte);

    {
        const std::unique_ptr<Framer> framer = Framer::create(config, maxMessageBytes);
        QVERIFY(framer);
        RecordingSink sink;
        QCOMPARE(framer->feed(input, sink), Framer::Status::MessageTooLarge);
        QCOMPARE(framer->oversizeBytes(), oversizeWhole);
        QCOMPARE(sink.wires, before);
        // A failed framer stays failed and frames nothing more, not even at finish().
        QCOMPARE(framer->feed(QByteArrayLiteral("\n"), sink), Framer::Status::MessageTooLarge);
        QCOMPARE(framer->finish(sink), Framer::Status::MessageTooLarge);
        QCOMPARE(sink.wires, before);
        QCOMPARE(framer->oversizeBytes(), oversizeWhole);
    }

    const Run bytewise = runPieces(config, maxMessageBytes, input, everyByte(input.size()));
    QVERIFY(bytewise.failed);
    QCOMPARE(bytewise.failedAfterBytes, failAtByte);
    QCOMPARE(bytewise.oversizeBytes, oversizeBytewise);
    QCOMPARE(bytewise.sink.wires, before);

    // Any other cut reports at least one byte over, at least what the earliest refusal
    // saw, and at most the declared length or the bytes of the message that were sent.
    const qint64 low = qMin(oversizeWhole, oversizeBytewise);
    const qint64 high =
        qMax(qMax(oversizeWhole, oversizeBytewise), qint64(input.size() - before.join().size()));
    QVERIFY(low > maxMessageBytes);
    for (qsizetype cut = 0; cut <= input.size(); ++cut) {
        const Run run = runPieces(config, maxMessageBytes, input, {cut});
        QVERIFY(run.failed);
        if (config.mode == FramingMode::Length)
            QCOMPARE(run.oversizeBytes, oversizeWhole); // the declared length, however cut
        QVERIFY2(run.oversizeBytes >= low && run.oversizeBytes <= high,
                 qPrintable(QStringLiteral("cut %1: oversize %2").arg(cut).arg(run.oversizeBytes)));
        QCOMPARE(run.sink.wires, before);
    }
}

void tst_Framers::bufferedBytesAfterEachChunk_data()
{
    QTest::addColumn<FramingConfig>("config");
    QTest::addColumn<QByteArrayList>("chunks");
    QTest::addColumn<QList<qint64>>("buffered"); // bufferedBytes() after each chunk
    QTest::addColumn<QList<qint64>>("framed");   // messages framed so far, after each chunk
    QTest::addColumn<QByteArrayList>("wires");

    QTest::newRow("stream") << streamConfig() << QByteArrayList{"ab", "", "cd"}
                            << QList<qint64>{0, 0, 0} << QList<qint64>{1, 1, 2}
                            << QByteArrayList{"ab", "cd"};
    QTest::newRow("eof") << eofConfig() << QByteArrayList{"ab", "", "cd\n"}
                         << QList<qint64>{2, 2, 5} << QList<qint64>{0, 0, 0} << QByteArrayList{};
    QTest::newRow("line empty chunk")
        << lineConfig("\n") << QByteArrayList{"ab", "", "\n"} << QList<qint64>{2, 2, 0}
        << QList<qint64>{0, 0, 1} << QByteArrayList{"ab\n"};
    QTest::newRow("crlf cr | lf") << lineConfig("\r\n") << QByteArrayList{"abc\r", "\ndef"}
                                  << QList<qint64>{4, 3} << QList<qint64>{0, 1}
                                  << QByteArrayList{"abc\r\n"};
    QTest::newRow("crlf lone cr | crlf")
        << lineConfig("\r\n") << QByteArrayList{"a\r", "\r\n"} << QList<qint64>{2, 0}
        << QList<qint64>{0, 1} << QByteArrayList{"a\r\r\n"};
    QTest::newRow("crlf cr | not lf")
        << lineConfig("\r\n") << QByteArrayList{"a\r", "b", "\r", "\n", "\r"}
        << QList<qint64>{2, 3, 4, 0, 1} << QList<qint64>{0, 0, 0, 1, 1}
        << QByteArrayList{"a\rb\r\n"};
    QTest::newRow("crlf cr | lf and more")
        << lineConfig("\r\n") << QByteArrayList{"x\r", "\ny\r\nz\r", "\n"} << QList<qint64>{2, 2, 0}
        << QList<qint64>{0, 2, 3} << QByteArrayList{"x\r\n", "y\r\n", "z\r\n"};
    QTest::newRow("length4 header split")
        << lengthConfig(4) << QByteArrayList{hex("00"), hex("0000"), "", hex("02"), "h", "i"}
        << QList<qint64>{1, 3, 3, 4, 5, 0} << QList<qint64>{0, 0, 0, 0, 0, 1}
        << QByteArrayList{hex("00000002") + "hi"};
    QTest::newRow("length2 header then more")
        << lengthConfig(2) << QByteArrayList{hex("00"), hex("02") + "hi" + hex("00")}
        << QList<qint64>{1, 1} << QList<qint64>{0, 1} << QByteArrayList{hex("0002") + "hi"};
    QTest::newRow("length2 zero header split")
        << lengthConfig(2) << QByteArrayList{hex("00"), hex("00")} << QList<qint64>{1, 0}
        << QList<qint64>{0, 1} << QByteArrayList{hex("0000")};
    QTest::newRow("fixed4") << fixedConfig(4) << QByteArrayList{"ab", "cdef", "gh", ""}
                            << QList<qint64>{2, 2, 0, 0} << QList<qint64>{0, 1, 2, 2}
                            << QByteArrayList{"abcd", "efgh"};
}

void tst_Framers::bufferedBytesAfterEachChunk()
{
    QFETCH(FramingConfig, config);
    QFETCH(QByteArrayList, chunks);
    QFETCH(QList<qint64>, buffered);
    QFETCH(QList<qint64>, framed);
    QFETCH(QByteArrayList, wires);

    QCOMPARE(buffered.size(), chunks.size());
    QCOMPARE(framed.size(), chunks.size());
    const std::unique_ptr<Framer> framer = Framer::create(config, 1 << 20);
    QVERIFY(framer);
    QCOMPARE(framer->bufferedBytes(), qint64(0));
    RecordingSink sink;
    for (qsizetype i = 0; i < chunks.size(); ++i) {
        QCOMPARE(framer->feed(chunks.at(i), sink), Framer::Status::Ok);
        QCOMPARE(framer->bufferedBytes(), buffered.at(i));
        QCOMPARE(sink.wires.size(), framed.at(i));
    }
    QCOMPARE(sink.wires, wires);
}

void tst_Framers::finish_data()
{
    QTest::addColumn<FramingConfig>("config");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArrayList>("finished"); // messages framed by finish()
    QTest::addColumn<qint64>("bufferedAfter");

    const QByteArrayList none;
    QTest::newRow("eof") << eofConfig() << QByteArray("abc") << QByteArrayList{"abc"} << qint64(0);
    QTest::newRow("eof nothing sent")
        << eofConfig() << QByteArray() << QByteArrayList{QByteArray()} << qint64(0);
    QTest::newRow("eof binary") << eofConfig() << hex("00ff0ac328")
                                << QByteArrayList{hex("00ff0ac328")} << qint64(0);
    QTest::newRow("stream") << streamConfig() << QByteArray("abc") << none << qint64(0);
    QTest::newRow("line partial") << lineConfig("\n") << QByteArray("ab\ncd") << none << qint64(2);
    QTest::newRow("crlf partial delimiter")
        << lineConfig("\r\n") << QByteArray("cd\r") << none << qint64(3);
    QTest::newRow("length4 partial header") << lengthConfig(4) << hex("0000") << none << qint64(2);
    QTest::newRow("length4 partial payload")
        << lengthConfig(4) << hex("00000005") + "ab" << none << qint64(6);
    QTest::newRow("fixed partial") << fixedConfig(4) << QByteArray("abcde") << none << qint64(1);
    QTest::newRow("fixed complete") << fixedConfig(4) << QByteArray("abcd") << none << qint64(0);
}

void tst_Framers::finish()
{
    QFETCH(FramingConfig, config);
    QFETCH(QByteArray, input);
    QFETCH(QByteArrayList, finished);
    QFETCH(qint64, bufferedAfter);

    const std::unique_ptr<Framer> framer = Framer::create(config, 1 << 20);
    QVERIFY(framer);
    RecordingSink fedSink;
    QCOMPARE(framer->feed(input, fedSink), Framer::Status::Ok);
    RecordingSink sink;
    QCOMPARE(framer->finish(sink), Framer::Status::Ok);
    QCOMPARE(sink.wires, finished);
    for (qsizetype i = 0; i < finished.size(); ++i)
        QCOMPARE(sink.payloads.at(i), qint64(finished.at(i).size()));
    QCOMPARE(framer->bufferedBytes(), bufferedAfter);
    // A second finish() frames nothing more.
    QCOMPARE(framer->finish(sink), Framer::Status::Ok);
    QCOMPARE(sink.wires, finished);
}

void tst_Framers::wholeMessagesAreViewsIntoInput_data()
{
    QTest::addColumn<FramingConfig>("config");
    QTest::addColumn<QByteArray>("prefix"); // fed first, in a chunk of its own
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("fromBuffer"); // messages of input completing the prefix's message
    QTest::addColumn<int>("fromInput");  // whole messages in input after those

    QTest::newRow("stream") << streamConfig() << QByteArray() << QByteArray("abc") << 0 << 1;
    QTest::newRow("line") << lineConfig("\n") << QByteArray() << QByteArray("a\nbb\nccc\n") << 0
                          << 3;
    QTest::newRow("line after partial")
        << lineConfig("\n") << QByteArray("xy") << QByteArray("z\na\n\nb") << 1 << 2;
    QTest::newRow("crlf after cr")
        << lineConfig("\r\n") << QByteArray("x\r") << QByteArray("\na\r\n\r\n") << 1 << 2;
    QTest::newRow("length2") << lengthConfig(2) << QByteArray()
                             << hex("0001") + "a" + hex("0000") + hex("0002") + "bc" << 0 << 3;
    QTest::newRow("length2 after partial header")
        << lengthConfig(2) << hex("00") << hex("01") + "a" + hex("0001") + "b" << 1 << 1;
    QTest::newRow("length4 after partial payload") << lengthConfig(4) << hex("00000003") + "a"
                                                   << "bc" + hex("00000001") + "d" << 1 << 1;
    QTest::newRow("fixed") << fixedConfig(2) << QByteArray() << QByteArray("aabbcc") << 0 << 3;
    QTest::newRow("fixed after partial")
        << fixedConfig(2) << QByteArray("a") << QByteArray("abbcc") << 1 << 2;
}

void tst_Framers::wholeMessagesAreViewsIntoInput()
{
    QFETCH(FramingConfig, config);
    QFETCH(QByteArray, prefix);
    QFETCH(QByteArray, input);
    QFETCH(int, fromBuffer);
    QFETCH(int, fromInput);

    const std::unique_ptr<Framer> framer = Framer::create(config, 1 << 20);
    QVERIFY(framer);
    RecordingSink sink;
    QCOMPARE(framer->feed(prefix, sink), Framer::Status::Ok);
    QCOMPARE(sink.wires.size(), 0);
    QCOMPARE(framer->feed(input, sink), Framer::Status::Ok);
    QCOMPARE(sink.wires.size(), fromBuffer + fromInput);

    const char *inputBegin = input.constData();
    const char *inputEnd = inputBegin + input.size();
    const auto inInput = [&](int i) {
        const char *wire = sink.pointers.at(i);
        return wire >= inputBegin && wire + sink.wires.at(i).size() <= inputEnd;
    };
    for (int i = 0; i < fromBuffer; ++i)
        QVERIFY2(!inInput(i), "a message begun in an earlier chunk cannot lie in the input");
    for (int i = fromBuffer; i < sink.wires.size(); ++i)
        QVERIFY2(inInput(i), qPrintable(QStringLiteral("message %1 was copied").arg(i)));
}

void tst_Framers::echoEqualsInput_data()
{
    QTest::addColumn<FramingConfig>("config");
    QTest::addColumn<qint64>("maxMessageBytes");
    QTest::addColumn<int>("messageCount");
    QTest::addColumn<quint32>("seed");

    for (const quint32 seed : {1u, 2u, 3u}) {
        QTest::addRow("stream seed %u", seed) << streamConfig() << qint64(64) << 200 << seed;
        QTest::addRow("eof seed %u", seed) << eofConfig() << qint64(1 << 20) << 1 << seed;
        QTest::addRow("line \\n seed %u", seed) << lineConfig("\n") << qint64(40) << 300 << seed;
        QTest::addRow("line \\r\\n seed %u", seed)
            << lineConfig("\r\n") << qint64(40) << 300 << seed;
        QTest::addRow("line aa seed %u", seed) << lineConfig("aa") << qint64(40) << 300 << seed;
        QTest::addRow("length2 seed %u", seed) << lengthConfig(2) << qint64(300) << 300 << seed;
        QTest::addRow("length4 seed %u", seed) << lengthConfig(4) << qint64(300) << 300 << seed;
        QTest::addRow("fixed7 seed %u", seed) << fixedConfig(7) << qint64(7) << 300 << seed;
    }
    // Messages larger than the buffers' initial and retained capacity.
    QTest::newRow("line large") << lineConfig("\r\n") << qint64(100000) << 12 << 4u;
    QTest::newRow("length4 large") << lengthConfig(4) << qint64(100000) << 12 << 5u;
    QTest::newRow("fixed large") << fixedConfig(70000) << qint64(70000) << 6 << 6u;
    QTest::newRow("eof large") << eofConfig() << qint64(300000) << 1 << 7u;
}

void tst_Framers::echoEqualsInput()
{
    QFETCH(FramingConfig, config);
    QFETCH(qint64, maxMessageBytes);
    QFETCH(int, messageCount);
    QFETCH(quint32, seed);

    QRandomGenerator random(seed);
    const auto randomBytes = [&](qint64 size) {
        QByteArray bytes(size, Qt::Uninitialized);
        for (char &byte : bytes)
            byte = char(random.bounded(256));
        return bytes;
    };

    // Build a stream of random binary messages and the wires a framer must cut from it.
    QByteArray input;
    QByteArrayList wires;
    QList<qint64> payloads;
    for (int i = 0; i < messageCount; ++i) {
        qint64 size = random.bounded(int(maxMessageBytes) + 1);
        QByteArray payload;
        QByteArray wire;
        switch (config.mode) {
        case FramingMode::Stream:
        case FramingMode::Eof:
            wire = payload = randomBytes(size);
            break;
        case FramingMode::Line:
            // The payload may not hold the delimiter, nor end with part of one.
            do {
                payload = randomBytes(size);
                wire = payload + config.delimiter;
            } while (wire.indexOf(config.delimiter) != payload.size());
            break;
        case FramingMode::Length: {
            payload = randomBytes(size);
            const QByteArray header = hex(config.lengthBytes == 2 ? "0000" : "00000000");
            wire = header + payload;
            for (int k = 0; k < config.lengthBytes; ++k)
                wire[config.lengthBytes - 1 - k] = char((size >> (8 * k)) & 0xff);
            break;
        }
        case FramingMode::Fixed:
            wire = payload = randomBytes(config.fixedBytes);
            break;
        }
        input += wire;
        wires.append(wire);
        payloads.append(payload.size());
    }

    // Cut it at random, from single bytes to chunks holding several messages.
    QList<qsizetype> cuts;
    const int maxChunk = int(3 * (maxMessageBytes + config.overheadBytes()));
    for (qsizetype at = random.bounded(1, maxChunk + 1); at < input.size();
         at += random.bounded(random.bounded(4) == 0 ? 2 : maxChunk + 1))
        cuts.append(at);

    const Run run = runPieces(config, maxMessageBytes, input, cuts);
    QVERIFY(!run.failed);
    QCOMPARE(run.sink.wires.join(), input);
    if (config.mode == FramingMode::Stream) {
        QByteArrayList chunks = piecesOf(input, cuts);
        chunks.removeAll(QByteArray());
        QCOMPARE(run.sink.wires, chunks);
    } else {
        QCOMPARE(run.sink.wires.size(), wires.size());
        QCOMPARE(run.sink.wires, wires);
        QCOMPARE(run.sink.payloads, payloads);
    }
    QCOMPARE(run.bufferedAfterFinish, qint64(0));
}

QTEST_GUILESS_MAIN(tst_Framers)
#include "tst_framers.moc"
