#pragma once

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QUrl>

QT_BEGIN_NAMESPACE
class QHttpServer;
QT_END_NAMESPACE

namespace Echoscope {

class EchoServer;
class MetricsCollector;
class HttpListener;

// Serves the server's metrics in the Prometheus text format at GET /metrics over Qt
// HTTP Server (and a short index at /). Counting starts when the exporter is made and
// goes on while the endpoint is off, so turning it on later shows the whole process;
// a scrape reads the engine's totals then, with no work per byte or message.
//
// Bounded (HttpListener): at most kMaxConnections scrapers at once (one more is answered
// 503), each closed after kIdleTimeoutMs between scrapes; a request must be whole within
// 10 s of its first byte and below kMaxRequestBytes (else 413).
//
// Lives in the server's thread.
class MetricsExporter : public QObject
{
    Q_OBJECT

public:
    static constexpr int kMaxConnections = 16;
    static constexpr int kIdleTimeoutMs = 5 * 60 * 1000; // longer than any scrape interval
    static constexpr qint64 kMaxRequestBytes = 16 * 1024;

    explicit MetricsExporter(EchoServer *server, QObject *parent = nullptr);
    ~MetricsExporter() override;

    // Listens on `address` (the words of --bind: 127.0.0.1, ::1, any, any4, any6 or a
    // literal address) and `port` (0: a free one). On failure returns false, stays
    // stopped and sets errorString(), which names the address, the port and the reason.
    bool start(const QString &address, quint16 port);
    void stop();

    bool isListening() const { return m_http != nullptr; }
    QHostAddress serverAddress() const { return m_address; }
    quint16 serverPort() const { return m_port; }
    // Where a browser or Prometheus on this machine finds the metrics, e.g.
    // http://127.0.0.1:9464/metrics (loopback for an any-address).
    QUrl url() const;
    QString errorString() const { return m_errorString; }
    // Scrapes answered since the exporter was made.
    qint64 scrapeCount() const { return m_scrapes; }

    MetricsCollector *collector() const { return m_collector; }
    // The body of GET /metrics as of now.
    QByteArray metricsText() const;

signals:
    void started(const QUrl &url);
    void stopped();

private:
    void addRoutes();

    MetricsCollector *m_collector;
    QHttpServer *m_http = nullptr;
    HttpListener *m_listener = nullptr;
    QHostAddress m_address;
    quint16 m_port = 0;
    QString m_errorString;
    qint64 m_scrapes = 0;
};

} // namespace Echoscope
