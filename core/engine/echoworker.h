#pragma once

#include "clientsession.h"
#include "clientstats.h"
#include "disconnectinfo.h"
#include "faultconfig.h"
#include "serverconfig.h"
#include "trafficevent.h"
#include "transfergate.h"

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QSslConfiguration>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace Echoscope {

class Acceptor;
class SocketPoller;
class Transport;

// The sessions of one thread. EchoServer hands it accepted descriptors; it runs
// them, signals their transfers (in this thread) and reports what ends through the
// event callback, which is safe to call from any thread.
class EchoWorker : public QObject, private SessionOwner
{
    Q_OBJECT

public:
    using EventCallback = std::function<void(TrafficEvent)>;

    EchoWorker(const ServerConfig &config, EventCallback postEvent, std::atomic<int> *liveClients,
               QObject *parent = nullptr);
    ~EchoWorker() override;

    // Makes every connection added from now on a TLS server one with this configuration.
    // Call before the worker starts (before it moves to its thread).
    void setTlsConfiguration(const QSslConfiguration &configuration);
    // The three per-transfer signals are emitted only while *watched is true (unset: always).
    // Call before the worker starts.
    void setTransfersWatched(const std::atomic<bool> *watched) { m_transfers.watch(watched); }

    // All of these run in the worker's thread.
    // Takes `acceptor` (a child of this worker, in its thread) and starts it accepting on
    // `listener`; stopAccepting() stops every acceptor, before the listeners close.
    void addAcceptor(Acceptor *acceptor, qintptr listener);
    void stopAccepting();
    void addConnection(qintptr descriptor, const std::shared_ptr<ClientStats> &stats);
    // detail: the disconnect's detail ("by the control API"); source: see EchoServer.
    // Each of these on one client returns false if it is not (or no longer) here.
    bool disconnectClient(quint64 clientId, const QString &detail = QString());
    // Faults: for every session that has none of its own, current and new; for one
    // session; or back to those for every session.
    void setDefaultFaults(const FaultConfig &faults);
    bool setClientFaults(quint64 clientId, const FaultConfig &faults,
                         const QString &source = QString());
    bool followDefaultFaults(quint64 clientId, const QString &source = QString());
    // Ends every session now with `reason` (each emits its Disconnected event); they are
    // deleted later, never inside this call, which may be on one of their call stacks.
    void closeAll(DisconnectReason reason);
    int sessionCount() const { return int(m_sessions.size()); }

signals:
    void bytesReceived(quint64 clientId, qint64 bytes);
    void bytesEchoed(quint64 clientId, qint64 bytes);
    void messageEchoed(quint64 clientId, qint64 payloadBytes);

private:
    bool transfersWatched() const { return m_transfers.isOpen(); }
    std::unique_ptr<Transport> makeTransport(qintptr descriptor,
                                             const std::shared_ptr<ClientStats> &stats);
    void sessionBytesReceived(quint64 clientId, qint64 bytes) override;
    void sessionBytesEchoed(quint64 clientId, qint64 bytes) override;
    void sessionMessageEchoed(quint64 clientId, qint64 payloadBytes) override;
    void sessionEvent(const TrafficEvent &event) override;
    void sessionFinished(ClientSession *session, const DisconnectInfo &info) override;

    const ServerConfig m_config;
    EventCallback m_postEvent;
    std::atomic<int> *m_liveClients;
    TransferGate m_transfers;
    QByteArray m_readBuffer;
    QSslConfiguration m_tlsConfiguration;
    bool m_tls = false;
    // The plain TCP sessions' readiness (Linux: one epoll set), made with the worker (its
    // notifier at the first connection, in the worker's thread) and gone with it, after
    // every session (the destructor deletes them first).
    std::unique_ptr<SocketPoller> m_poller;
    QHash<quint64, ClientSession *> m_sessions;
    std::vector<Acceptor *> m_acceptors; // children

    FaultConfig m_defaultFaults;
};

} // namespace Echoscope
