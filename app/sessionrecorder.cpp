#include "sessionrecorder.h"

#include "clientstats.h"
#include "echoserver.h"
#include "numbertext.h"
#include "pcapngwriter.h"
#include "recording.h"
#include "textescape.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QLocale>
#include <QTemporaryFile>

namespace Echoscope {

SessionRecorder::SessionRecorder(EchoServer *server, const QString &directory, qint64 totalBytes,
                                 QObject *parent, Format format)
    : QObject(parent)
    , m_server(server)
    , m_directory(directory)
    , m_totalBytes(totalBytes)
    , m_format(format)
{
    connect(m_server, &EchoServer::eventOccurred, this, &SessionRecorder::eventOccurred);
}

SessionRecorder::~SessionRecorder() = default;

bool SessionRecorder::prepare(QString *error)
{
    if (!QDir().mkpath(m_directory)) {
        *error = QStringLiteral("cannot create the recording directory \"%1\"")
                     .arg(TextEscape::escapeText(m_directory));
        return false;
    }
    // The one sure test of "can be written": write something.
    QTemporaryFile probe(QDir(m_directory).filePath(QStringLiteral(".echoscope-XXXXXX")));
    if (!probe.open()) {
        *error = QStringLiteral("cannot write in the recording directory \"%1\": %2")
                     .arg(TextEscape::escapeText(m_directory),
                          TextEscape::escapeText(probe.errorString()));
        return false;
    }
    return true;
}

void SessionRecorder::eventOccurred(const TrafficEvent &event)
{
    if (event.clientId == 0)
        return;
    auto it = m_clients.find(event.clientId);
    if (it == m_clients.end()) {
        if (event.kind != TrafficEvent::Kind::Connected)
            return; // a client from before this recorder
        std::shared_ptr<const ClientStats> stats = m_server->clientStats(event.clientId);
        if (!stats)
            return;
        it = m_clients.insert(event.clientId, Client{std::move(stats), {}, 0});
    }
    // The disconnect always goes in; the events before it up to the limit.
    if (it->events.size() < kMaxEventsPerClient || event.kind == TrafficEvent::Kind::Disconnected)
        it->events.append(event);
    else
        ++it->droppedEvents;
    if (event.kind == TrafficEvent::Kind::Disconnected) {
        const Client client = it.value();
        m_clients.erase(it);
        write(event.clientId, client, event.timestampMs);
    }
}

QString SessionRecorder::uniquePath(const QString &fileName) const
{
    const QDir directory(m_directory);
    QString path = directory.filePath(fileName);
    const QString stem = QFileInfo(fileName).completeBaseName();
    const QString suffix = QFileInfo(fileName).suffix();
    for (int n = 2; QFileInfo::exists(path) && n < 1000; ++n)
        path = directory.filePath(QStringLiteral("%1-%2.%3").arg(stem).arg(n).arg(suffix));
    return path;
}

void SessionRecorder::write(quint64 clientId, const Client &client, qint64 disconnectedAtMs)
{
    Recording recording = Recording::fromClient(*client.stats, client.events, m_server->config(),
                                                QDateTime::currentMSecsSinceEpoch());
    const QString who = QStringLiteral("client %1 (%2)")
                            .arg(clientId)
                            .arg(TrafficEvent::endpoint(recording.peerAddress, recording.peerPort));
    const bool pcapng = m_format == Format::Pcapng;
    // Base64 takes 4 bytes for 3, plus a line of about 100 bytes per chunk and event; a
    // pcapng file the bytes, plus two packets of headers (about 200 bytes) per chunk.
    const qint64 heldBytes = recording.in.heldBytes() + recording.out.heldBytes();
    const qint64 estimate =
        pcapng ? heldBytes + (recording.chunks.size() + 4) * 200
               : heldBytes * 4 / 3 + (recording.chunks.size() + recording.events.size() + 1) * 100;
    if (m_bytesWritten + estimate > m_totalBytes) {
        if (!m_totalReported)
            emit warning(QStringLiteral("recording stopped: the recordings written reached the "
                                        "--record-total limit of %1; %2 and later clients are "
                                        "not recorded")
                             .arg(NumberText::dataSizeText(m_totalBytes), who));
        m_totalReported = true;
        return;
    }
    QString error;
    QString path;
    bool saved = false;
    if (pcapng) {
        const PcapngExport file = PcapngExport::fromClient(*client.stats, disconnectedAtMs);
        path = uniquePath(file.suggestedFileName());
        saved = file.save(path, &error);
    } else {
        path = uniquePath(recording.suggestedFileName());
        saved = recording.save(path, &error);
    }
    if (!saved) {
        emit warning(QStringLiteral("%1 was not recorded: %2").arg(who, error));
        return;
    }
    ++m_recordingsWritten;
    m_bytesWritten += QFileInfo(path).size();
    if (recording.limitReachedAtMs != 0)
        emit warning(QStringLiteral("%1 passed the --record-limit of %2 at %3: %4 lacks %5")
                         .arg(who, NumberText::dataSizeText(recording.captureLimitBytes),
                              QDateTime::fromMSecsSinceEpoch(recording.limitReachedAtMs)
                                  .toString(QStringLiteral("hh:mm:ss.zzz")),
                              path, recording.missingParts().join(QStringLiteral("; "))));
    if (client.droppedEvents > 0 && !pcapng)
        emit warning(QStringLiteral("%1: %2 holds the first %3 of its events; %4 more were left "
                                    "out")
                         .arg(who, path)
                         .arg(kMaxEventsPerClient)
                         .arg(client.droppedEvents));
}

} // namespace Echoscope
