// LoadGenerator::Runner over WebSocket (--protocol ws): the upgrade, masked frames out,
// server frames in. The rest of the Runner is in loadgeneratorrunner.cpp.
#include "loadgeneratorrunner_p.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include <unistd.h>

namespace Echoscope {

using namespace LoadGeneratorDetail;

// WebSocket: what goes out, in order: the upgrade request; then the data frame being
// written, if any; then pongs and the close frame; then the next message, one frame each.
void LoadGenerator::Runner::writeWebSocket(Connection &connection)
{
    WsConnection &w = ws(connection);
    const bool stream = m_config.mode == LoadConfig::Mode::Stream;
    while (connection.fd >= 0) {
        enum class What { Request, Frame, Control } what;
        const char *data = nullptr;
        qint64 size = 0;
        if (connection.state == State::Upgrading) {
            if (w.requestSent == w.request.size())
                break;
            what = What::Request;
            data = w.request.constData() + w.requestSent;
            size = w.request.size() - w.requestSent;
        } else if (w.inFrame) {
            what = What::Frame;
            char *out = m_writeBuffer.data();
            const int header = w.headerBytes - w.headerSent;
            std::memcpy(out, w.header + w.headerSent, size_t(header));
            const qint64 payload = std::min(m_chunkBytes, w.frameEnd - connection.sent);
            const qint64 offset = (connection.patternStart + connection.sent) % kPatternBytes;
            std::memcpy(out + header, m_pattern.data() + offset, size_t(payload));
            WsClientFraming::mask(out + header, payload, w.maskKey,
                                  quint64(connection.sent - w.frameStart));
            data = out;
            size = header + payload;
        } else if (w.controlSent < w.controlBytes) {
            what = What::Control;
            data = w.control + w.controlSent;
            size = w.controlBytes - w.controlSent;
        } else if (connection.sent < connection.target && !w.closeSent &&
                   !(stream && (m_stopping ||
                                connection.sent - connection.verified >= kStreamInFlightBytes))) {
            // The next message: one final binary frame (a message bigger than the in-flight
            // allowance still goes whole: the echo of a WebSocket message starts only
            // once all of it has arrived).
            const qint64 bytes =
                stream ? m_config.messageBytes : connection.target - connection.sent;
            w.maskKey = quint32(m_random());
            w.headerBytes = WsClientFraming::writeHeader(w.header, WsFrameHeader::Binary, true,
                                                         quint64(bytes), w.maskKey);
            w.headerSent = 0;
            w.frameStart = connection.sent;
            w.frameEnd = connection.sent + bytes;
            w.inFrame = true;
            continue;
        } else {
            break;
        }
        const ssize_t n = ::send(connection.fd, data, size_t(size), kSendFlags);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                watch(connection, true);
                return;
            }
            fail(&m_result.socketErrors,
                 LoadGenerator::tr("send: %1").arg(QString::fromLocal8Bit(std::strerror(errno))));
            finishConnection(connection);
            return;
        }
        switch (what) {
        case What::Request:
            w.requestSent += n;
            break;
        case What::Control:
            w.controlSent += int(n);
            if (w.controlSent == w.controlBytes)
                w.controlSent = w.controlBytes = 0;
            break;
        case What::Frame: {
            const int header = int(std::min<qint64>(n, w.headerBytes - w.headerSent));
            w.headerSent += header;
            const qint64 payload = n - header;
            connection.sent += payload;
            if (measuring())
                m_result.bytesSent += payload;
            if (connection.sent == w.frameEnd)
                w.inFrame = false;
            break;
        }
        }
        if (n < size) { // the socket's buffer is full
            watch(connection, true);
            return;
        }
    }
    watch(connection, false);
}

bool LoadGenerator::Runner::queueControl(Connection &connection, WsClientFraming::Opcode opcode,
                                         const char *payload, int size)
{
    WsConnection &w = ws(connection);
    if (w.controlBytes + WsClientFraming::kMaxControlFrameBytes > int(sizeof w.control)) {
        fail(&m_result.protocolErrors,
             LoadGenerator::tr(
                 "connection %1: the server sent control frames faster than they could "
                 "be answered")
                 .arg(index(connection)));
        finishConnection(connection);
        return false;
    }
    w.controlBytes += WsClientFraming::writeControlFrame(w.control + w.controlBytes, opcode,
                                                         payload, size, quint32(m_random()));
    return true;
}

void LoadGenerator::Runner::receivedWebSocket(Connection &connection, const char *data, qint64 size)
{
    if (connection.state != State::Upgrading) {
        readFrames(connection, data, size);
        return;
    }
    // The answer to the upgrade: an HTTP header, maybe with frames right behind it.
    WsConnection &w = ws(connection);
    constexpr qint64 kMaxAnswerBytes = 8192;
    w.answer.insert(w.answer.end(), data, data + size);
    const qint64 have = qint64(w.answer.size());
    const qint64 headerBytes = WsClientFraming::responseHeaderBytes(w.answer.data(), have);
    QString problem;
    if (!WsClientFraming::couldBeHttp(w.answer.data(), have) || headerBytes > 0) {
        problem = WsClientFraming::checkUpgradeResponse(
            QByteArray(w.answer.data(), qsizetype(headerBytes > 0 ? headerBytes : have)), w.key);
    } else if (have > kMaxAnswerBytes) {
        problem =
            LoadGenerator::tr("the answer to the WebSocket upgrade has no end of header in its "
                              "first %1 bytes")
                .arg(kMaxAnswerBytes);
    } else {
        return; // more to come
    }
    if (!problem.isEmpty()) {
        fail(&m_result.upgradeErrors,
             LoadGenerator::tr("connection %1: %2").arg(index(connection)).arg(problem));
        finishConnection(connection);
        return;
    }
    std::vector<char> rest(w.answer.begin() + headerBytes, w.answer.end());
    w.answer = std::vector<char>();
    w.request = QByteArray();
    upgraded(connection);
    if (connection.fd >= 0 && !rest.empty())
        readFrames(connection, rest.data(), qint64(rest.size()));
}

// The server accepted the upgrade: the connection is open, and does what TCP's does at its
// connect.
void LoadGenerator::Runner::upgraded(Connection &connection)
{
    const qint64 now = nowNs();
    m_result.upgrade.add((now - ws(connection).upgradeStartNs) / 1000);
    --m_connectsInFlight;
    connection.state = State::Active;
    connection.lastProgressNs = now;
    ++m_result.connectionsOpened;
    watch(connection, false);
    if (m_config.mode == LoadConfig::Mode::Hold)
        return; // quiet until the probe (pings are still answered)
    if (m_config.mode == LoadConfig::Mode::Stream)
        connection.target = std::numeric_limits<qint64>::max();
    startMessage(connection);
}

// Server frames: each echo must be one binary message the size of the message sent, with
// the bytes sent; pings get their pong; a close is the end.
void LoadGenerator::Runner::readFrames(Connection &connection, const char *data, qint64 size)
{
    using Event = WsClientFraming::Reader::Event;
    WsConnection &w = ws(connection);
    const int id = index(connection);
    qint64 at = 0;
    for (;;) {
        Event event = Event::None;
        const char *payload = nullptr;
        qint64 payloadBytes = 0;
        at += w.reader.read(data + at, size - at, &event, &payload, &payloadBytes);
        switch (event) {
        case Event::None:
            break;
        case Event::Data:
            if (w.reader.messageOpcode() != WsFrameHeader::Binary) {
                fail(&m_result.mismatches,
                     LoadGenerator::tr("connection %1: the echo came back as a text message; a "
                                       "binary one was sent")
                         .arg(id));
                finishConnection(connection);
                return;
            }
            if (connection.verified + payloadBytes > w.echoStart + messageBytes(connection)) {
                fail(&m_result.mismatches,
                     LoadGenerator::tr("connection %1: an echoed message is longer than the %2 "
                                       "bytes of the message sent")
                         .arg(id)
                         .arg(messageBytes(connection)));
                finishConnection(connection);
                return;
            }
            if (!verify(connection, payload, payloadBytes))
                return;
            continue;
        case Event::MessageEnd:
            if (connection.verified != w.echoStart + messageBytes(connection)) {
                fail(&m_result.mismatches,
                     LoadGenerator::tr("connection %1: an echoed message has %2 bytes; the message "
                                       "sent had %3")
                         .arg(id)
                         .arg(connection.verified - w.echoStart)
                         .arg(messageBytes(connection)));
                finishConnection(connection);
                return;
            }
            w.echoStart = connection.verified;
            messageEchoed(connection);
            if (connection.fd < 0)
                return;
            continue;
        case Event::Ping:
            if (!queueControl(connection, WsFrameHeader::Pong, w.reader.controlPayload(),
                              w.reader.controlPayloadBytes()))
                return;
            continue;
        case Event::Pong:
            continue; // unasked: allowed (RFC 6455 5.5.3), ignored
        case Event::Close: {
            const quint16 code = w.reader.closeCode();
            if (w.closeSent && !w.closeReceived &&
                (code == WsClientFraming::kCloseNormal ||
                 code == WsClientFraming::kCloseNoStatus)) {
                w.closeReceived = true; // now the server's EOF
                connection.lastProgressNs = nowNs();
                continue;
            }
            const QString reason = w.reader.closeReason();
            fail(w.closeSent ? &m_result.protocolErrors : &m_result.shortEchoes,
                 LoadGenerator::tr("connection %1: the server closed the WebSocket (close %2%3) "
                                   "after %4")
                     .arg(id)
                     .arg(code)
                     .arg(reason.isEmpty() ? QString() : QStringLiteral(" \"%1\"").arg(reason))
                     .arg(echoedSoFar(connection)));
            finishConnection(connection);
            return;
        }
        case Event::Error:
            fail(&m_result.protocolErrors,
                 LoadGenerator::tr("connection %1: %2").arg(id).arg(w.reader.errorString()));
            finishConnection(connection);
            return;
        }
        break; // None: all read
    }
    if (w.controlBytes > w.controlSent || m_config.mode == LoadConfig::Mode::Stream)
        writeSome(connection);
}

} // namespace Echoscope
