#pragma once

#include "echoserver.h"
#include "faultconfig.h"

#include <QAbstractHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QPointer>
#include <QStringList>
#include <QTimer>

#include <functional>
#include <map>
#include <memory>
#include <optional>

class QTcpSocket;

namespace Echoscope {

class ClientStats;
class ControlApi;

// The control API's HTTP side: one handler for every request, routing by method and path
// itself (so that each refusal is a JSON error of ours), and the events' long polls
// waiting for news. ControlApi owns it, and the listener it is bound to.
class ControlHttpServer : public QAbstractHttpServer
{
public:
    explicit ControlHttpServer(ControlApi *api);
    ~ControlHttpServer() override;

    int waitingPolls() const { return int(m_waiters.size()); }
    // Changes made and not yet confirmed by the client's worker (for tests).
    int pendingChanges() const { return int(m_changes.size()); }
    // True while a long poll or a change of this connection waits: its answer is owed.
    bool isWaiting(const QTcpSocket *socket) const;
    // New events: wake the long polls that wait for them.
    void eventsAppended();

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &, QTcpSocket *) override {}

private:
    using Method = QHttpServerRequest::Method;
    using Status = QHttpServerResponder::StatusCode;

    // One request being answered.
    struct Request
    {
        const QHttpServerRequest &http;
        QTcpSocket *socket;
        QHttpServerResponder &responder;
    };

    struct Waiter
    {
        QPointer<QTcpSocket> socket;
        QHttpServerResponder responder;
        quint64 since = 0;
        int limit = 0;
        QTimer *timer = nullptr;
        QMetaObject::Connection socketGone; // forgets the waiter if its connection closes
    };

    // A change (kick, faults) handed to a client's worker: answered once the worker has
    // made it (EchoServer's `done`), or after kChangeTimeoutMs with 503.
    using ChangeAnswer =
        std::function<void(QHttpServerResponder &responder, EchoServer::ChangeResult result)>;
    struct PendingChange
    {
        QPointer<QTcpSocket> socket;
        QHttpServerResponder responder;
        ChangeAnswer answer;
        QTimer *timer = nullptr;
        QMetaObject::Connection socketGone;
    };

    EchoServer *engine() const;

    static void reply(QHttpServerResponder &responder, const QJsonObject &body,
                      Status status = Status::Ok);
    static void fail(QHttpServerResponder &responder, Status status, const QString &message,
                     const QString &field = QString());
    static void notAllowed(QHttpServerResponder &responder, const QByteArray &allow);

    bool authorized(const QHttpServerRequest &request) const;
    // A refused change: 401, and a line in the log (at most one a second, with a count).
    void unauthorized(Request &r);
    // Refuses query parameters other than `known`; true when all are known.
    static bool checkQuery(Request &r, const QStringList &known);
    static std::optional<quint64> clientId(Request &r, const QString &text);
    // The client's counters, or a 404 answered.
    std::shared_ptr<const ClientStats> findClient(Request &r, quint64 id) const;
    // The body as a fault object, or a 400 answered.
    static std::optional<FaultConfig> faultBody(Request &r);

    void dispatch(const QHttpServerRequest &http, QTcpSocket *socket,
                  QHttpServerResponder &responder);
    void listClients(Request &r);
    void client(Request &r, quint64 id, Method method);
    void capture(Request &r, quint64 id, Method method);
    void clientFaults(Request &r, quint64 id, Method method);
    void defaultFaults(Request &r, Method method);
    void events(Request &r);

    // Makes the change with `make`, given the `done` to pass on to EchoServer: if it
    // returns true, the request is answered by `answer` once the change is done; if
    // false, `make` has answered it.
    void change(Request &r, const std::function<bool(EchoServer::ChangeDone)> &make,
                ChangeAnswer answer);
    void changeDone(quint64 key, EchoServer::ChangeResult result);
    void dropChange(quint64 key);
    // The answer to a change that did not happen: 404 (the client left) or 503.
    static void changeFailed(QHttpServerResponder &responder, quint64 id,
                             EchoServer::ChangeResult result);

    void answerEvents(QHttpServerResponder &responder, quint64 since, int limit);
    // Answers the waiter `key` (with what there is, perhaps nothing) and forgets it.
    void answerWaiter(quint64 key);
    // Answers every waiter that has news.
    void answerWaiters();
    void dropWaiter(quint64 key);

    ControlApi *m_api;
    std::map<quint64, Waiter> m_waiters;
    quint64 m_nextWaiter = 0;
    std::map<quint64, PendingChange> m_changes;
    quint64 m_nextChange = 0;
    QTimer m_flush;
    // Refused changes not logged yet (logged at most once a second).
    qint64 m_unauthorizedPending = 0;
    QString m_unauthorizedPeer;
    QTimer m_unauthorizedLog;
};

} // namespace Echoscope
