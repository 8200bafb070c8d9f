#include "controlapi.h"

#include "controlhttpserver.h"
#include "echoserver.h"
#include "textescape.h"
#include "trafficevent.h"

#include <QFile>
#include <QRandomGenerator>

namespace Echoscope {

ControlApi::ControlApi(EchoServer *server, QObject *parent) : QObject(parent), m_server(server)
{
    connect(server, &EchoServer::eventOccurred, this, &ControlApi::appendEvent);
}

ControlApi::~ControlApi()
{
    stop();
}

bool ControlApi::start(const QString &address, quint16 port, const QString &token)
{
    stop();
    if (token.isEmpty()) {
        m_errorString = QStringLiteral("the control API needs a token");
        return false;
    }
    auto *http = new ControlHttpServer(this);
    HttpListener *listener = HttpListener::serve(http, m_limits, address, port,
                                                 QStringLiteral("the control API"), &m_errorString);
    if (!listener) {
        delete http;
        return false;
    }
    listener->setOwesAnswer([http](const QTcpSocket *socket) { return http->isWaiting(socket); });
    m_http = http;
    m_listener = listener;
    m_address = listener->serverAddress();
    m_port = listener->serverPort();
    m_token = token;
    m_errorString.clear();
    return true;
}

void ControlApi::stop()
{
    if (!m_http)
        return;
    delete m_http; // with the listener, every open connection and every waiting poll
    m_http = nullptr;
    m_listener = nullptr;
    m_address.clear();
    m_port = 0;
}

bool ControlApi::isListening() const
{
    return m_http != nullptr;
}

int ControlApi::openConnections() const
{
    return m_listener ? m_listener->openConnections() : 0;
}

int ControlApi::waitingPolls() const
{
    return m_http ? m_http->waitingPolls() : 0;
}

int ControlApi::pendingChanges() const
{
    return m_http ? m_http->pendingChanges() : 0;
}

QUrl ControlApi::url() const
{
    return isListening() ? HttpListener::localUrl(m_address, m_port, QStringLiteral("/api/v1"))
                         : QUrl();
}

void ControlApi::setLimits(const HttpListener::Limits &limits)
{
    m_limits = limits;
    if (m_listener)
        m_listener->setLimits(limits);
}

QString ControlApi::generateToken()
{
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator *random = QRandomGenerator::system();
    for (char &byte : bytes)
        byte = char(random->bounded(256));
    return QString::fromLatin1(bytes.toHex());
}

bool ControlApi::readTokenFile(const QString &path, QString *token, QString *error)
{
    QFile file(path);
    const QString named = TextEscape::escapeText(path); // the message is shown as it is
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read the control token file \"%1\": %2")
                     .arg(named, file.errorString());
        return false;
    }
#ifdef Q_OS_UNIX
    // Like ssh with a private key: a token others can read (or write) is no secret.
    const QFileDevice::Permissions permissions = file.permissions();
    const QFileDevice::Permissions others = QFileDevice::ReadGroup | QFileDevice::WriteGroup |
                                            QFileDevice::ExeGroup | QFileDevice::ReadOther |
                                            QFileDevice::WriteOther | QFileDevice::ExeOther;
    if (permissions & others) {
        const int mode = ((int(permissions) >> 12) & 07) << 6 |
                         ((int(permissions) >> 4) & 07) << 3 | (int(permissions) & 07);
        *error = QStringLiteral("the control token file \"%1\" has mode %2: others than its owner "
                                "may read it; make it the owner's alone (chmod 600 \"%1\")")
                     .arg(named, QStringLiteral("0%1").arg(mode, 3, 8, QLatin1Char('0')));
        return false;
    }
#endif
    const QByteArray line = file.readLine(4096).trimmed();
    if (line.isEmpty()) {
        *error = QStringLiteral("the control token file \"%1\" holds no token on its first line")
                     .arg(named);
        return false;
    }
    const QString read = QString::fromUtf8(line);
    if (read.size() < kMinTokenLength) {
        *error = QStringLiteral("the token in the control token file \"%1\" is %2 characters "
                                "long: at least %3 are needed")
                     .arg(named)
                     .arg(read.size())
                     .arg(kMinTokenLength);
        return false;
    }
    *token = read;
    return true;
}

void ControlApi::appendEvent(const TrafficEvent &event)
{
    m_eventLog.append(event);
    if (m_http)
        m_http->eventsAppended();
}

} // namespace Echoscope
