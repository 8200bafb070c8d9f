#pragma once

#include "recording.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QtGlobal>

#include <vector>

QT_BEGIN_NAMESPACE
class QTcpSocket;
class QTimer;
QT_END_NAMESPACE

namespace Echoscope {

// How `echoscope replay` sends a recording.
struct ReplayConfig
{
    static constexpr int kDefaultTimeoutMs = 10000;
    // How long a recording cut short waits for the echo of its unrecorded part to stop.
    static constexpr int kSettleMs = 250;

    QHostAddress host = QHostAddress(QHostAddress::LocalHost);
    quint16 port = 0;
    bool asFastAsPossible = false;     // back to back, no gaps
    double speed = 1.0;                // original gaps divided by this (> 0)
    int timeoutMs = kDefaultTimeoutMs; // the most any one wait may take
};

// What a replay found. The echo is compared with the recorded echo ("out") where the
// recording holds it, and with the bytes sent where it does not (an echo server echoes
// what it gets). Offsets are those of the recorded client stream.
struct ReplayResult
{
    qint64 bytesSent = 0;
    qint64 bytesEchoed = 0;       // received back
    qint64 expectedEchoBytes = 0; // what had to come back
    qint64 durationMs = 0;        // from connected to done
    qint64 recordedSpanMs = 0;    // from the recorded start to the last byte sent (or half-close)
    bool halfClosed = false;      // the replay half-closed, as the recorded client did
    qint64 mismatchedBytes = 0;   // received bytes that differ from the expected ones
    qint64 firstMismatchOffset = -1;
    qint64 contextOffset = 0; // stream offset of the first byte of the contexts
    QByteArray expectedContext;
    QByteArray gotContext;
    qint64 shortBytes = 0;   // expected bytes that never came
    qint64 extraBytes = 0;   // bytes past the expected echo
    QString connectionError; // a sentence: could not connect, reset, timed out; empty: none
    QStringList notes;       // about the recording, e.g. what is missing from it

    // A WebSocket replay (WebSocketReplayer) counts messages too; its byte counts are of
    // payload, its contexts are of the first message that differs (contextOffset: in it).
    bool webSocket = false;
    qint64 messagesSent = 0;
    qint64 messagesEchoed = 0;
    qint64 expectedEchoMessages = 0;
    qint64 mismatchedMessages = 0;          // of another kind, size or content
    qint64 firstMismatchMessage = -1;       // its index among the messages sent
    qint64 firstMismatchMessageOffset = -1; // the first byte that differs in it; -1: none
    QString firstMismatchWhat;              // "is binary, expected text", "has 3 bytes, ..."
    qint64 shortMessages = 0;               // expected messages that never came
    qint64 extraMessages = 0;               // messages past the expected echo

    // A byte differed, came too many, or did not come although the connection held.
    bool echoDiffered() const
    {
        return mismatchedBytes > 0 || extraBytes > 0 || mismatchedMessages > 0 ||
               extraMessages > 0 ||
               ((shortBytes > 0 || shortMessages > 0) && connectionError.isEmpty());
    }
    bool matched() const { return !echoDiffered() && connectionError.isEmpty(); }
    // One line: the verdict and the counts.
    QString summary() const;
    QString webSocketSummary() const;
    // The first mismatch as two hex lines (expected, got); empty when there is none.
    QStringList mismatchContext() const;
    QJsonObject toJson() const;
};

// Sends a recording's client stream to an echo server over one non-blocking socket on
// the calling thread's event loop, with the recorded gaps (scaled) or back to back,
// half-closes where the recorded client did, and compares what comes back. Every wait
// (connect, a write that does not drain, the echo, the close) ends after timeoutMs.
class Replayer : public QObject
{
    Q_OBJECT

public:
    Replayer(const Recording &recording, const ReplayConfig &config, QObject *parent = nullptr);
    ~Replayer() override;

    // Connects and starts sending; finished() follows, once.
    void start();
    bool isFinished() const { return m_finished; }
    const ReplayResult &result() const { return m_result; }

signals:
    void finished();

private:
    struct Send
    {
        qint64 dueMs; // after connecting
        qsizetype chunk;
    };

    void connected();
    void sendDue();
    void readEcho();
    void progressed();
    void check();
    void timedOut();
    void socketFailed();
    void finish(const QString &connectionError = QString());
    void updateTimeout();
    qint64 elapsedMs() const;

    Recording m_recording;
    ReplayConfig m_config;
    ReplayResult m_result;
    QTcpSocket *m_socket;
    QTimer *m_sendTimer;
    QTimer *m_timeoutTimer;
    QTimer *m_settleTimer;
    QElapsedTimer m_clock;

    std::vector<Send> m_sends;
    size_t m_nextSend = 0;
    bool m_halfClosePlanned = false;
    qint64 m_halfCloseDueMs = 0;
    bool m_connected = false;
    bool m_serverClosed = false;
    bool m_finished = false;

    qint64 m_firstOffset = 0;   // the stream offset of the first byte sent
    QByteArray m_expected;      // the echo that must come back, then what may come back
    qint64 m_requiredBytes = 0; // of m_expected; the rest may come
    QByteArray m_received;      // at most m_expected.size() + a little for the report
};

} // namespace Echoscope
