#include "prometheustext.h"

#include "metricscollector.h"

namespace Echoscope {

namespace {

// Builds the text one family at a time.
class Writer
{
public:
    void family(const char *name, const char *type, const char *help)
    {
        m_text += "# HELP ";
        m_text += name;
        m_text += ' ';
        m_text += help;
        m_text += "\n# TYPE ";
        m_text += name;
        m_text += ' ';
        m_text += type;
        m_text += '\n';
    }

    // labels: already `key="escaped value",...` without braces, or empty.
    void sample(const QByteArray &name, const QByteArray &labels, const QByteArray &value)
    {
        m_text += name;
        if (!labels.isEmpty()) {
            m_text += '{';
            m_text += labels;
            m_text += '}';
        }
        m_text += ' ';
        m_text += value;
        m_text += '\n';
    }
    void sample(const QByteArray &name, qint64 value)
    {
        sample(name, {}, QByteArray::number(value));
    }

    // A counter or gauge family with one sample and no labels.
    void single(const char *name, const char *type, const char *help, qint64 value)
    {
        family(name, type, help);
        sample(name, value);
    }

    // A family with one sample per label value.
    void labelled(const char *name, const char *type, const char *help, const char *label,
                  const QMap<QString, qint64> &values)
    {
        family(name, type, help);
        for (auto it = values.cbegin(); it != values.cend(); ++it)
            sample(name, labelPair(label, it.key()), QByteArray::number(it.value()));
    }

    static QByteArray labelPair(const char *key, const QString &value)
    {
        return QByteArray(key) + "=\"" + PrometheusText::escapeLabelValue(value).toUtf8() + '"';
    }

    QByteArray text() const { return m_text; }

private:
    QByteArray m_text;
};

QByteArray seconds(qint64 milliseconds)
{
    return QByteArray::number(double(milliseconds) / 1000.0, 'f', 3);
}

} // namespace

QString PrometheusText::escapeLabelValue(QStringView value)
{
    QString escaped;
    escaped.reserve(value.size());
    for (const QChar c : value) {
        if (c == QLatin1Char('\\'))
            escaped += QLatin1String("\\\\");
        else if (c == QLatin1Char('"'))
            escaped += QLatin1String("\\\"");
        else if (c == QLatin1Char('\n'))
            escaped += QLatin1String("\\n");
        else
            escaped += c;
    }
    return escaped;
}

QByteArray PrometheusText::render(const MetricsSnapshot &snapshot)
{
    const ServerTotals &totals = snapshot.totals;
    Writer out;

    out.family("echoscope_build_info", "gauge",
               "Echoscope's version and the Qt it runs on; always 1.");
    out.sample("echoscope_build_info",
               Writer::labelPair("version", snapshot.version) + ',' +
                   Writer::labelPair("qt_version", QString::fromLatin1(qVersion())),
               "1");
    out.family("echoscope_start_time_seconds", "gauge",
               "When the process started, in seconds since the Unix epoch.");
    out.sample("echoscope_start_time_seconds", {}, seconds(snapshot.processStartMs));
    out.family("echoscope_uptime_seconds", "gauge", "Seconds since the process started.");
    out.sample("echoscope_uptime_seconds", {},
               seconds(qMax<qint64>(0, snapshot.nowMs - snapshot.processStartMs)));

    out.single("echoscope_listening", "gauge",
               "1 while the echo server is listening, 0 while it is stopped.",
               snapshot.listening ? 1 : 0);
    out.family("echoscope_listener_info", "gauge",
               "Where the echo server listens and how it frames messages; present while it "
               "listens.");
    if (snapshot.listening) {
        out.sample("echoscope_listener_info",
                   Writer::labelPair("address", snapshot.address.toString()) + ',' +
                       Writer::labelPair("port", QString::number(snapshot.port)) + ',' +
                       Writer::labelPair("framing", snapshot.framing),
                   "1");
    }
    out.single("echoscope_server_starts_total", "counter",
               "Times the echo server started listening.", snapshot.serverStarts);

    out.single("echoscope_connections_accepted_total", "counter",
               "Client connections accepted and served.", totals.clientsTotal);
    out.labelled("echoscope_connections_refused_total", "counter",
                 "Client connections closed at once, by reason.", "reason", snapshot.refusals);
    out.labelled("echoscope_connections_by_protocol_total", "counter",
                 "Client connections accepted, by protocol: tcp, udp (each peer address and "
                 "port) or ws (WebSocket, ws:// and wss://).",
                 "protocol", snapshot.acceptedByProtocol);
    out.single("echoscope_clients", "gauge", "Clients connected now.", totals.clientsNow);
    out.labelled("echoscope_clients_by_protocol", "gauge",
                 "Clients connected now, by protocol: tcp, udp or ws.", "protocol",
                 snapshot.clientsByProtocol);
    out.single("echoscope_clients_peak", "gauge",
               "The most clients connected at once since the process started.", totals.clientsPeak);
    out.labelled("echoscope_disconnects_total", "counter", "Client connections ended, by reason.",
                 "reason", snapshot.disconnects);

    out.single("echoscope_bytes_received_total", "counter", "Bytes read from clients.",
               totals.bytesIn);
    out.single("echoscope_bytes_echoed_total", "counter",
               "Bytes echoed to clients (taken by the kernel).", totals.bytesOut);
    out.single("echoscope_messages_received_total", "counter",
               "Messages framed from what clients sent.", totals.messagesIn);
    out.single("echoscope_messages_echoed_total", "counter",
               "Messages whose echo was written whole.", totals.messagesOut);

    // The same four split by protocol, in families of their own rather than a protocol
    // label on the ones above: those keep their one unlabelled series (queries and alerts
    // on them go on working), and no family holds both a total and its parts, so a sum()
    // over any one of them never counts a byte twice. Each sums to its total exactly.
    const auto byProtocol = [&](qint64 ServerTotals::Traffic::*counter) {
        QMap<QString, qint64> values;
        for (IpProtocol protocol : kIpProtocols)
            values.insert(ipProtocolKey(protocol), totals.byProtocol[size_t(protocol)].*counter);
        return values;
    };
    out.labelled("echoscope_bytes_received_by_protocol_total", "counter",
                 "Bytes read from clients, by protocol: tcp, udp or ws (WebSocket payload).",
                 "protocol", byProtocol(&ServerTotals::Traffic::bytesIn));
    out.labelled("echoscope_bytes_echoed_by_protocol_total", "counter",
                 "Bytes echoed to clients (taken by the kernel), by protocol: tcp, udp or ws "
                 "(WebSocket payload).",
                 "protocol", byProtocol(&ServerTotals::Traffic::bytesOut));
    out.labelled("echoscope_messages_received_by_protocol_total", "counter",
                 "Messages framed from what clients sent, by protocol: tcp, udp or ws.", "protocol",
                 byProtocol(&ServerTotals::Traffic::messagesIn));
    out.labelled("echoscope_messages_echoed_by_protocol_total", "counter",
                 "Messages whose echo was written whole, by protocol: tcp, udp or ws.", "protocol",
                 byProtocol(&ServerTotals::Traffic::messagesOut));

    // Power-of-two buckets, as SizeHistogram keeps them: sizes are whole bytes, so bucket
    // k's upper bound 2^k - 1 is exact.
    const char *histogram = "echoscope_message_size_bytes";
    out.family(histogram, "histogram", "Payload size of the messages received, in bytes.");
    qint64 cumulative = 0;
    for (int bucket = 0; bucket < SizeHistogram::kBuckets - 1; ++bucket) {
        cumulative += totals.histogram.counts[size_t(bucket)];
        out.sample("echoscope_message_size_bytes_bucket",
                   Writer::labelPair("le", QString::number(SizeHistogram::bucketHigh(bucket))),
                   QByteArray::number(cumulative));
    }
    cumulative += totals.histogram.counts[size_t(SizeHistogram::kBuckets - 1)];
    out.sample("echoscope_message_size_bytes_bucket",
               Writer::labelPair("le", QStringLiteral("+Inf")), QByteArray::number(cumulative));
    out.sample("echoscope_message_size_bytes_sum", totals.messageBytesIn);
    // The buckets' total, not messagesIn: both are read from live counters a moment
    // apart, and _count must equal the +Inf bucket.
    out.sample("echoscope_message_size_bytes_count", cumulative);
    return out.text();
}

} // namespace Echoscope
