#include "pcapngwriter.h"

#include "clientstats.h"
#include "savefile.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QIODevice>

#include <algorithm>

namespace Echoscope {

namespace Pcapng {

namespace {

void put16le(QByteArray &out, quint16 value)
{
    out.append(char(value & 0xff));
    out.append(char(value >> 8));
}

void put32le(QByteArray &out, quint32 value)
{
    for (int i = 0; i < 4; ++i)
        out.append(char((value >> (8 * i)) & 0xff));
}

void put16be(QByteArray &out, quint16 value)
{
    out.append(char(value >> 8));
    out.append(char(value & 0xff));
}

void put32be(QByteArray &out, quint32 value)
{
    for (int i = 3; i >= 0; --i)
        out.append(char((value >> (8 * i)) & 0xff));
}

void pad32(QByteArray &out)
{
    while (out.size() % 4 != 0)
        out.append('\0');
}

// One option: code, length, value padded to 32 bits.
void putOption(QByteArray &out, quint16 code, const QByteArray &value)
{
    put16le(out, code);
    put16le(out, quint16(value.size()));
    out.append(value);
    pad32(out);
}

void putEndOfOptions(QByteArray &out)
{
    put16le(out, kOptEnd);
    put16le(out, 0);
}

// Type, total length, body, total length again.
QByteArray block(quint32 type, const QByteArray &body)
{
    Q_ASSERT(body.size() % 4 == 0);
    const quint32 total = quint32(body.size() + 12);
    QByteArray out;
    out.reserve(total);
    put32le(out, type);
    put32le(out, total);
    out.append(body);
    put32le(out, total);
    return out;
}

// An option's text is UTF-8 and may not pass 65535 bytes.
QByteArray optionText(const QString &text)
{
    return text.toUtf8().left(65535);
}

quint32 sum16(const char *data, qsizetype size, quint32 sum)
{
    const auto *bytes = reinterpret_cast<const quint8 *>(data);
    qsizetype i = 0;
    for (; i + 1 < size; i += 2)
        sum += quint32(bytes[i]) << 8 | bytes[i + 1];
    if (i < size)
        sum += quint32(bytes[i]) << 8;
    // No overflow: a packet is at most 64 KiB, 32 Ki words of at most 0xffff.
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

// The IPv4 or IPv6 pseudo-header's sum for a transport checksum.
quint32 pseudoHeaderSum(const Endpoints &e, quint8 protocol, quint32 length)
{
    QByteArray pseudo;
    if (e.source.protocol() == QAbstractSocket::IPv4Protocol) {
        put32be(pseudo, e.source.toIPv4Address());
        put32be(pseudo, e.destination.toIPv4Address());
        pseudo.append('\0');
        pseudo.append(char(protocol));
        put16be(pseudo, quint16(length));
    } else {
        const Q_IPV6ADDR source = e.source.toIPv6Address();
        const Q_IPV6ADDR destination = e.destination.toIPv6Address();
        pseudo.append(reinterpret_cast<const char *>(source.c), 16);
        pseudo.append(reinterpret_cast<const char *>(destination.c), 16);
        put32be(pseudo, length);
        put16be(pseudo, 0);
        pseudo.append('\0');
        pseudo.append(char(protocol));
    }
    return sum16(pseudo.constData(), pseudo.size(), 0);
}

// The IP header in front of a transport segment, its checksum (IPv4) computed.
QByteArray ipPacket(const Endpoints &e, quint8 protocol, const QByteArray &segment, quint16 ipId)
{
    QByteArray out;
    if (e.source.protocol() == QAbstractSocket::IPv4Protocol) {
        out.reserve(20 + segment.size());
        out.append(char(0x45)); // version 4, 5 words
        out.append('\0');       // DSCP, ECN
        put16be(out, quint16(20 + segment.size()));
        put16be(out, ipId);
        put16be(out, 0x4000); // don't fragment
        out.append(char(64)); // TTL
        out.append(char(protocol));
        put16be(out, 0); // checksum, below
        put32be(out, e.source.toIPv4Address());
        put32be(out, e.destination.toIPv4Address());
        const quint16 checksum = internetChecksum(out.constData(), 20);
        out[10] = char(checksum >> 8);
        out[11] = char(checksum & 0xff);
    } else {
        out.reserve(40 + segment.size());
        put32be(out, 0x60000000); // version 6, no traffic class, no flow label
        put16be(out, quint16(segment.size()));
        out.append(char(protocol));
        out.append(char(64)); // hop limit
        const Q_IPV6ADDR source = e.source.toIPv6Address();
        const Q_IPV6ADDR destination = e.destination.toIPv6Address();
        out.append(reinterpret_cast<const char *>(source.c), 16);
        out.append(reinterpret_cast<const char *>(destination.c), 16);
    }
    out.append(segment);
    return out;
}

constexpr quint8 kProtocolTcp = 6;
constexpr quint8 kProtocolUdp = 17;

} // namespace

QByteArray sectionHeaderBlock(const QString &application, const QString &comment)
{
    QByteArray body;
    put32le(body, kByteOrderMagic);
    put16le(body, 1);          // major version
    put16le(body, 0);          // minor version
    put32le(body, 0xffffffff); // section length: not given (-1)
    put32le(body, 0xffffffff);
    if (!comment.isEmpty())
        putOption(body, kOptComment, optionText(comment));
    putOption(body, kShbUserApplication, optionText(application));
    putEndOfOptions(body);
    return block(kSectionHeaderBlock, body);
}

QByteArray interfaceDescriptionBlock(quint16 linkType, const QString &name)
{
    QByteArray body;
    put16le(body, linkType);
    put16le(body, 0); // reserved
    put32le(body, 0); // snaplen: no limit
    if (!name.isEmpty())
        putOption(body, kIfName, optionText(name));
    putOption(body, kIfTsResolution, QByteArray(1, char(6))); // 10^-6 s
    putEndOfOptions(body);
    return block(kInterfaceDescriptionBlock, body);
}

QByteArray enhancedPacketBlock(quint32 interfaceId, quint64 timestampUs, const QByteArray &packet,
                               Direction direction, const QString &comment)
{
    QByteArray body;
    body.reserve(20 + packet.size() + 32 + comment.size() * 3);
    put32le(body, interfaceId);
    put32le(body, quint32(timestampUs >> 32));
    put32le(body, quint32(timestampUs & 0xffffffff));
    put32le(body, quint32(packet.size())); // captured
    put32le(body, quint32(packet.size())); // original
    body.append(packet);
    pad32(body);
    const bool hasOptions = direction != Direction::Unknown || !comment.isEmpty();
    if (!comment.isEmpty())
        putOption(body, kOptComment, optionText(comment));
    if (direction != Direction::Unknown) {
        QByteArray flags;
        put32le(flags, quint32(direction));
        putOption(body, kEpbFlags, flags);
    }
    if (hasOptions)
        putEndOfOptions(body);
    return block(kEnhancedPacketBlock, body);
}

quint16 internetChecksum(const char *data, qsizetype size, quint32 sum)
{
    return quint16(~sum16(data, size, sum) & 0xffff);
}

QByteArray tcpPacket(const Endpoints &endpoints, quint32 sequence, quint32 acknowledgement,
                     quint8 flags, const QByteArray &payload, quint16 ipId)
{
    QByteArray segment;
    segment.reserve(20 + payload.size());
    put16be(segment, endpoints.sourcePort);
    put16be(segment, endpoints.destinationPort);
    put32be(segment, sequence);
    put32be(segment, (flags & Ack) ? acknowledgement : 0);
    segment.append(char(5 << 4)); // data offset: 5 words, no options
    segment.append(char(flags));
    put16be(segment, 65535); // window
    put16be(segment, 0);     // checksum, below
    put16be(segment, 0);     // urgent pointer
    segment.append(payload);
    const quint16 checksum =
        internetChecksum(segment.constData(), segment.size(),
                         pseudoHeaderSum(endpoints, kProtocolTcp, quint32(segment.size())));
    segment[16] = char(checksum >> 8);
    segment[17] = char(checksum & 0xff);
    return ipPacket(endpoints, kProtocolTcp, segment, ipId);
}

QByteArray udpPacket(const Endpoints &endpoints, const QByteArray &payload, quint16 ipId)
{
    QByteArray segment;
    segment.reserve(8 + payload.size());
    put16be(segment, endpoints.sourcePort);
    put16be(segment, endpoints.destinationPort);
    put16be(segment, quint16(8 + payload.size()));
    put16be(segment, 0); // checksum, below
    segment.append(payload);
    quint16 checksum =
        internetChecksum(segment.constData(), segment.size(),
                         pseudoHeaderSum(endpoints, kProtocolUdp, quint32(segment.size())));
    if (checksum == 0)
        checksum = 0xffff; // 0 means "no checksum" (RFC 768)
    segment[6] = char(checksum >> 8);
    segment[7] = char(checksum & 0xff);
    return ipPacket(endpoints, kProtocolUdp, segment, ipId);
}

} // namespace Pcapng

namespace {

// An IPv4-mapped IPv6 address (a dual-stack listener's view of an IPv4 peer) as IPv4.
QHostAddress unmapped(const QHostAddress &address)
{
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        bool isV4 = false;
        const quint32 v4 = address.toIPv4Address(&isV4);
        if (isV4)
            return QHostAddress(v4);
    }
    QHostAddress plain = address;
    plain.setScopeId(QString());
    return plain;
}

} // namespace

PcapngExport PcapngExport::fromClient(const ClientStats &stats, qint64 closedAtMs)
{
    PcapngExport e;
    const ClientSnapshot snapshot = stats.snapshot();
    e.clientId = stats.id();
    e.transport = stats.transport();
    e.tls = !snapshot.tlsProtocol.isEmpty();
    e.clientAddress = stats.peerAddress();
    e.clientPort = stats.peerPort();
    e.serverAddress = stats.serverAddress();
    e.serverPort = stats.serverPort();
    e.connectedAtMs = stats.connectedAtMs();
    if (stats.capture())
        e.capture = stats.capture()->snapshot();
    if (closedAtMs != 0)
        e.closedAtMs = closedAtMs;
    else if (snapshot.state == ClientState::Closed)
        e.closedAtMs = qMax(snapshot.lastActivityMs, e.connectedAtMs);
    return e;
}

Pcapng::Endpoints PcapngExport::clientToServer() const
{
    Pcapng::Endpoints e;
    e.source = unmapped(clientAddress);
    if (e.source.protocol() != QAbstractSocket::IPv6Protocol &&
        e.source.protocol() != QAbstractSocket::IPv4Protocol)
        e.source = QHostAddress(QHostAddress::AnyIPv4);
    e.sourcePort = clientPort;
    e.destination = unmapped(serverAddress);
    if (e.destination.protocol() != e.source.protocol())
        e.destination = e.source.protocol() == QAbstractSocket::IPv4Protocol
                            ? QHostAddress(QHostAddress::AnyIPv4)
                            : QHostAddress(QHostAddress::AnyIPv6);
    e.destinationPort = serverPort;
    return e;
}

QByteArray PcapngExport::toBytes() const
{
    using Pcapng::Direction;
    const Pcapng::Endpoints in = clientToServer();
    const Pcapng::Endpoints out{in.destination, in.destinationPort, in.source, in.sourcePort};
    const bool udp = transport == IpProtocol::Udp;

    QString what = udp ? QStringLiteral("UDP datagrams") : QStringLiteral("TCP stream");
    if (transport == IpProtocol::WebSocket)
        what = QStringLiteral("WebSocket client: the TCP payload is its messages' payload, "
                              "not the frames on the wire");
    else if (tls)
        what = QStringLiteral("TLS client: the TCP payload is the decrypted stream");
    const QString comment =
        QStringLiteral("Echoscope client %1's capture (%2). Payload and timestamps are the "
                       "captured ones; IP and %3 headers%4 are synthetic.")
            .arg(clientId)
            .arg(what, udp ? QStringLiteral("UDP") : QStringLiteral("TCP"),
                 udp ? QString()
                     : QStringLiteral(", the handshake, sequence numbers' start and FINs"));

    QByteArray file = Pcapng::sectionHeaderBlock(
        QStringLiteral("Echoscope %1").arg(QCoreApplication::applicationVersion()), comment);
    file += Pcapng::interfaceDescriptionBlock(Pcapng::kLinkTypeRaw, QStringLiteral("echoscope"));

    quint16 ipId[2] = {1, 1}; // client's, server's
    const auto packet = [&](qint64 timeMs, bool fromClient, const QByteArray &ip,
                            const QString &note = QString()) {
        file += Pcapng::enhancedPacketBlock(0, quint64(qMax<qint64>(timeMs, 0)) * 1000, ip,
                                            fromClient ? Direction::Inbound : Direction::Outbound,
                                            note);
    };
    const QList<CaptureChunk> &chunks = capture.chunks;

    if (udp) {
        for (const CaptureChunk &chunk : chunks) {
            const bool fromClient = chunk.direction == CaptureChunk::Direction::Received;
            for (qsizetype at = 0; at == 0 || at < chunk.bytes.size(); at += kMaxUdpPayload) {
                const QByteArray part = chunk.bytes.mid(at, kMaxUdpPayload);
                packet(chunk.timestampMs, fromClient,
                       Pcapng::udpPacket(fromClient ? in : out, part, ipId[fromClient ? 0 : 1]++));
            }
        }
        return file;
    }

    // TCP: stream offset o of a direction is sequence number isn + 1 + o. Each data
    // segment is acknowledged at once by the other side, so nothing is ever in flight
    // beyond the 65535-byte window and Wireshark's analysis finds nothing to flag.
    const quint32 dataStart[2] = {kClientIsn + 1, kServerIsn + 1}; // [0]: client's
    // Where each side's stream is (the next byte it sends), from its first byte held
    // (a ring that wrapped was past the start), and whether it sent its FIN.
    qint64 next[2] = {0, 0};
    bool started[2] = {false, false};
    for (const CaptureChunk &chunk : chunks) {
        const int side = chunk.direction == CaptureChunk::Direction::Received ? 0 : 1;
        if (!started[side]) {
            next[side] = chunk.streamOffset;
            started[side] = true;
        }
    }
    bool finSent[2] = {false, false};
    const auto sequence = [&](int side, qint64 offset) {
        return quint32(dataStart[side] + quint64(offset));
    };
    const auto acknowledgement = [&](int side) { // of the other side's stream
        const int other = 1 - side;
        return quint32(sequence(other, next[other]) + (finSent[other] ? 1 : 0));
    };
    const auto send = [&](qint64 timeMs, int side, qint64 offset, quint8 flags,
                          const QByteArray &payload) {
        packet(timeMs, side == 0,
               Pcapng::tcpPacket(side == 0 ? in : out,
                                 quint32(sequence(side, offset) + (finSent[side] ? 1 : 0)),
                                 acknowledgement(side), flags, payload, ipId[side]++));
    };
    const auto acknowledge = [&](qint64 timeMs, int side) { // a pure ACK from side
        send(timeMs, side, next[side], Pcapng::Ack, QByteArray());
    };
    const auto sendFin = [&](qint64 timeMs, int side) {
        const qint64 end = side == 0 ? capture.receivedBytes : capture.echoedBytes;
        next[side] = qMax(next[side], end); // a capture that stopped early: a gap
        send(timeMs, side, next[side], Pcapng::Fin | Pcapng::Ack, QByteArray());
        finSent[side] = true;
        acknowledge(timeMs, 1 - side);
    };

    // The synthetic handshake, at the connect time.
    const qint64 t0 = connectedAtMs;
    const QString synthetic = QStringLiteral("synthetic handshake (Echoscope)");
    packet(t0, true, Pcapng::tcpPacket(in, kClientIsn, 0, Pcapng::Syn, {}, ipId[0]++), synthetic);
    packet(t0, false,
           Pcapng::tcpPacket(out, kServerIsn, kClientIsn + 1, Pcapng::Syn | Pcapng::Ack, {},
                             ipId[1]++),
           synthetic);
    packet(t0, true,
           Pcapng::tcpPacket(in, kClientIsn + 1, kServerIsn + 1, Pcapng::Ack, {}, ipId[0]++),
           synthetic);

    // The client's FIN goes after its last chunk and the chunks of no later time.
    const qint64 clientEndMs = capture.receivedEndedAtMs;
    qsizetype finBefore = -1; // index of the chunk the client's FIN precedes
    if (clientEndMs != 0) {
        finBefore = 0;
        for (qsizetype i = 0; i < chunks.size(); ++i)
            if (chunks[i].direction == CaptureChunk::Direction::Received)
                finBefore = i + 1;
        while (finBefore < chunks.size() && chunks[finBefore].timestampMs <= clientEndMs)
            ++finBefore;
    }
    qint64 lastMs = t0;
    for (qsizetype i = 0; i <= chunks.size(); ++i) {
        if (i == finBefore)
            sendFin(qMax(clientEndMs, lastMs), 0);
        if (i == chunks.size())
            break;
        const CaptureChunk &chunk = chunks[i];
        const int side = chunk.direction == CaptureChunk::Direction::Received ? 0 : 1;
        lastMs = qMax(lastMs, chunk.timestampMs);
        for (qsizetype at = 0; at < chunk.bytes.size(); at += kMaxTcpPayload) {
            const QByteArray part = chunk.bytes.mid(at, kMaxTcpPayload);
            const bool last = at + part.size() >= chunk.bytes.size();
            send(chunk.timestampMs, side, chunk.streamOffset + at,
                 Pcapng::Ack | (last ? Pcapng::Psh : 0), part);
            next[side] = chunk.streamOffset + at + part.size();
            acknowledge(chunk.timestampMs, 1 - side);
        }
    }
    if (closedAtMs != 0) {
        const qint64 at = qMax(closedAtMs, lastMs);
        // Who closed first is not recorded: the client if it half-closed, else the server.
        if (!finSent[1])
            sendFin(at, 1);
        if (!finSent[0])
            sendFin(at, 0);
    }
    return file;
}

bool PcapngExport::write(QIODevice *device, QString *error) const
{
    const QByteArray bytes = toBytes();
    if (!device || device->write(bytes) != bytes.size()) {
        *error = device ? device->errorString() : QStringLiteral("no device to write to");
        return false;
    }
    return true;
}

bool PcapngExport::save(const QString &path, QString *error) const
{
    return saveFileAtomically(
        path, [this](QIODevice *device, QString *reason) { return write(device, reason); }, error);
}

QString PcapngExport::suggestedFileName() const
{
    QString peer = clientAddress.isNull() ? QStringLiteral("unknown") : clientAddress.toString();
    peer.replace(QLatin1Char(':'), QLatin1Char('_'));
    const QString time =
        QDateTime::fromMSecsSinceEpoch(connectedAtMs).toString(QStringLiteral("yyyyMMdd-HHmmss"));
    return QStringLiteral("echoscope-client-%1-%2-%3-%4.pcapng")
        .arg(clientId)
        .arg(peer)
        .arg(clientPort)
        .arg(time);
}

} // namespace Echoscope
