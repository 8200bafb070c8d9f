#pragma once

#include "trafficevent.h"

#include <QHostAddress>
#include <QObject>
#include <QString>

#include <atomic>

QT_BEGIN_NAMESPACE
class QSocketNotifier;
class QTcpServer;
class QTimer;
QT_END_NAMESPACE

namespace Echoscope {

// The listening socket and its accept loop. QTcpServer binds and listens (and words its
// errors); the accepting is ours, because QTcpServer's own loop cannot be trusted with
// errors: once its engine has seen EAGAIN it reports EMFILE as a temporary error too,
// without pausing, and spins on the still-readable socket.
//
// It accepts a bounded number of connections per wake-up, so the sessions sharing this
// thread get their turn. When accept() fails it says so once per episode (an Error
// event, then a Warning when accepting works again); out of descriptors, it refuses the
// pending connections at once through a spare descriptor, so the listen queue never sits
// full of clients nobody will serve; any other failure pauses accepting for
// kAcceptRetryMs. Nothing spins.
//
// What it accepts, sheds and has to say leaves through its signals, emitted in this
// object's thread from inside the accept loop; connect them with Qt::DirectConnection.
// A receiver may close() the acceptor (EchoServer::stop()) from inside any of them: after
// every emission the loop checks whether it was closed and returns. The acceptor must not
// be deleted from inside one.
class Acceptor : public QObject
{
    Q_OBJECT

public:
    // After an accept error the spare descriptor cannot get past, try again this often,
    // with accepting paused in between.
    static constexpr int kAcceptRetryMs = 250;

    // liveClients: the count of connected clients, for the text of the accept-error event.
    explicit Acceptor(const std::atomic<int> *liveClients, QObject *parent = nullptr);
    ~Acceptor() override;

    // Binds and listens (not accepting yet). On failure returns false with the OS's
    // reason in *reason, and nothing is left open.
    bool listen(const QHostAddress &address, quint16 port, QString *reason);
    // Starts accepting on the socket listen() opened, with a new spare descriptor and no
    // accept-error episode.
    void startAccepting();
    // Stops accepting and closes the listening socket and the spare; safe to call from a
    // receiver of the signals below, and when not listening.
    void close();

    bool isListening() const { return m_listener != nullptr; }
    bool isAccepting() const { return m_notifier != nullptr; }
    QHostAddress serverAddress() const;
    quint16 serverPort() const;

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
    void acceptPending();
    bool shedOneConnection(qintptr listener);
    bool deliver(qintptr descriptor, const QHostAddress &peer, quint16 peerPort);
    void reportAcceptError(int error, const QString &errorText);

    const std::atomic<int> *m_liveClients;
    QTcpServer *m_listener = nullptr;
    QSocketNotifier *m_notifier = nullptr;
    QTimer *m_retryTimer = nullptr;
    // Out-of-descriptor handling: the spare, and the episode being reported.
    qintptr m_spareDescriptor = -1;
    bool m_acceptErrorReported = false;
    qint64 m_acceptErrorSinceMs = 0;
    qint64 m_refusedSinceAcceptError = 0;
};

} // namespace Echoscope
