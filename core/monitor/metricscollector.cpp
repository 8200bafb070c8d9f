#include "metricscollector.h"

#include <QCoreApplication>
#include <QDateTime>

namespace Echoscope {

namespace {

// Adds one run's totals to what earlier runs carried over.
void carry(ServerTotals *into, const ServerTotals &run)
{
    into->clientsPeak = qMax(into->clientsPeak, run.clientsPeak);
    into->clientsTotal += run.clientsTotal;
    into->clientsRefused += run.clientsRefused;
    into->bytesIn += run.bytesIn;
    into->bytesOut += run.bytesOut;
    into->messagesIn += run.messagesIn;
    into->messagesOut += run.messagesOut;
    into->messageBytesIn += run.messageBytesIn;
    if (run.minMessageBytes >= 0 &&
        (into->minMessageBytes < 0 || run.minMessageBytes < into->minMessageBytes))
        into->minMessageBytes = run.minMessageBytes;
    into->maxMessageBytes = qMax(into->maxMessageBytes, run.maxMessageBytes);
    into->histogram.add(run.histogram);
    for (size_t protocol = 0; protocol < into->byProtocol.size(); ++protocol) {
        ServerTotals::Traffic &traffic = into->byProtocol[protocol];
        const ServerTotals::Traffic &more = run.byProtocol[protocol];
        traffic.bytesIn += more.bytesIn;
        traffic.bytesOut += more.bytesOut;
        traffic.messagesIn += more.messagesIn;
        traffic.messagesOut += more.messagesOut;
    }
}

} // namespace

MetricsCollector::MetricsCollector(EchoServer *server, qint64 processStartMs, QObject *parent)
    : QObject(parent), m_server(server), m_processStartMs(processStartMs)
{
    // Every reason, the last one included (the TLS, UDP and WebSocket ones come after
    // SocketError), so that each series exists before its first event.
    for (int reason = 0; reason <= int(DisconnectReason::ProtocolError); ++reason)
        m_disconnects.insert(disconnectLabel(DisconnectReason(reason)), 0);
    for (RefusalReason reason : Refusal::all())
        m_refusals.insert(Refusal::label(reason), 0);
    for (IpProtocol protocol : kIpProtocols)
        m_acceptedByProtocol.insert(ipProtocolKey(protocol), 0);

    connect(server, &EchoServer::started, this, &MetricsCollector::serverStarted);
    connect(server, &EchoServer::stopped, this, &MetricsCollector::serverStopped);
    connect(server, &EchoServer::clientConnected, this,
            [this](quint64 clientId, const QHostAddress &, quint16) { track(clientId, true); });
    connect(server, &EchoServer::clientDisconnected, this,
            [this](quint64 clientId, const DisconnectInfo &info) {
                ++m_disconnects[disconnectLabel(info.reason)];
                m_liveProtocols.remove(clientId);
            });
    connect(server, &EchoServer::clientRefused, this,
            [this](const QHostAddress &, quint16, const QString &, RefusalReason kind) {
                ++m_refusals[Refusal::label(kind)];
            });
    connect(server, &EchoServer::refusalsSummarised, this,
            [this](const QString &, qint64 count, RefusalReason kind) {
                m_refusals[Refusal::label(kind)] += count;
            });
    if (server->isListening()) {
        serverStarted(); // counted from now on; what it did before is not known here
        for (quint64 clientId : server->clientIds())
            track(clientId, false);
    }
}

void MetricsCollector::track(quint64 clientId, bool accepted)
{
    const std::shared_ptr<const ClientStats> stats =
        m_server ? m_server->clientStats(clientId) : nullptr;
    const IpProtocol protocol = stats ? stats->transport() : IpProtocol::Tcp;
    m_liveProtocols.insert(clientId, protocol);
    if (accepted)
        ++m_acceptedByProtocol[ipProtocolKey(protocol)];
}

void MetricsCollector::serverStarted()
{
    m_running = true;
    ++m_serverStarts;
}

void MetricsCollector::serverStopped()
{
    // stop() has retired every client by now: totals() is the run's final count, and
    // the next start() begins it from zero.
    if (m_running && m_server)
        carry(&m_carried, m_server->totals());
    m_running = false;
}

MetricsSnapshot MetricsCollector::snapshot() const
{
    MetricsSnapshot snapshot;
    snapshot.totals = m_carried;
    snapshot.totals.clientsNow = 0;
    if (m_running && m_server) {
        const ServerTotals run = m_server->totals();
        carry(&snapshot.totals, run);
        snapshot.totals.clientsNow = run.clientsNow;
        snapshot.listening = m_server->isListening();
        snapshot.address = m_server->serverAddress();
        snapshot.port = m_server->serverPort();
        snapshot.framing = m_server->config().framing.modeString();
    }
    snapshot.serverStarts = m_serverStarts;
    snapshot.disconnects = m_disconnects;
    snapshot.refusals = m_refusals;
    snapshot.acceptedByProtocol = m_acceptedByProtocol;
    for (auto it = m_acceptedByProtocol.cbegin(); it != m_acceptedByProtocol.cend(); ++it)
        snapshot.clientsByProtocol.insert(it.key(), 0);
    for (IpProtocol protocol : std::as_const(m_liveProtocols))
        ++snapshot.clientsByProtocol[ipProtocolKey(protocol)];
    snapshot.processStartMs = m_processStartMs;
    snapshot.nowMs = QDateTime::currentMSecsSinceEpoch();
    snapshot.version = QCoreApplication::applicationVersion();
    return snapshot;
}

QString MetricsCollector::disconnectLabel(DisconnectReason reason)
{
    // Lower case, as label values go ("TLS handshake failed" -> tls_handshake_failed).
    QString label = DisconnectInfo::reasonString(reason).toLower();
    for (QChar &c : label) {
        if (!c.isLetterOrNumber())
            c = QLatin1Char('_');
    }
    return label;
}

} // namespace Echoscope
