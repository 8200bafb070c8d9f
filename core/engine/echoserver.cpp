#include "echoserver.h"

#include "acceptor.h"
#include "clock.h"
#include "echoworker.h"
#include "eventqueue.h"
#include "nativesocket.h"
#include "numbertext.h"
#include "tlscredentials.h"
#include "nativeudpsocket.h"
#include "translations.h"

#include <QLoggingCategory>
#include <QMetaMethod>
#include <QScopedValueRollback>
#include <QTcpServer>
#include <QThread>
#include <QTimer>

#include <utility>

Q_LOGGING_CATEGORY(lcEngine, "echoscope.engine", QtWarningMsg)

namespace Echoscope {

namespace {
qint64 nowMs()
{
    return Clock::wallMs(); // timestamps only; windows use Clock::monotonicMs()
}

bool isAnyAddress(const QHostAddress &address)
{
    return address == QHostAddress(QHostAddress::Any) ||
           address == QHostAddress(QHostAddress::AnyIPv4) ||
           address == QHostAddress(QHostAddress::AnyIPv6);
}

} // namespace

// Carries a change's `done` (see EchoServer::disconnectClient) into a worker's thread and
// back. The call made there sets the result; the last copy to go (after the call ran, or
// with the call still pending when a stop deletes its worker) posts `done` with it to the
// server's thread.
class ChangeCompletion
{
public:
    using Result = EchoServer::ChangeResult;
    ChangeCompletion(EchoServer *server, EchoServer::ChangeDone done, Result result)
        : m_server(server), m_done(std::move(done)), m_result(result)
    {}
    ChangeCompletion(const ChangeCompletion &) = delete;
    ChangeCompletion &operator=(const ChangeCompletion &) = delete;
    ~ChangeCompletion()
    {
        QMetaObject::invokeMethod(
            m_server, [done = std::move(m_done), result = m_result.load()] { done(result); },
            Qt::QueuedConnection);
    }
    void setResult(bool applied) { m_result = applied ? Result::Applied : Result::ClientGone; }

private:
    EchoServer *m_server;
    EchoServer::ChangeDone m_done;
    std::atomic<Result> m_result;
};

// Null without `done`. Left as Stopped until the worker's call sets it; ClientGone
// becomes Stopped if the server is not listening when it comes back.
std::shared_ptr<ChangeCompletion> EchoServer::completion(ChangeDone done, ChangeResult initial)
{
    if (!done)
        return nullptr;
    auto checked = [this, done = std::move(done)](ChangeResult result) {
        if (result == ChangeResult::ClientGone && m_state != State::Listening)
            result = ChangeResult::Stopped;
        done(result);
    };
    return std::make_shared<ChangeCompletion>(this, std::move(checked), initial);
}

EchoServer::EchoServer(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<Echoscope::DisconnectInfo>();
    qRegisterMetaType<Echoscope::TrafficEvent>();
    qRegisterMetaType<Echoscope::EchoServer::Error>();
    m_events = new EventQueue([this](const TrafficEvent &event) { handleEvent(event); }, this);
    m_refusalSummaryTimer = new QTimer(this);
    m_refusalSummaryTimer->setSingleShot(true);
    connect(m_refusalSummaryTimer, &QTimer::timeout, this, &EchoServer::flushRefusalSummary);
}

EchoServer::~EchoServer()
{
    stop();
}

void EchoServer::fail(Error error, const QString &message)
{
    m_error = error;
    m_errorString = message;
    qCDebug(lcEngine) << "start failed:" << message;
    emit failed(error, message);
}

bool EchoServer::start(const ServerConfig &config)
{
    if (m_state == State::Listening) {
        fail(Error::InvalidConfig, tr("the server is already listening on %1; stop it first")
                                       .arg(TrafficEvent::endpoint(m_address, m_port)));
        return false;
    }
    const QString invalid = config.validate();
    if (!invalid.isEmpty()) {
        fail(Error::InvalidConfig, invalid);
        return false;
    }
    QHostAddress address;
    ServerConfig::resolveBindAddress(config.bindAddress, &address, nullptr);
    // TLS files are read and checked now, so a bad one fails start(), not each handshake.
    TlsCredentials credentials;
    if (config.isTls()) {
        const QString error =
            TlsCredentials::load(config.tlsCertificateFile, config.tlsKeyFile, &credentials);
        if (!error.isEmpty()) {
            fail(Error::InvalidConfig, error);
            return false;
        }
    }

    QString listenError;
    m_listener = Acceptor::listen(address, config.port, &listenError, this);
    if (!m_listener) {
        fail(Error::ListenFailed, tr("cannot listen on %1 port %2: %3")
                                      .arg(ServerConfig::describeAddress(address))
                                      .arg(config.port)
                                      .arg(listenError));
        return false;
    }
    const auto closeListeners = [this] {
        delete m_listener;
        m_listener = nullptr;
        delete m_webSocketListener;
        m_webSocketListener = nullptr;
    };
    // The WebSocket and UDP ports bind before anything is committed, so that a failure
    // leaves nothing listening.
    if (config.webSocketEcho) {
#ifdef ECHOSCOPE_WEBSOCKETS
        m_webSocketListener = Acceptor::listen(address, config.webSocketPort, &listenError, this);
        if (!m_webSocketListener) {
            closeListeners();
            fail(Error::ListenFailed, tr("cannot listen for WebSocket on %1 port %2: %3")
                                          .arg(ServerConfig::describeAddress(address))
                                          .arg(config.webSocketPort)
                                          .arg(listenError));
            return false;
        }
#else
        closeListeners();
        fail(Error::InvalidConfig,
             tr("this Echoscope was built without Qt WebSockets: no WebSocket port"));
        return false;
#endif
    }
    qintptr udpDescriptor = -1;
    if (config.udpEcho) {
        QString reason;
        udpDescriptor = NativeUdpSocket::bind(address, config.udpPort, &reason);
        if (udpDescriptor < 0) {
            closeListeners();
            fail(Error::ListenFailed, tr("cannot listen for UDP on %1 port %2: %3")
                                          .arg(ServerConfig::describeAddress(address))
                                          .arg(config.udpPort)
                                          .arg(reason));
            return false;
        }
    }
    m_webSocketPort = m_webSocketListener ? m_webSocketListener->serverPort() : 0;

    m_config = config;
    m_filter = NetworkFilter(config.allowNetworks, config.denyNetworks);
    m_address = m_listener->serverAddress();
    m_addressIsAny = isAnyAddress(m_address);
    m_port = m_listener->serverPort();
    m_error = Error::NoError;
    m_errorString.clear();
    m_refusalWindow.reset();
    m_suppressedRefusals.clear();
    m_retired = ServerTotals();
    m_startedAtMs = nowMs();
    m_tlsSummary.clear();
    QSslConfiguration tlsConfiguration;
    if (config.isTls()) {
        tlsConfiguration = credentials.serverConfiguration(config.tlsMinimumVersion);
        m_tlsSummary = tr("TLS %1 or later, %2; handshake within %3 s")
                           .arg(ServerConfig::tlsVersionString(config.tlsMinimumVersion),
                                credentials.summary())
                           .arg(double(config.tlsHandshakeTimeoutMs) / 1000.0, 0, 'g', 4);
    }

    auto prepare = [this, &config, &tlsConfiguration](EchoWorker *worker) {
        if (config.isTls())
            worker->setTlsConfiguration(tlsConfiguration);
        worker->setTransfersWatched(&m_transfersWatched);
        connect(worker, &EchoWorker::bytesReceived, this, &EchoServer::bytesReceived,
                Qt::DirectConnection);
        connect(worker, &EchoWorker::bytesEchoed, this, &EchoServer::bytesEchoed,
                Qt::DirectConnection);
        connect(worker, &EchoWorker::messageEchoed, this, &EchoServer::messageEchoed,
                Qt::DirectConnection);
        worker->setDefaultFaults(m_defaultFaults);
    };
    // Returns once every worker runs its event loop, so "listening" is reported only then.
    m_workers.start(config.effectiveThreads(),
                    m_keepsThisThreadFree ? WorkerPool::OneWorker::InItsOwnThread
                                          : WorkerPool::OneWorker::InOwnersThread,
                    config, eventPoster(), &m_liveClients, prepare);
    startAccepting(); // what a worker reads at accept is settled above
    if (udpDescriptor >= 0)
        startUdp(udpDescriptor, config);

    m_state = State::Listening;
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Listening;
    event.timestampMs = m_startedAtMs;
    event.address = m_address;
    event.port = m_port;
    QStringList notes;
    if (!m_tlsSummary.isEmpty())
        notes.append(m_tlsSummary);
    if (!ServerConfig::isLoopback(m_address))
        notes.append(tr("not loopback: other machines can connect"));
    event.text = notes.join(QStringLiteral("; "));
    emit started(m_address, m_port);
    handleEvent(event);
    if (m_webSocketPort != 0) {
        TrafficEvent webSocketEvent = event;
        webSocketEvent.transport = IpProtocol::WebSocket;
        webSocketEvent.address = m_webSocketListener->serverAddress();
        webSocketEvent.port = m_webSocketPort;
        QStringList webSocketNotes{
            QStringLiteral("%1://%2/")
                .arg(webSocketScheme(),
                     TrafficEvent::endpoint(webSocketEvent.address, m_webSocketPort))};
        if (!config.webSocketOrigins.isEmpty())
            webSocketNotes.append(
                tr("origins allowed: %1").arg(config.webSocketOrigins.join(QStringLiteral(", "))));
        if (!ServerConfig::isLoopback(webSocketEvent.address))
            webSocketNotes.append(tr("not loopback: other machines can connect"));
        webSocketEvent.text = webSocketNotes.join(QStringLiteral("; "));
        handleEvent(webSocketEvent);
    }
    if (m_udp) {
        TrafficEvent udpEvent = event;
        udpEvent.transport = IpProtocol::Udp;
        udpEvent.address = m_udpAddress;
        udpEvent.port = m_udpPort;
        udpEvent.text.clear(); // the TCP line's notes (TLS, exposure) are not the UDP port's
        if (!ServerConfig::isLoopback(m_udpAddress))
            udpEvent.text = tr("not loopback: any host that can reach it gets its "
                               "datagrams echoed, spoofed senders too");
        handleEvent(udpEvent);
    }
    const QString validity = config.isTls() ? credentials.validityProblem() : QString();
    if (!validity.isEmpty()) {
        TrafficEvent warning;
        warning.kind = TrafficEvent::Kind::Warning;
        warning.timestampMs = m_startedAtMs;
        warning.text = validity;
        handleEvent(warning);
    }
    return true;
}

void EchoServer::stop()
{
    // Re-entrancy: stop() may be called from a slot of a signal that stop() itself emits
    // (clientDisconnected, eventOccurred) or from a per-transfer signal (threads = 1).
    if (m_state != State::Listening || m_stopping)
        return;
    const QScopedValueRollback<bool> stopping(m_stopping, true);
    stopUdp();
    // Every worker stops accepting, then closes its clients, in its own thread; the threads
    // are joined and the workers gone (a worker of this thread later: it may be on the call
    // stack). The listening sockets go after: no worker watches them any more.
    m_workers.stop(DisconnectReason::ServerStopped);
    if (m_acceptEpisode) {
        m_acceptEpisode->closeSpare();
        m_acceptEpisode.reset();
    }
    delete m_listener;
    m_listener = nullptr;
    delete m_webSocketListener;
    m_webSocketListener = nullptr;
    m_webSocketPort = 0;
    if (m_udp) {
        m_udpTotals = m_udp->totals();
        delete m_udp; // done: shutdown() ran in its thread, which has finished
        m_udp = nullptr;
    }

    m_events->drain(); // every clientDisconnected() before stopped()
    flushRefusalSummary();
    m_clients.clear();
    m_pendingClients.clear();
    m_udpClientsNow = 0;
    m_state = State::Stopped;

    const ServerTotals summary = totals();
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Stopped;
    event.timestampMs = nowMs();
    event.text = tr("served %1 client(s) (%2 refused, peak %3 at once) in %4 s; "
                    "%5 in, %6 out, %7 messages in, %8 out",
                    nullptr, Translations::pluralCount(summary.clientsTotal))
                     .arg(summary.clientsTotal)
                     .arg(summary.clientsRefused)
                     .arg(summary.clientsPeak)
                     .arg(double(event.timestampMs - m_startedAtMs) / 1000.0, 0, 'f', 1)
                     .arg(NumberText::dataSizeText(summary.bytesIn),
                          NumberText::dataSizeText(summary.bytesOut))
                     .arg(summary.messagesIn)
                     .arg(summary.messagesOut);
    if (m_udpPort != 0) {
        event.text += tr("; UDP: %1 datagrams in, %2 oversized, %3 echoes dropped, "
                         "%4 ICMP errors, %5 refused")
                          .arg(m_udpTotals.datagramsIn)
                          .arg(m_udpTotals.oversized)
                          .arg(m_udpTotals.echoesDropped)
                          .arg(m_udpTotals.icmpErrors)
                          .arg(m_udpTotals.refused);
    }
    m_udpPort = 0;
    handleEvent(event);
    emit stopped();
}

QString EchoServer::webSocketScheme() const
{
    if (m_webSocketPort == 0)
        return QString();
    return m_config.isTls() ? QStringLiteral("wss") : QStringLiteral("ws");
}

// Each worker runs an Acceptor per listening socket, in its own thread, made here; the
// episode of accept errors is the server's, shared by them all.
void EchoServer::startAccepting()
{
    m_acceptEpisode = std::make_shared<AcceptEpisode>();
    const std::shared_ptr<AcceptEpisode> &episode = m_acceptEpisode;
    struct Port
    {
        QTcpServer *listener;
        IpProtocol transport;
    };
    std::vector<Port> ports{{m_listener, IpProtocol::Tcp}};
    if (m_webSocketListener)
        ports.push_back({m_webSocketListener, IpProtocol::WebSocket});
    m_workers.forEach([this, &episode, &ports](EchoWorker *worker) {
        for (const Port &port : ports) {
            auto *acceptor = new Acceptor(&m_liveClients, episode, worker);
            const IpProtocol transport = port.transport;
            connect(
                acceptor, &Acceptor::connectionAccepted, worker,
                [this, worker, transport](qintptr descriptor, const QHostAddress &peer,
                                          quint16 peerPort) {
                    acceptInWorker(worker, descriptor, peer, peerPort, transport);
                },
                Qt::DirectConnection);
            connect(
                acceptor, &Acceptor::connectionShed, worker,
                [this](const QHostAddress &peer, quint16 peerPort, const QString &reason) {
                    refuseLater(peer, peerPort, RefusalReason::OutOfDescriptors, reason, reason);
                },
                Qt::DirectConnection);
            connect(acceptor, &Acceptor::eventOccurred, worker, eventPoster(),
                    Qt::DirectConnection);
            worker->addAcceptor(acceptor, port.listener->socketDescriptor());
        }
    });
}

// In `worker`'s thread. What it reads of this object (the configuration, the filter, the
// address and ports) is settled before the workers accept and stays until they have
// stopped; the counts it changes are atomic.
void EchoServer::acceptInWorker(EchoWorker *worker, qintptr descriptor, const QHostAddress &peer,
                                quint16 peerPort, IpProtocol transport)
{
    if (!m_filter.isEmpty()) {
        const QString reason = m_filter.refusalReason(peer);
        if (!reason.isEmpty()) {
            NativeSocket::close(descriptor);
            refuseLater(peer, peerPort, m_filter.refusalKind(peer), reason,
                        m_filter.refusalCategory(peer));
            return;
        }
    }
    // Counted before the check, so that workers accepting at once cannot pass the limit.
    if (m_liveClients.fetch_add(1, std::memory_order_relaxed) >= m_config.maxClients) {
        m_liveClients.fetch_sub(1, std::memory_order_relaxed);
        const QString reason = tr("max clients reached (%1 connected)").arg(m_config.maxClients);
        NativeSocket::close(descriptor);
        refuseLater(peer, peerPort, RefusalReason::MaxClients, reason, reason);
        return;
    }

    const quint64 id = ++m_nextClientId;
    const qint64 now = nowMs();
    auto stats = std::make_shared<ClientStats>(
        id, peer, peerPort, now, m_config.captureBytesPerClient, transport,
        m_config.captureKeepsFirst ? CaptureBuffer::Policy::KeepFirst
                                   : CaptureBuffer::Policy::DropOldest);
    stats->setChangeFeed(m_changeFeed);
    // The server's end, for a capture's packets (PcapngExport): the address listened on
    // when that is one address, so that a connection costs no getsockname(); which of the
    // machine's addresses the client reached when listening on any.
    const quint16 listeningPort = transport == IpProtocol::WebSocket ? m_webSocketPort : m_port;
    if (!m_addressIsAny && listeningPort != 0) {
        stats->setServerEndpoint(m_address, listeningPort);
    } else {
        QHostAddress localAddress;
        quint16 localPort = 0;
        if (NativeUdpSocket::localAddress(descriptor, &localAddress, &localPort))
            stats->setServerEndpoint(localAddress, localPort);
    }

    // The Connected event is queued before anything the session reports.
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Connected;
    event.timestampMs = now;
    event.clientId = id;
    event.transport = transport;
    event.address = peer;
    event.port = peerPort;
    postNewClient(ClientEntry{stats, worker}, std::move(event));
    worker->addConnection(descriptor, stats);
}

void EchoServer::refuseLater(const QHostAddress &peer, quint16 peerPort, RefusalReason kind,
                             const QString &reason, const QString &category)
{
    QMetaObject::invokeMethod(
        this, [=] { refuse(peer, peerPort, kind, reason, category); }, Qt::QueuedConnection);
}

// The connection is closed already (by the worker that accepted it, or shed by its acceptor).
void EchoServer::refuse(const QHostAddress &peer, quint16 peerPort, RefusalReason kind,
                        const QString &reason, const QString &category)
{
    ++m_retired.clientsRefused;
    emit clientRefused(peer, peerPort, reason, kind);

    // A connect storm must not become a log flood: the first few per second one by
    // one, then one line per reason for the rest of that second.
    const qint64 now = Clock::monotonicMs();
    if (m_refusalWindow.admit(now, [this] { flushRefusalSummary(); })) {
        TrafficEvent event;
        event.kind = TrafficEvent::Kind::Refused;
        event.timestampMs = nowMs();
        event.address = peer;
        event.port = peerPort;
        event.refusal = kind;
        event.text = reason;
        handleEvent(event);
        return;
    }
    m_suppressedRefusals[category].add(kind);
    if (!m_refusalSummaryTimer->isActive())
        m_refusalSummaryTimer->start(m_refusalWindow.msLeft(now));
}

void EchoServer::flushRefusalSummary()
{
    m_refusalSummaryTimer->stop();
    if (m_suppressedRefusals.isEmpty())
        return;
    const auto suppressed = std::exchange(m_suppressedRefusals, {});
    for (auto it = suppressed.cbegin(); it != suppressed.cend(); ++it) {
        TrafficEvent event;
        event.kind = TrafficEvent::Kind::Refused;
        event.timestampMs = nowMs();
        event.count = it->count;
        event.refusal = it->kind;
        event.text = tr("+%1 connection(s) refused in the last second: %2", nullptr,
                        Translations::pluralCount(it->count))
                         .arg(it->count)
                         .arg(it.key());
        handleEvent(event);
    }
}

bool EchoServer::disconnectClient(quint64 clientId, const QString &source, ChangeDone done)
{
    const QString detail = source.isEmpty() ? QString() : tr("by %1").arg(source);
    const auto it = m_clients.constFind(clientId);
    if (it == m_clients.constEnd() || it->stats->state() == ClientState::Closed)
        return false;
    if (!it->worker) {
        UdpEchoService *udp = m_udp;
        if (!udp)
            return false;
        const auto completed = completion(std::move(done));
        QMetaObject::invokeMethod(
            udp,
            [udp, clientId, detail, completed] {
                const bool kicked = udp->disconnectPeer(clientId, detail);
                if (completed)
                    completed->setResult(kicked);
            },
            Qt::AutoConnection);
        return true;
    }
    EchoWorker *worker = it->worker;
    const auto completed = completion(std::move(done));
    QMetaObject::invokeMethod(
        worker,
        [worker, clientId, detail, completed] {
            const bool kicked = worker->disconnectClient(clientId, detail);
            if (completed)
                completed->setResult(kicked);
        },
        Qt::AutoConnection);
    return true;
}

bool EchoServer::setDefaultFaults(const FaultConfig &faults, QString *error, const QString &source,
                                  ChangeDone done)
{
    const QString invalid = faults.validate();
    if (!invalid.isEmpty()) {
        if (error)
            *error = invalid;
        return false;
    }
    const bool changed = faults != m_defaultFaults;
    m_defaultFaults = faults;
    // Applied either way: a worker that a stop deletes first has no client left.
    const auto completed = completion(std::move(done), ChangeResult::Applied);
    m_workers.setDefaultFaults(faults, completed);
    if (UdpEchoService *udp = m_udp) {
        QMetaObject::invokeMethod(
            udp, [udp, faults, completed] { udp->setDefaultFaults(faults); }, Qt::AutoConnection);
    }
    if (changed) {
        TrafficEvent event;
        event.kind = TrafficEvent::Kind::FaultInjected;
        event.timestampMs = nowMs();
        event.text = faults.isEmpty() ? tr("faults for all clients cleared")
                                      : tr("faults for all clients: %1").arg(faults.describe());
        if (!source.isEmpty())
            event.text += QLatin1Char(' ') + tr("(by %1)").arg(source);
        handleEvent(event);
    }
    return true;
}

// The worker of a connected TCP, TLS or WebSocket client; nullptr for a UDP peer (*udpPeer
// set) or, with the reason in *error, a client not connected.
EchoWorker *EchoServer::faultableWorker(quint64 clientId, QString *error, bool *udpPeer) const
{
    *udpPeer = false;
    const auto it = m_clients.constFind(clientId);
    QString reason;
    if (it == m_clients.constEnd() || it->stats->state() == ClientState::Closed)
        reason = tr("client %1 is not connected").arg(clientId);
    else if (!it->worker && !m_udp)
        reason = tr("client %1 is not connected").arg(clientId);
    if (error)
        *error = reason;
    if (!reason.isEmpty())
        return nullptr;
    *udpPeer = !it->worker;
    return it->worker;
}

bool EchoServer::setClientFaults(quint64 clientId, const FaultConfig &faults, QString *error,
                                 const QString &source, ChangeDone done)
{
    if (const QString invalid = faults.validate(); !invalid.isEmpty()) {
        if (error)
            *error = invalid;
        return false;
    }
    bool udpPeer = false;
    EchoWorker *worker = faultableWorker(clientId, error, &udpPeer);
    if (udpPeer) {
        UdpEchoService *udp = m_udp;
        const auto completed = completion(std::move(done));
        QMetaObject::invokeMethod(
            udp,
            [udp, clientId, faults, source, completed] {
                const bool applied = udp->setPeerFaults(clientId, faults, source);
                if (completed)
                    completed->setResult(applied);
            },
            Qt::AutoConnection);
        return true;
    }
    if (!worker)
        return false;
    const auto completed = completion(std::move(done));
    QMetaObject::invokeMethod(
        worker,
        [worker, clientId, faults, source, completed] {
            const bool applied = worker->setClientFaults(clientId, faults, source);
            if (completed)
                completed->setResult(applied);
        },
        Qt::AutoConnection);
    return true;
}

bool EchoServer::followDefaultFaults(quint64 clientId, QString *error, const QString &source,
                                     ChangeDone done)
{
    bool udpPeer = false;
    EchoWorker *worker = faultableWorker(clientId, error, &udpPeer);
    if (udpPeer) {
        UdpEchoService *udp = m_udp;
        const auto completed = completion(std::move(done));
        QMetaObject::invokeMethod(
            udp,
            [udp, clientId, source, completed] {
                const bool applied = udp->followDefaultFaults(clientId, source);
                if (completed)
                    completed->setResult(applied);
            },
            Qt::AutoConnection);
        return true;
    }
    if (!worker)
        return false;
    const auto completed = completion(std::move(done));
    QMetaObject::invokeMethod(
        worker,
        [worker, clientId, source, completed] {
            const bool applied = worker->followDefaultFaults(clientId, source);
            if (completed)
                completed->setResult(applied);
        },
        Qt::AutoConnection);
    return true;
}

std::shared_ptr<const ClientStats> EchoServer::clientStats(quint64 clientId) const
{
    return m_clients.value(clientId).stats;
}

QList<quint64> EchoServer::clientIds() const
{
    QList<quint64> ids = m_clients.keys();
    std::sort(ids.begin(), ids.end());
    return ids;
}

void ServerTotals::addClient(const ClientSnapshot &client)
{
    bytesIn += client.bytesIn;
    bytesOut += client.bytesOut;
    messagesIn += client.messagesIn;
    messagesOut += client.messagesOut;
    messageBytesIn += client.messageBytesIn;
    Traffic &traffic = byProtocol[size_t(client.transport)];
    traffic.bytesIn += client.bytesIn;
    traffic.bytesOut += client.bytesOut;
    traffic.messagesIn += client.messagesIn;
    traffic.messagesOut += client.messagesOut;
    if (client.minMessageBytes >= 0 &&
        (minMessageBytes < 0 || client.minMessageBytes < minMessageBytes))
        minMessageBytes = client.minMessageBytes;
    maxMessageBytes = qMax(maxMessageBytes, client.maxMessageBytes);
    histogram.add(client.histogram);
}

ServerTotals EchoServer::retiredTotals() const
{
    ServerTotals totals = m_retired;
    totals.clientsNow = int(m_clients.size());
    return totals;
}

ServerTotals EchoServer::totals() const
{
    ServerTotals totals = m_retired;
    totals.clientsNow = int(m_clients.size());
    for (const ClientEntry &entry : m_clients)
        totals.addClient(entry.stats->snapshot());
    return totals;
}

void EchoServer::handleEvent(const TrafficEvent &event)
{
    if (event.transport == IpProtocol::Udp && handleUdpEvent(event))
        return;
    if (event.kind == TrafficEvent::Kind::Connected) {
        registerNewClient(event);
        return;
    }
    if (event.kind != TrafficEvent::Kind::Disconnected) {
        emit eventOccurred(event);
        return;
    }
    const auto it = m_clients.find(event.clientId);
    if (it != m_clients.end()) {
        m_retired.addClient(it->stats->snapshot());
    }
    emit clientDisconnected(event.clientId, event.disconnect);
    emit eventOccurred(event);
    m_clients.remove(event.clientId); // after the signals: receivers may still look it up
}

} // namespace Echoscope

namespace Echoscope {

// In the first worker's thread (this one with threads == 1, unless it is kept free), so
// that datagrams never wait for the UI.
void EchoServer::startUdp(qintptr descriptor, const ServerConfig &config)
{
    NativeUdpSocket::localAddress(descriptor, &m_udpAddress, &m_udpPort);
    m_udpTotals = UdpTotals();
    m_udpClientsNow = 0;
    auto allocateId = [this] { return ++m_nextClientId; };
    auto peerSeen = [this](std::shared_ptr<ClientStats> stats, TrafficEvent event) {
        postNewClient(ClientEntry{std::move(stats), nullptr}, std::move(event));
    };
    auto *udp = new UdpEchoService(descriptor, config, allocateId, peerSeen, eventPoster());
    udp->setTransfersWatched(&m_transfersWatched);
    connect(udp, &UdpEchoService::bytesReceived, this, &EchoServer::bytesReceived,
            Qt::DirectConnection);
    connect(udp, &UdpEchoService::bytesEchoed, this, &EchoServer::bytesEchoed,
            Qt::DirectConnection);
    connect(udp, &UdpEchoService::messageEchoed, this, &EchoServer::messageEchoed,
            Qt::DirectConnection);
    QThread *serviceThread = m_workers.first()->thread();
    if (serviceThread != thread())
        udp->moveToThread(serviceThread);
    m_udp = udp;
    // Direct when it shares this thread, queued to its thread otherwise.
    const FaultConfig faults = m_defaultFaults;
    QMetaObject::invokeMethod(
        udp,
        [udp, faults] {
            udp->start();
            udp->setDefaultFaults(faults);
        },
        Qt::AutoConnection);
}

// Forgets every UDP peer (reason ServerStopped) and closes the socket, in the service's
// thread; the events reach this thread with the workers' ones.
void EchoServer::stopUdp()
{
    UdpEchoService *udp = m_udp;
    if (!udp)
        return;
    if (udp->thread() == thread()) {
        udp->shutdown(DisconnectReason::ServerStopped);
    } else {
        QMetaObject::invokeMethod(
            udp, [udp] { udp->shutdown(DisconnectReason::ServerStopped); },
            Qt::BlockingQueuedConnection);
    }
}

UdpTotals EchoServer::udpTotals() const
{
    return m_udp ? m_udp->totals() : m_udpTotals;
}

// Posts an event from any thread. The queue outlives the workers and the UDP service that
// hold the function: they stop before this object deletes it.
std::function<void(TrafficEvent)> EchoServer::eventPoster() const
{
    EventQueue *events = m_events;
    return [events](TrafficEvent event) { events->post(std::move(event)); };
}

// A new client's counters travel with its Connected event, under the same lock, so the
// event never arrives without them and never after the client's later events.
void EchoServer::postNewClient(ClientEntry entry, TrafficEvent event)
{
    const quint64 id = entry.stats->id();
    m_events->post(std::move(event),
                   [this, id, &entry] { m_pendingClients.insert(id, std::move(entry)); });
}

// Any transport's Connected event: the client joins m_clients and the counts.
void EchoServer::registerNewClient(const TrafficEvent &event)
{
    const ClientEntry entry =
        m_events->withLock([this, &event] { return m_pendingClients.take(event.clientId); });
    if (!entry.stats)
        return;
    if (!entry.worker) { // a UDP peer: counted here, not by a worker
        entry.stats->setChangeFeed(m_changeFeed);
        ++m_udpClientsNow;
    }
    m_clients.insert(event.clientId, entry);
    ++m_retired.clientsTotal;
    m_retired.clientsPeak = qMax(m_retired.clientsPeak,
                                 m_liveClients.load(std::memory_order_relaxed) + m_udpClientsNow);
    emit clientConnected(event.clientId, event.address, event.port);
    emit eventOccurred(event);
}

// What differs for UDP events; returns true if the event was handled whole.
bool EchoServer::handleUdpEvent(const TrafficEvent &event)
{
    switch (event.kind) {
    case TrafficEvent::Kind::Refused:
        // The service rate-limits its refusals itself; a summary stands for `count`.
        m_retired.clientsRefused += event.count > 0 ? event.count : 1;
        if (event.count == 0)
            emit clientRefused(event.address, event.port, event.text, event.refusal);
        else
            emit refusalsSummarised(event.text, event.count, event.refusal);
        emit eventOccurred(event);
        return true;
    case TrafficEvent::Kind::Disconnected:
        if (m_clients.contains(event.clientId))
            --m_udpClientsNow;
        return false; // the rest as for TCP
    default:
        return false;
    }
}

void EchoServer::connectNotify(const QMetaMethod &signal)
{
    // The workers emit the per-transfer signals from now on, for as long as the server
    // lives: a disconnectNotify() cannot ask isSignalConnected() (Qt calls it under the
    // lock that would take), and a few emissions to nobody after the last receiver left
    // cost little; none is ever missed.
    if (signal == QMetaMethod::fromSignal(&EchoServer::bytesReceived) ||
        signal == QMetaMethod::fromSignal(&EchoServer::bytesEchoed) ||
        signal == QMetaMethod::fromSignal(&EchoServer::messageEchoed))
        m_transfersWatched.store(true, std::memory_order_release);
}

} // namespace Echoscope
