#pragma once

#include "capturebuffer.h"
#include "ipprotocol.h"

#include <QByteArray>
#include <QHostAddress>
#include <QString>
#include <QtGlobal>

QT_BEGIN_NAMESPACE
class QIODevice;
QT_END_NAMESPACE

namespace Echoscope {

class ClientStats;

// pcapng, written here rather than by libpcap: Debian 12's libpcap (1.10.3) writes only
// classic pcap (pcap_dump_open() and friends; no libpcap release has a pcapng writer: its
// issue 1321, "libpcap should fully support pcapng files", is open), and
// classic pcap has no per-packet direction or comments. The blocks are those of
// draft-ietf-opsawg-pcapng: one Section Header Block, one Interface Description Block
// (LINKTYPE_RAW: each packet starts with its IPv4 or IPv6 header, no link layer, so no
// MAC addresses to invent; timestamps in microseconds) and one Enhanced Packet Block per
// packet, all little-endian.
namespace Pcapng {

constexpr quint32 kSectionHeaderBlock = 0x0A0D0D0A;
constexpr quint32 kInterfaceDescriptionBlock = 0x00000001;
constexpr quint32 kEnhancedPacketBlock = 0x00000006;
constexpr quint32 kByteOrderMagic = 0x1A2B3C4D;
constexpr quint16 kLinkTypeRaw = 101; // LINKTYPE_RAW: raw IPv4 or IPv6

// Option codes.
constexpr quint16 kOptEnd = 0;
constexpr quint16 kOptComment = 1;
constexpr quint16 kShbUserApplication = 4;
constexpr quint16 kIfName = 2;
constexpr quint16 kIfTsResolution = 9;
constexpr quint16 kEpbFlags = 2;

// epb_flags bits 0-1: the packet's direction as seen from the interface (the server's).
enum class Direction : quint32 { Unknown = 0, Inbound = 1, Outbound = 2 };

// A Section Header Block (version 1.0, section length unknown) naming the application,
// with an optional comment.
QByteArray sectionHeaderBlock(const QString &application, const QString &comment = QString());
// An Interface Description Block: linkType, no snapshot limit, if_tsresol 6 (µs).
QByteArray interfaceDescriptionBlock(quint16 linkType, const QString &name);
// An Enhanced Packet Block on interface 0..n, the whole packet captured.
QByteArray enhancedPacketBlock(quint32 interfaceId, quint64 timestampUs, const QByteArray &packet,
                               Direction direction, const QString &comment = QString());

// The Internet checksum (RFC 1071) of data, starting from the partial sum `sum` (a
// pseudo-header's): the ones' complement of the ones' complement sum of 16-bit words.
quint16 internetChecksum(const char *data, qsizetype size, quint32 sum = 0);

// One packet's addresses: both IPv4 or both IPv6.
struct Endpoints
{
    QHostAddress source;
    quint16 sourcePort = 0;
    QHostAddress destination;
    quint16 destinationPort = 0;
};

enum TcpFlag : quint8 { Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10 };

// An IPv4 (DF, TTL 64) or IPv6 (hop limit 64) packet with a TCP segment (no options,
// window 65535) or a UDP datagram, checksums computed. ipId: the IPv4 identification.
QByteArray tcpPacket(const Endpoints &endpoints, quint32 sequence, quint32 acknowledgement,
                     quint8 flags, const QByteArray &payload, quint16 ipId);
QByteArray udpPacket(const Endpoints &endpoints, const QByteArray &payload, quint16 ipId);

} // namespace Pcapng

// One client's capture as a pcapng file that Wireshark and tshark open: what the client
// sent and was sent, each chunk at its captured time, under synthetic IP and TCP (or UDP)
// headers between the client's real address and port and the server's.
//
// TCP (and TLS, WebSocket) clients: a synthetic handshake (SYN, SYN-ACK, ACK) at the
// connect time, then each chunk as one or more segments of at most kMaxTcpPayload bytes
// with the sequence number of its stream offset (a ring that dropped its oldest bytes
// leaves a gap Wireshark reports as "previous segment not captured") and the peer's bytes
// seen so far as acknowledgement; a FIN from the client when it half-closed, and FINs
// when the connection ended. The TCP payload is what the capture holds: TLS clients'
// decrypted bytes, WebSocket clients' message payloads (not their frames). UDP peers:
// one datagram per captured datagram, both directions.
struct PcapngExport
{
    // Under the 65535-byte IP length with a 20-byte IPv4 and a 20-byte TCP header, and
    // a multiple of nothing in particular: larger chunks are split.
    static constexpr qsizetype kMaxTcpPayload = 65535 - 20 - 20;
    static constexpr qsizetype kMaxUdpPayload = 65535 - 20 - 8;
    // Synthetic initial sequence numbers (Wireshark shows relative ones).
    static constexpr quint32 kClientIsn = 0x10000000;
    static constexpr quint32 kServerIsn = 0x20000000;

    quint64 clientId = 0;
    IpProtocol transport = IpProtocol::Tcp;
    bool tls = false; // the bytes are the decrypted stream of a TLS connection
    QHostAddress clientAddress;
    quint16 clientPort = 0;
    QHostAddress serverAddress; // null or unspecified: the listener's address is not known
    quint16 serverPort = 0;
    qint64 connectedAtMs = 0;
    qint64 closedAtMs = 0; // 0: still connected
    CaptureSnapshot capture;

    // The client's capture as of now. closedAtMs: when it disconnected (0: now, if it has).
    static PcapngExport fromClient(const ClientStats &stats, qint64 closedAtMs = 0);

    // The addresses the packets carry: IPv4-mapped IPv6 addresses as IPv4, an unknown
    // server address as the unspecified address of the client's family.
    Pcapng::Endpoints clientToServer() const;

    QByteArray toBytes() const;
    // Writes the whole file. False and *error (a sentence) if the device fails.
    bool write(QIODevice *device, QString *error) const;
    // Writes to a file atomically (QSaveFile); the error names the file.
    bool save(const QString &path, QString *error) const;
    // "echoscope-client-3-127.0.0.1-51422-20240611-142233.pcapng"
    QString suggestedFileName() const;
};

} // namespace Echoscope
