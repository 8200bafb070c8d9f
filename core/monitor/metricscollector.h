#pragma once

#include "disconnectinfo.h"
#include "echoserver.h"

#include <QHostAddress>
#include <QHash>
#include <QMap>
#include <QObject>
#include <QPointer>
#include <QString>

namespace Echoscope {

// What a metrics scrape shows, as of one moment. Every counter covers the life of the
// process: it never goes down, not even across a Stop and Start of the server (which
// starts EchoServer::totals() from zero again), as Prometheus expects of a counter.
struct MetricsSnapshot
{
    // Counters over the process's life; clientsNow is the live gauge and clientsPeak
    // the most clients at once over the process's life.
    ServerTotals totals;
    qint64 serverStarts = 0;
    // Label ("closed_by_peer", "kicked", ...) -> count. Every reason is present, at 0
    // when it never happened, so a series exists before the first event.
    QMap<QString, qint64> disconnects;
    // Label ("max_clients", "denied", ...) -> count, the same way.
    QMap<QString, qint64> refusals;
    // By protocol, ipProtocolKey(): "tcp", "udp", "ws" -> count, every one present. The
    // connections accepted over the process's life, and the clients connected now.
    QMap<QString, qint64> acceptedByProtocol;
    QMap<QString, qint64> clientsByProtocol;

    bool listening = false;
    QHostAddress address; // when listening
    quint16 port = 0;
    QString framing; // "line", "length", ... when listening

    qint64 processStartMs = 0; // ms since the epoch
    qint64 nowMs = 0;          // when the snapshot was taken
    QString version;
};

// Keeps the counters behind the metrics endpoint. It reads EchoServer::totals() only
// when a snapshot is taken (a scrape), so it costs nothing per byte or message; it
// counts disconnects and refusals by reason from the server's signals, and carries the
// totals of each finished run (Stop) into the next.
//
// Lives in the server's thread; the server must outlive it or be deleted first (then
// the snapshot keeps what was carried over).
class MetricsCollector : public QObject
{
    Q_OBJECT

public:
    // processStartMs: when the process started, in ms since the epoch.
    MetricsCollector(EchoServer *server, qint64 processStartMs, QObject *parent = nullptr);

    MetricsSnapshot snapshot() const;

    // The label of a disconnect reason: DisconnectInfo::reasonString() in snake case.
    static QString disconnectLabel(DisconnectReason reason);
    // Refusals are counted by RefusalReason (Refusal::label()); every label is in every
    // snapshot, at 0 until it happens.

private:
    void serverStarted();
    void serverStopped();
    // Notes a client's protocol; accepted: count it as a new connection too.
    void track(quint64 clientId, bool accepted);

    QPointer<EchoServer> m_server;
    const qint64 m_processStartMs;
    bool m_running = false; // a run's totals are live in the server, not yet in m_carried
    ServerTotals m_carried; // the totals of the runs that ended
    qint64 m_serverStarts = 0;
    QMap<QString, qint64> m_disconnects;
    QMap<QString, qint64> m_refusals;
    QMap<QString, qint64> m_acceptedByProtocol;
    // The protocol of each client connected now (a hash insert per connection, nothing
    // per byte), so that its disconnect is counted against the right one.
    QHash<quint64, IpProtocol> m_liveProtocols;
};

} // namespace Echoscope
