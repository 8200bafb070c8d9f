#pragma once

#include "trafficevent.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QString>

#include <memory>

namespace Echoscope {

class ClientStats;
class EchoServer;

// `echoscope --headless --record DIR`: writes each client's recording (see Recording, or
// with --record-format pcapng a pcapng file, see PcapngExport) to DIR when it disconnects (at the
// latest when the server stops). The bytes come from the client's capture, which the server keeps
// with Policy::KeepFirst and --record-limit as its capacity, so the echo path only copies into a
// bounded buffer, and the file is written in this thread after the connection is gone.
//
// Bounded: at most limit bytes held per client (memory: limit times the clients
// connected), at most kMaxEventsPerClient events per client, and no more files once the
// ones written reach the total limit. Each limit reached is said once, through warning().
class SessionRecorder : public QObject
{
    Q_OBJECT

public:
    static constexpr qint64 kDefaultLimitBytes = 1024 * 1024;
    static constexpr qint64 kDefaultTotalBytes = qint64(1024) * 1024 * 1024;
    static constexpr int kMaxEventsPerClient = 1000;

    // Recording: Echoscope's recordings (JSON Lines, with the events); Pcapng: the bytes
    // as a pcapng file (PcapngExport), without the events.
    enum class Format { Recording, Pcapng };

    // The server must live in this thread.
    SessionRecorder(EchoServer *server, const QString &directory, qint64 totalBytes,
                    QObject *parent = nullptr, Format format = Format::Recording);
    ~SessionRecorder() override;

    // Creates the directory if needed and checks it can be written. False and *error (a
    // sentence naming the directory, safe to print) if not.
    bool prepare(QString *error);

    int recordingsWritten() const { return m_recordingsWritten; }
    qint64 bytesWritten() const { return m_bytesWritten; }

signals:
    // A sentence for the event log: a limit was reached, or a file could not be written.
    void warning(const QString &text);

private:
    struct Client
    {
        std::shared_ptr<const ClientStats> stats;
        QList<TrafficEvent> events;
        qint64 droppedEvents = 0;
    };

    void eventOccurred(const TrafficEvent &event);
    void write(quint64 clientId, const Client &client, qint64 disconnectedAtMs);
    QString uniquePath(const QString &fileName) const;

    EchoServer *m_server;
    QString m_directory;
    qint64 m_totalBytes;
    Format m_format;
    QHash<quint64, Client> m_clients;
    int m_recordingsWritten = 0;
    qint64 m_bytesWritten = 0;
    bool m_totalReported = false;
};

} // namespace Echoscope
