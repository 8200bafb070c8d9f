#include "echoworker.h"

#include "acceptor.h"
#include "clientsession.h"
#include "clock.h"
#include "plaintransport.h"
#include "socketpoller.h"
#include "tlstransport.h"
#ifdef ECHOSCOPE_WEBSOCKETS
#include "websockettransport.h"
#endif

namespace Echoscope {

namespace {
// One read buffer per thread, shared by its sessions: no allocation per read.
constexpr qsizetype kReadBufferBytes = 64 * 1024;
} // namespace

EchoWorker::EchoWorker(const ServerConfig &config, EventCallback postEvent,
                       std::atomic<int> *liveClients, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_postEvent(std::move(postEvent))
    , m_liveClients(liveClients)
    , m_readBuffer(kReadBufferBytes, Qt::Uninitialized)
{
    if (SocketPoller::isSupported())
        m_poller = std::make_unique<SocketPoller>();
}

EchoWorker::~EchoWorker()
{
    // closeAll() normally ran in the worker's thread; this is the safety net. The
    // sessions go before the poller their transports are watched by.
    qDeleteAll(m_sessions);
    qDeleteAll(findChildren<ClientSession *>(Qt::FindDirectChildrenOnly));
}

void EchoWorker::setTlsConfiguration(const QSslConfiguration &configuration)
{
    m_tlsConfiguration = configuration;
    m_tls = true;
    m_poller.reset(); // TLS sessions are QSslSockets, with their own notifiers
}

std::unique_ptr<Transport> EchoWorker::makeTransport(qintptr descriptor,
                                                     const std::shared_ptr<ClientStats> &stats)
{
#ifdef ECHOSCOPE_WEBSOCKETS
    if (stats->transport() == IpProtocol::WebSocket) {
        WebSocketTransport::Options options;
        options.maxMessageBytes = m_config.maxMessageBytes;
        options.allowedOrigins = m_config.webSocketOrigins;
        options.secure = m_tls; // wss:// with the TCP listener's certificate
        options.tlsConfiguration = m_tlsConfiguration;
        return std::make_unique<WebSocketTransport>(descriptor, options, stats->webSocket());
    }
#endif
    if (m_tls)
        return std::make_unique<TlsTransport>(descriptor, m_tlsConfiguration, m_readBuffer.size());
    return std::make_unique<PlainTransport>(descriptor, m_poller.get());
}

void EchoWorker::addAcceptor(Acceptor *acceptor, qintptr listener)
{
    Q_ASSERT(acceptor->parent() == this);
    m_acceptors.push_back(acceptor);
    acceptor->startAccepting(listener);
}

void EchoWorker::stopAccepting()
{
    for (Acceptor *acceptor : m_acceptors)
        acceptor->close(); // deleted with this worker: one may be on the call stack
}

void EchoWorker::addConnection(qintptr descriptor, const std::shared_ptr<ClientStats> &stats)
{
    std::unique_ptr<Transport> transport = makeTransport(descriptor, stats);
    auto *session =
        new ClientSession(std::move(transport), stats, m_config, &m_readBuffer, this, this);
    m_sessions.insert(session->id(), session);
    session->start();
    if (!m_defaultFaults.isEmpty())
        session->setFaults(m_defaultFaults, FaultScope::AllClients);
}

void EchoWorker::setDefaultFaults(const FaultConfig &faults)
{
    m_defaultFaults = faults;
    const QList<ClientSession *> sessions = m_sessions.values();
    for (ClientSession *session : sessions) {
        // A session may finish (and leave m_sessions) inside setFaults().
        if (!session->isFinished() && session->faultScope() == FaultScope::AllClients)
            session->setFaults(faults, FaultScope::AllClients);
    }
}

bool EchoWorker::setClientFaults(quint64 clientId, const FaultConfig &faults, const QString &source)
{
    ClientSession *session = m_sessions.value(clientId);
    if (!session || session->isFinished())
        return false;
    session->setFaults(faults, FaultScope::ThisClient, source);
    return true;
}

bool EchoWorker::followDefaultFaults(quint64 clientId, const QString &source)
{
    ClientSession *session = m_sessions.value(clientId);
    if (!session || session->isFinished())
        return false;
    session->setFaults(m_defaultFaults, FaultScope::AllClients, source);
    return true;
}

bool EchoWorker::disconnectClient(quint64 clientId, const QString &detail)
{
    ClientSession *session = m_sessions.value(clientId);
    if (!session || session->isFinished())
        return false;
    session->close(DisconnectReason::Kicked, detail);
    return true;
}

// Closing is not deleting: closeAll() may run inside a session's own call stack (a slot
// of a per-transfer signal that stops the server, with threads = 1), so every session,
// like the poller, is deleted later (the sessions by deleteLater(), the poller with the
// worker). Each close releases its descriptor at once.
void EchoWorker::closeAll(DisconnectReason reason)
{
    const QList<ClientSession *> sessions = m_sessions.values();
    for (ClientSession *session : sessions)
        session->close(reason); // leaves m_sessions in sessionFinished()
    // Its notifier is this thread's, so it goes here, unless one of its handlers is on the
    // call stack: then it goes with the worker (deleted later in this same thread).
    if (m_poller && !m_poller->isDispatching())
        m_poller.reset();
}

void EchoWorker::sessionBytesReceived(quint64 clientId, qint64 bytes)
{
    if (transfersWatched())
        emit bytesReceived(clientId, bytes);
}

void EchoWorker::sessionBytesEchoed(quint64 clientId, qint64 bytes)
{
    if (transfersWatched())
        emit bytesEchoed(clientId, bytes);
}

void EchoWorker::sessionMessageEchoed(quint64 clientId, qint64 payloadBytes)
{
    if (transfersWatched())
        emit messageEchoed(clientId, payloadBytes);
}

void EchoWorker::sessionEvent(const TrafficEvent &event)
{
    m_postEvent(event);
}

void EchoWorker::sessionFinished(ClientSession *session, const DisconnectInfo &info)
{
    m_sessions.remove(session->id());
    session->deleteLater(); // we may be inside the session's own call stack
    m_liveClients->fetch_sub(1, std::memory_order_relaxed);
    const auto &stats = session->stats();
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Disconnected;
    event.timestampMs = Clock::wallMs();
    event.clientId = stats->id();
    event.transport = stats->transport();
    event.address = stats->peerAddress();
    event.port = stats->peerPort();
    event.disconnect = info;
    m_postEvent(event);
}

} // namespace Echoscope
