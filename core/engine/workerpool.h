#pragma once

#include "disconnectinfo.h"
#include "faultconfig.h"
#include "serverconfig.h"
#include "trafficevent.h"

#include <QtGlobal>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

QT_BEGIN_NAMESPACE
class QObject;
class QThread;
QT_END_NAMESPACE

namespace Echoscope {

class EchoWorker;

// The engine's workers: with more than one, each in a QThread of its own with its own
// event loop; with one, in the owner's thread, unless the pool is told to keep the
// owner's thread free (the dashboard's GUI thread). Everything here is called in the owner's
// thread. The threads, and a worker of the owner's thread, are children of the owner.
class WorkerPool
{
public:
    using EventCallback = std::function<void(TrafficEvent)>;
    using Prepare = std::function<void(EchoWorker *worker)>;

    explicit WorkerPool(QObject *owner);
    ~WorkerPool();
    WorkerPool(const WorkerPool &) = delete;
    WorkerPool &operator=(const WorkerPool &) = delete;

    // Where a single worker runs.
    enum class OneWorker { InOwnersThread, InItsOwnThread };

    // Makes `count` workers of `config` that post their events through `postEvent` and
    // count their sessions in *liveClients. `prepare` runs on each in the owner's thread
    // before it moves to its own (TLS, signals, faults). Returns once every worker runs
    // its event loop.
    void start(int count, OneWorker oneWorker, const ServerConfig &config,
               const EventCallback &postEvent, std::atomic<int> *liveClients,
               const Prepare &prepare);
    // Every worker stops accepting and closes its sessions with `reason`, in its own
    // thread (so each posts its Disconnected event); then the threads are joined and
    // workers and threads deleted. Leaves the pool empty.
    void stop(DisconnectReason reason);

    int size() const { return int(m_workers.size()); }
    bool isEmpty() const { return m_workers.empty(); }
    // The first worker (the UDP service shares its thread); the pool must not be empty.
    EchoWorker *first() const { return m_workers.front(); }
    // Runs `f` on every worker in the worker's thread, and returns when it has.
    void forEach(const std::function<void(EchoWorker *worker)> &f);
    // Every worker's faults for all clients, in its thread; `keepAlive` is held until every
    // worker has applied them (or been deleted with the call pending).
    void setDefaultFaults(const FaultConfig &faults,
                          const std::shared_ptr<void> &keepAlive = nullptr);

private:
    QObject *const m_owner;
    std::vector<EchoWorker *> m_workers;
    std::vector<QThread *> m_threads;
};

} // namespace Echoscope
