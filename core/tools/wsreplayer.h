#pragma once

#include "recording.h"
#include "replayer.h"

#include <QAbstractSocket>
#include <QByteArray>
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QtGlobal>

#include <vector>

QT_BEGIN_NAMESPACE
class QTimer;
class QWebSocket;
QT_END_NAMESPACE

namespace Echoscope {

// Replays a WebSocket client's recording (version 2, with its messages) with a real
// QWebSocket: ws://HOST:PORT/RESOURCE with the recorded request path, origin and
// subprotocols, each whole recorded message sent as a text or binary message at its
// recorded time (scaled) or back to back, and the echo checked message by message: its
// count, each one's kind, size and bytes (the recorded echo where the recording holds it,
// the message sent elsewhere). A message the recording holds only part of is not sent.
// Then it closes with 1000 and waits for the server's answer. Every wait on the server
// (the connect and upgrade, a write it does not take, the echo, the close) ends after
// timeoutMs. The result's offsets are those within the message (firstMismatchOffset:
// of the recorded client stream).
class WebSocketReplayer : public QObject
{
    Q_OBJECT

public:
    WebSocketReplayer(const Recording &recording, const ReplayConfig &config,
                      QObject *parent = nullptr);
    ~WebSocketReplayer() override;

    // Connects and starts sending; finished() follows, once.
    void start();
    bool isFinished() const { return m_finished; }
    const ReplayResult &result() const { return m_result; }
    // "ws://127.0.0.1:7000/chat"
    QString url() const;

signals:
    void finished();

private:
    struct Send
    {
        qint64 dueMs; // after the upgrade
        qsizetype message;
    };
    struct Expected
    {
        QByteArray data;
        bool text = false;
        qint64 streamOffset = 0; // of the recorded client stream
    };

    void connected();
    void sendDue();
    void messageReceived(const QByteArray &data, bool text);
    void check();
    void closeNow();
    void disconnected();
    void socketFailed(QAbstractSocket::SocketError error);
    void timedOut();
    void finish(const QString &connectionError = QString());
    void updateTimeout();
    qint64 elapsedMs() const;
    QString endpoint() const;
    bool allSent() const;

    QList<Recording::Message> m_messages; // the whole ones, to send
    Recording m_recording;
    ReplayConfig m_config;
    ReplayResult m_result;
    QWebSocket *m_socket;
    QTimer *m_sendTimer;
    QTimer *m_timeoutTimer;
    QTimer *m_settleTimer;
    QElapsedTimer m_clock;

    std::vector<Send> m_sends;
    size_t m_nextSend = 0;
    std::vector<Expected> m_expected; // what must come back, then what may
    qsizetype m_requiredMessages = 0; // of m_expected
    bool m_exact = false;             // a recording of a whole connection: nothing more
    qsizetype m_received = 0;         // messages received
    bool m_connected = false;
    bool m_closing = false;      // we sent our close frame
    bool m_serverClosed = false; // the connection ended (its close frame, or not)
    bool m_finished = false;
};

} // namespace Echoscope
