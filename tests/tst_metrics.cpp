// The Prometheus endpoint: the text format parsed back, then real scrapes over HTTP
// (QNetworkAccessManager) of a real server with real clients, compared value by value.

#include "echotestsupport.h"
#include "metricscollector.h"
#include "metricsexporter.h"
#include "networkfilter.h"
#include "prometheustext.h"
#include "errortext.h"

#include <QHash>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QNetworkDatagram>
#include <QUdpSocket>
#include <QWebSocket>
#include <QSet>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <memory>
#include <vector>

using namespace Echoscope;
using namespace EchoTest;

namespace {

// A scrape parsed back, as strictly as Prometheus would: every sample line is
// `name{labels} value`, each family has one HELP and one TYPE line before its samples,
// and a family's samples are together.
struct Scrape
{
    QHash<QString, QString> types;  // family -> counter, gauge, histogram
    QHash<QString, double> samples; // `name{labels}` as written -> value
    QList<QPair<QString, double>> inOrder;
    QString error; // empty when it parsed

    bool has(const QString &key) const { return samples.contains(key); }
    double value(const QString &key) const { return samples.value(key, -1); }
    qint64 count(const QString &key) const { return qint64(samples.value(key, -1)); }
};

QString familyOf(const QString &name, const QHash<QString, QString> &types)
{
    if (types.contains(name))
        return name;
    for (const char *suffix : {"_bucket", "_sum", "_count"}) {
        const QLatin1String s(suffix);
        if (name.endsWith(s)) {
            const QString base = name.left(name.size() - s.size());
            if (types.value(base) == QLatin1String("histogram"))
                return base;
        }
    }
    return QString();
}

Scrape parse(const QByteArray &body)
{
    static const QRegularExpression help(
        QStringLiteral(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*$)"));
    static const QRegularExpression type(
        QStringLiteral(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)"));
    static const QRegularExpression sample(
        QStringLiteral(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")"
                       R"((?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (\S+)$)"));
    Scrape scrape;
    QSet<QString> helped;
    QSet<QString> finished; // families whose samples are over
    QString current;
    if (!body.endsWith('\n'))
        scrape.error = QStringLiteral("the text does not end with a line end");
    const QList<QByteArray> lines = body.split('\n');
    for (qsizetype i = 0; i < lines.size() && scrape.error.isEmpty(); ++i) {
        const QString line = QString::fromUtf8(lines.at(i));
        if (line.isEmpty()) {
            if (i != lines.size() - 1)
                scrape.error = QStringLiteral("empty line %1").arg(i + 1);
            continue;
        }
        QRegularExpressionMatch match;
        if ((match = help.match(line)).hasMatch()) {
            const QString family = match.captured(1);
            if (helped.contains(family))
                scrape.error = QStringLiteral("a second HELP for %1").arg(family);
            helped.insert(family);
        } else if ((match = type.match(line)).hasMatch()) {
            const QString family = match.captured(1);
            if (scrape.types.contains(family))
                scrape.error = QStringLiteral("a second TYPE for %1").arg(family);
            else if (!helped.contains(family))
                scrape.error = QStringLiteral("TYPE before HELP for %1").arg(family);
            else if (match.captured(2) == QLatin1String("counter") &&
                     !family.endsWith(QLatin1String("_total")))
                scrape.error = QStringLiteral("counter %1 does not end in _total").arg(family);
            scrape.types.insert(family, match.captured(2));
            if (!current.isEmpty())
                finished.insert(current);
            current = family;
        } else if ((match = sample.match(line)).hasMatch()) {
            const QString family = familyOf(match.captured(1), scrape.types);
            bool ok = true;
            const QString text = match.captured(3);
            const double value = text == QLatin1String("+Inf") ? qInf() : text.toDouble(&ok);
            const QString key = match.captured(1) + match.captured(2);
            if (family.isEmpty())
                scrape.error = QStringLiteral("sample %1 has no TYPE").arg(key);
            else if (family != current || finished.contains(family))
                scrape.error = QStringLiteral("sample %1 is away from its family").arg(key);
            else if (!ok)
                scrape.error = QStringLiteral("sample %1 has value \"%2\"").arg(key, text);
            else if (scrape.samples.contains(key))
                scrape.error = QStringLiteral("sample %1 appears twice").arg(key);
            scrape.samples.insert(key, value);
            scrape.inOrder.append({key, value});
        } else {
            scrape.error = QStringLiteral("line %1 is not a sample: %2").arg(i + 1).arg(line);
        }
    }
    return scrape;
}

// The histogram's `le` buckets in order, checked: ascending bounds, cumulative counts,
// +Inf last and equal to _count.
QString checkHistogram(const Scrape &scrape, const QString &name)
{
    static const QRegularExpression bucket(QStringLiteral(R"re(_bucket\{le="([^"]+)"\}$)re"));
    double previousBound = -1;
    double previousCount = 0;
    bool sawInf = false;
    int buckets = 0;
    for (const auto &[key, value] : scrape.inOrder) {
        if (!key.startsWith(name + QLatin1String("_bucket")))
            continue;
        const QRegularExpressionMatch match = bucket.match(key);
        if (!match.hasMatch())
            return QStringLiteral("bucket %1 has labels other than le").arg(key);
        if (sawInf)
            return QStringLiteral("bucket %1 comes after +Inf").arg(key);
        ++buckets;
        const double bound =
            match.captured(1) == QLatin1String("+Inf") ? qInf() : match.captured(1).toDouble();
        if (bound <= previousBound)
            return QStringLiteral("bucket %1 is not above the one before").arg(key);
        if (value < previousCount)
            return QStringLiteral("bucket %1 is below the one before: not cumulative").arg(key);
        sawInf = qIsInf(bound);
        previousBound = bound;
        previousCount = value;
    }
    if (!sawInf)
        return QStringLiteral("no +Inf bucket");
    if (buckets != SizeHistogram::kBuckets)
        return QStringLiteral("%1 buckets, expected %2").arg(buckets).arg(SizeHistogram::kBuckets);
    if (scrape.value(name + QLatin1String("_count")) != previousCount)
        return QStringLiteral("_count %1 differs from the +Inf bucket %2")
            .arg(scrape.value(name + QLatin1String("_count")))
            .arg(previousCount);
    if (!scrape.has(name + QLatin1String("_sum")))
        return QStringLiteral("no _sum");
    return QString();
}

QString bucketKey(qint64 le)
{
    return QStringLiteral("echoscope_message_size_bytes_bucket{le=\"%1\"}").arg(le);
}

struct Response
{
    int status = 0;
    QByteArray contentType;
    QByteArray allow;
    QByteArray body;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
};

Response request(const QUrl &url, const QByteArray &verb = "GET")
{
    QNetworkAccessManager manager;
    QNetworkRequest networkRequest(url);
    std::unique_ptr<QNetworkReply> reply(manager.sendCustomRequest(networkRequest, verb));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    Response response;
    if (!reply->isFinished() && !finished.wait(kTimeoutMs)) {
        response.error = QNetworkReply::TimeoutError;
        return response;
    }
    response.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    response.contentType = reply->rawHeader("Content-Type");
    response.allow = reply->rawHeader("Allow");
    response.body = reply->readAll();
    response.error = reply->error();
    return response;
}

QUrl pathOf(const MetricsExporter &exporter, const QString &path)
{
    QUrl url = exporter.url();
    url.setPath(path);
    return url;
}

// A client of the length-header framing that waits for each echo.
bool sendMessages(TestClient *client, const QList<int> &sizes, quint32 seed)
{
    QByteArray expected = client->received;
    for (int size : sizes) {
        const QByteArray frame = lengthHeader(quint64(size), 4) + payload(size, seed++);
        expected += frame;
        client->socket.write(frame);
    }
    return QTest::qWaitFor([&] { return client->received.size() >= expected.size(); },
                           kTimeoutMs) &&
           client->received == expected;
}

} // namespace

class tst_Metrics : public QObject
{
    Q_OBJECT

private slots:
    void textParsesBack();
    void escapesLabelValues();
    void refusalLabels();
    void scrapeMatchesTraffic_data();
    void scrapeMatchesTraffic();
    void countersSurviveStopAndStart();
    void countsRefusals();
    void countsUdpRefusalsPastTheLogBudget();
    void countsByProtocolAndWebSocketFailures();
    void splitsTrafficByProtocol_data();
    void splitsTrafficByProtocol();
    void onlyGetMetrics();
    void listenFailureNamesPortAndReason();
    void badAddressIsNamed();
    void boundsScrapers();
};

void tst_Metrics::textParsesBack()
{
    MetricsSnapshot snapshot;
    snapshot.totals.clientsNow = 3;
    snapshot.totals.clientsPeak = 7;
    snapshot.totals.clientsTotal = 12;
    snapshot.totals.bytesIn = 1000;
    snapshot.totals.bytesOut = 990;
    snapshot.totals.messagesIn = 6;
    snapshot.totals.messagesOut = 5;
    snapshot.totals.messageBytesIn = 1 + 2 + 3 + 1024 + (qint64(1) << 31);
    for (qint64 size : {qint64(1), qint64(2), qint64(3), qint64(1024), qint64(1) << 31})
        ++snapshot.totals.histogram.counts[size_t(SizeHistogram::bucketFor(size))];
    ++snapshot.totals.histogram.counts[0]; // an empty message
    snapshot.serverStarts = 2;
    snapshot.disconnects = {{QStringLiteral("kicked"), 4}, {QStringLiteral("closed_by_peer"), 5}};
    snapshot.refusals = {{QStringLiteral("max_clients"), 2}};
    snapshot.listening = true;
    snapshot.address = QHostAddress(QHostAddress::LocalHostIPv6);
    snapshot.port = 5000;
    snapshot.framing = QStringLiteral("fixed:16");
    snapshot.processStartMs = 1700000000123;
    snapshot.nowMs = snapshot.processStartMs + 61500;
    snapshot.version = QStringLiteral("1.2.3");

    const Scrape scrape = parse(PrometheusText::render(snapshot));
    QVERIFY2(scrape.error.isEmpty(), qPrintable(scrape.error));
    const QString histogramError =
        checkHistogram(scrape, QStringLiteral("echoscope_message_size_bytes"));
    QVERIFY2(histogramError.isEmpty(), qPrintable(histogramError));

    QCOMPARE(scrape.types.value(QStringLiteral("echoscope_bytes_echoed_total")),
             QStringLiteral("counter"));
    QCOMPARE(scrape.types.value(QStringLiteral("echoscope_clients")), QStringLiteral("gauge"));
    QCOMPARE(scrape.types.value(QStringLiteral("echoscope_message_size_bytes")),
             QStringLiteral("histogram"));
    QCOMPARE(scrape.count(QStringLiteral("echoscope_clients")), 3);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_clients_peak")), 7);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_connections_accepted_total")), 12);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_bytes_received_total")), 1000);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_bytes_echoed_total")), 990);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_messages_received_total")), 6);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_messages_echoed_total")), 5);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_server_starts_total")), 2);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_disconnects_total{reason=\"kicked\"}")), 4);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_disconnects_total{reason=\"closed_by_peer\"}")),
             5);
    QCOMPARE(
        scrape.count(QStringLiteral("echoscope_connections_refused_total{reason=\"max_clients\"}")),
        2);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_listening")), 1);
    QVERIFY(scrape.has(QStringLiteral(
        "echoscope_listener_info{address=\"::1\",port=\"5000\",framing=\"fixed:16\"}")));
    QVERIFY(scrape.has(QStringLiteral("echoscope_build_info{version=\"1.2.3\",qt_version=\"%1\"}")
                           .arg(QLatin1String(qVersion()))));
    QCOMPARE(scrape.value(QStringLiteral("echoscope_uptime_seconds")), 61.5);
    QCOMPARE(scrape.value(QStringLiteral("echoscope_start_time_seconds")), 1700000000.123);

    // Buckets: 0 | 1 | 2-3 | ... | 1024-2047 | ... | 2^30 and up (in +Inf only).
    QCOMPARE(scrape.count(bucketKey(0)), 1);
    QCOMPARE(scrape.count(bucketKey(1)), 2);
    QCOMPARE(scrape.count(bucketKey(3)), 4);
    QCOMPARE(scrape.count(bucketKey(1023)), 4);
    QCOMPARE(scrape.count(bucketKey(2047)), 5);
    QCOMPARE(scrape.count(bucketKey((qint64(1) << 30) - 1)), 5);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_message_size_bytes_bucket{le=\"+Inf\"}")), 6);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_message_size_bytes_count")), 6);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_message_size_bytes_sum")),
             snapshot.totals.messageBytesIn);

    // Stopped: no listener info sample, but its family is still declared.
    snapshot.listening = false;
    const Scrape stopped = parse(PrometheusText::render(snapshot));
    QVERIFY2(stopped.error.isEmpty(), qPrintable(stopped.error));
    QCOMPARE(stopped.count(QStringLiteral("echoscope_listening")), 0);
    QVERIFY(stopped.types.contains(QStringLiteral("echoscope_listener_info")));
    for (auto it = stopped.samples.cbegin(); it != stopped.samples.cend(); ++it)
        QVERIFY2(!it.key().startsWith(QLatin1String("echoscope_listener_info")),
                 qPrintable(it.key()));
}

void tst_Metrics::escapesLabelValues()
{
    QCOMPARE(PrometheusText::escapeLabelValue(u"plain"), QStringLiteral("plain"));
    QCOMPARE(PrometheusText::escapeLabelValue(u"a\"b\\c\nd"), QStringLiteral("a\\\"b\\\\c\\nd"));

    MetricsSnapshot snapshot;
    snapshot.version = QStringLiteral("1.0 \"beta\"\\\n2");
    const Scrape scrape = parse(PrometheusText::render(snapshot));
    QVERIFY2(scrape.error.isEmpty(), qPrintable(scrape.error));
}

void tst_Metrics::refusalLabels()
{
    const QHostAddress local(QHostAddress::LocalHost);
    const NetworkFilter deny({}, {{local, 32}});
    QVERIFY(!deny.refusalReason(local).isEmpty());
    QCOMPARE(Refusal::label(deny.refusalKind(local)), QStringLiteral("denied"));
    const NetworkFilter allow({{QHostAddress(QStringLiteral("10.0.0.0")), 8}}, {});
    QVERIFY(!allow.refusalReason(local).isEmpty());
    QCOMPARE(Refusal::label(allow.refusalKind(local)), QStringLiteral("not_allowed"));
    QVERIFY(!allow.refusalReason(QHostAddress()).isEmpty());
    QCOMPARE(Refusal::label(allow.refusalKind(QHostAddress())), QStringLiteral("unknown_peer"));
    // Each reason has its own label (max clients is checked over a real socket below).
    QStringList labels;
    for (RefusalReason reason : Refusal::all())
        labels.append(Refusal::label(reason));
    QCOMPARE(labels, (QStringList{QStringLiteral("max_clients"), QStringLiteral("denied"),
                                  QStringLiteral("not_allowed"), QStringLiteral("unknown_peer"),
                                  QStringLiteral("out_of_descriptors")}));
    QCOMPARE(MetricsCollector::disconnectLabel(DisconnectReason::MessageTooLarge),
             QStringLiteral("message_too_large"));
}

void tst_Metrics::scrapeMatchesTraffic_data()
{
    addThreadRows();
}

void tst_Metrics::scrapeMatchesTraffic()
{
    QFETCH(int, threads);
    EchoServer server;
    MetricsExporter exporter(&server);
    QVERIFY2(exporter.start(QStringLiteral("127.0.0.1"), 0), qPrintable(exporter.errorString()));
    QVERIFY(exporter.serverPort() != 0);
    QCOMPARE(exporter.url().toString(),
             QStringLiteral("http://127.0.0.1:%1/metrics").arg(exporter.serverPort()));

    ServerConfig config = testConfig(threads);
    config.framing.mode = FramingMode::Length;
    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QSignalSpy disconnected(&server, &EchoServer::clientDisconnected);
    QVERIFY2(server.start(config), qPrintable(server.errorString()));

    TestClient stays;
    TestClient kicked;
    QVERIFY(stays.connectTo(QHostAddress::LocalHost, server.serverPort()));
    QVERIFY(connected.wait(kTimeoutMs));
    QVERIFY(kicked.connectTo(QHostAddress::LocalHost, server.serverPort()));
    QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 2, kTimeoutMs);
    const quint64 kickedId = connected.at(1).at(0).value<quint64>();

    const QList<int> staysSizes = {0, 1, 5};
    const QList<int> kickedSizes = {100, 1000, 70000};
    QVERIFY(sendMessages(&stays, staysSizes, 1));
    QVERIFY(sendMessages(&kicked, kickedSizes, 2));
    QVERIFY(server.disconnectClient(kickedId));
    QVERIFY(disconnected.wait(kTimeoutMs));
    QTRY_VERIFY_WITH_TIMEOUT(kicked.closed, kTimeoutMs);

    const Response response = request(exporter.url());
    QCOMPARE(response.error, QNetworkReply::NoError);
    QCOMPARE(response.status, 200);
    QCOMPARE(response.contentType, QByteArray(PrometheusText::kContentType));
    const Scrape scrape = parse(response.body);
    QVERIFY2(scrape.error.isEmpty(), qPrintable(scrape.error));
    const QString histogramError =
        checkHistogram(scrape, QStringLiteral("echoscope_message_size_bytes"));
    QVERIFY2(histogramError.isEmpty(), qPrintable(histogramError));

    qint64 sent = 0;
    qint64 payloadBytes = 0;
    for (int size : staysSizes + kickedSizes) {
        sent += 4 + size;
        payloadBytes += size;
    }
    QCOMPARE(scrape.count(QStringLiteral("echoscope_bytes_received_total")), sent);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_bytes_echoed_total")),
             qint64(stays.received.size() + kicked.received.size()));
    QCOMPARE(scrape.count(QStringLiteral("echoscope_bytes_echoed_total")), sent);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_messages_received_total")), 6);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_messages_echoed_total")), 6);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_connections_accepted_total")), 2);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_clients")), 1);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_clients_peak")), 2);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_disconnects_total{reason=\"kicked\"}")), 1);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_disconnects_total{reason=\"closed_by_peer\"}")),
             0);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_listening")), 1);
    QVERIFY(scrape.has(
        QStringLiteral(
            "echoscope_listener_info{address=\"127.0.0.1\",port=\"%1\",framing=\"length\"}")
            .arg(server.serverPort())));
    // 0 | 1 | 5 in 4-7 | 100 in 64-127 | 1000 in 512-1023 | 70000 in 65536-131071
    QCOMPARE(scrape.count(bucketKey(0)), 1);
    QCOMPARE(scrape.count(bucketKey(1)), 2);
    QCOMPARE(scrape.count(bucketKey(3)), 2);
    QCOMPARE(scrape.count(bucketKey(7)), 3);
    QCOMPARE(scrape.count(bucketKey(63)), 3);
    QCOMPARE(scrape.count(bucketKey(127)), 4);
    QCOMPARE(scrape.count(bucketKey(1023)), 5);
    QCOMPARE(scrape.count(bucketKey(65535)), 5);
    QCOMPARE(scrape.count(bucketKey(131071)), 6);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_message_size_bytes_count")), 6);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_message_size_bytes_sum")), payloadBytes);
    QCOMPARE(exporter.scrapeCount(), 1);
}

void tst_Metrics::countersSurviveStopAndStart()
{
    EchoServer server;
    MetricsExporter exporter(&server);
    QVERIFY2(exporter.start(QStringLiteral("localhost"), 0), qPrintable(exporter.errorString()));
    ServerConfig config = testConfig(1);
    config.framing.mode = FramingMode::Length;
    QVERIFY2(server.start(config), qPrintable(server.errorString()));

    TestClient first;
    QVERIFY(first.connectTo(QHostAddress::LocalHost, server.serverPort()));
    QVERIFY(sendMessages(&first, {10, 20}, 3));
    server.stop(); // `first` ends with reason "server stopped"

    const Scrape stopped = parse(request(exporter.url()).body);
    QVERIFY2(stopped.error.isEmpty(), qPrintable(stopped.error));
    QCOMPARE(stopped.count(QStringLiteral("echoscope_listening")), 0);
    QCOMPARE(stopped.count(QStringLiteral("echoscope_clients")), 0);
    QCOMPARE(stopped.count(QStringLiteral("echoscope_bytes_received_total")), 38);
    QCOMPARE(stopped.count(QStringLiteral("echoscope_messages_received_total")), 2);
    QCOMPARE(
        stopped.count(QStringLiteral("echoscope_disconnects_total{reason=\"server_stopped\"}")), 1);

    // A new run: EchoServer::totals() starts from zero, the metrics go on from 38 bytes.
    QVERIFY2(server.start(config), qPrintable(server.errorString()));
    QCOMPARE(server.totals().bytesIn, 0);
    TestClient second;
    QVERIFY(second.connectTo(QHostAddress::LocalHost, server.serverPort()));
    QVERIFY(sendMessages(&second, {100}, 4));
    const Scrape restarted = parse(request(exporter.url()).body);
    QVERIFY2(restarted.error.isEmpty(), qPrintable(restarted.error));
    QCOMPARE(restarted.count(QStringLiteral("echoscope_listening")), 1);
    QCOMPARE(restarted.count(QStringLiteral("echoscope_server_starts_total")), 2);
    QCOMPARE(restarted.count(QStringLiteral("echoscope_clients")), 1);
    QCOMPARE(restarted.count(QStringLiteral("echoscope_connections_accepted_total")), 2);
    QCOMPARE(restarted.count(QStringLiteral("echoscope_bytes_received_total")), 38 + 104);
    QCOMPARE(restarted.count(QStringLiteral("echoscope_bytes_echoed_total")), 38 + 104);
    QCOMPARE(restarted.count(QStringLiteral("echoscope_messages_received_total")), 3);
    QCOMPARE(restarted.count(QStringLiteral("echoscope_message_size_bytes_count")), 3);
    QCOMPARE(restarted.count(QStringLiteral("echoscope_message_size_bytes_sum")), 130);
    // No counter of the first scrape went down.
    for (auto it = stopped.samples.cbegin(); it != stopped.samples.cend(); ++it) {
        const QString family = familyOf(it.key().section(QLatin1Char('{'), 0, 0), stopped.types);
        if (stopped.types.value(family) == QLatin1String("gauge"))
            continue;
        QVERIFY2(restarted.value(it.key()) >= it.value(), qPrintable(it.key()));
    }
}

void tst_Metrics::countsRefusals()
{
    EchoServer server;
    MetricsExporter exporter(&server);
    QVERIFY2(exporter.start(QStringLiteral("127.0.0.1"), 0), qPrintable(exporter.errorString()));
    ServerConfig config = testConfig(1);
    config.maxClients = 1;
    QSignalSpy connected(&server, &EchoServer::clientConnected);
    QSignalSpy refused(&server, &EchoServer::clientRefused);
    QVERIFY2(server.start(config), qPrintable(server.errorString()));
    TestClient served;
    QVERIFY(served.connectTo(QHostAddress::LocalHost, server.serverPort()));
    QVERIFY(connected.wait(kTimeoutMs));
    TestClient turnedAway;
    QVERIFY(turnedAway.connectTo(QHostAddress::LocalHost, server.serverPort()));
    QVERIFY(refused.wait(kTimeoutMs));

    const Scrape scrape = parse(request(exporter.url()).body);
    QVERIFY2(scrape.error.isEmpty(), qPrintable(scrape.error));
    QCOMPARE(
        scrape.count(QStringLiteral("echoscope_connections_refused_total{reason=\"max_clients\"}")),
        1);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_connections_refused_total{reason=\"denied\"}")),
             0);
    QCOMPARE(scrape.count(QStringLiteral("echoscope_connections_accepted_total")), 1);
}

// UDP refusals count too, the ones logged one by one and the ones only summarised.
void tst_Metrics::countsUdpRefusalsPastTheLogBudget()
{
    ServerConfig config = testConfig(1);
    config.udpEcho = true;
    config.udpPort = 0;
    config.maxUdpPeers = 1;
    EchoServer server;
    MetricsCollector collector(&server, 0);
    QVERIFY2(server.start(config), qPrintable(server.errorString()));
    QUdpSocket tracked;
    QUdpSocket refused;
    const QHostAddress local(QHostAddress::LocalHost);
    QVERIFY(tracked.bind(local, 0));
    QVERIFY(refused.bind(local, 0));
    QCOMPARE(tracked.writeDatagram("in", local, server.udpPort()), qint64(2));
    QTRY_COMPARE_WITH_TIMEOUT(server.totals().clientsNow, 1, kTimeoutMs);
    constexpr int kRefused = 60; // far past the per-second budget of logged refusals
    for (int i = 0; i < kRefused; ++i)
        QCOMPARE(refused.writeDatagram("no", local, server.udpPort()), qint64(2));
    QTRY_COMPARE_WITH_TIMEOUT(server.totals().clientsRefused, qint64(kRefused), kTimeoutMs);
    // The summary of the rest comes at the end of its one-second window.
    QTRY_COMPARE_WITH_TIMEOUT(collector.snapshot().refusals.value(QStringLiteral("max_clients")),
                              qint64(kRefused), kTimeoutMs);
    QCOMPARE(collector.snapshot().refusals.value(QStringLiteral("other")), qint64(0));
}

// A TCP client, a UDP peer and a WebSocket client (a real QWebSocket) are counted under
// protocol "tcp", "udp" and "ws"; a refused upgrade and a protocol error are disconnect
// reasons with series of their own, present at 0 before they happen.
void tst_Metrics::countsByProtocolAndWebSocketFailures()
{
    ServerConfig config = testConfig(1);
    config.udpEcho = true;
    config.udpPort = 0;
    config.webSocketEcho = true;
    config.webSocketPort = 0;
    EchoServer server;
    MetricsCollector collector(&server, 0);
    QVERIFY2(server.start(config), qPrintable(server.errorString()));
    QVERIFY(server.webSocketPort() != 0);

    Scrape before = parse(PrometheusText::render(collector.snapshot()));
    QVERIFY2(before.error.isEmpty(), qPrintable(before.error));
    for (const char *protocol : {"tcp", "udp", "ws"}) {
        QCOMPARE(before.count(QStringLiteral("echoscope_connections_by_protocol_total{protocol="
                                             "\"%1\"}")
                                  .arg(QLatin1String(protocol))),
                 0);
        QCOMPARE(before.count(QStringLiteral("echoscope_clients_by_protocol{protocol=\"%1\"}")
                                  .arg(QLatin1String(protocol))),
                 0);
    }
    for (const char *reason : {"websocket_handshake_failed", "protocol_error",
                               "tls_handshake_failed", "port_unreachable", "closed_by_fault"})
        QCOMPARE(before.count(QStringLiteral("echoscope_disconnects_total{reason=\"%1\"}")
                                  .arg(QLatin1String(reason))),
                 0);

    const QHostAddress local(QHostAddress::LocalHost);
    TestClient tcp;
    QVERIFY(tcp.connectTo(local, server.serverPort()));
    QUdpSocket udp;
    QVERIFY(udp.bind(local, 0));
    QCOMPARE(udp.writeDatagram("in", local, server.udpPort()), qint64(2));
    QWebSocket ws;
    ws.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/metrics-test").arg(server.webSocketPort())));
    QTRY_COMPARE_WITH_TIMEOUT(ws.state(), QAbstractSocket::ConnectedState, kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(server.totals().clientsNow, 3, kTimeoutMs);

    Scrape during = parse(PrometheusText::render(collector.snapshot()));
    QVERIFY2(during.error.isEmpty(), qPrintable(during.error));
    QCOMPARE(during.types.value(QStringLiteral("echoscope_clients_by_protocol")),
             QStringLiteral("gauge"));
    QCOMPARE(during.types.value(QStringLiteral("echoscope_connections_by_protocol_total")),
             QStringLiteral("counter"));
    for (const char *protocol : {"tcp", "udp", "ws"}) {
        const QString key = QLatin1String(protocol);
        QCOMPARE(
            during.count(QStringLiteral("echoscope_connections_by_protocol_total{protocol=\"%1\"}")
                             .arg(key)),
            1);
        QCOMPARE(
            during.count(QStringLiteral("echoscope_clients_by_protocol{protocol=\"%1\"}").arg(key)),
            1);
    }

    // Not an upgrade: refused with 426, a disconnect of its own reason, counted as ws.
    QSignalSpy disconnected(&server, &EchoServer::clientDisconnected);
    TestClient notUpgrade;
    QVERIFY(notUpgrade.connectTo(local, server.webSocketPort()));
    notUpgrade.socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QTRY_VERIFY_WITH_TIMEOUT(
        collector.snapshot().disconnects.value(QStringLiteral("websocket_handshake_failed")) == 1,
        kTimeoutMs);
    ws.close();
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 2, kTimeoutMs);

    const Scrape after = parse(PrometheusText::render(collector.snapshot()));
    QVERIFY2(after.error.isEmpty(), qPrintable(after.error));
    QCOMPARE(
        after.count(QStringLiteral("echoscope_connections_by_protocol_total{protocol=\"ws\"}")), 2);
    QCOMPARE(after.count(QStringLiteral("echoscope_clients_by_protocol{protocol=\"ws\"}")), 0);
    QCOMPARE(after.count(QStringLiteral("echoscope_clients_by_protocol{protocol=\"tcp\"}")), 1);
    QCOMPARE(after.count(QStringLiteral("echoscope_clients_by_protocol{protocol=\"udp\"}")), 1);
    QCOMPARE(after.count(QStringLiteral(
                 "echoscope_disconnects_total{reason=\"websocket_handshake_failed\"}")),
             1);
    QCOMPARE(after.count(QStringLiteral("echoscope_disconnects_total{reason=\"closed_by_peer\"}")),
             1);
}

void tst_Metrics::splitsTrafficByProtocol_data()
{
    addThreadRows();
}

// Real TCP, WebSocket and UDP clients: each protocol's series carries exactly the bytes
// and messages its own clients sent and got back, the four families sum to their
// unlabelled totals, and a Stop carries them over like every other counter.
void tst_Metrics::splitsTrafficByProtocol()
{
    QFETCH(int, threads);
    ServerConfig config = testConfig(threads);
    config.framing.mode = FramingMode::Length; // the TCP port; WebSocket messages are messages
    config.udpEcho = true;
    config.udpPort = 0;
    config.webSocketEcho = true;
    config.webSocketPort = 0;
    EchoServer server;
    MetricsExporter exporter(&server);
    QVERIFY2(exporter.start(QStringLiteral("127.0.0.1"), 0), qPrintable(exporter.errorString()));
    QVERIFY2(server.start(config), qPrintable(server.errorString()));
    const QHostAddress local(QHostAddress::LocalHost);

    // TCP: three length-prefixed messages, each echo waited for.
    const QList<int> tcpSizes = {3, 300, 70000};
    TestClient tcp;
    QVERIFY(tcp.connectTo(local, server.serverPort()));
    QVERIFY(sendMessages(&tcp, tcpSizes, 11));
    qint64 tcpBytes = 0;
    for (int size : tcpSizes)
        tcpBytes += 4 + size;
    QCOMPARE(qint64(tcp.received.size()), tcpBytes);

    // WebSocket: a text, an empty binary and a 70,000-byte binary message. What the server
    // counts is payload (frame headers are not messages' bytes), as the table shows.
    QWebSocket ws;
    QByteArray wsEchoed;
    int wsEchoes = 0;
    connect(&ws, &QWebSocket::textMessageReceived, this, [&](const QString &text) {
        wsEchoed += text.toUtf8();
        ++wsEchoes;
    });
    connect(&ws, &QWebSocket::binaryMessageReceived, this, [&](const QByteArray &data) {
        wsEchoed += data;
        ++wsEchoes;
    });
    ws.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/split").arg(server.webSocketPort())));
    QTRY_COMPARE_WITH_TIMEOUT(ws.state(), QAbstractSocket::ConnectedState, kTimeoutMs);
    const QString text = QStringLiteral("h\u00e9llo, metrics"); // 15 bytes in UTF-8
    const QByteArray big = payload(70000, 12);
    QCOMPARE(ws.sendTextMessage(text), qint64(text.toUtf8().size()));
    QCOMPARE(ws.sendBinaryMessage(QByteArray()), qint64(0));
    QCOMPARE(ws.sendBinaryMessage(big), qint64(big.size()));
    const QByteArray wsSent = text.toUtf8() + big;
    QTRY_COMPARE_WITH_TIMEOUT(wsEchoes, 3, kTimeoutMs);
    QCOMPARE(wsEchoed, wsSent);

    // UDP: two datagrams, each echoed.
    QUdpSocket udp;
    QVERIFY(udp.bind(local, 0));
    const QByteArray datagrams[] = {payload(10, 13), payload(1200, 14)};
    qint64 udpBytes = 0;
    for (const QByteArray &datagram : datagrams) {
        QCOMPARE(udp.writeDatagram(datagram, local, server.udpPort()), qint64(datagram.size()));
        udpBytes += datagram.size();
    }
    qint64 udpEchoed = 0;
    QVERIFY(QTest::qWaitFor(
        [&] {
            while (udp.hasPendingDatagrams())
                udpEchoed += udp.receiveDatagram().data().size();
            return udpEchoed >= udpBytes;
        },
        kTimeoutMs));
    QCOMPARE(udpEchoed, udpBytes);

    // The echoed counters are of bytes the kernel took; the echoes are in, so they are
    // final (a message's echo is counted when written whole).
    const auto check = [&](const Scrape &scrape) {
        QVERIFY2(scrape.error.isEmpty(), qPrintable(scrape.error));
        const QHash<QString, QList<qint64>> expected = {
            // protocol -> bytes received, bytes echoed, messages received, messages echoed
            {QStringLiteral("tcp"), {tcpBytes, tcpBytes, 3, 3}},
            {QStringLiteral("ws"), {wsSent.size(), wsSent.size(), 3, 3}},
            {QStringLiteral("udp"), {udpBytes, udpBytes, 2, 2}},
        };
        const char *families[] = {"bytes_received", "bytes_echoed", "messages_received",
                                  "messages_echoed"};
        for (int f = 0; f < 4; ++f) {
            const QString family =
                QStringLiteral("echoscope_%1_by_protocol_total").arg(QLatin1String(families[f]));
            QCOMPARE(scrape.types.value(family), QStringLiteral("counter"));
            qint64 sum = 0;
            for (auto it = expected.cbegin(); it != expected.cend(); ++it) {
                const QString key = QStringLiteral("%1{protocol=\"%2\"}").arg(family, it.key());
                QVERIFY2(scrape.has(key), qPrintable(key));
                QCOMPARE(scrape.count(key), it.value().at(f));
                sum += scrape.count(key);
            }
            // Exactly the three protocols, summing to the family without the label.
            int series = 0;
            for (const auto &[key, value] : scrape.inOrder)
                series += key.startsWith(family + QLatin1Char('{')) ? 1 : 0;
            QCOMPARE(series, 3);
            QCOMPARE(
                sum,
                scrape.count(QStringLiteral("echoscope_%1_total").arg(QLatin1String(families[f]))));
        }
    };

    const Response live = request(exporter.url());
    QCOMPARE(live.status, 200);
    check(parse(live.body));
    if (QTest::currentTestFailed())
        return;

    // The WebSocket client leaves (its counters retire), then the server stops and starts
    // again: the same figures, carried over.
    QSignalSpy disconnected(&server, &EchoServer::clientDisconnected);
    ws.close();
    QVERIFY(disconnected.wait(kTimeoutMs));
    check(parse(request(exporter.url()).body));
    if (QTest::currentTestFailed())
        return;
    server.stop();
    QVERIFY2(server.start(config), qPrintable(server.errorString()));
    check(parse(request(exporter.url()).body));
}

void tst_Metrics::onlyGetMetrics()
{
    EchoServer server;
    MetricsExporter exporter(&server);
    QVERIFY2(exporter.start(QStringLiteral("::1"), 0), qPrintable(exporter.errorString()));
    QCOMPARE(exporter.url().toString(),
             QStringLiteral("http://[::1]:%1/metrics").arg(exporter.serverPort()));

    const Response metrics = request(exporter.url());
    QCOMPARE(metrics.status, 200);
    const Scrape scrape = parse(metrics.body);
    QVERIFY2(scrape.error.isEmpty(), qPrintable(scrape.error));
    QCOMPARE(scrape.count(QStringLiteral("echoscope_listening")), 0);

    const Response missing = request(pathOf(exporter, QStringLiteral("/nothing")));
    QCOMPARE(missing.status, 404);
    QVERIFY2(missing.body.contains("/metrics"), missing.body.constData());
    QCOMPARE(request(pathOf(exporter, QStringLiteral("/metrics/extra"))).status, 404);
    QCOMPARE(request(pathOf(exporter, QStringLiteral("/metricsx"))).status, 404);

    const Response post = request(exporter.url(), "POST");
    QCOMPARE(post.status, 405);
    QCOMPARE(post.allow, QByteArray("GET"));
    QCOMPARE(request(exporter.url(), "DELETE").status, 405);

    const Response index = request(pathOf(exporter, QStringLiteral("/")));
    QCOMPARE(index.status, 200);
    QVERIFY2(index.body.contains("/metrics"), index.body.constData());
    QCOMPARE(exporter.scrapeCount(), 1); // only the one GET /metrics
}

void tst_Metrics::listenFailureNamesPortAndReason()
{
    QTcpServer taken;
    QVERIFY(taken.listen(QHostAddress::LocalHost, 0));
    EchoServer server;
    MetricsExporter exporter(&server);
    QSignalSpy started(&exporter, &MetricsExporter::started);
    QVERIFY(!exporter.start(QStringLiteral("127.0.0.1"), taken.serverPort()));
    QVERIFY(!exporter.isListening());
    QCOMPARE(started.size(), 0);
    const QString error = exporter.errorString();
    QVERIFY2(error.contains(QStringLiteral("127.0.0.1 port %1").arg(taken.serverPort())),
             qPrintable(error));
    const QString inUse = EchoTest::tcpPortInUseText(QHostAddress::LocalHost, taken.serverPort());
    QVERIFY(!inUse.isEmpty());
    QVERIFY2(error.endsWith(QStringLiteral(": ") + inUse), qPrintable(error));
    QVERIFY2(error.startsWith(QLatin1String("cannot listen for metrics")), qPrintable(error));

    // It can start on another port afterwards.
    QVERIFY2(exporter.start(QStringLiteral("127.0.0.1"), 0), qPrintable(exporter.errorString()));
    QCOMPARE(started.size(), 1);
    QVERIFY(exporter.errorString().isEmpty());
}

void tst_Metrics::badAddressIsNamed()
{
    EchoServer server;
    MetricsExporter exporter(&server);
    QVERIFY(!exporter.start(QStringLiteral("nowhere.example"), 0));
    QVERIFY2(exporter.errorString().contains(QLatin1String("\"nowhere.example\"")),
             qPrintable(exporter.errorString()));
}

void tst_Metrics::boundsScrapers()
{
    EchoServer server;
    MetricsExporter exporter(&server);
    QVERIFY2(exporter.start(QStringLiteral("127.0.0.1"), 0), qPrintable(exporter.errorString()));

    // A request that never ends is answered 413 at kMaxRequestBytes and closed.
    QTcpSocket endless;
    QByteArray endlessAnswer;
    QObject::connect(&endless, &QTcpSocket::readyRead, &endless, [&] {
        if (endless.isReadable())
            endlessAnswer += endless.readAll();
    });
    endless.connectToHost(QHostAddress::LocalHost, exporter.serverPort());
    QVERIFY(endless.waitForConnected(kTimeoutMs));
    endless.write("GET /metrics HTTP/1.1\r\nX-Padding: ");
    endless.write(QByteArray(MetricsExporter::kMaxRequestBytes * 2, 'a'));
    QTRY_COMPARE_WITH_TIMEOUT(endless.state(), QAbstractSocket::UnconnectedState, kTimeoutMs);
    QVERIFY2(endlessAnswer.startsWith("HTTP/1.1 413 "), endlessAnswer.constData());

    // kMaxConnections idle connections are kept; one more is answered 503 and closed.
    std::vector<std::unique_ptr<QTcpSocket>> idle;
    for (int i = 0; i < MetricsExporter::kMaxConnections; ++i) {
        idle.push_back(std::make_unique<QTcpSocket>());
        idle.back()->connectToHost(QHostAddress::LocalHost, exporter.serverPort());
        QVERIFY(idle.back()->waitForConnected(kTimeoutMs));
    }
    QTcpSocket extra;
    QByteArray extraAnswer;
    QObject::connect(&extra, &QTcpSocket::readyRead, &extra, [&] {
        if (extra.isReadable())
            extraAnswer += extra.readAll();
    });
    extra.connectToHost(QHostAddress::LocalHost, exporter.serverPort());
    QTRY_COMPARE_WITH_TIMEOUT(extra.state(), QAbstractSocket::UnconnectedState, kTimeoutMs);
    QVERIFY2(extraAnswer.startsWith("HTTP/1.1 503 "), extraAnswer.constData());
    for (const auto &socket : idle)
        QCOMPARE(socket->state(), QAbstractSocket::ConnectedState);

    // Once they go, scrapes are served again.
    idle.clear();
    QTRY_COMPARE_WITH_TIMEOUT(request(exporter.url()).status, 200, kTimeoutMs);
}

QTEST_GUILESS_MAIN(tst_Metrics)
#include "tst_metrics.moc"
