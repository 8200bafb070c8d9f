#pragma once

#include "capturebuffer.h"
#include "framingconfig.h"

#include <QByteArray>
#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>
#include <QtGlobal>

QT_BEGIN_NAMESPACE
class QIODevice;
QT_END_NAMESPACE

namespace Echoscope {

class ClientStats;
struct ServerConfig;
struct TrafficEvent;

// One client's traffic as a file that `echoscope replay` can send again: JSON Lines, a
// header object first, then, in time order, one object per captured chunk ("dir" "in" or
// "out", its stream offset, base64 data) and the client's events (TrafficEvent::toJson(),
// as the event log exports them, plus "half_closed"). docs/handbook/recording.md describes the
// format.
//
// Each direction holds one run of its stream without gaps, [startOffset, endOffset) of
// totalBytes: a ring that wrapped lost the start, a recording limit the end.
struct Recording
{
    // Version 2: a WebSocket client's "in" chunks carry its messages (kind, end) and the
    // header its upgrade request. TCP recordings are still written as version 1, which
    // read() reads too.
    static constexpr int kVersion = 2;
    static constexpr int kMinVersion = 1;
    static constexpr qint64 kMaxBytesPerLine = 48 * 1024; // data bytes per chunk line
    // What read() accepts at most, so that a large or hostile file cannot exhaust memory.
    static constexpr qint64 kMaxLineLength = 1024 * 1024;
    static constexpr qint64 kMaxFileBytes = 512 * 1024 * 1024;
    static QString formatName() { return QStringLiteral("echoscope-recording"); }

    using Direction = CaptureChunk::Direction;

    struct Stream
    {
        qint64 startOffset = 0; // the first byte held
        qint64 endOffset = 0;   // just past the last byte held
        qint64 totalBytes = 0;  // bytes that went this way, held or not
        bool isComplete() const { return startOffset == 0 && endOffset == totalBytes; }
        qint64 heldBytes() const { return endOffset - startOffset; }
    };

    // What a WebSocket client asked for in its upgrade request (the header's "websocket").
    struct WebSocketInfo
    {
        QString resource = QStringLiteral("/"); // the request target: "/chat?room=1"
        QString origin;                         // empty: it sent none
        QStringList protocols;                  // the subprotocols it asked for
        bool secure = false;                    // it came over wss://
    };

    // One message the client sent, as held (WebSocket recordings with messages only).
    struct Message
    {
        qint64 offset = 0;       // stream offset of its first byte held
        QByteArray data;         // its payload, or the part of it held
        bool text = false;       // a text message (else binary)
        bool whole = false;      // held from its first byte to its last
        bool startKnown = false; // the recording holds its start
        qint64 timestampMs = 0;  // when its first held byte was read
        qint64 lastTimestampMs = 0;
    };

    quint64 clientId = 0;
    QHostAddress peerAddress;
    quint16 peerPort = 0;
    qint64 connectedAtMs = 0; // ms since the epoch
    qint64 recordedAtMs = 0;  // when the file was written
    bool closed = false;      // the connection had ended when it was recorded
    // How the client came: "tcp" (TCP or TLS) or "ws" (WebSocket: the streams hold the
    // payload of its messages). Files without the field are TCP recordings.
    QString transport = QStringLiteral("tcp");
    int version = 1;          // of the file read (what write() writes follows transport)
    bool hasMessages = false; // ws, version 2: the in chunks carry CaptureChunk::Flag
    WebSocketInfo webSocket;  // ws only
    FramingConfig framing;    // the server's, for a reader to know how it was framed
    qint64 maxMessageBytes = 0;
    qint64 captureLimitBytes = 0; // the capture's capacity (both directions together)
    bool keepsFirst = false;      // the capture kept the first bytes (else the newest)
    qint64 droppedBytes = 0;      // captured bytes not held
    qint64 limitReachedAtMs = 0;  // keepsFirst: when the capture stopped keeping; 0: never
    qint64 halfClosedAtMs = 0;    // when the client half-closed; 0: it did not (as recorded)
    Stream in;                    // what the client sent
    Stream out;                   // what the server echoed
    QList<CaptureChunk> chunks;   // in time order; each direction in stream order
    QList<QJsonObject> events;    // event lines, in time order

    // A client's capture as of now, with its events (those of other clients are left
    // out) and the server's configuration.
    static Recording fromClient(const ClientStats &stats, const QList<TrafficEvent> &events,
                                const ServerConfig &config, qint64 nowMs);

    // The bytes held of one direction, in order (offset startOffset of that stream).
    QByteArray streamBytes(Direction direction) const;
    const Stream &stream(Direction direction) const
    {
        return direction == Direction::Received ? in : out;
    }
    bool isWebSocket() const { return transport == QLatin1String("ws"); }
    // The client's messages held, in order (hasMessages only): the first is partial (not
    // startKnown) when the stream's start is missing and the last when its end is, or when
    // the capture stopped inside it.
    QList<Message> messages() const;
    // What is missing, e.g. "in: bytes 0 to 4095 (the capture ring wrapped)"; empty when
    // both directions are complete.
    QStringList missingParts() const;
    // "echoscope-client-3-127.0.0.1-51422-20240611-142233.jsonl"
    QString suggestedFileName() const;

    // Writes the whole recording. False and *error (a sentence) if the device fails.
    bool write(QIODevice *device, QString *error) const;
    // Writes to a file atomically (QSaveFile); the error names the file.
    bool save(const QString &path, QString *error) const;
    // Reads and checks a whole recording. On failure returns false and sets *error to
    // "NAME:LINE: what is wrong" (NAME is how the file is named to the user).
    static bool read(QIODevice *device, const QString &name, Recording *recording, QString *error);
    static bool load(const QString &path, Recording *recording, QString *error);

    static QString timeText(qint64 ms); // ISO 8601 UTC with milliseconds, as events use
};

} // namespace Echoscope
