#pragma once

#include "eventlog.h"
#include "httplistener.h"

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QUrl>

#include <memory>

namespace Echoscope {

class ControlHttpServer;
class EchoServer;
struct TrafficEvent;

// The control API: JSON over HTTP under /api/v1 (docs/control-api.yaml describes it), on
// a listener of its own. Reads (server, clients, a client, its capture, the events) need
// no token; changes (kick, faults) need "Authorization: Bearer TOKEN", else 401.
//
// Changes go through EchoServer's public calls (disconnectClient, setClientFaults,
// followDefaultFaults, setDefaultFaults), the same the dashboard uses, and come back as
// the engine's events (a "kicked" disconnect, a fault line), so a dashboard or a log sees
// them at once. A change is answered once it has happened in the client's worker thread
// (a GET right after shows it): the answer waits, without blocking this thread, for the
// worker's confirmation (EchoServer's `done`); a client that left meanwhile is a 404, a
// server stopped meanwhile a 503. The events are kept here too (an EventLog of the newest
// kEventCapacity), for GET /api/v1/events: a long poll that answers as soon as there is an event at
// or after `since`, or after `timeout_ms` with none.
//
// Bounded (HttpListener): at most kMaxConnections at once (one more is answered 503); a
// request must be whole within kRequestTimeoutMs of its first byte and below
// kMaxRequestBytes (else 413); a connection is closed after kIdleTimeoutMs with no request
// under way, longer than the longest poll.
//
// Lives in the server's thread.
class ControlApi : public QObject
{
    Q_OBJECT

public:
    static constexpr int kMaxConnections = 16;
    static constexpr qint64 kMaxRequestBytes = 64 * 1024;
    static constexpr int kRequestTimeoutMs = 10 * 1000;
    // A change (kick, faults) is answered once the client's worker thread has made it;
    // one not confirmed within this is answered 503 (a worker that hangs).
    static constexpr int kChangeTimeoutMs = 10 * 1000;
    // Answers not yet taken by a client that pipelines requests and does not read: past
    // this, its next request closes the connection (memory bound: the connections times
    // this plus one answer each).
    static constexpr qint64 kMaxUnsentBytes = 4 * 1024 * 1024;
    static constexpr int kEventCapacity = 10000;
    static constexpr int kMaxEventsPerResponse = 1000;
    static constexpr int kDefaultPollTimeoutMs = 30000;
    static constexpr int kMaxPollTimeoutMs = 60000;
    static constexpr int kMinTokenLength = 16;
    static constexpr int kIdleTimeoutMs = kMaxPollTimeoutMs + 5000;

    explicit ControlApi(EchoServer *server, QObject *parent = nullptr);
    ~ControlApi() override;

    // Listens on `address` (the words of --bind) and `port` (0: a free one); changes need
    // `token` (not empty). On failure returns false, stays stopped and sets errorString(),
    // which names the address, the port and the reason.
    bool start(const QString &address, quint16 port, const QString &token);
    void stop();

    bool isListening() const;
    QHostAddress serverAddress() const { return m_address; }
    quint16 serverPort() const { return m_port; }
    // http://127.0.0.1:PORT/api/v1 (loopback for an any-address).
    QUrl url() const;
    QString token() const { return m_token; }
    QString errorString() const { return m_errorString; }
    const EventLog &eventLog() const { return m_eventLog; }
    // Long polls of GET /api/v1/events waiting for an event now.
    int waitingPolls() const;
    // Changes waiting for their worker to make them (for tests).
    int pendingChanges() const;
    // Connections open to the API (for tests).
    int openConnections() const;
    // The connection limits (the constants above by default); a change applies to the
    // open connections too (tests shorten the timeouts with it).
    HttpListener::Limits limits() const { return m_limits; }
    void setLimits(const HttpListener::Limits &limits);

    // 32 random bytes from the system's generator, as 64 hex digits.
    static QString generateToken();
    // The first line of the file, without surrounding white space; false, with a clause
    // naming the file (escaped by TextEscape::escapeText, so the clause is shown as it is)
    // in *error, if it cannot be read, holds no token or one shorter than kMinTokenLength,
    // or (Unix) its group or others have any access to it (its mode named).
    static bool readTokenFile(const QString &path, QString *token, QString *error);

private:
    friend class ControlHttpServer;
    void appendEvent(const TrafficEvent &event);

    EchoServer *m_server;
    ControlHttpServer *m_http = nullptr;
    HttpListener *m_listener = nullptr;
    QHostAddress m_address;
    quint16 m_port = 0;
    QString m_token;
    QString m_errorString;
    EventLog m_eventLog{kEventCapacity};
    HttpListener::Limits m_limits{kMaxConnections, kIdleTimeoutMs, kRequestTimeoutMs,
                                  kMaxRequestBytes};
};

} // namespace Echoscope
