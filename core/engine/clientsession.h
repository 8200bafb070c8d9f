#pragma once

#include "clientstats.h"
#include "disconnectinfo.h"
#include "faultinjector.h"
#include "framer.h"
#include "ratewindow.h"
#include "serverconfig.h"
#include "trafficevent.h"
#include "transport.h"

#include <QByteArray>
#include <QList>
#include <QObject>

#include <memory>

QT_BEGIN_NAMESPACE
class QTimer;
QT_END_NAMESPACE

namespace Echoscope {

class ClientSession;
class TransportMessageFramer;

// What a session tells the worker that owns it, in the session's thread. Calls, not
// signals: a burst of short connections paid five QObject::connect() and their removal
// for every session.
class SessionOwner
{
public:
    // For every read and every write.
    virtual void sessionBytesReceived(quint64 clientId, qint64 bytes) = 0;
    virtual void sessionBytesEchoed(quint64 clientId, qint64 bytes) = 0;
    virtual void sessionMessageEchoed(quint64 clientId, qint64 payloadBytes) = 0;
    // The handshake's events, faults, and sampled messages and their per-second summaries
    // (only if messageEventsPerSecond > 0).
    virtual void sessionEvent(const TrafficEvent &event) = 0;
    // Exactly once; the descriptor is closed when it is called. The owner deletes the
    // session later, never inside this call, which is on the session's call stack.
    virtual void sessionFinished(ClientSession *session, const DisconnectInfo &info) = 0;

protected:
    ~SessionOwner() = default;
};

// One connection for its whole life, in one thread: reads what the client sends,
// frames it, echoes each message, keeps the unsent echo bounded (it stops reading
// above the high-water mark and resumes below the low-water mark), and ends with
// exactly one SessionOwner::sessionFinished() that says why.
//
// Event-driven only: the Transport under it (the raw descriptor, or TLS on it) moves
// bytes and reports four things -- readable, writable, peer closed, failed (plus
// "established" for a transport with a handshake). Everything else is this class's, in
// one state machine written once for every transport:
//
//                  established                 reconsider(): unsent > high water or
//   Handshaking ----------------> Reading <--- the fault queue full -> Paused, below
//        |                         |  ^  \      low water -> Reading; the stop-reading
//        | failed / timeout        |  |   \     fault -> Stopped, lifted -> Reading
//        |                         |  |    +--> Paused | Stopped   (reading off)
//        |             EOF read    v  |                 |
//        |                      Draining                | peer closed, reported by a
//        |          (echo the rest, then close)         | transport that cannot write
//        v                         |                    | after it (TLS): close now;
//      Closed <--------------------+--------------------+ else remembered until
//               echo done / error / limit / close()       reading resumes
//
// Reading is on in state Reading only. A peer's close seen while reading is off is
// remembered (m_peerClosed) and acted on when reading resumes or the session closes;
// it is never polled for. On a transport with a handshake (TLS; WebSocket's upgrade)
// the session waits for it (Handshaking, at most tlsHandshakeTimeoutMs or
// webSocketHandshakeTimeoutMs); every count and the capture are of the plaintext (the
// WebSocket payload). A message transport (WebSocket) delimits the messages itself.
class ClientSession : public QObject, private MessageSink, private TransportHandler
{
    Q_OBJECT

public:
    // readBuffer is scratch space shared by the sessions of one thread; owner hears what
    // happens (it outlives the session).
    ClientSession(std::unique_ptr<Transport> transport, std::shared_ptr<ClientStats> stats,
                  const ServerConfig &config, QByteArray *readBuffer, SessionOwner *owner,
                  QObject *parent = nullptr);
    ~ClientSession() override;

    quint64 id() const { return m_stats->id(); }
    const std::shared_ptr<ClientStats> &stats() const { return m_stats; }
    bool isFinished() const { return m_state == State::Closed; }
    qint64 unsentBytes() const { return m_pending.size() - m_pendingStart; }

    // Starts reading. Call once, in the thread the session lives in.
    void start();
    // Ends the connection now (kicked, server stopped); the owner hears sessionFinished().
    void close(DisconnectReason reason, const QString &detail = QString());
    // Injects these faults into the echo from now on (see FaultInjector); may end the
    // connection at once (close or reset after 0 bytes).
    // source: who sets them, for the fault event (see EchoServer::setClientFaults).
    void setFaults(const FaultConfig &faults, FaultScope scope, const QString &source = QString());
    FaultScope faultScope() const;

public:
    enum class State { Handshaking, Reading, Paused, Stopped, Draining, Closed };
    State state() const { return m_state; }

private:
    struct QueuedMessage
    {
        qint64 endOffset; // position in the echo stream just after this message
        qint64 payloadBytes;
    };

    void readReady();
    void writeReady();
    void transportReadable() override { readReady(); }
    void transportWritable() override { writeReady(); }
    void transportPeerClosed() override { peerClosed(); }
    void transportEstablished() override;
    void transportFailed(DisconnectReason reason, const QString &detail) override;
    void handshakeTimedOut();
    int handshakeTimeoutMs() const;
    void idleTimerFired();
    void messageFramed(QByteArrayView wire, qint64 payloadBytes) override;
    void peerClosed();
    void endOfInput();
    bool flushPending();
    void echoWritten(const char *data, qint64 bytes);
    void bytesRead(const char *data, qint64 bytes);
    // The state machine's one decision point: after anything that may change the state
    // (echo queued or written, faults changed, handshake done, peer closed), picks the
    // next state and sets reading and write notification to match it.
    void reconsider();
    void enterState(State state);
    void updateWriting();
    // Reading and write notification on or off, passed on to the transport once per change.
    void setReadWanted(bool wanted);
    void setWriteWanted(bool wanted);
    qint64 writableBytes();
    bool checkFaultLimit();
    qint64 drainInput();
    QString lostOnCloseDetail(qint64 drainedBytes) const;
    void sampleMessage(QByteArrayView wire, qint64 payloadBytes);
    void flushMessageSummary();
    void touch();
    void finish(DisconnectReason reason, const QString &detail);
    // finish(), after the slow close fault's wait when it is set; `why` says for the log
    // what the close follows ("after the client's end"): a QT_TR_NOOP text, translated only
    // when the fault is on rather than on every close.
    void finishSlowly(DisconnectReason reason, const QString &detail, const char *why);
    void faultTimedOut();
    bool handleIoResult(int result, const char *operation);
    QString tooLargeDetail() const;
    static QString incompleteDetail(qint64 bytes); // "an incomplete message of N bytes ..."
    TrafficEvent clientEvent(TrafficEvent::Kind kind) const;

    std::unique_ptr<Transport> m_transport;
    std::shared_ptr<ClientStats> m_stats;
    const ServerConfig m_config;
    QByteArray *m_readBuffer;
    SessionOwner *m_owner;
    std::unique_ptr<Framer> m_framer;
    // The same framer when the transport carries messages (WebSocket), else nullptr.
    TransportMessageFramer *m_messageFramer = nullptr;
    QTimer *m_handshakeTimer = nullptr;
    QTimer *m_idleTimer = nullptr;
    QTimer *m_summaryTimer = nullptr;
    FaultInjector *m_faults = nullptr; // made when faults are first set

    // The echo not yet taken by the kernel: bytes [m_pendingStart, size) of m_pending.
    QByteArray m_pending;
    qsizetype m_pendingStart = 0;
    // Not a std::deque, which allocates 576 bytes while empty: an idle client's is empty.
    QList<QueuedMessage> m_queuedMessages;
    qint64 m_echoCommitted = 0; // bytes handed to the echo stream so far
    qint64 m_echoWritten = 0;   // bytes of it the kernel has taken

    State m_state = State::Reading;
    bool m_backpressure = false; // above the high-water mark, not yet below the low one
    bool m_readWanted = true;    // Transport::start() enables reading
    bool m_writeWanted = false;
    bool m_peerClosed = false;   // the peer ended its side; known, maybe not yet acted on
    bool m_slowClosing = false;  // the slow close fault's wait before finish() runs
    qint64 m_lastActivityMs = 0; // Clock::monotonicMs()

    // Message sampling for the event log.
    RateWindow m_sampleWindow;
    qint64 m_suppressedMessages = 0;
    qint64 m_suppressedBytes = 0;
};

} // namespace Echoscope
