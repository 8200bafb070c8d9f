#include "metricsexporter.h"

#include "echoserver.h"
#include "httplistener.h"
#include "metricscollector.h"
#include "prometheustext.h"
#include "serverconfig.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QHttpServerResponse>

namespace Echoscope {

namespace {

constexpr char kPlainText[] = "text/plain; charset=utf-8";

} // namespace

MetricsExporter::MetricsExporter(EchoServer *server, QObject *parent)
    : QObject(parent)
    , m_collector(new MetricsCollector(server, QDateTime::currentMSecsSinceEpoch(), this))
{}

MetricsExporter::~MetricsExporter()
{
    stop();
}

bool MetricsExporter::start(const QString &address, quint16 port)
{
    stop();
    auto *http = new QHttpServer(this);
    HttpListener::Limits limits;
    limits.maxConnections = kMaxConnections;
    limits.idleTimeoutMs = kIdleTimeoutMs;
    limits.maxRequestBytes = kMaxRequestBytes;
    HttpListener *listener =
        HttpListener::serve(http, limits, address, port, QStringLiteral("metrics"), &m_errorString);
    if (!listener) {
        delete http;
        return false;
    }
    m_http = http;
    m_listener = listener;
    addRoutes();
    m_address = listener->serverAddress();
    m_port = listener->serverPort();
    m_errorString.clear();
    emit started(url());
    return true;
}

void MetricsExporter::stop()
{
    if (!m_http)
        return;
    delete m_http; // with the listener and every open connection
    m_http = nullptr;
    m_listener = nullptr;
    m_address.clear();
    m_port = 0;
    emit stopped();
}

QUrl MetricsExporter::url() const
{
    return isListening() ? HttpListener::localUrl(m_address, m_port, QStringLiteral("/metrics"))
                         : QUrl();
}

QByteArray MetricsExporter::metricsText() const
{
    return PrometheusText::render(m_collector->snapshot());
}

void MetricsExporter::addRoutes()
{
    m_http->route(QStringLiteral("/metrics"),
                  [this](const QHttpServerRequest &request) -> QHttpServerResponse {
                      if (request.method() != QHttpServerRequest::Method::Get) {
                          QHttpServerResponse response(
                              kPlainText, QByteArray("405 method not allowed: use GET\n"),
                              QHttpServerResponse::StatusCode::MethodNotAllowed);
                          response.setHeader("Allow", "GET");
                          return response;
                      }
                      ++m_scrapes;
                      return QHttpServerResponse(PrometheusText::kContentType, metricsText());
                  });
    m_http->route(QStringLiteral("/"), [](const QHttpServerRequest &request) {
        if (request.method() != QHttpServerRequest::Method::Get) {
            QHttpServerResponse response(kPlainText,
                                         QByteArray("405 method not allowed: use GET\n"),
                                         QHttpServerResponse::StatusCode::MethodNotAllowed);
            response.setHeader("Allow", "GET");
            return response;
        }
        return QHttpServerResponse(
            kPlainText, QStringLiteral("Echoscope %1\nPrometheus metrics: GET /metrics\n")
                            .arg(QCoreApplication::applicationVersion())
                            .toUtf8());
    });
    m_http->setMissingHandler([](const QHttpServerRequest &, QHttpServerResponder &&responder) {
        responder.write(QByteArray("404 not found: the metrics are at /metrics\n"), kPlainText,
                        QHttpServerResponder::StatusCode::NotFound);
    });
}

} // namespace Echoscope
