#include "workerpool.h"

#include "echoworker.h"
#include "workerdispatcher.h"

#include <QAbstractEventDispatcher>
#include <QObject>
#include <QThread>

namespace Echoscope {

WorkerPool::WorkerPool(QObject *owner) : m_owner(owner) {}

WorkerPool::~WorkerPool()
{
    stop(DisconnectReason::ServerStopped);
}

void WorkerPool::start(int count, OneWorker oneWorker, const ServerConfig &config,
                       const EventCallback &postEvent, std::atomic<int> *liveClients,
                       const Prepare &prepare)
{
    Q_ASSERT(m_workers.empty());
    for (int i = 0; i < count; ++i) {
        auto *worker = new EchoWorker(config, postEvent, liveClients);
        prepare(worker); // before it has a thread or a session
        if (count > 1 || oneWorker == OneWorker::InItsOwnThread) {
            auto *thread = new QThread(m_owner);
            thread->setObjectName(QStringLiteral("echoscope-worker-%1").arg(i));
            // Linux: a dispatcher that waits in the workers' epoll set itself (nullptr:
            // Qt's, elsewhere or with ECHOSCOPE_WORKER_DISPATCHER=qt).
            if (QAbstractEventDispatcher *dispatcher = WorkerDispatcher::create())
                thread->setEventDispatcher(dispatcher);
            worker->moveToThread(thread);
            thread->start();
            m_threads.push_back(thread);
        } else {
            worker->setParent(m_owner);
        }
        m_workers.push_back(worker);
    }
    // Return only once every worker runs its event loop: its dispatcher (and wake-up
    // descriptor) is made in the new thread, so without this the process's descriptor
    // count would still rise after start, and the first clients would wait on threads
    // that are starting. An empty call through each loop costs well under a millisecond;
    // the workers never wait for this thread.
    for (EchoWorker *worker : m_workers) {
        if (worker->thread() != m_owner->thread())
            QMetaObject::invokeMethod(
                worker, [] {}, Qt::BlockingQueuedConnection);
    }
}

void WorkerPool::stop(DisconnectReason reason)
{
    // Waiting for each worker is fine: this is stop, not the echo path, and the workers
    // never wait for this thread.
    forEach([reason](EchoWorker *worker) {
        worker->stopAccepting();
        worker->closeAll(reason);
    });
    for (QThread *thread : m_threads) {
        thread->quit();
        thread->wait();
    }
    for (EchoWorker *worker : m_workers) {
        // A worker of this thread (threads = 1) may be on the call stack: delete it later.
        if (worker->thread() == m_owner->thread())
            worker->deleteLater();
        else
            delete worker;
    }
    qDeleteAll(m_threads);
    m_workers.clear();
    m_threads.clear();
}

void WorkerPool::forEach(const std::function<void(EchoWorker *worker)> &f)
{
    for (EchoWorker *worker : m_workers) {
        if (worker->thread() == m_owner->thread())
            f(worker);
        else
            QMetaObject::invokeMethod(
                worker, [worker, &f] { f(worker); }, Qt::BlockingQueuedConnection);
    }
}

void WorkerPool::setDefaultFaults(const FaultConfig &faults, const std::shared_ptr<void> &keepAlive)
{
    for (EchoWorker *worker : m_workers) {
        QMetaObject::invokeMethod(
            worker, [worker, faults, keepAlive] { worker->setDefaultFaults(faults); },
            Qt::AutoConnection);
    }
}

} // namespace Echoscope
