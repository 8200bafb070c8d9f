#pragma once

#include <QMetaType>
#include <QString>
#include <QStringView>
#include <QtGlobal>

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
    // Seeds the random draws (jitter, reset probability) so a run can be repeated;
    // each client mixes in its id. 0: a random seed.
    quint32 seed = 0;

    bool isEmpty() const; // no fault at all (the seed alone is none)
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

    // "5120", "5K", "5KiB", "2M", "2MiB", "1G" (1024-based, any letter case).
    static bool parseByteSize(QStringView text, qint64 *bytes);
    // "1,024 B", "10 KiB", "1.5 MiB": exact below 1 KiB, else one decimal when needed.
    static QString bytesText(qint64 bytes);

    friend bool operator==(const FaultConfig &a, const FaultConfig &b);
    friend bool operator!=(const FaultConfig &a, const FaultConfig &b) { return !(a == b); }
};

} // namespace Echoscope

Q_DECLARE_METATYPE(Echoscope::FaultConfig)
