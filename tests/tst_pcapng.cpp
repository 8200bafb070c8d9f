// pcapng export (PcapngExport): the blocks and checksums against hand-computed bytes, and
// files read back by tshark (Wireshark's command line, a reader not written for
// Echoscope): its "follow TCP stream" and its UDP payloads equal the bytes a real
// client sent and received through a real server, its checksum checks pass and its TCP
// analysis finds nothing wrong with the synthetic sequence numbers.

#include "capturebuffer.h"
#include "clientstats.h"
#include "echotestsupport.h"
#include "pcapngwriter.h"
#include "serverconfig.h"
#include "tsharksupport.h"

#include <QNetworkDatagram>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUdpSocket>

using namespace Echoscope;
using namespace EchoTest;
using EchoTest::kTimeoutMs;
using Direction = CaptureChunk::Direction;

namespace {

constexpr qint64 kT0 = 1718115753000; // 2024-06-11T14:22:33Z

QByteArray hex(const char *text)
{
    return QByteArray::fromHex(QByteArray(text).replace(' ', ""));
}

} // namespace

class tst_Pcapng : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    // Layout, against bytes worked out by hand from the pcapng draft.
    void checksumOfRfc1071Example();
    void sectionHeaderBlockLayout();
    void interfaceDescriptionBlockLayout();
    void enhancedPacketBlockLayout();
    void tcpIpv4PacketHeaders();
    void tcpIpv6PacketChecksum();
    void udpIpv6PacketChecksum();
    void mappedAddressesBecomeIpv4();

    // Read back by tshark.
    void tsharkFollowsSyntheticTcp_data();
    void tsharkFollowsSyntheticTcp();
    void tsharkSeesTheGapOfAWrappedRing();
    void tsharkFollowsRealTcpClient();
    void tsharkReadsRealUdpPeer();

private:
    // tshark ARGS, its output; fails the test if it does not exit 0.
    QByteArray tshark(const QStringList &arguments, bool *ok);
    // The file's first TCP stream as tshark follows it ("follow,tcp,raw,0").
    Followed follow(const QString &path, bool *ok);
    // One line a packet of the file (after the `options`: -Y filter, -o preference),
    // holding the `fields` tshark names, tab-separated (-T fields -e F ...).
    QByteArray fields(const QString &path, const QStringList &options,
                      const QStringList &fieldNames, bool *ok);
    QString save(const PcapngExport &e, const QString &name);

    QString m_tshark;
    QTemporaryDir m_dir;
};

void tst_Pcapng::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_tshark = tsharkPath();
}

QByteArray tst_Pcapng::tshark(const QStringList &arguments, bool *ok)
{
    return runTshark(m_tshark, arguments, ok, kTimeoutMs);
}

Followed tst_Pcapng::follow(const QString &path, bool *ok)
{
    return followTcp(m_tshark, path, ok, kTimeoutMs);
}

QByteArray tst_Pcapng::fields(const QString &path, const QStringList &options,
                              const QStringList &fieldNames, bool *ok)
{
    QStringList arguments = {QStringLiteral("-r"), path};
    arguments += options;
    arguments += {QStringLiteral("-T"), QStringLiteral("fields")};
    for (const QString &name : fieldNames)
        arguments += {QStringLiteral("-e"), name};
    return tshark(arguments, ok);
}

QString tst_Pcapng::save(const PcapngExport &e, const QString &name)
{
    const QString path = m_dir.filePath(name);
    QString error;
    if (!e.save(path, &error)) {
        qWarning().noquote() << error;
        return QString();
    }
    return path;
}

void tst_Pcapng::checksumOfRfc1071Example()
{
    // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its
    // complement.
    const QByteArray data = hex("0001 f203 f4f5 f6f7");
    QCOMPARE(Pcapng::internetChecksum(data.constData(), data.size()), quint16(0x220d));
    // An odd length is padded with a zero byte.
    const QByteArray odd = hex("0001 f203 f4f5 f6");
    QCOMPARE(Pcapng::internetChecksum(odd.constData(), odd.size()), quint16(~0xdcfbu & 0xffff));
}

void tst_Pcapng::sectionHeaderBlockLayout()
{
    QCOMPARE(Pcapng::sectionHeaderBlock(QStringLiteral("A")).toHex(' '),
             hex("0a0d0d0a 28000000"  // type, total length 40
                 "4d3c2b1a 0100 0000" // byte-order magic, version 1.0
                 "ffffffff ffffffff"  // section length: unknown
                 "0400 0100 41000000" // shb_userappl "A", padded
                 "0000 0000"          // end of options
                 "28000000")
                 .toHex(' '));
    // A comment comes first, as opt_comment.
    const QByteArray withComment =
        Pcapng::sectionHeaderBlock(QStringLiteral("A"), QStringLiteral("hello"));
    QCOMPARE(withComment.mid(24, 12).toHex(' '), hex("0100 0500 68656c6c6f000000").toHex(' '));
    QCOMPARE(withComment.size(), 40 + 12);
    QCOMPARE(withComment.mid(4, 4), hex("34000000"));
    QCOMPARE(withComment.right(4), hex("34000000"));
}

void tst_Pcapng::interfaceDescriptionBlockLayout()
{
    QCOMPARE(
        Pcapng::interfaceDescriptionBlock(Pcapng::kLinkTypeRaw, QStringLiteral("lo")).toHex(' '),
        hex("01000000 28000000"  // type, total length 40
            "6500 0000 00000000" // LINKTYPE_RAW (101), reserved, snaplen 0
            "0200 0200 6c6f0000" // if_name "lo"
            "0900 0100 06000000" // if_tsresol 6: microseconds
            "0000 0000"          // end of options
            "28000000")
            .toHex(' '));
}

void tst_Pcapng::enhancedPacketBlockLayout()
{
    // 5 bytes of packet, padded to 8; a timestamp above 2^32 µs; inbound.
    const quint64 us = 0x0000000512345678ull;
    QCOMPARE(Pcapng::enhancedPacketBlock(0, us, QByteArray("abcde"), Pcapng::Direction::Inbound)
                 .toHex(' '),
             hex("06000000 34000000"  // type, total length 52
                 "00000000"           // interface 0
                 "05000000 78563412"  // timestamp high, low
                 "05000000 05000000"  // captured, original length
                 "6162636465000000"   // the packet, padded
                 "0200 0400 01000000" // epb_flags: inbound
                 "0000 0000"          // end of options
                 "34000000")
                 .toHex(' '));
    // No direction, no comment: no options at all.
    QCOMPARE(
        Pcapng::enhancedPacketBlock(1, 0, QByteArray("abcd"), Pcapng::Direction::Unknown).size(),
        12 + 20 + 4);
}

void tst_Pcapng::tcpIpv4PacketHeaders()
{
    const Pcapng::Endpoints e{QHostAddress(QStringLiteral("127.0.0.1")), 40000,
                              QHostAddress(QStringLiteral("127.0.0.2")), 7};
    const QByteArray packet = Pcapng::tcpPacket(e, 0x10000000, 0x12345678, Pcapng::Syn, {}, 1);
    // Worked out by hand: the IP checksum over the header, the TCP one over the
    // pseudo-header (addresses, 0, 6, length 20) and the segment; no ACK flag, so the
    // acknowledgement field is 0.
    QCOMPARE(packet.toHex(' '), hex("4500 0028 0001 4000 4006 3ccc 7f000001 7f000002"
                                    "9c40 0007 10000000 00000000 5002 ffff 0598 0000")
                                    .toHex(' '));
}

void tst_Pcapng::tcpIpv6PacketChecksum()
{
    const Pcapng::Endpoints e{QHostAddress(QStringLiteral("::1")), 40000,
                              QHostAddress(QStringLiteral("::1")), 9};
    const QByteArray packet = Pcapng::tcpPacket(e, 0x10000001, 0x20000001,
                                                Pcapng::Psh | Pcapng::Ack, QByteArray("hi"), 1);
    QCOMPARE(packet.size(), 40 + 20 + 2);
    QCOMPARE(packet.left(8).toHex(' '), hex("60000000 0016 06 40").toHex(' ')); // payload 22
    QCOMPARE(packet.mid(40).toHex(' '),
             hex("9c40 0009 10000001 20000001 5018 ffff 7b14 0000 6869").toHex(' '));
}

void tst_Pcapng::udpIpv6PacketChecksum()
{
    const Pcapng::Endpoints e{QHostAddress(QStringLiteral("::1")), 5000,
                              QHostAddress(QStringLiteral("::1")), 7};
    const QByteArray packet = Pcapng::udpPacket(e, QByteArray("abc"), 1);
    QCOMPARE(packet.left(8).toHex(' '), hex("60000000 000b 11 40").toHex(' '));
    QCOMPARE(packet.mid(40).toHex(' '), hex("1388 0007 000b 27e5 616263").toHex(' '));
}

void tst_Pcapng::mappedAddressesBecomeIpv4()
{
    PcapngExport e;
    e.clientAddress = QHostAddress(QStringLiteral("::ffff:127.0.0.1"));
    e.clientPort = 5;
    e.serverAddress = QHostAddress(QStringLiteral("::ffff:127.0.0.2"));
    e.serverPort = 7;
    Pcapng::Endpoints endpoints = e.clientToServer();
    QCOMPARE(endpoints.source, QHostAddress(QStringLiteral("127.0.0.1")));
    QCOMPARE(endpoints.destination, QHostAddress(QStringLiteral("127.0.0.2")));
    // A server on every address (dual stack): the unspecified address of the client's family.
    e.serverAddress = QHostAddress(QHostAddress::Any);
    QCOMPARE(e.clientToServer().destination, QHostAddress(QHostAddress::AnyIPv4));
    e.clientAddress = QHostAddress(QStringLiteral("::1"));
    QCOMPARE(e.clientToServer().destination, QHostAddress(QHostAddress::AnyIPv6));
    e.serverAddress = QHostAddress();
    QCOMPARE(e.clientToServer().destination, QHostAddress(QHostAddress::AnyIPv6));
}

void tst_Pcapng::tsharkFollowsSyntheticTcp_data()
{
    QTest::addColumn<QString>("client");
    QTest::addColumn<QString>("server");
    QTest::newRow("IPv4") << QStringLiteral("127.0.0.1") << QStringLiteral("127.0.0.1");
    QTest::newRow("IPv6") << QStringLiteral("::1") << QStringLiteral("::1");
}

// A capture made by hand: chunks larger than one segment both ways, binary bytes, a
// half-close, then the close.
void tst_Pcapng::tsharkFollowsSyntheticTcp()
{
    if (m_tshark.isEmpty())
        QSKIP("tshark is not installed (Debian: apt-get install tshark)");
    QFETCH(QString, client);
    QFETCH(QString, server);

    const QByteArray big = EchoTest::payload(150 * 1024, 11); // three segments
    const QByteArray small = EchoTest::payload(1000, 12);
    CaptureBuffer capture(1024 * 1024);
    capture.append(Direction::Received, big.constData(), big.size(), kT0 + 10);
    capture.append(Direction::Echoed, big.constData(), 70000, kT0 + 20);
    capture.append(Direction::Received, small.constData(), small.size(), kT0 + 100);
    capture.append(Direction::Echoed, big.constData() + 70000, big.size() - 70000, kT0 + 120);
    capture.markReceivedEnd(kT0 + 130);
    capture.append(Direction::Echoed, small.constData(), small.size(), kT0 + 140);

    PcapngExport e;
    e.clientId = 3;
    e.clientAddress = QHostAddress(client);
    e.clientPort = 40000;
    e.serverAddress = QHostAddress(server);
    e.serverPort = 7777;
    e.connectedAtMs = kT0;
    e.closedAtMs = kT0 + 150;
    e.capture = capture.snapshot();
    QCOMPARE(e.capture.chunks.size(), 5);
    const QString path = save(e, QStringLiteral("synthetic.pcapng"));
    QVERIFY(!path.isEmpty());

    bool ok = false;
    const Followed followed = follow(path, &ok);
    QVERIFY(ok);
    const QString clientNode = QHostAddress(client).protocol() == QAbstractSocket::IPv6Protocol
                                   ? QStringLiteral("[%1]:40000").arg(client)
                                   : QStringLiteral("%1:40000").arg(client);
    QCOMPARE(followed.node0, clientNode);
    QCOMPARE(followed.fromClient.size(), big.size() + small.size());
    QVERIFY(followed.fromClient == big + small);
    QVERIFY(followed.fromServer == big + small);

    // Every checksum good; nothing for the TCP analysis to flag (no lost segment, no
    // retransmission, no window full); the handshake and both FINs where they belong.
    const QByteArray printed =
        fields(path,
               {QStringLiteral("-o"), QStringLiteral("tcp.check_checksum:TRUE"),
                QStringLiteral("-o"), QStringLiteral("ip.check_checksum:TRUE")},
               {QStringLiteral("tcp.checksum.status"), QStringLiteral("ip.checksum.status"),
                QStringLiteral("tcp.analysis.flags"), QStringLiteral("tcp.flags.str"),
                QStringLiteral("tcp.len"), QStringLiteral("frame.time_epoch")},
               &ok);
    QVERIFY(ok);
    const QList<QByteArray> lines = printed.trimmed().split('\n');
    int fins = 0;
    int segments = 0;
    for (const QByteArray &line : lines) {
        const QList<QByteArray> f = line.split('\t');
        QCOMPARE(f.size(), 6);
        QCOMPARE(f[0], QByteArray("1")); // good
        if (client.contains(QLatin1Char('.')))
            QCOMPARE(f[1], QByteArray("1"));
        QVERIFY2(f[2].isEmpty(), line.constData());
        if (f[3].contains('F'))
            ++fins;
        if (f[4].toInt() > 0) {
            ++segments;
            QVERIFY(f[4].toInt() <= PcapngExport::kMaxTcpPayload);
        }
    }
    QCOMPARE(fins, 2);
    // 150 KiB in three segments each way, 1000 bytes in one each way; the server's 150
    // KiB came as 70000 bytes (two segments) and the rest (two).
    QCOMPARE(segments, 3 + 1 + 2 + 2 + 1);
    QVERIFY(lines.first().contains("S")); // SYN first
    QVERIFY2(lines.first().endsWith("1718115753.000000000"), lines.first().constData());
    QVERIFY2(lines.last().endsWith("1718115753.150000000"), lines.last().constData());
}

// A ring that dropped its oldest bytes: the sequence numbers keep the stream offsets, so
// Wireshark says a segment was not captured rather than showing the rest as the start.
void tst_Pcapng::tsharkSeesTheGapOfAWrappedRing()
{
    if (m_tshark.isEmpty())
        QSKIP("tshark is not installed (Debian: apt-get install tshark)");
    CaptureBuffer capture(4096);
    const QByteArray data = EchoTest::payload(3000, 13);
    for (int i = 0; i < 4; ++i) {
        capture.append(Direction::Received, data.constData(), data.size(), kT0 + 100 * i);
        capture.append(Direction::Echoed, data.constData(), data.size(), kT0 + 100 * i + 1);
    }
    PcapngExport e;
    e.clientAddress = QHostAddress(QStringLiteral("127.0.0.1"));
    e.clientPort = 40001;
    e.serverAddress = QHostAddress(QStringLiteral("127.0.0.1"));
    e.serverPort = 7;
    e.connectedAtMs = kT0;
    e.capture = capture.snapshot();
    QVERIFY(e.capture.droppedBytes > 0);
    const QString path = save(e, QStringLiteral("wrapped.pcapng"));
    QVERIFY(!path.isEmpty());
    bool ok = false;
    const QByteArray lost =
        fields(path, {QStringLiteral("-Y"), QStringLiteral("tcp.analysis.lost_segment")},
               {QStringLiteral("tcp.seq")}, &ok);
    QVERIFY(ok);
    // The first data segment each way comes after a gap; its relative sequence number is
    // its stream offset plus one.
    const QList<QByteArray> seqs = lost.trimmed().split('\n');
    QCOMPARE(seqs.size(), 2);
    const qint64 firstIn = e.capture.chunks.first().streamOffset;
    QCOMPARE(seqs.first().toLongLong(), firstIn + 1);
}

// Echoscope's own server: the bytes a real client sent and received, in several chunks
// (one larger than a segment), binary, then a half-close.
void tst_Pcapng::tsharkFollowsRealTcpClient()
{
    if (m_tshark.isEmpty())
        QSKIP("tshark is not installed (Debian: apt-get install tshark)");
    ServerConfig config = EchoTest::testConfig(2);
    config.bindAddress = QStringLiteral("127.0.0.1");
    config.captureBytesPerClient = 1024 * 1024;
    EchoTest::Running running = EchoTest::startServer(config);
    QVERIFY(running.port != 0);
    QSignalSpy connected(running.server.get(), &EchoServer::clientConnected);
    QSignalSpy disconnected(running.server.get(), &EchoServer::clientDisconnected);

    EchoTest::TestClient client;
    QVERIFY(client.connectTo(QHostAddress::LocalHost, running.port));
    QVERIFY(connected.size() > 0 || connected.wait(kTimeoutMs));
    const quint64 id = connected.first().first().value<quint64>();
    const std::shared_ptr<const ClientStats> stats = running.server->clientStats(id);
    QVERIFY(stats);

    const QList<QByteArray> chunks = {QByteArray("hello\n"), EchoTest::payload(100 * 1024, 21),
                                      EchoTest::payload(7, 22), EchoTest::payload(70000, 23)};
    const quint16 clientPort = client.socket.localPort();
    QByteArray sent;
    for (const QByteArray &bytes : chunks) {
        client.socket.write(bytes);
        sent += bytes;
        QVERIFY(QTest::qWaitFor([&] { return client.received.size() == sent.size(); }, kTimeoutMs));
    }
    client.halfClose();
    QVERIFY(QTest::qWaitFor([&] { return client.closed; }, kTimeoutMs));
    QVERIFY(disconnected.size() > 0 || disconnected.wait(kTimeoutMs));
    QCOMPARE(client.received, sent);

    const PcapngExport e = PcapngExport::fromClient(*stats);
    QCOMPARE(e.serverPort, running.port);
    QCOMPARE(e.serverAddress, QHostAddress(QStringLiteral("127.0.0.1")));
    QVERIFY(e.closedAtMs != 0);
    const QString path = save(e, QStringLiteral("real-tcp.pcapng"));
    QVERIFY(!path.isEmpty());
    bool ok = false;
    const Followed followed = follow(path, &ok);
    QVERIFY(ok);
    QCOMPARE(followed.node0, QStringLiteral("127.0.0.1:%1").arg(clientPort));
    QCOMPARE(followed.node1, QStringLiteral("127.0.0.1:%1").arg(running.port));
    QCOMPARE(followed.fromClient.size(), sent.size());
    QVERIFY(followed.fromClient == sent);
    QVERIFY(followed.fromServer == client.received);

    const QByteArray flags = fields(path, {}, {QStringLiteral("tcp.analysis.flags")}, &ok);
    QVERIFY(ok);
    QVERIFY2(flags.trimmed().isEmpty(), flags.constData());
}

// A UDP peer: one datagram per datagram each way, with the real ports.
void tst_Pcapng::tsharkReadsRealUdpPeer()
{
    if (m_tshark.isEmpty())
        QSKIP("tshark is not installed (Debian: apt-get install tshark)");
    ServerConfig config = EchoTest::testConfig(1);
    config.bindAddress = QStringLiteral("::1");
    config.udpEcho = true;
    config.udpPort = 0;
    config.captureBytesPerClient = 256 * 1024;
    EchoServer server;
    if (!server.start(config))
        QSKIP("no IPv6 loopback here");
    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QUdpSocket peer;
    QVERIFY(peer.bind(QHostAddress(QHostAddress::LocalHostIPv6), 0));
    const QList<QByteArray> datagrams = {QByteArray("one"), EchoTest::payload(9000, 31),
                                         QByteArray(1, '\0'), EchoTest::payload(300, 32)};
    for (const QByteArray &d : datagrams) {
        QCOMPARE(peer.writeDatagram(d, QHostAddress(QHostAddress::LocalHostIPv6), server.udpPort()),
                 qint64(d.size()));
        QVERIFY(QTest::qWaitFor([&] { return peer.hasPendingDatagrams(); }, kTimeoutMs));
        QCOMPARE(peer.receiveDatagram().data(), d);
    }
    QVERIFY(connected.size() > 0 || connected.wait(kTimeoutMs));
    const auto stats = server.clientStats(connected.first().first().value<quint64>());
    QVERIFY(stats);
    // The echo's capture may trail the datagram the peer already has.
    QVERIFY(QTest::qWaitFor(
        [&] { return stats->capture()->snapshot().chunks.size() == 2 * datagrams.size(); },
        kTimeoutMs));
    const PcapngExport e = PcapngExport::fromClient(*stats);
    QCOMPARE(e.transport, IpProtocol::Udp);
    const QString path = save(e, QStringLiteral("udp.pcapng"));
    QVERIFY(!path.isEmpty());
    bool ok = false;
    const QByteArray out =
        fields(path, {QStringLiteral("-o"), QStringLiteral("udp.check_checksum:TRUE")},
               {QStringLiteral("udp.srcport"), QStringLiteral("udp.dstport"),
                QStringLiteral("udp.checksum.status"), QStringLiteral("udp.payload")},
               &ok);
    QVERIFY(ok);
    const QList<QByteArray> lines = out.trimmed().split('\n');
    QCOMPARE(lines.size(), 2 * datagrams.size());
    for (int i = 0; i < lines.size(); ++i) {
        const QList<QByteArray> f = lines[i].split('\t');
        QCOMPARE(f.size(), 4);
        const bool fromPeer = i % 2 == 0;
        QCOMPARE(f[0].toInt(), int(fromPeer ? peer.localPort() : server.udpPort()));
        QCOMPARE(f[1].toInt(), int(fromPeer ? server.udpPort() : peer.localPort()));
        QCOMPARE(f[2], QByteArray("1"));
        QVERIFY(QByteArray::fromHex(f[3]) == datagrams[i / 2]);
    }
}

QTEST_MAIN(tst_Pcapng)
#include "tst_pcapng.moc"
