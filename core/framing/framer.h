#pragma once

#include "framingconfig.h"

#include <QByteArray>
#include <QByteArrayView>

#include <memory>

namespace Echoscope {

// Receives each complete message a Framer finds. `wire` is exactly the bytes to
// echo (payload plus its header or delimiter, if the mode has one); it points
// into the Framer's input or its own buffer and is valid only during the call.
// `payloadBytes` is the message size without framing overhead.
class MessageSink
{
public:
    virtual ~MessageSink() = default;
    virtual void messageFramed(QByteArrayView wire, qint64 payloadBytes) = 0;
};

// Bytes in, messages out: one subclass per FramingMode, no sockets, no Qt
// event loop, no allocation on the path where a message lies whole in one chunk.
class Framer
{
public:
    enum class Status {
        Ok,
        MessageTooLarge, // a message exceeds maxMessageBytes; see oversizeBytes()
    };

    virtual ~Framer() = default;

    // Returns nullptr if config.validate(maxMessageBytes) is not empty.
    static std::unique_ptr<Framer> create(const FramingConfig &config, qint64 maxMessageBytes);

    // Consumes `data`; calls sink.messageFramed() for every message completed by it,
    // in order. After MessageTooLarge the framer must not be fed again.
    virtual Status feed(QByteArrayView data, MessageSink &sink) = 0;
    // The peer has half-closed: no more input will come. Eof mode delivers its one
    // message here (possibly empty); other modes deliver nothing. Whatever partial
    // message is still buffered afterwards is reported by bufferedBytes().
    virtual Status finish(MessageSink &sink) = 0;
    // Bytes of an incomplete message held in the framer.
    virtual qint64 bufferedBytes() const = 0;
    // After MessageTooLarge: how big the message was seen to be (the declared length
    // in Length mode, else the bytes gathered when the limit was crossed).
    qint64 oversizeBytes() const { return m_oversizeBytes; }
    qint64 maxMessageBytes() const { return m_maxMessageBytes; }

protected:
    explicit Framer(qint64 maxMessageBytes) : m_maxMessageBytes(maxMessageBytes) {}
    Status tooLarge(qint64 seenBytes)
    {
        m_oversizeBytes = seenBytes;
        return Status::MessageTooLarge;
    }
    bool hasFailed() const { return m_oversizeBytes > 0; }

    // Buffer helpers for subclasses. appendBounded() appends `data`, growing the
    // capacity geometrically but never past capacityLimit (>= the resulting size).
    static void appendBounded(QByteArray &buffer, QByteArrayView data, qint64 capacityLimit);
    // Empties `buffer` for the next message; keeps a small allocation, frees a large one.
    static void resetBuffer(QByteArray &buffer);

private:
    qint64 m_maxMessageBytes;
    qint64 m_oversizeBytes = 0;
};

} // namespace Echoscope
