// The load generator's WebSocket client framing: the upgrade, masked client frames, and
// server frames read whole and one byte at a time.
#include "wsclientframing.h"

#include <QTest>

using namespace Echoscope;

namespace {

using Reader = WsClientFraming::Reader;

// What a reader made of some input: data messages (opcode and bytes), control frames and
// the first error, written as one line per event so that rows compare in one QCOMPARE.
QStringList readAll(Reader &reader, const QByteArray &input, qint64 piece)
{
    QStringList events;
    QByteArray message;
    qint64 at = 0;
    for (int guard = 0; guard < 100000; ++guard) {
        const qint64 size = std::min<qint64>(piece, input.size() - at);
        Reader::Event event = Reader::Event::None;
        const char *payload = nullptr;
        qint64 payloadBytes = 0;
        const qint64 consumed =
            reader.read(input.constData() + at, size, &event, &payload, &payloadBytes);
        at += consumed;
        switch (event) {
        case Reader::Event::None:
            if (consumed != size)
                return events << QStringLiteral("None before the end of its input");
            if (at == input.size())
                return events;
            break;
        case Reader::Event::Data:
            message.append(payload, payloadBytes);
            break;
        case Reader::Event::MessageEnd:
            events << QStringLiteral("%1 %2").arg(
                reader.messageOpcode() == WsFrameHeader::Text ? u"text" : u"binary",
                QString::fromLatin1(message.toHex()));
            message.clear();
            break;
        case Reader::Event::Ping:
        case Reader::Event::Pong:
            events << QStringLiteral("%1 %2").arg(
                event == Reader::Event::Ping ? u"ping" : u"pong",
                QString::fromLatin1(
                    QByteArray(reader.controlPayload(), reader.controlPayloadBytes()).toHex()));
            break;
        case Reader::Event::Close:
            events
                << QStringLiteral("close %1 %2").arg(reader.closeCode()).arg(reader.closeReason());
            break;
        case Reader::Event::Error:
            return events << QStringLiteral("error: ") + reader.errorString();
        }
    }
    return events << QStringLiteral("no end");
}

// An unmasked server frame.
QByteArray serverFrame(quint8 opcode, bool fin, const QByteArray &payload)
{
    QByteArray frame;
    frame.append(char((fin ? 0x80 : 0) | opcode));
    const quint64 size = quint64(payload.size());
    if (size < 126) {
        frame.append(char(size));
    } else if (size <= 0xffff) {
        frame.append(char(126));
        frame.append(char(size >> 8));
        frame.append(char(size & 0xff));
    } else {
        frame.append(char(127));
        for (int i = 0; i < 8; ++i)
            frame.append(char((size >> (56 - 8 * i)) & 0xff));
    }
    return frame + payload;
}

QByteArray bytes(qsizetype size)
{
    QByteArray data(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        data[i] = char((i * 7 + 3) & 0xff);
    return data;
}

} // namespace

class tst_WsClientFraming : public QObject
{
    Q_OBJECT

private slots:
    void acceptKeyIsTheRfcExample();
    void upgradeRequest();
    void checksUpgradeResponse_data();
    void checksUpgradeResponse();
    void headerLengths_data();
    void headerLengths();
    void maskingIsTheRfcExample();
    void maskingResumesMidFrame();
    void controlFrames();
    void readsServerFrames_data();
    void readsServerFrames();
    void refusesBrokenFrames_data();
    void refusesBrokenFrames();
};

void tst_WsClientFraming::acceptKeyIsTheRfcExample()
{
    // RFC 6455 1.3.
    QCOMPARE(WsClientFraming::acceptFor("dGhlIHNhbXBsZSBub25jZQ=="),
             QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    const QByteArray key = WsClientFraming::makeKey(0x0123456789abcdefULL, 42);
    QCOMPARE(key.size(), 24);
    QCOMPARE(QByteArray::fromBase64(key).size(), 16);
    QVERIFY(key != WsClientFraming::makeKey(0x0123456789abcdefULL, 43));
}

void tst_WsClientFraming::upgradeRequest()
{
    const QByteArray request = WsClientFraming::upgradeRequest("127.0.0.1:80", "/echo?x=1", "KEY");
    QVERIFY(request.startsWith("GET /echo?x=1 HTTP/1.1\r\n"));
    for (const char *line :
         {"\r\nHost: 127.0.0.1:80\r\n", "\r\nUpgrade: websocket\r\n", "\r\nConnection: Upgrade\r\n",
          "\r\nSec-WebSocket-Key: KEY\r\n", "\r\nSec-WebSocket-Version: 13\r\n"})
        QVERIFY2(request.contains(line), line);
    QVERIFY(request.endsWith("\r\n\r\n"));
    QCOMPARE(WsClientFraming::responseHeaderBytes(request.constData(), request.size()),
             request.size());
    QCOMPARE(WsClientFraming::responseHeaderBytes(request.constData(), request.size() - 1), 0);
    QVERIFY(WsClientFraming::couldBeHttp("HTT", 3));
    QVERIFY(WsClientFraming::couldBeHttp("HTTP/1.1 101", 12));
    QVERIFY(!WsClientFraming::couldBeHttp("GET", 3));
}

void tst_WsClientFraming::checksUpgradeResponse_data()
{
    const QByteArray key = "dGhlIHNhbXBsZSBub25jZQ==";
    const QByteArray good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<QString>("problem"); // a part of the error, empty when accepted
    QTest::newRow("accepted") << good << QString();
    QTest::newRow("header names in any case")
        << QByteArray("HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade"
                      "\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
        << QString();
    QTest::newRow("plain echo") << WsClientFraming::upgradeRequest("h", "/", key)
                                << QStringLiteral("not HTTP");
    QTest::newRow("404") << QByteArray("HTTP/1.1 404 Not Found\r\n\r\n")
                         << QStringLiteral("\"HTTP/1.1 404 Not Found\", not 101");
    QTest::newRow("wrong accept")
        << QByteArray(good).replace("s3pP", "AAAA")
        << QStringLiteral("Sec-WebSocket-Accept is \"AAAALMBiTxaQ9kYGzzhZRbK+xOo=\"");
    QTest::newRow("no accept") << QByteArray(good).replace("Sec-WebSocket-Accept", "X-Accept")
                               << QStringLiteral("no Sec-WebSocket-Accept");
    QTest::newRow("no upgrade") << QByteArray(good).replace("Upgrade: websocket\r\n", "")
                                << QStringLiteral("no Upgrade header");
    QTest::newRow("connection close")
        << QByteArray(good).replace("Connection: Upgrade", "Connection: close")
        << QStringLiteral("Connection header is \"close\"");
    QTest::newRow("extension") << QByteArray(good).replace("\r\n\r\n",
                                                           "\r\nSec-WebSocket-Extensions: "
                                                           "permessage-deflate\r\n\r\n")
                               << QStringLiteral("extension \"permessage-deflate\"");
}

void tst_WsClientFraming::checksUpgradeResponse()
{
    QFETCH(QByteArray, response);
    QFETCH(QString, problem);
    const QString error =
        WsClientFraming::checkUpgradeResponse(response, "dGhlIHNhbXBsZSBub25jZQ==");
    if (problem.isEmpty())
        QVERIFY2(error.isEmpty(), qPrintable(error));
    else
        QVERIFY2(error.contains(problem), qPrintable(error));
}

void tst_WsClientFraming::headerLengths_data()
{
    QTest::addColumn<quint64>("length");
    QTest::addColumn<QByteArray>("header"); // without the mask key
    QTest::newRow("0") << quint64(0) << QByteArray::fromHex("8280");
    QTest::newRow("125, 7-bit") << quint64(125) << QByteArray::fromHex("82fd");
    QTest::newRow("126, 16-bit") << quint64(126) << QByteArray::fromHex("82fe007e");
    QTest::newRow("65535, 16-bit") << quint64(65535) << QByteArray::fromHex("82feffff");
    QTest::newRow("65536, 64-bit") << quint64(65536) << QByteArray::fromHex("82ff0000000000010000");
    QTest::newRow("2^32 + 5, 64-bit")
        << (quint64(1) << 32) + 5 << QByteArray::fromHex("82ff0000000100000005");
}

void tst_WsClientFraming::headerLengths()
{
    QFETCH(quint64, length);
    QFETCH(QByteArray, header);
    char out[WsClientFraming::kMaxHeaderBytes];
    const int size =
        WsClientFraming::writeHeader(out, WsFrameHeader::Binary, true, length, 0x01020304);
    QCOMPARE(QByteArray(out, size), header + QByteArray::fromHex("01020304"));
    // Not final, continuation: only the first byte changes.
    WsClientFraming::writeHeader(out, WsFrameHeader::Continuation, false, length, 0x01020304);
    QCOMPARE(uchar(out[0]), uchar(0x00));
}

void tst_WsClientFraming::maskingIsTheRfcExample()
{
    // RFC 6455 5.7: "Hello" masked with 37 fa 21 3d.
    char frame[WsClientFraming::kMaxControlFrameBytes];
    const int size = WsClientFraming::writeHeader(frame, WsFrameHeader::Text, true, 5, 0x37fa213d);
    std::memcpy(frame + size, "Hello", 5);
    WsClientFraming::mask(frame + size, 5, 0x37fa213d, 0);
    QCOMPARE(QByteArray(frame, size + 5), QByteArray::fromHex("818537fa213d7f9f4d5158"));
}

void tst_WsClientFraming::maskingResumesMidFrame()
{
    // Masking a payload in pieces at their positions equals masking it at once, for every
    // split and alignment (the generator masks each write as it goes).
    const QByteArray plain = bytes(77);
    QByteArray whole = plain;
    WsClientFraming::mask(whole.data(), whole.size(), 0xdeadbeef, 0);
    QVERIFY(whole != plain);
    for (int split = 0; split <= plain.size(); ++split) {
        QByteArray pieces = plain;
        WsClientFraming::mask(pieces.data(), split, 0xdeadbeef, 0);
        WsClientFraming::mask(pieces.data() + split, pieces.size() - split, 0xdeadbeef,
                              quint64(split));
        QCOMPARE(pieces, whole);
        WsClientFraming::mask(pieces.data(), pieces.size(), 0xdeadbeef, 0);
        QCOMPARE(pieces, plain);
    }
}

void tst_WsClientFraming::controlFrames()
{
    char frame[WsClientFraming::kMaxControlFrameBytes];
    int size = WsClientFraming::writeCloseFrame(frame, 1000, 0);
    QCOMPARE(QByteArray(frame, size), QByteArray::fromHex("88820000000003e8"));
    size = WsClientFraming::writeControlFrame(frame, WsFrameHeader::Pong, "ab", 2, 0x01010101);
    QCOMPARE(QByteArray(frame, size), QByteArray::fromHex("8a82010101016063"));
    const QByteArray big(300, 'x');
    size = WsClientFraming::writeControlFrame(frame, WsFrameHeader::Ping, big.constData(),
                                              int(big.size()), 0);
    QCOMPARE(size, WsClientFraming::kMaxControlFrameBytes);
}

void tst_WsClientFraming::readsServerFrames_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QStringList>("events");
    const QByteArray b200 = bytes(200);
    const QByteArray b70k = bytes(70000);
    QTest::newRow("text, 7-bit") << serverFrame(0x1, true, "Hello")
                                 << QStringList{QStringLiteral("text 48656c6c6f")};
    QTest::newRow("binary, 16-bit")
        << serverFrame(0x2, true, b200)
        << QStringList{QStringLiteral("binary ") + QString::fromLatin1(b200.toHex())};
    QTest::newRow("binary, 64-bit")
        << serverFrame(0x2, true, b70k)
        << QStringList{QStringLiteral("binary ") + QString::fromLatin1(b70k.toHex())};
    QTest::newRow("empty message")
        << serverFrame(0x2, true, {}) << QStringList{QStringLiteral("binary ")};
    QTest::newRow("fragments with a ping between")
        << serverFrame(0x2, false, "He") + serverFrame(0x0, false, {}) +
               serverFrame(0x9, true, "p") + serverFrame(0x0, false, "l") +
               serverFrame(0x0, true, "lo")
        << QStringList{QStringLiteral("ping 70"), QStringLiteral("binary 48656c6c6f")};
    QTest::newRow("two messages, a pong, a close")
        << serverFrame(0x2, true, "a") + serverFrame(0xA, true, {}) + serverFrame(0x2, true, "b") +
               serverFrame(0x8, true,
                           "\x03\xe8"
                           "bye")
        << QStringList{QStringLiteral("binary 61"), QStringLiteral("pong "),
                       QStringLiteral("binary 62"), QStringLiteral("close 1000 bye")};
    QTest::newRow("close without a code")
        << serverFrame(0x8, true, {}) << QStringList{QStringLiteral("close 1005 ")};
}

void tst_WsClientFraming::readsServerFrames()
{
    QFETCH(QByteArray, input);
    QFETCH(QStringList, events);
    for (qint64 piece : {qint64(input.size()), qint64(1), qint64(3), qint64(4096)}) {
        Reader reader;
        QCOMPARE(readAll(reader, input, std::max<qint64>(piece, 1)), events);
    }
}

void tst_WsClientFraming::refusesBrokenFrames_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("problem");
    QByteArray masked = serverFrame(0x2, true, "abc");
    masked[1] = char(masked[1] | 0x80);
    QByteArray reserved = serverFrame(0x2, true, "abc");
    reserved[0] = char(reserved[0] | 0x40);
    QByteArray hugeLength = QByteArray::fromHex("827f8000000000000000");
    QTest::newRow("masked") << masked << QStringLiteral("masked frame");
    QTest::newRow("reserved bits") << reserved << QStringLiteral("reserved bits 0x40");
    QTest::newRow("reserved opcode")
        << serverFrame(0x3, true, "x") << QStringLiteral("reserved opcode 0x3");
    QTest::newRow("reserved control opcode")
        << serverFrame(0xB, true, "x") << QStringLiteral("reserved opcode 0xb");
    QTest::newRow("fragmented ping")
        << serverFrame(0x9, false, "x") << QStringLiteral("fragmented control frame");
    QTest::newRow("ping over 125 bytes")
        << serverFrame(0x9, true, bytes(126)) << QStringLiteral("control frame of 126 bytes");
    QTest::newRow("continuation first")
        << serverFrame(0x0, true, "x") << QStringLiteral("no message to continue");
    QTest::newRow("new message inside one")
        << serverFrame(0x2, false, "x") + serverFrame(0x2, true, "y")
        << QStringLiteral("before the previous one ended");
    QTest::newRow("64-bit length top bit") << hugeLength << QStringLiteral("top bit");
    QTest::newRow("1-byte close") << serverFrame(0x8, true, "x")
                                  << QStringLiteral("1-byte payload");
}

void tst_WsClientFraming::refusesBrokenFrames()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, problem);
    for (qint64 piece : {qint64(input.size()), qint64(1)}) {
        Reader reader;
        const QStringList events = readAll(reader, input, piece);
        QVERIFY(!events.isEmpty());
        QVERIFY2(events.constLast().startsWith(u"error: ") && events.constLast().contains(problem),
                 qPrintable(events.join(u" | ")));
        // Sticky: more input reports the error again and consumes nothing.
        Reader::Event event = Reader::Event::None;
        const char *payload = nullptr;
        qint64 payloadBytes = 0;
        QCOMPARE(reader.read("\x82\x01x", 3, &event, &payload, &payloadBytes), 0);
        QCOMPARE(event, Reader::Event::Error);
    }
}

QTEST_GUILESS_MAIN(tst_WsClientFraming)
#include "tst_wsclientframing.moc"
