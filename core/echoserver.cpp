#include "echoserver.h"

#include "echoworker.h"
#include "nativesocket.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <QMutexLocker>
#include <QTcpServer>
#include <QThread>
#include <QTimer>

Q_LOGGING_CATEGORY(lcEngine, "echoscope.engine", QtWarningMsg)

namespace Echoscope {

namespace {
constexpr int kListenBacklog = 1024;
// After an accept error (out of descriptors), try again this often; one event per episode.
constexpr int kAcceptRetryMs = 250;
// Past this many undelivered events, sampled-message events are dropped (and counted);
// connects and disconnects never are.
constexpr qsizetype kMaxQueuedEvents = 50000;

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

QString describeAddress(const QHostAddress &address)
{
    if (address == QHostAddress(QHostAddress::Any))
        return QStringLiteral("any address (IPv4 and IPv6)");
    return address.toString();
}
} // namespace

// QTcpServer only accepts; the descriptor goes straight to a worker's session.
class Acceptor : public QTcpServer
{
public:
    explicit Acceptor(EchoServer *server) : QTcpServer(server), m_server(server) {}

protected:
    void incomingConnection(qintptr descriptor) override
    {
        m_server->incomingConnection(descriptor);
    }

private:
    EchoServer *m_server;
};

EchoServer::EchoServer(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<Echoscope::DisconnectInfo>();
    qRegisterMetaType<Echoscope::TrafficEvent>();
    qRegisterMetaType<Echoscope::EchoServer::Error>();
    m_acceptRetryTimer = new QTimer(this);
    m_acceptRetryTimer->setSingleShot(true);
    m_acceptRetryTimer->setInterval(kAcceptRetryMs);
    connect(m_acceptRetryTimer, &QTimer::timeout, this, [this] {
        if (m_acceptor)
            m_acceptor->resumeAccepting();
    });
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
        fail(Error::InvalidConfig,
             QStringLiteral("the server is already listening on %1; stop it first")
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

    auto *acceptor = new Acceptor(this);
    acceptor->setListenBacklogSize(kListenBacklog);
    if (!acceptor->listen(address, config.port)) {
        const QString reason = acceptor->errorString();
        delete acceptor;
        fail(Error::ListenFailed, QStringLiteral("cannot listen on %1 port %2: %3")
                                      .arg(describeAddress(address))
                                      .arg(config.port)
                                      .arg(reason));
        return false;
    }
    connect(acceptor, &QTcpServer::acceptError, this, &EchoServer::acceptFailed);

    m_config = config;
    m_acceptor = acceptor;
    m_address = acceptor->serverAddress();
    m_port = acceptor->serverPort();
    m_error = Error::NoError;
    m_errorString.clear();
    m_acceptErrorReported = false;
    m_retired = ServerTotals();
    m_startedAtMs = nowMs();

    const int threadCount = config.effectiveThreads();
    auto post = [this](TrafficEvent event) { postEvent(std::move(event)); };
    for (int i = 0; i < threadCount; ++i) {
        auto *worker = new EchoWorker(config, post, &m_liveClients);
        connect(worker, &EchoWorker::bytesReceived, this, &EchoServer::bytesReceived,
                Qt::DirectConnection);
        connect(worker, &EchoWorker::bytesEchoed, this, &EchoServer::bytesEchoed,
                Qt::DirectConnection);
        connect(worker, &EchoWorker::messageEchoed, this, &EchoServer::messageEchoed,
                Qt::DirectConnection);
        if (threadCount > 1) {
            auto *thread = new QThread(this);
            thread->setObjectName(QStringLiteral("echoscope-worker-%1").arg(i));
            worker->moveToThread(thread);
            thread->start();
            m_threads.push_back(thread);
        } else {
            worker->setParent(this);
        }
        m_workers.push_back(worker);
    }

    m_state = State::Listening;
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Listening;
    event.timestampMs = m_startedAtMs;
    event.address = m_address;
    event.port = m_port;
    if (!ServerConfig::isLoopback(m_address))
        event.text = QStringLiteral("not loopback: other machines can connect");
    emit started(m_address, m_port);
    handleEvent(event);
    return true;
}

void EchoServer::stop()
{
    if (m_state != State::Listening)
        return;
    delete m_acceptor; // stop accepting first
    m_acceptor = nullptr;
    m_acceptRetryTimer->stop();

    for (EchoWorker *worker : m_workers) {
        if (worker->thread() == thread()) {
            worker->closeAll(DisconnectReason::ServerStopped);
        } else {
            // Waiting here is fine: this is stop(), not the echo path, and the
            // workers never wait for this thread.
            QMetaObject::invokeMethod(
                worker, [worker] { worker->closeAll(DisconnectReason::ServerStopped); },
                Qt::BlockingQueuedConnection);
        }
    }
    for (QThread *thread : m_threads) {
        thread->quit();
        thread->wait();
    }
    for (EchoWorker *worker : m_workers)
        delete worker;
    qDeleteAll(m_threads);
    m_workers.clear();
    m_threads.clear();

    drainEvents(); // every clientDisconnected() before stopped()
    m_clients.clear();
    m_state = State::Stopped;

    const ServerTotals summary = totals();
    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Stopped;
    event.timestampMs = nowMs();
    event.text = QStringLiteral("served %1 clients (%2 refused, peak %3 at once) in %4 s; "
                                "%5 bytes in, %6 bytes out, %7 messages in, %8 out")
                     .arg(summary.clientsTotal)
                     .arg(summary.clientsRefused)
                     .arg(summary.clientsPeak)
                     .arg(double(event.timestampMs - m_startedAtMs) / 1000.0, 0, 'f', 1)
                     .arg(summary.bytesIn)
                     .arg(summary.bytesOut)
                     .arg(summary.messagesIn)
                     .arg(summary.messagesOut);
    handleEvent(event);
    emit stopped();
}

EchoWorker *EchoServer::pickWorker() const
{
    EchoWorker *worker = m_workers[m_nextWorker % m_workers.size()];
    ++m_nextWorker;
    return worker;
}

void EchoServer::incomingConnection(qintptr descriptor)
{
    QHostAddress peer;
    quint16 peerPort = 0;
    NativeSocket::peerAddress(descriptor, &peer, &peerPort);
    if (m_acceptErrorReported) {
        m_acceptErrorReported = false;
        TrafficEvent event;
        event.kind = TrafficEvent::Kind::Warning;
        event.timestampMs = nowMs();
        event.text = QStringLiteral("accepting connections again");
        handleEvent(event);
    }

    if (m_liveClients.load(std::memory_order_relaxed) >= m_config.maxClients) {
        NativeSocket::close(descriptor);
        ++m_retired.clientsRefused;
        const QString reason =
            QStringLiteral("max clients reached (%1 connected)").arg(m_config.maxClients);
        TrafficEvent event;
        event.kind = TrafficEvent::Kind::Refused;
        event.timestampMs = nowMs();
        event.address = peer;
        event.port = peerPort;
        event.text = reason;
        emit clientRefused(peer, peerPort, reason);
        handleEvent(event);
        return;
    }

    const quint64 id = ++m_nextClientId;
    const qint64 now = nowMs();
    auto stats =
        std::make_shared<ClientStats>(id, peer, peerPort, now, m_config.captureBytesPerClient);
    EchoWorker *worker = pickWorker();
    m_clients.insert(id, ClientEntry{stats, worker});
    const int live = m_liveClients.fetch_add(1, std::memory_order_relaxed) + 1;
    ++m_retired.clientsTotal;
    m_retired.clientsPeak = qMax(m_retired.clientsPeak, live);

    // Direct when the worker shares this thread, queued to its thread otherwise.
    QMetaObject::invokeMethod(
        worker, [worker, descriptor, stats] { worker->addConnection(descriptor, stats); },
        Qt::AutoConnection);

    TrafficEvent event;
    event.kind = TrafficEvent::Kind::Connected;
    event.timestampMs = now;
    event.clientId = id;
    event.address = peer;
    event.port = peerPort;
    emit clientConnected(id, peer, peerPort);
    emit eventOccurred(event);
}

void EchoServer::acceptFailed()
{
    if (!m_acceptor)
        return;
    // QTcpServer paused accepting; try again shortly, and say so once per episode.
    if (!m_acceptErrorReported) {
        m_acceptErrorReported = true;
        TrafficEvent event;
        event.kind = TrafficEvent::Kind::Error;
        event.timestampMs = nowMs();
        event.text = QStringLiteral("cannot accept connections: %1 (open-file limit %2); "
                                    "retrying every %3 ms")
                         .arg(m_acceptor->errorString())
                         .arg(NativeSocket::openFileLimit())
                         .arg(kAcceptRetryMs);
        handleEvent(event);
    }
    m_acceptRetryTimer->start();
}

bool EchoServer::disconnectClient(quint64 clientId)
{
    const auto it = m_clients.constFind(clientId);
    if (it == m_clients.constEnd() || it->stats->state() == ClientState::Closed)
        return false;
    EchoWorker *worker = it->worker;
    QMetaObject::invokeMethod(
        worker, [worker, clientId] { worker->disconnectClient(clientId); }, Qt::AutoConnection);
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
    if (client.minMessageBytes >= 0 &&
        (minMessageBytes < 0 || client.minMessageBytes < minMessageBytes))
        minMessageBytes = client.minMessageBytes;
    maxMessageBytes = qMax(maxMessageBytes, client.maxMessageBytes);
    histogram.add(client.histogram);
}

ServerTotals EchoServer::totals() const
{
    ServerTotals totals = m_retired;
    totals.clientsNow = int(m_clients.size());
    for (const ClientEntry &entry : m_clients)
        totals.addClient(entry.stats->snapshot());
    return totals;
}

void EchoServer::postEvent(TrafficEvent event)
{
    QMutexLocker locker(&m_eventMutex);
    if (m_eventQueue.size() >= kMaxQueuedEvents &&
        (event.kind == TrafficEvent::Kind::MessageEchoed ||
         event.kind == TrafficEvent::Kind::MessagesSummarised)) {
        ++m_droppedEvents;
        return;
    }
    m_eventQueue.append(std::move(event));
    if (!m_drainScheduled) {
        m_drainScheduled = true;
        QMetaObject::invokeMethod(this, &EchoServer::drainEvents, Qt::QueuedConnection);
    }
}

void EchoServer::drainEvents()
{
    QList<TrafficEvent> events;
    qint64 dropped = 0;
    {
        QMutexLocker locker(&m_eventMutex);
        events.swap(m_eventQueue);
        m_drainScheduled = false;
        dropped = m_droppedEvents;
        m_droppedEvents = 0;
    }
    if (dropped > 0) {
        TrafficEvent warning;
        warning.kind = TrafficEvent::Kind::Warning;
        warning.timestampMs = nowMs();
        warning.count = dropped;
        warning.text = QStringLiteral("%1 message events were dropped: the event consumer fell "
                                      "behind (counters are exact)")
                           .arg(dropped);
        handleEvent(warning);
    }
    for (const TrafficEvent &event : std::as_const(events))
        handleEvent(event);
}

void EchoServer::handleEvent(const TrafficEvent &event)
{
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
