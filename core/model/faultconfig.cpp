#include "faultconfig.h"

#include "numbertext.h"

#include <QCoreApplication>
#include <QLocale>
#include <QStringList>

#include <limits>

namespace Echoscope {

namespace {

const QString kSeparator = QStringLiteral(" \u00b7 ");

using NumberText::dataSizeText;
using NumberText::isAsciiDigit;
using NumberText::parseWholeNumber;

bool parsePair(QStringView text, qint64 firstMax, qint64 secondMax, qint64 *first, qint64 *second,
               bool sizeFirst)
{
    const qsizetype colon = text.indexOf(QLatin1Char(':'));
    const QStringView head = colon < 0 ? text : text.left(colon);
    qint64 a = 0;
    const bool headOk = sizeFirst ? FaultConfig::parseByteSize(head, &a) && a <= firstMax
                                  : parseWholeNumber(head, firstMax, &a);
    if (!headOk)
        return false;
    qint64 b = 0;
    if (colon >= 0 && !parseWholeNumber(text.mid(colon + 1), secondMax, &b))
        return false;
    *first = a;
    *second = b;
    return true;
}

// "1,500": C-locale digits with thousands separators.
QString numberText(qint64 value)
{
    QLocale locale = QLocale::c();
    locale.setNumberOptions(QLocale::DefaultNumberOptions);
    return locale.toString(value);
}

QString msText(qint64 ms)
{
    return numberText(ms) + QStringLiteral(" ms");
}

} // namespace

bool FaultConfig::isEmpty() const
{
    return delayMs == 0 && bandwidthBytesPerSecond == 0 && sliceBytes == 0 && closeAfterBytes < 0 &&
           resetAfterBytes < 0 && resetProbability <= 0.0 && !stopReading && !blackhole &&
           timeoutMs < 0 && slowCloseMs == 0 && !hasUdpFaults();
}

FaultConfig FaultConfig::forTransport(IpProtocol transport) const
{
    FaultConfig kept;
    if (transport == IpProtocol::Udp) {
        kept.blackhole = blackhole;
        kept.udpLoss = udpLoss;
        kept.udpDuplicate = udpDuplicate;
        kept.udpReorder = udpReorder;
        kept.udpCorrupt = udpCorrupt;
        kept.seed = seed;
        return kept;
    }
    kept = *this;
    kept.udpLoss = kept.udpDuplicate = kept.udpReorder = kept.udpCorrupt = 0.0;
    if (transport != IpProtocol::WebSocket)
        kept.closeCode = kDefaultCloseCode;
    return kept;
}

bool FaultConfig::hasMessageFaults() const
{
    return delayMs > 0 || bandwidthBytesPerSecond > 0 || sliceBytes > 0;
}

bool FaultConfig::hasUdpFaults() const
{
    return udpLoss > 0.0 || udpDuplicate > 0.0 || udpReorder > 0.0 || udpCorrupt > 0.0;
}

QString FaultConfig::validate() const
{
    if (delayMs < 0 || delayMs > kMaxDelayMs)
        return QCoreApplication::translate("FaultConfig",
                                           "fault delay %1 ms is out of range (0 to %2 ms)")
            .arg(delayMs)
            .arg(kMaxDelayMs);
    if (jitterMs < 0 || jitterMs > delayMs)
        return QCoreApplication::translate(
                   "FaultConfig", "fault jitter %1 ms is out of range (0 to the delay, %2 ms)")
            .arg(jitterMs)
            .arg(delayMs);
    if (bandwidthBytesPerSecond < 0 || bandwidthBytesPerSecond > kMaxBandwidthBytesPerSecond)
        return QCoreApplication::translate(
                   "FaultConfig",
                   "fault bandwidth %1 bytes/s is out of range (1 to %2 bytes/s, or 0 "
                   "for unlimited)")
            .arg(bandwidthBytesPerSecond)
            .arg(kMaxBandwidthBytesPerSecond);
    if (sliceBytes < 0 || sliceBytes > kMaxSliceBytes)
        return QCoreApplication::translate(
                   "FaultConfig",
                   "fault slice size %1 bytes is out of range (1 to %2 bytes, or 0 for "
                   "whole echoes)")
            .arg(sliceBytes)
            .arg(kMaxSliceBytes);
    if (sliceGapMs < 0 || sliceGapMs > kMaxSliceGapMs)
        return QCoreApplication::translate("FaultConfig",
                                           "fault slice gap %1 ms is out of range (0 to %2 ms)")
            .arg(sliceGapMs)
            .arg(kMaxSliceGapMs);
    if (sliceGapMs > 0 && sliceBytes == 0)
        return QCoreApplication::translate("FaultConfig",
                                           "fault slice gap %1 ms needs a slice size")
            .arg(sliceGapMs);
    if (closeAfterBytes < -1 || closeAfterBytes > kMaxByteLimit)
        return QCoreApplication::translate(
                   "FaultConfig", "fault close-after %1 bytes is out of range (0 to %2 bytes)")
            .arg(closeAfterBytes)
            .arg(kMaxByteLimit);
    if (!isSendableCloseCode(closeCode))
        return QCoreApplication::translate(
                   "FaultConfig", "fault close code %1 is not one a server may send (1000-1003, "
                                  "1007-1011, 3000-4999)")
            .arg(closeCode);
    if (resetAfterBytes < -1 || resetAfterBytes > kMaxByteLimit)
        return QCoreApplication::translate(
                   "FaultConfig", "fault reset-after %1 bytes is out of range (0 to %2 bytes)")
            .arg(resetAfterBytes)
            .arg(kMaxByteLimit);
    if (!(resetProbability >= 0.0 && resetProbability <= 1.0)) // NaN fails too
        return QCoreApplication::translate("FaultConfig",
                                           "fault reset probability %1 is out of range (0 to 1)")
            .arg(resetProbability);
    if (timeoutMs < -1 || timeoutMs > kMaxTimeoutMs)
        return QCoreApplication::translate("FaultConfig",
                                           "fault timeout %1 ms is out of range (0 to %2 ms)")
            .arg(timeoutMs)
            .arg(kMaxTimeoutMs);
    if (slowCloseMs < 0 || slowCloseMs > kMaxSlowCloseMs)
        return QCoreApplication::translate("FaultConfig",
                                           "fault slow close %1 ms is out of range (0 to %2 ms)")
            .arg(slowCloseMs)
            .arg(kMaxSlowCloseMs);
    const struct
    {
        const char *name;
        double value;
    } rates[] = {
        {QT_TRANSLATE_NOOP("FaultConfig", "fault toxicity %1 is out of range (0 to 1)"), toxicity},
        {QT_TRANSLATE_NOOP("FaultConfig", "fault UDP loss %1 is out of range (0 to 1)"), udpLoss},
        {QT_TRANSLATE_NOOP("FaultConfig", "fault UDP duplicate %1 is out of range (0 to 1)"),
         udpDuplicate},
        {QT_TRANSLATE_NOOP("FaultConfig", "fault UDP reorder %1 is out of range (0 to 1)"),
         udpReorder},
        {QT_TRANSLATE_NOOP("FaultConfig", "fault UDP corrupt %1 is out of range (0 to 1)"),
         udpCorrupt},
    };
    for (const auto &rate : rates) {
        if (!(rate.value >= 0.0 && rate.value <= 1.0))
            return QCoreApplication::translate("FaultConfig", rate.name).arg(rate.value);
    }
    return QString();
}

QString FaultConfig::describe() const
{
    const auto percent = [](double rate) { return QLocale::c().toString(rate * 100.0, 'g', 4); };
    QStringList parts;
    if (blackhole)
        parts << QCoreApplication::translate("FaultConfig", "blackhole");
    if (timeoutMs == 0)
        parts << QCoreApplication::translate("FaultConfig", "timeout: hold, never close");
    else if (timeoutMs > 0)
        parts << QCoreApplication::translate("FaultConfig", "timeout %1").arg(msText(timeoutMs));
    if (delayMs > 0) {
        parts
            << (jitterMs > 0
                    ? QCoreApplication::translate("FaultConfig", "delay %1\u00b1%2 ms")
                          .arg(numberText(delayMs), numberText(jitterMs))
                    : QCoreApplication::translate("FaultConfig", "delay %1").arg(msText(delayMs)));
    }
    if (bandwidthBytesPerSecond > 0)
        parts << QCoreApplication::translate("FaultConfig", "%1/s")
                     .arg(dataSizeText(bandwidthBytesPerSecond));
    if (sliceBytes > 0) {
        parts << (sliceGapMs > 0 ? QCoreApplication::translate("FaultConfig", "slices %1/%2")
                                       .arg(dataSizeText(sliceBytes), msText(sliceGapMs))
                                 : QCoreApplication::translate("FaultConfig", "slices %1")
                                       .arg(dataSizeText(sliceBytes)));
    }
    if (toxicity < 1.0 && hasMessageFaults())
        parts << QCoreApplication::translate("FaultConfig", "toxicity %1%").arg(percent(toxicity));
    if (closeAfterBytes >= 0) {
        parts << (closeCode != kDefaultCloseCode
                      ? QCoreApplication::translate("FaultConfig",
                                                    "close after %1 (WebSocket code %2)")
                            .arg(dataSizeText(closeAfterBytes))
                            .arg(closeCode)
                      : QCoreApplication::translate("FaultConfig", "close after %1")
                            .arg(dataSizeText(closeAfterBytes)));
    }
    if (resetAfterBytes >= 0)
        parts << QCoreApplication::translate("FaultConfig", "reset after %1")
                     .arg(dataSizeText(resetAfterBytes));
    if (resetProbability > 0.0)
        parts << QCoreApplication::translate("FaultConfig", "reset %1% per message")
                     .arg(percent(resetProbability));
    if (stopReading)
        parts << QCoreApplication::translate("FaultConfig", "not reading");
    if (slowCloseMs > 0)
        parts
            << QCoreApplication::translate("FaultConfig", "slow close %1").arg(msText(slowCloseMs));
    if (udpLoss > 0.0)
        parts << QCoreApplication::translate("FaultConfig", "UDP loss %1%").arg(percent(udpLoss));
    if (udpDuplicate > 0.0)
        parts << QCoreApplication::translate("FaultConfig", "UDP duplicate %1%")
                     .arg(percent(udpDuplicate));
    if (udpReorder > 0.0)
        parts << QCoreApplication::translate("FaultConfig", "UDP reorder %1%")
                     .arg(percent(udpReorder));
    if (udpCorrupt > 0.0)
        parts << QCoreApplication::translate("FaultConfig", "UDP corrupt %1%")
                     .arg(percent(udpCorrupt));
    if (parts.isEmpty())
        return QCoreApplication::translate("FaultConfig", "none");
    const bool draws = jitterMs > 0 || resetProbability > 0.0 ||
                       (toxicity < 1.0 && hasMessageFaults()) || hasUdpFaults();
    if (seed != 0 && draws)
        parts << QCoreApplication::translate("FaultConfig", "seed %1").arg(seed);
    return parts.join(kSeparator);
}

bool FaultConfig::parseByteSize(QStringView text, qint64 *bytes)
{
    return NumberText::parseByteSize(text, bytes);
}

bool FaultConfig::parseDelay(QStringView text, QString *error)
{
    qint64 delay = 0;
    qint64 jitter = 0;
    if (!parsePair(text, kMaxDelayMs, kMaxDelayMs, &delay, &jitter, false) || jitter > delay) {
        *error =
            QCoreApplication::translate(
                "FaultConfig", "expected MS or MS:JITTER, whole milliseconds up to %1 with the "
                               "jitter at most the delay, e.g. 200 or 200:50")
                .arg(kMaxDelayMs);
        return false;
    }
    delayMs = int(delay);
    jitterMs = int(jitter);
    return true;
}

bool FaultConfig::parseBandwidth(QStringView text, QString *error)
{
    qint64 rate = 0;
    if (!parseByteSize(text, &rate) || rate < 1 || rate > kMaxBandwidthBytesPerSecond) {
        *error = QCoreApplication::translate(
            "FaultConfig", "expected bytes per second from 1 to 1G, optionally with K, M or "
                           "G (1024-based), e.g. 10K");
        return false;
    }
    bandwidthBytesPerSecond = rate;
    return true;
}

bool FaultConfig::parseSlice(QStringView text, QString *error)
{
    qint64 size = 0;
    qint64 gap = 0;
    if (!parsePair(text, kMaxSliceBytes, kMaxSliceGapMs, &size, &gap, true) || size < 1) {
        *error = QCoreApplication::translate(
                     "FaultConfig", "expected BYTES or BYTES:GAP_MS, a slice of 1 byte to 1M and a "
                                    "gap of at most %1 ms, e.g. 16:5")
                     .arg(kMaxSliceGapMs);
        return false;
    }
    sliceBytes = size;
    sliceGapMs = int(gap);
    return true;
}

bool FaultConfig::isSendableCloseCode(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}

bool FaultConfig::parseCloseAfter(QStringView text, QString *error)
{
    const qsizetype colon = text.indexOf(QLatin1Char(':'));
    qint64 bytes = 0;
    if (!parseByteSize(colon < 0 ? text : text.left(colon), &bytes) || bytes > kMaxByteLimit) {
        *error = QCoreApplication::translate(
            "FaultConfig", "expected a number of echoed bytes, optionally with K, M or G "
                           "(1024-based), then optionally :CODE, the WebSocket close code; "
                           "0 closes at once");
        return false;
    }
    int code = kDefaultCloseCode;
    if (colon >= 0) {
        bool ok = false;
        code = text.mid(colon + 1).toInt(&ok);
        if (!ok || !isSendableCloseCode(code)) {
            *error = QCoreApplication::translate(
                "FaultConfig", "expected a WebSocket close code after the colon: 1000-1003, "
                               "1007-1011 or 3000-4999");
            return false;
        }
    }
    closeAfterBytes = bytes;
    closeCode = quint16(code);
    return true;
}

bool FaultConfig::parseResetAfter(QStringView text, QString *error)
{
    qint64 bytes = 0;
    if (!parseByteSize(text, &bytes) || bytes > kMaxByteLimit) {
        *error = QCoreApplication::translate(
            "FaultConfig", "expected a number of echoed bytes, optionally with K, M or G "
                           "(1024-based); 0 resets at once");
        return false;
    }
    resetAfterBytes = bytes;
    return true;
}

bool FaultConfig::parseRate(QStringView text, double *rate, QString *error)
{
    QStringView number = text;
    double scale = 1.0;
    if (number.endsWith(QLatin1Char('%'))) {
        number.chop(1);
        scale = 100.0;
    }
    bool ok = !number.isEmpty();
    for (const QChar c : number)
        ok = ok && (isAsciiDigit(c) || c == QLatin1Char('.'));
    const double value = ok ? QLocale::c().toDouble(number, &ok) / scale : -1.0;
    if (!ok || !(value >= 0.0 && value <= 1.0)) {
        *error = QCoreApplication::translate(
            "FaultConfig", "expected a probability from 0 to 1 (or 0% to 100%), e.g. 0.05");
        return false;
    }
    *rate = value;
    return true;
}

bool FaultConfig::parseProbability(QStringView text, QString *error)
{
    return parseRate(text, &resetProbability, error);
}

bool FaultConfig::parseToxicity(QStringView text, QString *error)
{
    return parseRate(text, &toxicity, error);
}

bool FaultConfig::parseUdpLoss(QStringView text, QString *error)
{
    return parseRate(text, &udpLoss, error);
}

bool FaultConfig::parseUdpDuplicate(QStringView text, QString *error)
{
    return parseRate(text, &udpDuplicate, error);
}

bool FaultConfig::parseUdpReorder(QStringView text, QString *error)
{
    return parseRate(text, &udpReorder, error);
}

bool FaultConfig::parseUdpCorrupt(QStringView text, QString *error)
{
    return parseRate(text, &udpCorrupt, error);
}

bool FaultConfig::parseTimeout(QStringView text, QString *error)
{
    qint64 value = 0;
    if (!parseWholeNumber(text, kMaxTimeoutMs, &value)) {
        *error = QCoreApplication::translate("FaultConfig",
                                             "expected whole milliseconds from 0 (hold, never "
                                             "close) to %1")
                     .arg(kMaxTimeoutMs);
        return false;
    }
    timeoutMs = int(value);
    return true;
}

bool FaultConfig::parseSlowClose(QStringView text, QString *error)
{
    qint64 value = 0;
    if (!parseWholeNumber(text, kMaxSlowCloseMs, &value) || value < 1) {
        *error =
            QCoreApplication::translate("FaultConfig", "expected whole milliseconds from 1 to %1")
                .arg(kMaxSlowCloseMs);
        return false;
    }
    slowCloseMs = int(value);
    return true;
}

bool FaultConfig::parseSeed(QStringView text, QString *error)
{
    qint64 value = 0;
    if (!parseWholeNumber(text, std::numeric_limits<quint32>::max(), &value) || value == 0) {
        *error = QCoreApplication::translate("FaultConfig", "expected a whole number from 1 to %1")
                     .arg(std::numeric_limits<quint32>::max());
        return false;
    }
    seed = quint32(value);
    return true;
}

bool operator==(const FaultConfig &a, const FaultConfig &b)
{
    return a.delayMs == b.delayMs && a.jitterMs == b.jitterMs &&
           a.bandwidthBytesPerSecond == b.bandwidthBytesPerSecond && a.sliceBytes == b.sliceBytes &&
           a.sliceGapMs == b.sliceGapMs && a.closeAfterBytes == b.closeAfterBytes &&
           a.closeCode == b.closeCode && a.resetAfterBytes == b.resetAfterBytes &&
           a.resetProbability == b.resetProbability && a.stopReading == b.stopReading &&
           a.blackhole == b.blackhole && a.timeoutMs == b.timeoutMs &&
           a.slowCloseMs == b.slowCloseMs && a.toxicity == b.toxicity && a.udpLoss == b.udpLoss &&
           a.udpDuplicate == b.udpDuplicate && a.udpReorder == b.udpReorder &&
           a.udpCorrupt == b.udpCorrupt && a.seed == b.seed;
}

} // namespace Echoscope
