// libFuzzer target for every Framer mode (core/*framer.h).
//
// The input's first bytes choose the mode, its parameters, maxMessageBytes (1..4096) and
// how the rest, the stream a client sends, is cut into chunks. Beyond "no crash" it checks
// what the framers promise:
//  - each message's wire bytes are the next slice of the stream, in order, and hold the
//    payload plus exactly the mode's overhead (delimiter or header);
//  - after every chunk, bytes fed = bytes framed + bufferedBytes(), and the buffer stays
//    within the mode's bound;
//  - no message exceeds maxMessageBytes; after MessageTooLarge nothing more is framed and
//    oversizeBytes() is above the limit;
//  - the messages, the status and the bytes left over are those of a reference framer
//    written here from each mode's description, fed all at once or chunk by chunk alike;
//  - a message that lies whole in one chunk is passed as a view into that chunk.
// A broken invariant prints what broke and aborts, which libFuzzer reports as a crash.
//
// Input layout (tests/fuzz/make_corpus.py writes seeds in it; missing bytes read as 0):
//   [0]     mode: value % 5 -> stream, eof, line, length, fixed
//   [1..2]  maxMessageBytes = 1 + (big-endian value % 4096)
//   [3..4]  parameter p: line: delimiter of 1 + p % 16 bytes, which follow;
//           length: header of 4 bytes if p is odd, else 2; fixed: 1 + p % maxMessageBytes
//   [..]    split: seeds the chunk sizes (low 3 bits: the largest chunk, see kMaxChunks)
//   [rest]  the stream

#include "framer.h"
#include "framingconfig.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

using namespace Echoscope;

namespace {

void check(bool ok, const char *invariant)
{
    if (ok)
        return;
    std::fprintf(stderr, "fuzz_framers: invariant broken: %s\n", invariant);
    std::abort();
}

// Reads the fuzzer's input front to back; bytes past its end read as 0.
class InputReader
{
public:
    InputReader(const uint8_t *data, size_t size)
        : m_data(reinterpret_cast<const char *>(data)), m_size(qsizetype(size))
    {}

    quint8 byte() { return m_pos < m_size ? quint8(m_data[m_pos++]) : 0; }
    quint16 word()
    {
        const quint16 high = byte();
        return quint16(high << 8 | byte());
    }
    QByteArray bytes(qsizetype count)
    {
        QByteArray result(count, '\0');
        for (qsizetype i = 0; i < count; ++i)
            result[i] = char(byte());
        return result;
    }
    QByteArray rest()
    {
        const qsizetype start = qMin(m_pos, m_size);
        m_pos = m_size;
        return QByteArray(m_data + start, m_size - start);
    }

private:
    const char *m_data;
    qsizetype m_size;
    qsizetype m_pos = 0;
};

struct Message
{
    QByteArray wire;
    qint64 payloadBytes;
};

bool operator==(const Message &a, const Message &b)
{
    return a.wire == b.wire && a.payloadBytes == b.payloadBytes;
}

struct Outcome
{
    QList<Message> messages;
    Framer::Status status = Framer::Status::Ok;
    qint64 bufferedBytes = 0; // after finish(), when Ok
    qint64 oversizeBytes = 0; // when MessageTooLarge
};

qint64 overheadBytes(const FramingConfig &config)
{
    switch (config.mode) {
    case FramingMode::Line:
        return config.delimiter.size();
    case FramingMode::Length:
        return config.lengthBytes;
    case FramingMode::Stream:
    case FramingMode::Eof:
    case FramingMode::Fixed:
        break;
    }
    return 0;
}

// The most a framer may hold back of an incomplete message.
qint64 maxBufferedBytes(const FramingConfig &config, qint64 maxMessageBytes)
{
    switch (config.mode) {
    case FramingMode::Stream:
        return 0;
    case FramingMode::Eof:
        return maxMessageBytes;
    case FramingMode::Line: // a whole payload and all but the last byte of the delimiter
        return maxMessageBytes + config.delimiter.size() - 1;
    case FramingMode::Length: // a header and all but the last byte of the payload
        return config.lengthBytes + maxMessageBytes - 1;
    case FramingMode::Fixed:
        return config.fixedBytes - 1;
    }
    return 0;
}

// Checks every message as it is framed and records it.
class CheckingSink : public MessageSink
{
public:
    CheckingSink(const FramingConfig &config, qint64 maxMessageBytes, const QByteArray &stream)
        : m_config(config), m_maxMessageBytes(maxMessageBytes), m_stream(stream)
    {}

    // The chunk being fed is stream[start, end); after the last one, finish() frames from
    // the framer's own buffer (start = end = -1).
    void setChunk(qsizetype start, qsizetype end)
    {
        m_chunkStart = start;
        m_chunkEnd = end;
    }
    qint64 framedBytes() const { return m_framedBytes; }
    const QList<Message> &messages() const { return m_messages; }

    void messageFramed(QByteArrayView wire, qint64 payloadBytes) override
    {
        check(payloadBytes >= 0, "payloadBytes >= 0");
        check(wire.size() == payloadBytes + overheadBytes(m_config),
              "wire bytes = payload + the mode's overhead");
        check(m_config.mode == FramingMode::Stream || payloadBytes <= m_maxMessageBytes,
              "no message exceeds maxMessageBytes");
        check(m_config.mode != FramingMode::Stream || !wire.isEmpty(),
              "stream mode frames no empty message");
        check(m_config.mode != FramingMode::Fixed || payloadBytes == m_config.fixedBytes,
              "fixed mode frames blocks of fixedBytes");
        check(m_framedBytes + wire.size() <= m_stream.size(), "framed no more than was fed");
        const QByteArrayView expected = QByteArrayView(m_stream).sliced(m_framedBytes, wire.size());
        check(wire == expected, "wire bytes are the next slice of the stream");
        const qsizetype start = m_framedBytes;
        const qsizetype end = start + wire.size();
        if (m_config.mode != FramingMode::Eof && start >= m_chunkStart && end <= m_chunkEnd) {
            check(wire.data() == m_stream.constData() + start,
                  "a message whole in one chunk is a view into it");
        }
        if (m_config.mode == FramingMode::Length) {
            quint64 declared = 0;
            for (int i = 0; i < m_config.lengthBytes; ++i)
                declared = declared << 8 | uchar(wire.at(i));
            check(qint64(declared) == payloadBytes, "length header = payloadBytes");
        }
        if (m_config.mode == FramingMode::Line) {
            const QByteArrayView delimiter(m_config.delimiter);
            check(wire.endsWith(delimiter), "a line ends with the delimiter");
            check(wire.indexOf(delimiter) == wire.size() - delimiter.size(),
                  "a line ends at the delimiter's first occurrence");
        }
        m_messages.append(Message{wire.toByteArray(), payloadBytes});
        m_framedBytes = end;
    }

private:
    const FramingConfig &m_config;
    const qint64 m_maxMessageBytes;
    const QByteArray &m_stream;
    qsizetype m_chunkStart = -1;
    qsizetype m_chunkEnd = -1;
    qint64 m_framedBytes = 0;
    QList<Message> m_messages;
};

// Feeds `stream` in chunks of the given sizes, then finishes, checking as it goes.
Outcome run(const FramingConfig &config, qint64 maxMessageBytes, const QByteArray &stream,
            const QList<qsizetype> &chunkSizes)
{
    const std::unique_ptr<Framer> framer = Framer::create(config, maxMessageBytes);
    check(framer != nullptr, "Framer::create() accepts a valid config");
    check(framer->maxMessageBytes() == maxMessageBytes, "maxMessageBytes() as created");
    check(framer->bufferedBytes() == 0, "a new framer holds nothing");
    CheckingSink sink(config, maxMessageBytes, stream);
    Outcome outcome;
    qsizetype fedBytes = 0;
    for (const qsizetype size : chunkSizes) {
        sink.setChunk(fedBytes, fedBytes + size);
        const Framer::Status status =
            framer->feed(QByteArrayView(stream).sliced(fedBytes, size), sink);
        fedBytes += size;
        if (status == Framer::Status::MessageTooLarge) {
            check(config.mode != FramingMode::Stream && config.mode != FramingMode::Fixed,
                  "stream and fixed modes never find a message too large");
            check(framer->oversizeBytes() > maxMessageBytes, "oversizeBytes() > the limit");
            check(sink.framedBytes() <= fedBytes, "framed no more than was fed");
            outcome.messages = sink.messages();
            outcome.status = status;
            outcome.oversizeBytes = framer->oversizeBytes();
            return outcome; // the framer must not be fed again
        }
        check(status == Framer::Status::Ok, "feed() returns Ok or MessageTooLarge");
        check(framer->oversizeBytes() == 0, "oversizeBytes() is 0 while Ok");
        check(sink.framedBytes() + framer->bufferedBytes() == fedBytes,
              "bytes fed = bytes framed + bufferedBytes()");
        check(framer->bufferedBytes() <= maxBufferedBytes(config, maxMessageBytes),
              "bufferedBytes() within the mode's bound");
    }
    sink.setChunk(-1, -1);
    const qsizetype framedBeforeFinish = sink.messages().size();
    check(framer->finish(sink) == Framer::Status::Ok, "finish() after Ok feeds returns Ok");
    if (config.mode == FramingMode::Eof) {
        check(sink.messages().size() == framedBeforeFinish + 1, "eof: finish() frames one");
        check(framer->bufferedBytes() == 0, "eof: nothing left after finish()");
    } else {
        check(sink.messages().size() == framedBeforeFinish, "finish() frames nothing");
    }
    check(sink.framedBytes() + framer->bufferedBytes() == stream.size(),
          "bytes fed = bytes framed + bufferedBytes() after finish()");
    outcome.messages = sink.messages();
    outcome.bufferedBytes = framer->bufferedBytes();
    return outcome;
}

// What each mode should make of the whole stream, written from its description.
Outcome reference(const FramingConfig &config, qint64 maxMessageBytes, const QByteArray &stream,
                  const QList<qsizetype> &chunkSizes)
{
    Outcome outcome;
    const auto tooLarge = [&outcome](qint64 seenBytes) {
        outcome.status = Framer::Status::MessageTooLarge;
        outcome.oversizeBytes = seenBytes;
    };
    const qsizetype size = stream.size();
    qsizetype start = 0;
    switch (config.mode) {
    case FramingMode::Stream: // each chunk as it arrives
        for (const qsizetype chunk : chunkSizes) {
            if (chunk > 0)
                outcome.messages.append(Message{stream.mid(start, chunk), chunk});
            start += chunk;
        }
        break;
    case FramingMode::Eof: // all of it, at the end
        if (size > maxMessageBytes)
            tooLarge(size);
        else
            outcome.messages.append(Message{stream, size});
        break;
    case FramingMode::Line: { // up to and including the delimiter's first occurrence
        const qsizetype delimiterBytes = config.delimiter.size();
        for (;;) {
            const qsizetype end = stream.indexOf(config.delimiter, start);
            if (end < 0) {
                // Without a delimiter: too large once it cannot be a payload plus the
                // beginning of a delimiter.
                if (size - start > maxMessageBytes + delimiterBytes - 1)
                    tooLarge(size - start);
                else
                    outcome.bufferedBytes = size - start;
                break;
            }
            if (end - start > maxMessageBytes) {
                tooLarge(end - start);
                break;
            }
            const qsizetype next = end + delimiterBytes;
            outcome.messages.append(Message{stream.mid(start, next - start), end - start});
            start = next;
        }
        break;
    }
    case FramingMode::Length: { // big-endian header, then that many bytes
        const int headerBytes = config.lengthBytes;
        for (;;) {
            if (size - start < headerBytes) {
                outcome.bufferedBytes = size - start;
                break;
            }
            qint64 payloadBytes = 0;
            for (int i = 0; i < headerBytes; ++i)
                payloadBytes = payloadBytes << 8 | uchar(stream.at(start + i));
            if (payloadBytes > maxMessageBytes) {
                tooLarge(payloadBytes);
                break;
            }
            if (size - start - headerBytes < payloadBytes) {
                outcome.bufferedBytes = size - start;
                break;
            }
            const qsizetype wireBytes = headerBytes + qsizetype(payloadBytes);
            outcome.messages.append(Message{stream.mid(start, wireBytes), payloadBytes});
            start += wireBytes;
        }
        break;
    }
    case FramingMode::Fixed: // blocks of fixedBytes
        for (; size - start >= config.fixedBytes; start += config.fixedBytes) {
            outcome.messages.append(
                Message{stream.mid(start, config.fixedBytes), config.fixedBytes});
        }
        outcome.bufferedBytes = size - start;
        break;
    }
    return outcome;
}

// The largest chunk, chosen by the split byte's low 3 bits.
constexpr qsizetype kMaxChunks[] = {1, 2, 3, 5, 8, 16, 64, 4096};

QList<qsizetype> chunkSizes(quint8 split, qsizetype total)
{
    const qsizetype maxChunk = kMaxChunks[split & 7];
    quint32 state = 0x9e3779b9u ^ (quint32(split) * 0x01000193u); // xorshift32, never 0
    QList<qsizetype> sizes;
    for (qsizetype left = total; left > 0;) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        // An empty chunk now and then: feeding nothing must change nothing.
        const qsizetype size =
            (state & 0xf00) == 0 ? 0 : qMin(left, 1 + qsizetype(state % maxChunk));
        sizes.append(size);
        left -= size;
    }
    return sizes;
}

void compare(const Outcome &actual, const Outcome &expected, bool exactOversize)
{
    check(actual.status == expected.status, "status as the reference");
    check(actual.messages == expected.messages, "messages as the reference");
    if (actual.status == Framer::Status::Ok)
        check(actual.bufferedBytes == expected.bufferedBytes, "bytes left as the reference");
    else if (exactOversize)
        check(actual.oversizeBytes == expected.oversizeBytes, "oversizeBytes as the reference");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    InputReader input(data, size);
    FramingConfig config;
    const quint8 mode = input.byte() % 5;
    const qint64 maxMessageBytes = 1 + input.word() % 4096;
    const quint16 parameter = input.word();
    switch (mode) {
    case 0:
        config.mode = FramingMode::Stream;
        break;
    case 1:
        config.mode = FramingMode::Eof;
        break;
    case 2:
        config.mode = FramingMode::Line;
        config.delimiter = input.bytes(1 + parameter % 16);
        break;
    case 3:
        config.mode = FramingMode::Length;
        config.lengthBytes = parameter % 2 ? 4 : 2;
        break;
    default:
        config.mode = FramingMode::Fixed;
        config.fixedBytes = 1 + parameter % maxMessageBytes;
        break;
    }
    const quint8 split = input.byte();
    const QByteArray stream = input.rest();
    check(config.validate(maxMessageBytes).isEmpty(), "the fuzzer builds valid configs");

    const QList<qsizetype> whole{stream.size()};
    const QList<qsizetype> pieces = chunkSizes(split, stream.size());
    // All at once, the framer sees what the reference sees, down to oversizeBytes().
    compare(run(config, maxMessageBytes, stream, whole),
            reference(config, maxMessageBytes, stream, whole), true);
    // In pieces, only oversizeBytes() may differ: the limit can be seen crossed earlier,
    // and the declared length of Length mode does not depend on the pieces.
    compare(run(config, maxMessageBytes, stream, pieces),
            reference(config, maxMessageBytes, stream, pieces), config.mode == FramingMode::Length);
    return 0;
}
