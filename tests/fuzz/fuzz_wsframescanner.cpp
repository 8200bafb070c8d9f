// libFuzzer target for WsFrameScanner (core/framing/wsframescanner.h): the bytes a
// WebSocket client sent, read as frame headers. The first input byte chooses how the
// rest is cut into pieces. Beyond "no crash" it checks:
//  - cutting does not matter: fed in pieces (and skipping what skippable() allows without
//    looking) it reports exactly the frames it reports when fed whole, in order, and ends
//    in the same state;
//  - a control frame's payload is at most 125 bytes and is reported whole, unmasked;
//  - every frame reported fits in the input: headers plus the payloads of the frames
//    before the last never exceed its size.
// A broken invariant prints what broke and aborts, which libFuzzer reports as a crash.

#include "wsframescanner.h"

#include <QByteArray>
#include <QList>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace Echoscope;

namespace {

void check(bool ok, const char *invariant)
{
    if (ok)
        return;
    std::fprintf(stderr, "fuzz_wsframescanner: invariant broken: %s\n", invariant);
    std::abort();
}

struct Seen
{
    quint8 opcode;
    bool fin;
    bool masked;
    quint64 length;
    QByteArray controlPayload;
    bool operator==(const Seen &other) const
    {
        return opcode == other.opcode && fin == other.fin && masked == other.masked &&
               length == other.length && controlPayload == other.controlPayload;
    }
};

QList<Seen> scan(QByteArrayView data, int piece, WsFrameScanner *scanner)
{
    QList<Seen> seen;
    const auto onFrame = [&seen](const WsFrameHeader &frame) {
        seen.append({frame.opcode, frame.fin, frame.masked, frame.length, frame.controlPayload});
    };
    if (piece <= 0) {
        scanner->feed(data, onFrame);
        return seen;
    }
    qsizetype at = 0;
    while (at < data.size()) {
        // Skip what may be skipped unseen, as WebSocketTransport does.
        const quint64 skippable = qMin<quint64>(scanner->skippable(), quint64(data.size() - at));
        if (skippable > 0) {
            scanner->skip(skippable);
            at += qsizetype(skippable);
            continue;
        }
        const qsizetype n = qMin<qsizetype>(piece, data.size() - at);
        scanner->feed(data.sliced(at, n), onFrame);
        at += n;
    }
    return seen;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    if (size == 0)
        return 0;
    const int piece = 1 + bytes[0] % 17;
    const QByteArrayView data(reinterpret_cast<const char *>(bytes) + 1, qsizetype(size - 1));

    WsFrameScanner whole;
    const QList<Seen> expected = scan(data, 0, &whole);
    WsFrameScanner cut;
    const QList<Seen> inPieces = scan(data, piece, &cut);
    check(inPieces == expected, "fed in pieces it reports other frames than fed whole");
    check(cut.hasFailed() == whole.hasFailed(), "the failed state depends on the cutting");
    check(cut.skippable() == whole.skippable(), "the payload left depends on the cutting");
    check(quint64(expected.size()) == whole.framesSeen(), "framesSeen() is not the frames seen");

    quint64 consumed = 0;
    for (qsizetype i = 0; i < expected.size(); ++i) {
        const Seen &frame = expected.at(i);
        const bool control = (frame.opcode & 0x8) != 0;
        consumed += 2; // at least the two fixed header bytes
        if (control && !(whole.hasFailed() && i == expected.size() - 1)) {
            check(frame.length <= 125, "a control frame over 125 bytes was accepted");
            check(quint64(frame.controlPayload.size()) == frame.length,
                  "a control frame's payload is not whole");
        }
        if (!control)
            check(frame.controlPayload.isEmpty(), "a data frame carries a control payload");
        if (i + 1 < expected.size())
            consumed += frame.length;
    }
    check(consumed <= quint64(data.size()), "frames reported beyond the input");
    return 0;
}
