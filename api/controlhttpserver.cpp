#include "controlhttpserver.h"

#include "controlapi.h"
#include "controljson.h"
#include "echoserver.h"
#include "pcapngwriter.h"
#include "trafficevent.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QUrlQuery>

#include <algorithm>
#include <limits>
#include <type_traits>

namespace Echoscope {

namespace {

// Who asks, in the events of the changes made here: "kicked: by the control API",
// "faults set: delay 5 ms (by the control API)".
const QString kSource = QStringLiteral("the control API");

QByteArray jsonBytes(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
}

// Compares in time independent of where the strings differ.
bool sameToken(const QByteArray &a, const QByteArray &b)
{
    if (a.size() != b.size())
        return false;
    unsigned char difference = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        difference |= static_cast<unsigned char>(a[i] ^ b[i]);
    return difference == 0;
}

} // namespace

ControlHttpServer::ControlHttpServer(ControlApi *api) : QAbstractHttpServer(api), m_api(api)
{
    m_flush.setSingleShot(true);
    m_flush.setInterval(0); // one answer per waiter for a burst of events
    connect(&m_flush, &QTimer::timeout, this, [this] { answerWaiters(); });
    m_unauthorizedLog.setSingleShot(true);
    m_unauthorizedLog.setInterval(1000);
    connect(&m_unauthorizedLog, &QTimer::timeout, this, [this] {
        if (m_unauthorizedPending == 0)
            return;
        TrafficEvent event;
        event.kind = TrafficEvent::Kind::Warning;
        event.timestampMs = QDateTime::currentMSecsSinceEpoch();
        event.text = QStringLiteral("control API: %1 refused without the right token (401), "
                                    "the last from %2")
                         .arg(m_unauthorizedPending == 1
                                  ? QStringLiteral("1 change")
                                  : QStringLiteral("%1 changes").arg(m_unauthorizedPending),
                              m_unauthorizedPeer);
        m_unauthorizedPending = 0;
        engine()->reportEvent(event);
        m_unauthorizedLog.start(); // the next refusal waits its second
    });
}

ControlHttpServer::~ControlHttpServer() = default;

EchoServer *ControlHttpServer::engine() const
{
    return m_api->m_server;
}

bool ControlHttpServer::isWaiting(const QTcpSocket *socket) const
{
    const auto ofSocket = [socket](const auto &entry) { return entry.second.socket == socket; };
    return std::any_of(m_waiters.cbegin(), m_waiters.cend(), ofSocket) ||
           std::any_of(m_changes.cbegin(), m_changes.cend(), ofSocket);
}

void ControlHttpServer::eventsAppended()
{
    if (!m_waiters.empty() && !m_flush.isActive())
        m_flush.start();
}

bool ControlHttpServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    if (socket->bytesToWrite() > ControlApi::kMaxUnsentBytes) {
        // Pipelined requests from a client that does not read its answers (a capture is
        // megabytes each): the answers would pile up in the socket's write buffer.
        QMetaObject::invokeMethod(socket, &QTcpSocket::abort, Qt::QueuedConnection);
        return true;
    }
    if (isWaiting(socket)) {
        // A request pipelined behind this connection's waiting long poll (or change). HTTP/1.1
        // answers in order and the poll's answer is not written yet, so this one cannot
        // be answered before it (Qt reads on regardless): the connection is closed, its
        // poll with it. This also keeps to one waiting poll per connection, so the
        // waiters are bounded by the listener's connection limit.
        QMetaObject::invokeMethod(socket, &QTcpSocket::abort, Qt::QueuedConnection);
        return true;
    }
    QHttpServerResponder responder = makeResponder(request, socket);
    dispatch(request, socket, responder);
    return true;
}

void ControlHttpServer::reply(QHttpServerResponder &responder, const QJsonObject &body,
                              Status status)
{
    responder.write(jsonBytes(body), {{"Content-Type", "application/json"}}, status);
}

void ControlHttpServer::fail(QHttpServerResponder &responder, Status status, const QString &message,
                             const QString &field)
{
    QJsonObject body{{QStringLiteral("error"), message}, {QStringLiteral("status"), int(status)}};
    if (!field.isEmpty())
        body.insert(QStringLiteral("field"), field);
    if (status == Status::Unauthorized) {
        responder.write(jsonBytes(body),
                        {{"Content-Type", "application/json"},
                         {"WWW-Authenticate", "Bearer realm=\"echoscope\""}},
                        status);
        return;
    }
    reply(responder, body, status);
}

void ControlHttpServer::notAllowed(QHttpServerResponder &responder, const QByteArray &allow)
{
    const QJsonObject body{
        {QStringLiteral("error"),
         QStringLiteral("method not allowed here: use %1").arg(QString::fromLatin1(allow))},
        {QStringLiteral("status"), 405}};
    responder.write(jsonBytes(body), {{"Content-Type", "application/json"}, {"Allow", allow}},
                    Status::MethodNotAllowed);
}

// "Authorization: Bearer TOKEN", the scheme in any case (RFC 7235), the token compared in
// constant time.
bool ControlHttpServer::authorized(const QHttpServerRequest &request) const
{
    for (const auto &header : request.headers()) {
        if (header.first.compare("Authorization", Qt::CaseInsensitive) != 0)
            continue;
        const QByteArray value = header.second.trimmed();
        const qsizetype space = value.indexOf(' ');
        if (space < 0 || value.left(space).compare("Bearer", Qt::CaseInsensitive) != 0)
            return false;
        return sameToken(value.mid(space + 1).trimmed(), m_api->m_token.toUtf8());
    }
    return false;
}

void ControlHttpServer::unauthorized(Request &r)
{
    fail(r.responder, Status::Unauthorized,
         QStringLiteral("a change needs the header \"Authorization: Bearer TOKEN\" with the "
                        "control token"));
    ++m_unauthorizedPending;
    m_unauthorizedPeer = TrafficEvent::endpoint(r.socket->peerAddress(), r.socket->peerPort());
    if (!m_unauthorizedLog.isActive())
        m_unauthorizedLog.start(0); // the first at once, then at most one a second
}

bool ControlHttpServer::checkQuery(Request &r, const QStringList &known)
{
    for (const auto &item : r.http.query().queryItems(QUrl::FullyDecoded)) {
        if (!known.contains(item.first)) {
            fail(r.responder, Status::BadRequest,
                 known.isEmpty()
                     ? QStringLiteral("unknown parameter \"%1\": this takes none").arg(item.first)
                     : QStringLiteral("unknown parameter \"%1\": expected %2")
                           .arg(item.first, known.join(QStringLiteral(", "))),
                 item.first);
            return false;
        }
    }
    return true;
}

void ControlHttpServer::dispatch(const QHttpServerRequest &http, QTcpSocket *socket,
                                 QHttpServerResponder &responder)
{
    Request r{http, socket, responder};
    const QStringList path = http.url().path().split(QLatin1Char('/'), Qt::SkipEmptyParts);
    if (path.size() < 2 || path[0] != QLatin1String("api") || path[1] != QLatin1String("v1")) {
        fail(responder, Status::NotFound,
             QStringLiteral("no such endpoint: the control API is under /api/v1"));
        return;
    }
    const QStringList rest = path.mid(2);
    const Method method = http.method();
    const bool changes = method == Method::Put || method == Method::Delete ||
                         method == Method::Post || method == Method::Patch;
    if (changes && !authorized(http)) {
        unauthorized(r);
        return;
    }

    if (rest == QStringList{QStringLiteral("server")}) {
        if (method != Method::Get)
            return notAllowed(responder, "GET");
        if (checkQuery(r, {}))
            reply(responder, ControlJson::server(*engine()));
    } else if (rest == QStringList{QStringLiteral("clients")}) {
        if (method != Method::Get)
            return notAllowed(responder, "GET");
        listClients(r);
    } else if (rest.size() >= 2 && rest.size() <= 3 && rest[0] == QLatin1String("clients")) {
        const std::optional<quint64> id = clientId(r, rest[1]);
        if (!id)
            return;
        if (rest.size() == 2)
            client(r, *id, method);
        else if (rest[2] == QLatin1String("capture"))
            capture(r, *id, method);
        else if (rest[2] == QLatin1String("faults"))
            clientFaults(r, *id, method);
        else
            fail(responder, Status::NotFound,
                 QStringLiteral("no such endpoint: a client has /capture and /faults"));
    } else if (rest == QStringList{QStringLiteral("faults")}) {
        defaultFaults(r, method);
    } else if (rest == QStringList{QStringLiteral("events")}) {
        if (method != Method::Get)
            return notAllowed(responder, "GET");
        events(r);
    } else {
        fail(responder, Status::NotFound,
             QStringLiteral("no such endpoint: /api/v1 has server, clients, "
                            "clients/{id}, clients/{id}/capture, clients/{id}/faults, "
                            "faults and events"));
    }
}

std::optional<quint64> ControlHttpServer::clientId(Request &r, const QString &text)
{
    bool ok = false;
    const quint64 id = text.toULongLong(&ok);
    if (!ok || id == 0) {
        fail(r.responder, Status::BadRequest,
             QStringLiteral("client id \"%1\" is not a client id: expected a whole number "
                            "from 1 to 18446744073709551615")
                 .arg(text.left(64)),
             QStringLiteral("id"));
        return std::nullopt;
    }
    return id;
}

std::shared_ptr<const ClientStats> ControlHttpServer::findClient(Request &r, quint64 id) const
{
    auto stats = engine()->clientStats(id);
    if (!stats)
        fail(r.responder, Status::NotFound, QStringLiteral("client %1 is not connected").arg(id));
    return stats;
}

void ControlHttpServer::listClients(Request &r)
{
    const QString peerKey = QStringLiteral("peer");
    const QString stateKey = QStringLiteral("state");
    const QString protocolKey = QStringLiteral("protocol");
    if (!checkQuery(r, {peerKey, stateKey, protocolKey}))
        return;
    const QUrlQuery query = r.http.query();
    const QString peer = query.queryItemValue(peerKey, QUrl::FullyDecoded);
    const QString state = query.queryItemValue(stateKey, QUrl::FullyDecoded);
    const QString protocol = query.queryItemValue(protocolKey, QUrl::FullyDecoded);
    static const QStringList kStates{QStringLiteral("connected"),   QStringLiteral("paused"),
                                     QStringLiteral("draining"),    QStringLiteral("closed"),
                                     QStringLiteral("handshaking"), QStringLiteral("stopped")};
    static const QStringList kProtocols{QStringLiteral("tcp"), QStringLiteral("udp"),
                                        QStringLiteral("ws")};
    if (query.hasQueryItem(stateKey) && !kStates.contains(state)) {
        fail(r.responder, Status::BadRequest,
             QStringLiteral("state \"%1\" is not a state: expected %2")
                 .arg(state.left(64), kStates.join(QStringLiteral(", "))),
             stateKey);
        return;
    }
    if (query.hasQueryItem(protocolKey) && !kProtocols.contains(protocol)) {
        fail(r.responder, Status::BadRequest,
             QStringLiteral("protocol \"%1\" is not a protocol: expected tcp, udp or ws")
                 .arg(protocol.left(64)),
             protocolKey);
        return;
    }
    // peer: an address (any port) or an address and port as the API writes them.
    QHostAddress peerAddress;
    const bool peerIsAddress = peerAddress.setAddress(peer);
    QJsonArray clients;
    for (quint64 id : engine()->clientIds()) {
        const auto stats = engine()->clientStats(id);
        if (!stats)
            continue;
        const ClientSnapshot client = stats->snapshot();
        if (query.hasQueryItem(stateKey) && ControlJson::stateKey(client.state) != state)
            continue;
        if (query.hasQueryItem(protocolKey) && ipProtocolKey(client.transport) != protocol)
            continue;
        if (query.hasQueryItem(peerKey)) {
            const bool matches =
                peerIsAddress
                    ? client.peerAddress.isEqual(peerAddress, QHostAddress::TolerantConversion)
                    : TrafficEvent::endpoint(client.peerAddress, client.peerPort) == peer;
            if (!matches)
                continue;
        }
        clients.append(ControlJson::clientSummary(client));
    }
    reply(r.responder, QJsonObject{{QStringLiteral("clients"), clients}});
}

void ControlHttpServer::client(Request &r, quint64 id, Method method)
{
    if (method == Method::Get) {
        if (!checkQuery(r, {}))
            return;
        if (const auto stats = findClient(r, id))
            reply(r.responder, ControlJson::clientDetail(*stats));
    } else if (method == Method::Delete) {
        // Kicked in its worker's thread; answered once it is (its "disconnected: kicked"
        // event is on its way then).
        change(
            r,
            [this, &r, id](EchoServer::ChangeDone done) {
                if (engine()->disconnectClient(id, kSource, std::move(done)))
                    return true;
                fail(r.responder, Status::NotFound,
                     QStringLiteral("client %1 is not connected").arg(id));
                return false;
            },
            [id](QHttpServerResponder &responder, EchoServer::ChangeResult result) {
                if (result != EchoServer::ChangeResult::Applied)
                    return changeFailed(responder, id, result);
                reply(responder, QJsonObject{{QStringLiteral("id"), qint64(id)},
                                             {QStringLiteral("kicked"), true}});
            });
    } else {
        notAllowed(r.responder, "GET, DELETE");
    }
}

// JSON (base64 chunks) by default; ?format=pcapng: a pcapng file (PcapngExport).
void ControlHttpServer::capture(Request &r, quint64 id, Method method)
{
    if (method != Method::Get)
        return notAllowed(r.responder, "GET");
    const QString formatKey = QStringLiteral("format");
    if (!checkQuery(r, {formatKey}))
        return;
    const QString format = r.http.query().queryItemValue(formatKey, QUrl::FullyDecoded);
    const bool pcapng = format == QLatin1String("pcapng");
    if (r.http.query().hasQueryItem(formatKey) && !pcapng && format != QLatin1String("json")) {
        fail(r.responder, Status::BadRequest,
             QStringLiteral("unknown format \"%1\": expected json or pcapng").arg(format),
             formatKey);
        return;
    }
    const auto stats = findClient(r, id);
    if (!stats)
        return;
    if (!pcapng) {
        reply(r.responder, ControlJson::capture(id, *stats->capture()));
        return;
    }
    const PcapngExport file = PcapngExport::fromClient(*stats);
    const QByteArray disposition =
        QByteArrayLiteral("attachment; filename=\"") + file.suggestedFileName().toUtf8() + '"';
    r.responder.write(
        file.toBytes(),
        {{"Content-Type", "application/x-pcapng"}, {"Content-Disposition", disposition}},
        Status::Ok);
}

std::optional<FaultConfig> ControlHttpServer::faultBody(Request &r)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(r.http.body(), &error);
    if (error.error != QJsonParseError::NoError) {
        fail(r.responder, Status::BadRequest,
             QStringLiteral("the body is not JSON: %1 at offset %2")
                 .arg(error.errorString())
                 .arg(error.offset));
        return std::nullopt;
    }
    if (!document.isObject()) {
        fail(r.responder, Status::BadRequest,
             QStringLiteral("the body is not a JSON object: expected a fault object such "
                            "as {\"delay_ms\": 200}"));
        return std::nullopt;
    }
    FaultConfig faults;
    QString message;
    QString field;
    if (!ControlJson::parseFaults(document.object(), &faults, &message, &field)) {
        fail(r.responder, Status::BadRequest, message, field);
        return std::nullopt;
    }
    return faults;
}

void ControlHttpServer::clientFaults(Request &r, quint64 id, Method method)
{
    if (method != Method::Get && method != Method::Put && method != Method::Delete)
        return notAllowed(r.responder, "GET, PUT, DELETE");
    if (!checkQuery(r, {}))
        return;
    const auto stats = findClient(r, id);
    if (!stats)
        return;
    if (method == Method::Get) {
        bool own = false;
        const FaultConfig faults = stats->faults(&own);
        reply(r.responder, QJsonObject{{QStringLiteral("id"), qint64(id)},
                                       {QStringLiteral("faults"), ControlJson::faults(faults)},
                                       {QStringLiteral("faults_own"), own}});
        return;
    }
    std::optional<FaultConfig> faults;
    if (method == Method::Put && !(faults = faultBody(r)))
        return;
    if (faults) {
        QString error;
        const QString field = ControlJson::inapplicableField(*faults, stats->transport(), &error);
        if (!field.isEmpty()) {
            fail(r.responder, Status::BadRequest, error, field);
            return;
        }
    }
    // Applied in the client's worker thread, answered once it is: a GET after the answer
    // shows them (what the client has now, which a later change may have replaced).
    change(
        r,
        [this, &r, id, faults](EchoServer::ChangeDone done) {
            QString error;
            const bool made =
                faults ? engine()->setClientFaults(id, *faults, &error, kSource, std::move(done))
                       : engine()->followDefaultFaults(id, &error, kSource, std::move(done));
            if (!made)
                fail(r.responder, Status::NotFound, error);
            return made;
        },
        [id, stats](QHttpServerResponder &responder, EchoServer::ChangeResult result) {
            if (result != EchoServer::ChangeResult::Applied)
                return changeFailed(responder, id, result);
            bool own = false;
            const FaultConfig now = stats->faults(&own);
            reply(responder, QJsonObject{{QStringLiteral("id"), qint64(id)},
                                         {QStringLiteral("faults"), ControlJson::faults(now)},
                                         {QStringLiteral("faults_own"), own}});
        });
}

void ControlHttpServer::defaultFaults(Request &r, Method method)
{
    if (method != Method::Get && method != Method::Put && method != Method::Delete)
        return notAllowed(r.responder, "GET, PUT, DELETE");
    if (!checkQuery(r, {}))
        return;
    const auto answer = [this](QHttpServerResponder &responder, EchoServer::ChangeResult) {
        // Applied: every worker (and the UDP echo) has them, or has gone with a stop (the
        // faults stay for the next start).
        reply(responder, QJsonObject{{QStringLiteral("faults"),
                                      ControlJson::faults(engine()->defaultFaults())}});
    };
    if (method == Method::Get) {
        answer(r.responder, EchoServer::ChangeResult::Applied);
        return;
    }
    FaultConfig faults; // DELETE: none
    if (method == Method::Put) {
        const std::optional<FaultConfig> body = faultBody(r);
        if (!body)
            return;
        faults = *body;
    }
    change(
        r,
        [this, &r, faults](EchoServer::ChangeDone done) {
            QString error;
            if (engine()->setDefaultFaults(faults, &error, kSource, std::move(done)))
                return true;
            fail(r.responder, Status::BadRequest, error);
            return false;
        },
        answer);
}

void ControlHttpServer::change(Request &r, const std::function<bool(EchoServer::ChangeDone)> &make,
                               ChangeAnswer answer)
{
    const quint64 key = ++m_nextChange;
    // Always queued to this thread (EchoServer's), so never before the change is kept below.
    QPointer<ControlHttpServer> self(this);
    EchoServer::ChangeDone done = [self, key](EchoServer::ChangeResult result) {
        if (self)
            self->changeDone(key, result);
    };
    if (!make(std::move(done)))
        return;
    auto *timer = new QTimer(this);
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, this, [this, key] {
        const auto it = m_changes.find(key);
        if (it == m_changes.end())
            return;
        PendingChange pending = std::move(it->second);
        m_changes.erase(it);
        pending.timer->deleteLater();
        disconnect(pending.socketGone);
        if (pending.socket)
            fail(pending.responder, Status::ServiceUnavailable,
                 QStringLiteral("the change was handed to the client's worker but not confirmed "
                                "within %1 s: the "
                                "server is busy or stopping; GET shows what holds now")
                     .arg(ControlApi::kChangeTimeoutMs / 1000));
    });
    const QMetaObject::Connection socketGone =
        connect(r.socket, &QObject::destroyed, this, [this, key] { dropChange(key); });
    m_changes.emplace(
        key, PendingChange{r.socket, std::move(r.responder), std::move(answer), timer, socketGone});
    timer->start(ControlApi::kChangeTimeoutMs);
}

void ControlHttpServer::changeDone(quint64 key, EchoServer::ChangeResult result)
{
    const auto it = m_changes.find(key);
    if (it == m_changes.end())
        return; // answered 503 already, or its connection is gone
    PendingChange pending = std::move(it->second);
    m_changes.erase(it);
    pending.timer->deleteLater();
    disconnect(pending.socketGone); // the socket may serve further requests
    if (pending.socket)
        pending.answer(pending.responder, result);
}

void ControlHttpServer::dropChange(quint64 key)
{
    const auto it = m_changes.find(key);
    if (it == m_changes.end())
        return;
    it->second.timer->deleteLater();
    m_changes.erase(it); // its responder's socket is gone: nothing to write to
}

void ControlHttpServer::changeFailed(QHttpServerResponder &responder, quint64 id,
                                     EchoServer::ChangeResult result)
{
    if (result == EchoServer::ChangeResult::ClientGone)
        fail(responder, Status::NotFound,
             QStringLiteral("client %1 disconnected before the change was made").arg(id));
    else
        fail(responder, Status::ServiceUnavailable,
             QStringLiteral("the server stopped before the change was made to client %1: it "
                            "has no clients now")
                 .arg(id));
}

void ControlHttpServer::events(Request &r)
{
    const QString sinceKey = QStringLiteral("since");
    const QString timeoutKey = QStringLiteral("timeout_ms");
    const QString limitKey = QStringLiteral("limit");
    if (!checkQuery(r, {sinceKey, timeoutKey, limitKey}))
        return;
    const QUrlQuery query = r.http.query();
    const EventLog &log = m_api->m_eventLog;
    quint64 since = log.firstSequence();
    qint64 timeoutMs = ControlApi::kDefaultPollTimeoutMs;
    qint64 limit = ControlApi::kMaxEventsPerResponse;
    const auto number = [&](const QString &key, qint64 low, qint64 high, auto *out) {
        if (!query.hasQueryItem(key))
            return true;
        const QString text = query.queryItemValue(key, QUrl::FullyDecoded);
        bool ok = false;
        const qint64 value = text.toLongLong(&ok);
        if (!ok || value < low || value > high) {
            fail(r.responder, Status::BadRequest,
                 QStringLiteral("%1 \"%2\": expected a whole number from %3 to %4")
                     .arg(key, text.left(64))
                     .arg(low)
                     .arg(high),
                 key);
            return false;
        }
        *out = std::remove_pointer_t<decltype(out)>(value);
        return true;
    };
    if (!number(sinceKey, 1, std::numeric_limits<qint64>::max(), &since) ||
        !number(timeoutKey, 0, ControlApi::kMaxPollTimeoutMs, &timeoutMs) ||
        !number(limitKey, 1, ControlApi::kMaxEventsPerResponse, &limit))
        return;
    // Past the newest event (a client that kept a number across a restart of the server):
    // from the next one, so that the answer's `next` is the real one.
    since = qMin(since, log.nextSequence());
    if (since < log.nextSequence() || timeoutMs == 0) {
        answerEvents(r.responder, since, int(limit));
        return;
    }
    // Nothing yet: wait, bounded, for the next event.
    const quint64 key = ++m_nextWaiter;
    auto *timer = new QTimer(this);
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, this, [this, key] { answerWaiter(key); });
    const QMetaObject::Connection socketGone =
        connect(r.socket, &QObject::destroyed, this, [this, key] { dropWaiter(key); });
    m_waiters.emplace(
        key, Waiter{r.socket, std::move(r.responder), since, int(limit), timer, socketGone});
    timer->start(int(timeoutMs));
}

void ControlHttpServer::answerEvents(QHttpServerResponder &responder, quint64 since, int limit)
{
    qint64 missed = 0;
    const EventLog &log = m_api->m_eventLog;
    const QList<TrafficEvent> events = log.eventsSince(since, limit, &missed);
    QJsonArray array;
    quint64 sequence = since + quint64(missed);
    for (const TrafficEvent &event : events) {
        QJsonObject object = event.toJson();
        object.insert(QStringLiteral("seq"), qint64(sequence++));
        array.append(object);
    }
    reply(responder, QJsonObject{{QStringLiteral("events"), array},
                                 {QStringLiteral("next"), qint64(sequence)},
                                 {QStringLiteral("missed"), missed}});
}

void ControlHttpServer::answerWaiter(quint64 key)
{
    const auto it = m_waiters.find(key);
    if (it == m_waiters.end())
        return;
    Waiter waiter = std::move(it->second);
    m_waiters.erase(it);
    waiter.timer->deleteLater();
    disconnect(waiter.socketGone); // the socket may serve further requests
    if (waiter.socket)
        answerEvents(waiter.responder, waiter.since, waiter.limit);
}

void ControlHttpServer::answerWaiters()
{
    QList<quint64> ready;
    for (const auto &[key, waiter] : m_waiters) {
        if (waiter.since < m_api->m_eventLog.nextSequence())
            ready.append(key);
    }
    for (quint64 key : ready)
        answerWaiter(key);
}

void ControlHttpServer::dropWaiter(quint64 key)
{
    const auto it = m_waiters.find(key);
    if (it == m_waiters.end())
        return;
    it->second.timer->deleteLater();
    m_waiters.erase(it); // its responder's socket is gone: nothing to write to
}
} // namespace Echoscope
