#pragma once

#include <QMetaType>
#include <QString>
#include <QStringView>
#include <QtGlobal>

#include "ipprotocol.h"

namespace Echoscope {

// The faults injected into one client's echo (or every client's), like toxiproxy's
// toxics but inside the server. Plain value; all off by default. FaultInjector applies
// it; EchoServer::setDefaultFaults() and setClientFaults() deliver it.
struct FaultConfig
{
    static constexpr int kMaxDelayMs = 60000;
    static constexpr qint64 kMaxBandwidthBytesPerSecond = qint64(1) << 30;
    static constexpr qint64 kMaxSliceBytes = 1024 * 1024;
    static constexpr int kMaxSliceGapMs = 10000;
    static constexpr qint64 kMaxByteLimit = qint64(1) << 50;
    static constexpr int kMaxTimeoutMs = 3600000;
    static constexpr int kMaxSlowCloseMs = 60000;

    // Each message's echo waits delayMs, plus or minus up to jitterMs (at most delayMs),
    // and never overtakes the one before it. 0: no delay.
    int delayMs = 0;
    int jitterMs = 0;
    // Echo at most this many bytes per second (a token bucket holding a tenth of a
    // second). 0: unlimited.
    qint64 bandwidthBytesPerSecond = 0;
    // Write the echo in pieces of at most sliceBytes, sliceGapMs apart. 0: whole.
    qint64 sliceBytes = 0;
    int sliceGapMs = 0;
    // Close (orderly, FIN) or reset (RST) the connection once this many bytes have been
    // echoed since the fault was set. -1: off; 0: at once.
    qint64 closeAfterBytes = -1;
    qint64 resetAfterBytes = -1;
    // WebSocket clients: the status code of the close frame the close fault sends (a
    // code a server may send: 1000-1003, 1007-1011 or 3000-4999). No effect on TCP.
    static constexpr quint16 kDefaultCloseCode = 1000;
    quint16 closeCode = kDefaultCloseCode;
    static bool isSendableCloseCode(int code);
    // Each message, before it is echoed, resets the connection with this probability.
    double resetProbability = 0.0;
    // Read nothing more from the client (a stuck peer): its writes block once the
    // kernel's buffers are full. Echo already read still goes out.
    bool stopReading = false;
    // Blackhole (toxiproxy's "blackhole"): read and discard what the client sends, echo
    // nothing, keep the connection. Echo queued before it was set still goes out.
    bool blackhole = false;
    // Timeout (toxiproxy's "timeout"): from when it is set, read nothing and echo nothing,
    // and close the connection (FIN) after timeoutMs; 0: never close, just hold. -1: off.
    int timeoutMs = -1;
    // Slow close (toxiproxy's "slow_close"): the server's close, after the client's end
    // and the last echo (or a close fault), waits this long. 0: off.
    int slowCloseMs = 0;
    // Toxicity (toxiproxy's "toxicity"): the probability, per message, that the delay,
    // bandwidth and slice faults apply to it; the other messages pass untouched. 1: all.
    double toxicity = 1.0;
    // UDP peers only (netem's loss, duplicate, reorder, corrupt), each a rate per echoed
    // datagram from 0 to 1: the echo is dropped; sent twice; held and sent after the
    // next one; sent with one random bit flipped.
    double udpLoss = 0.0;
    double udpDuplicate = 0.0;
    double udpReorder = 0.0;
    double udpCorrupt = 0.0;
    // Seeds the random draws (jitter, probabilities) so a run can be repeated; each
    // client (and each UDP peer) mixes in its id. 0: a random seed.
    quint32 seed = 0;

    bool isEmpty() const; // no fault at all (the seed and the toxicity alone are none)
    // Only the faults that act on a client of this transport, the others off: a UDP peer
    // (UdpEchoService) takes the blackhole, the udp* rates and the seed; a TCP or TLS
    // client every other fault (the close code off); a WebSocket client those and its
    // close code. A client applies, shows and logs only these.
    FaultConfig forTransport(IpProtocol transport) const;
    // Any of the faults that act on a stream's echo (delay, bandwidth, slices).
    bool hasMessageFaults() const;
    // Any of the UDP rates.
    bool hasUdpFaults() const;
    // Empty when valid, else a sentence naming the bad setting and its value.
    QString validate() const;
    // "delay 200±50 ms · 10 KiB/s · slices 16 B/5 ms", "none" when empty.
    QString describe() const;

    // Command-line forms; on failure they leave the config as it was and say what was
    // expected in *error (a clause, no option name).
    bool parseDelay(QStringView text, QString *error);       // "200", "200:50"
    bool parseBandwidth(QStringView text, QString *error);   // "10240", "10K", "1M"
    bool parseSlice(QStringView text, QString *error);       // "16", "16:5", "1K:20"
    bool parseCloseAfter(QStringView text, QString *error);  // "250", "1K:4000" (code)
    bool parseResetAfter(QStringView text, QString *error);  // a size, as above
    bool parseProbability(QStringView text, QString *error); // "0.25", "25%"
    bool parseSeed(QStringView text, QString *error);        // 1 to 4294967295
    bool parseTimeout(QStringView text, QString *error);     // "0" (hold), "500" ms
    bool parseSlowClose(QStringView text, QString *error);   // "500" ms
    bool parseToxicity(QStringView text, QString *error);    // a probability, as above
    bool parseUdpLoss(QStringView text, QString *error);
    bool parseUdpDuplicate(QStringView text, QString *error);
    bool parseUdpReorder(QStringView text, QString *error);
    bool parseUdpCorrupt(QStringView text, QString *error);
    // "0.25", "25%": from 0 to 1; false (and *error, a clause) otherwise.
    static bool parseRate(QStringView text, double *rate, QString *error);

    // "5120", "5K", "5KiB", "2M", "2MiB", "1G" (1024-based, any letter case).
    static bool parseByteSize(QStringView text, qint64 *bytes);

    friend bool operator==(const FaultConfig &a, const FaultConfig &b);
    friend bool operator!=(const FaultConfig &a, const FaultConfig &b) { return !(a == b); }
};

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::FaultConfig)
