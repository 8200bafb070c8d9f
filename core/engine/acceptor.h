#pragma once

#include "trafficevent.h"

#include <QHostAddress>
#include <QObject>
#include <QString>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>

QT_BEGIN_NAMESPACE
class QSocketNotifier;
class QTcpServer;
class QTimer;
QT_END_NAMESPACE

namespace Echoscope {

// What the acceptors of one server share: the accept-error episode, reported once for
// all of them (an Error event when accept() starts failing in any worker, a Warning when
// descriptors are free again), with the connections refused meanwhile counted across
// them, and the one spare descriptor that lets a worker refuse a queued connection when
// the process is out of descriptors. Outside an episode the workers accept side by side
// without the lock; in one, they accept one at a time under it, so that no worker takes
// the slot another's spare has just freed.
struct AcceptEpisode
{
    ~AcceptEpisode(); // closes the spare
    // Once no acceptor accepts any more: the spare's descriptor is given back now.
    void closeSpare();

    std::mutex mutex;
    // Set and cleared under the mutex; read without it first, so that accepting outside an
    // episode takes no lock.
    std::atomic<int> reported{0};
    qint64 sinceMs = 0; // under the mutex
    qint64 refused = 0; // under the mutex
    qintptr spare = -1; // under the mutex
};

// One thread's accept loop on a listening socket that every worker watches. The engine
// accepts where the connection is served: each worker runs an Acceptor on the same
// listening socket, in its own thread, so a new connection costs no hand-off between
// threads. On the worker dispatcher (Linux) the socket is in each worker's epoll set with
// EPOLLEXCLUSIVE, so one connection wakes one worker; elsewhere every worker wakes and
// one accept() succeeds (the others find nothing and wait again).
//
// listen() binds with QTcpServer (which words its errors) and only listens; the
// accepting is ours, because QTcpServer's own loop cannot be trusted with errors: once
// its engine has seen EAGAIN it reports EMFILE as a temporary error too, without
// pausing, and spins on the still-readable socket.
//
// It accepts a bounded number of connections per wake-up, so the sessions sharing this
// thread get their turn. When accept() fails it says so once per episode across the
// server's acceptors (AcceptEpisode); out of descriptors, it refuses the pending
// connections at once through a spare descriptor, so the listen queue never sits full
// of clients nobody will serve; any other failure pauses this accept loop for
// kAcceptRetryMs. Nothing spins.
//
// What it accepts, sheds and has to say leaves through its signals, emitted in this
// object's thread from inside the accept loop; connect them with Qt::DirectConnection.
// A receiver may close() the acceptor from inside any of them: after every emission the
// loop checks whether it was closed and returns. The acceptor must not be deleted from
// inside one.
class Acceptor : public QObject
{
    Q_OBJECT

public:
    // After an accept error the spare descriptor cannot get past, try again this often,
    // with accepting paused in between.
    static constexpr int kAcceptRetryMs = 250;

    // Binds and listens on a QTcpServer that does not accept (the acceptors do), a child
    // of `parent`. On failure returns nullptr with the OS's reason in *reason, and
    // nothing is left open.
    static QTcpServer *listen(const QHostAddress &address, quint16 port, QString *reason,
                              QObject *parent);

    // liveClients: the count of connected clients, for the text of the accept-error event.
    Acceptor(const std::atomic<int> *liveClients, std::shared_ptr<AcceptEpisode> episode,
             QObject *parent = nullptr);
    ~Acceptor() override;

    // Starts accepting on `listener` (not owned: close() every acceptor of it before it is
    // closed); the first acceptor of an episode object opens its spare descriptor.
    void startAccepting(qintptr listener);
    // Stops accepting; safe to call from a receiver of the signals below, and when not
    // accepting. The spare goes with the last acceptor sharing it.
    void close();

    bool isAccepting() const { return m_notifier != nullptr; }

signals:
    // A connection was accepted: the receiver (exactly one) owns `descriptor` from now on.
    void connectionAccepted(qintptr descriptor, const QHostAddress &peer, quint16 peerPort);
    // Out of descriptors, a pending connection was accepted through the spare and closed at
    // once; reason says so, with the open-file limit.
    void connectionShed(const QHostAddress &peer, quint16 peerPort, const QString &reason);
    // The accept-error episode: an Error event when accept() starts failing, a Warning when
    // it works again.
    void eventOccurred(const Echoscope::TrafficEvent &event);

private:
    // What shedding did, to be reported once the lock is released.
    struct Shed
    {
        bool ok = false;        // the spare is back: accepting may go on
        qintptr delivered = -1; // accepted with room to spare: served after all
        bool refused = false;   // accepted through the spare and closed at once
        QHostAddress peer;
        quint16 peerPort = 0;
        QString reason;
    };

    void acceptPending();
    // Under the episode's lock.
    std::optional<TrafficEvent> startEpisodeLocked(int error, const QString &errorText);
    std::optional<TrafficEvent> endEpisodeLocked();
    Shed shedOneConnectionLocked();
    // Emits the episode's end if any, then the connection; false if a receiver closed this.
    bool deliver(qintptr descriptor, const QHostAddress &peer, quint16 peerPort,
                 const std::optional<TrafficEvent> &episodeEnd);

    const std::atomic<int> *m_liveClients;
    const std::shared_ptr<AcceptEpisode> m_episode;
    qintptr m_listener = -1;
    QSocketNotifier *m_notifier = nullptr;
    QTimer *m_retryTimer = nullptr;
};

} // namespace Echoscope
