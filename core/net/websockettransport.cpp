#include "websockettransport.h"

#include "clientstats.h"
#include "clock.h"
#include "nativesocket.h"
#include "translations.h"

#include <QHash>
#include <QLoggingCategory>
#include <QSslCipher>
#include <QSslError>
#include <QSslSocket>
#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketCorsAuthenticator>
#include <QWebSocketHandshakeOptions>
#include <QWebSocketServer>

#include <functional>
#include <type_traits>

Q_LOGGING_CATEGORY(lcWebSocket, "echoscope.websocket", QtWarningMsg)

namespace Echoscope {

// The socket under Qt WebSockets, with two additions: a gate (closed, bytesAvailable()
// says 0, so Qt WebSockets reads no further frame; the socket's bounded buffer then
// stops taking from the kernel) and a window on everything written to it (the frames Qt
// WebSockets sends, pongs and close frames included).
class GatedSocketControl
{
public:
    virtual ~GatedSocketControl() = default;
    // Bytes in the socket's buffer, whatever the gate says.
    virtual qint64 rawBytesAvailable() const = 0;

    bool open = true;
    std::function<void(const char *, qint64)> written;
    // Plain ws:// until the upgrade is done: writes go straight to the kernel (see
    // GatedSocket::writeData).
    bool writeDirect = false;
};

namespace {

template<class Base>
class GatedSocket final : public Base, public GatedSocketControl
{
public:
    explicit GatedSocket(QObject *parent) : Base(parent) {}

    qint64 bytesAvailable() const override { return open ? Base::bytesAvailable() : 0; }
    qint64 rawBytesAvailable() const override { return Base::bytesAvailable(); }

protected:
    qint64 writeData(const char *data, qint64 size) override
    {
        qint64 sent = 0;
        if constexpr (std::is_same_v<Base, QTcpSocket>) {
            // The upgrade's answer (101, or a refusal) straight to the kernel while Qt's
            // write buffer is empty: once that buffer has held anything it keeps a 32 KiB
            // chunk for good (QRingBuffer keeps one block of its basic size), half the heap
            // of a client that never sends a message. What the kernel does not take now is
            // buffered by Qt, in order, as before. Not after the upgrade: Qt WebSockets
            // writes a frame's header and payload apart, and sent at once they would leave
            // as two segments (TCP_NODELAY), which cost pingpong 1 KiB about 17 %.
            if (writeDirect && size > 0 && Base::bytesToWrite() == 0 &&
                Base::state() == QAbstractSocket::ConnectedState &&
                NativeSocket::write(Base::socketDescriptor(), data, size, &sent) !=
                    NativeSocket::Result::Done)
                sent = 0; // nothing moved: Qt's own write reports what went wrong
        }
        const qint64 n = sent < size ? Base::writeData(data + sent, size - sent) : 0;
        if (n < 0 && sent == 0)
            return n;
        const qint64 taken = sent + qMax<qint64>(n, 0);
        if (taken > 0 && written)
            written(data, taken);
        return taken;
    }
};

// Qt WebSockets closes a connection whose frame stays incomplete this long.
constexpr int kQtFrameWaitSeconds = 5;

QString closeCodeName(quint16 code)
{
    // The names of RFC 6455, 7.4.1, for the log.
    switch (code) {
    case 1000:
        return WebSocketTransport::tr("normal closure");
    case 1001:
        return WebSocketTransport::tr("going away");
    case 1002:
        return WebSocketTransport::tr("protocol error");
    case 1003:
        return WebSocketTransport::tr("unsupported data");
    case 1007:
        return WebSocketTransport::tr("invalid payload data");
    case 1008:
        return WebSocketTransport::tr("policy violation");
    case 1009:
        return WebSocketTransport::tr("message too big");
    case 1010:
        return WebSocketTransport::tr("extension required");
    case 1011:
        return WebSocketTransport::tr("internal error");
    default:
        return QString();
    }
}

// The close frame the server sends when the session ends for this reason; 0: none (the
// connection is broken, or the peer's close was answered already).
QWebSocketProtocol::CloseCode closeCodeFor(DisconnectReason reason)
{
    switch (reason) {
    case DisconnectReason::ServerStopped:
        return QWebSocketProtocol::CloseCodeGoingAway;
    case DisconnectReason::MessageTooLarge:
        return QWebSocketProtocol::CloseCodeTooMuchData;
    case DisconnectReason::ProtocolError:
        return QWebSocketProtocol::CloseCodeProtocolError;
    case DisconnectReason::Kicked:
    case DisconnectReason::IdleTimeout:
    case DisconnectReason::FaultClose:
        return QWebSocketProtocol::CloseCodeNormal;
    default:
        return QWebSocketProtocol::CloseCode(0);
    }
}

// What is missing from an upgrade request: a text marked for translation and its argument,
// if any. The client is answered in English (a program reads it, in no particular
// language); the log says it in the user's language.
struct UpgradeProblem
{
    UpgradeProblem() = default;
    explicit UpgradeProblem(const char *text, const QString &argument = QString())
        : text(text), argument(argument)
    {}

    const char *text = nullptr; // nullptr: nothing is missing
    QString argument;

    bool isEmpty() const { return !text; }
    QString english() const { return fill(QString::fromLatin1(text)); }
    QString translated() const { return fill(WebSocketTransport::tr(text)); }

private:
    QString fill(const QString &t) const { return argument.isNull() ? t : t.arg(argument); }
};

// What Qt WebSockets needs of an upgrade request (RFC 6455, 4.2.1). It closes the
// connection without a word when something is missing; we answer first, saying what.
// Returns the problem, empty when the request has all of it; *status: 426 when it is not
// an upgrade request at all, else 400.
UpgradeProblem missingFromUpgrade(const QByteArray &header, int *status)
{
    *status = 400;
    const QList<QByteArray> lines = header.split('\n');
    const QList<QByteArray> request = lines.value(0).trimmed().split(' ');
    if (request.size() != 3 || !request.at(2).startsWith("HTTP/"))
        return UpgradeProblem{
            QT_TRANSLATE_NOOP("Echoscope::WebSocketTransport", "not an HTTP request")};
    QHash<QByteArray, QByteArray> fields;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines.at(i).indexOf(':');
        if (colon > 0) {
            const QByteArray name = lines.at(i).left(colon).trimmed().toLower();
            if (!fields.contains(name))
                fields.insert(name, lines.at(i).mid(colon + 1).trimmed());
        }
    }
    if (fields.value("upgrade").compare("websocket", Qt::CaseInsensitive) != 0) {
        *status = 426;
        return UpgradeProblem{
            QT_TRANSLATE_NOOP("Echoscope::WebSocketTransport",
                              "not a WebSocket upgrade request (no \"Upgrade: websocket\")")};
    }
    if (request.at(0) != "GET")
        return UpgradeProblem{QT_TRANSLATE_NOOP("Echoscope::WebSocketTransport",
                                                "the method is %1; an upgrade is a GET"),
                              QString::fromLatin1(request.at(0))};
    if (request.at(2) == "HTTP/1.0" || request.at(2) == "HTTP/0.9")
        return UpgradeProblem{
            QT_TRANSLATE_NOOP("Echoscope::WebSocketTransport", "%1; an upgrade needs HTTP/1.1"),
            QString::fromLatin1(request.at(2))};
    if (fields.value("host").isEmpty())
        return UpgradeProblem{QT_TRANSLATE_NOOP("Echoscope::WebSocketTransport", "no Host header")};
    bool connectionUpgrade = false;
    for (const QByteArray &token : fields.value("connection").split(','))
        connectionUpgrade =
            connectionUpgrade || token.trimmed().compare("upgrade", Qt::CaseInsensitive) == 0;
    if (!connectionUpgrade)
        return UpgradeProblem{QT_TRANSLATE_NOOP("Echoscope::WebSocketTransport",
                                                "the Connection header does not say Upgrade")};
    if (fields.value("sec-websocket-key").isEmpty())
        return UpgradeProblem{
            QT_TRANSLATE_NOOP("Echoscope::WebSocketTransport", "no Sec-WebSocket-Key header")};
    if (fields.value("sec-websocket-version").isEmpty())
        return UpgradeProblem{
            QT_TRANSLATE_NOOP("Echoscope::WebSocketTransport", "no Sec-WebSocket-Version header")};
    return UpgradeProblem();
}

QByteArray httpRefusal(int status, const QString &reason)
{
    const QByteArray body = "Echoscope: this port echoes WebSocket messages (ws://host:port/); " +
                            reason.toUtf8() + ".\n";
    QByteArray answer = status == 426 ? "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\n"
                                      : "HTTP/1.1 400 Bad Request\r\n";
    answer += "Connection: close\r\nSec-WebSocket-Version: 13\r\n"
              "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " +
              QByteArray::number(body.size()) + "\r\n\r\n" + body;
    return answer;
}

} // namespace

WebSocketTransport::WebSocketTransport(qintptr descriptor, const Options &options,
                                       WebSocketLog *log)
    : m_descriptor(descriptor), m_options(options), m_log(log)
{}

WebSocketTransport::~WebSocketTransport()
{
    if (m_closed)
        return;
    if (m_socket) {
        m_gate->written = nullptr;
        m_socket->abort(); // closes the descriptor; the objects die with their owner
    } else {
        NativeSocket::close(m_descriptor);
    }
}

void WebSocketTransport::start(TransportHandler *handler, QObject *owner)
{
    m_handler = handler;
    m_owner = owner;
    NativeSocket::prepare(m_descriptor); // TCP_NODELAY, no SIGPIPE; Qt keeps it non-blocking
    if (m_options.secure) {
        auto *socket = new GatedSocket<QSslSocket>(owner);
        m_socket = socket;
        m_gate = socket;
    } else {
        auto *socket = new GatedSocket<QTcpSocket>(owner);
        m_socket = socket;
        m_gate = socket;
    }
    // A whole frame must fit (Qt WebSockets reads a frame's payload only once all of it is
    // in the buffer); beyond that the kernel's window holds the client back.
    m_socket->setReadBufferSize(readBufferLimit());
    m_notices.attach(m_socket, m_handler, [this] { return !m_closed; });
    if (!m_socket->setSocketDescriptor(m_descriptor)) {
        const QString reason = m_socket->errorString();
        NativeSocket::close(m_descriptor);
        m_closed = true;
        m_handler->transportFailed(DisconnectReason::SocketError,
                                   tr("cannot use the connection for WebSocket: %1").arg(reason));
        return;
    }
    m_gate->written = [this](const char *data, qint64 size) { outgoingWritten(data, size); };
    m_gate->writeDirect = !m_options.secure;
    // Connected before Qt WebSockets connects its own, so this runs first on every arrival.
    QObject::connect(m_socket, &QTcpSocket::readyRead, owner, [this] { scanIncoming(); });
    QObject::connect(m_socket, &QTcpSocket::disconnected, owner, [this] { connectionEnding(); });
    QObject::connect(m_socket, &QTcpSocket::errorOccurred, owner,
                     [this](QAbstractSocket::SocketError error) { socketError(error); });
    QObject::connect(m_socket, &QTcpSocket::bytesWritten, owner, [this] { bytesWritten(); });
    if (!m_options.secure) {
        beginUpgrade();
        return;
    }
    auto *tls = static_cast<QSslSocket *>(m_socket);
    tls->setSslConfiguration(m_options.tlsConfiguration);
    QObject::connect(tls, &QSslSocket::encryptedBytesWritten, owner, [this] { bytesWritten(); });
    QObject::connect(tls, &QSslSocket::sslErrors, owner, [this](const QList<QSslError> &errors) {
        QStringList texts;
        for (const QSslError &error : errors)
            texts.append(error.errorString());
        m_sslErrors = texts.join(QStringLiteral("; "));
    });
    QObject::connect(tls, &QSslSocket::encrypted, owner, [this] { beginUpgrade(); });
    tls->startServerEncryption();
}

// Qt WebSockets reads the upgrade request and answers it (101, or 400 / 403 and a close).
void WebSocketTransport::beginUpgrade()
{
    if (m_closed)
        return;
    QObject *owner = m_owner;
    m_server = new QWebSocketServer(
        QStringLiteral("Echoscope"),
        m_options.secure ? QWebSocketServer::SecureMode : QWebSocketServer::NonSecureMode, owner);
    QObject::connect(
        m_server, &QWebSocketServer::originAuthenticationRequired, owner,
        [this](QWebSocketCorsAuthenticator *authenticator) { checkOrigin(authenticator); });
    QObject::connect(m_server, &QWebSocketServer::newConnection, owner, [this] { upgraded(); });
    QObject::connect(m_server, &QWebSocketServer::serverError, owner,
                     [this](QWebSocketProtocol::CloseCode) { upgradeRefused(); });
    m_server->handleConnection(m_socket);
}

// Called for every valid upgrade request, after Qt WebSockets took the request off the
// socket and before it looks for frames: from here on every byte is a frame, scanned.
void WebSocketTransport::checkOrigin(QWebSocketCorsAuthenticator *authenticator)
{
    m_scanning = true;
    m_scanned = 0;
    updateGate(); // closed until the session is told: the first frames wait in the buffer
    if (m_options.allowedOrigins.isEmpty())
        return;
    const QString origin = authenticator->origin();
    if (!m_options.allowedOrigins.contains(origin)) {
        authenticator->setAllowed(false);
        m_originRefused = origin.isEmpty() ? QStringLiteral("(none)") : origin;
    }
}

void WebSocketTransport::upgraded()
{
    if (m_closed || !m_server)
        return;
    m_webSocket = m_server->nextPendingConnection();
    QObject *owner = m_owner;
    m_server->deleteLater(); // we are inside its signal
    m_server = nullptr;
    if (!m_webSocket) {
        fail(DisconnectReason::WebSocketHandshakeFailed,
             tr("Qt WebSockets accepted the upgrade but made no connection"));
        return;
    }
    m_webSocket->setParent(owner);
    m_webSocket->setMaxAllowedIncomingFrameSize(quint64(m_options.maxMessageBytes));
    m_webSocket->setMaxAllowedIncomingMessageSize(quint64(m_options.maxMessageBytes));
    QObject::connect(m_webSocket, &QWebSocket::textMessageReceived, owner,
                     [this](const QString &message) { messageReceived(message.toUtf8(), true); });
    QObject::connect(m_webSocket, &QWebSocket::binaryMessageReceived, owner,
                     [this](const QByteArray &message) { messageReceived(message, false); });
    // After Qt WebSockets' own slot: what it left in the buffer has been scanned already.
    QObject::connect(m_socket, &QTcpSocket::readyRead, owner, [this] {
        m_scanned = m_gate->rawBytesAvailable();
        rearmReading();
    });
    m_gate->writeDirect = false; // see GatedSocket::writeData
    m_established = true;
    m_handler->transportEstablished(); // the session may turn reading off, or close
    if (m_closed)
        return;
    updateGate();
    resumeQt(); // frames that came with the request
}

void WebSocketTransport::upgradeRefused()
{
    if (m_closed || !m_server)
        return;
    const QString why = m_server->errorString();
    QString detail;
    if (!m_originRefused.isEmpty()) {
        detail = tr("answered HTTP 403: origin %1 is not an allowed origin").arg(m_originRefused);
    } else if (why.contains(QLatin1String("too large"))) {
        detail = tr("the request's header is too large (%1); closed without an answer").arg(why);
    } else {
        detail = tr("answered HTTP 400: %1").arg(why);
        if (why.contains(QLatin1String("Bad handshake")))
            detail += tr(" (not a WebSocket upgrade request)");
    }
    if (!m_requestLine.isEmpty())
        detail += tr("; the request was \"%1\"").arg(m_requestLine);
    fail(DisconnectReason::WebSocketHandshakeFailed, detail);
}

QList<TrafficEvent> WebSocketTransport::establishedEvents(ClientStats *stats) const
{
    QList<TrafficEvent> events;
    if (m_options.secure) {
        const QSslCipher cipher = static_cast<QSslSocket *>(m_socket)->sessionCipher();
        stats->setTlsSession(cipher.protocolString(), cipher.name(), cipher.usedBits());
        TrafficEvent tls;
        tls.kind = TrafficEvent::Kind::TlsEstablished;
        tls.text = QStringLiteral("%1, %2 (%3-bit)")
                       .arg(cipher.protocolString(), cipher.name())
                       .arg(cipher.usedBits());
        events.append(tls);
    }
    if (!m_webSocket)
        return events;
    WebSocketRequest request;
    const QUrl url = m_webSocket->requestUrl();
    request.resource = url.path(QUrl::FullyEncoded);
    if (request.resource.isEmpty())
        request.resource = QStringLiteral("/");
    if (url.hasQuery())
        request.resource += QLatin1Char('?') + url.query(QUrl::FullyEncoded);
    request.origin = m_webSocket->origin();
    request.requestedProtocols = m_webSocket->handshakeOptions().subprotocols();
    request.acceptedProtocol = m_webSocket->subprotocol();
    request.secure = m_options.secure;
    const QNetworkRequest http = m_webSocket->request();
    const QList<QByteArray> names = http.rawHeaderList();
    for (const QByteArray &name : names)
        request.headers.append({name, http.rawHeader(name)});
    m_log->setRequest(request);

    TrafficEvent event;
    event.kind = TrafficEvent::Kind::WebSocketEstablished;
    QStringList parts{QStringLiteral("GET %1").arg(request.resource)};
    parts.append(request.origin.isEmpty() ? tr("no origin") : tr("origin %1").arg(request.origin));
    if (!request.requestedProtocols.isEmpty())
        parts.append(tr("subprotocols %1 (none accepted)")
                         .arg(request.requestedProtocols.join(QStringLiteral(", "))));
    event.text = parts.join(QStringLiteral(", "));
    events.append(event);
    return events;
}

void WebSocketTransport::messageReceived(QByteArray data, bool text)
{
    if (m_closed)
        return;
    m_received.push_back({std::move(data), text});
    updateGate(); // Qt WebSockets reads no further frame until this one is read
    if (m_readEnabled)
        dispatchReadable();
}

Transport::Result WebSocketTransport::read(char *data, qint64 maxBytes, qint64 *bytes)
{
    *bytes = 0;
    m_lastReadEndedMessage = false;
    if (m_closed)
        return Result::EndOfFile;
    if (m_received.empty())
        return m_peerClosed ? Result::EndOfFile : Result::WouldBlock;
    Message &message = m_received.front();
    m_lastReadWasText = message.text;
    const qint64 n = qMin<qint64>(maxBytes, message.data.size() - m_readOffset);
    if (n > 0)
        memcpy(data, message.data.constData() + m_readOffset, size_t(n));
    m_readOffset += qsizetype(n);
    *bytes = n;
    if (m_readOffset == message.data.size()) {
        m_lastReadEndedMessage = true;
        m_echoes.push_back({message.data.size(), message.text});
        m_received.pop_front();
        m_readOffset = 0;
        sendEmptyEchoes();
        if (m_received.empty()) {
            updateGate();
            resumeQt();
        }
    }
    return Result::Done;
}

Transport::Result WebSocketTransport::write(const char *data, qint64 size, qint64 *bytes)
{
    *bytes = 0;
    if (m_clientClosed && !m_closed && !m_peerClosed)
        // The client's close frame was seen: what came before it is still echoed while Qt
        // WebSockets has not answered it; after that, the end is on its way (queued).
        if (!m_webSocket || m_webSocket->state() != QAbstractSocket::ConnectedState)
            return Result::WouldBlock;
    if (m_closed || !m_webSocket || m_peerClosed || m_serverClosed ||
        m_webSocket->state() != QAbstractSocket::ConnectedState) {
        m_errorString = tr("the WebSocket connection is closed");
        return Result::Reset;
    }
    qint64 taken = 0;
    while (taken < size) {
        if (m_echoes.empty()) {
            m_errorString = Translations::counted(
                "Echoscope::WebSocketTransport",
                QT_TRANSLATE_N_NOOP("Echoscope::WebSocketTransport",
                                    "%1 byte(s) of echo do not belong to any message"),
                size - taken);
            return Result::Error;
        }
        // A message begun is gathered whole; a new one waits while the socket holds plenty.
        if (m_echoGathered.isEmpty() && !m_notices.hasWriteRoom())
            break;
        const Echo echo = m_echoes.front();
        const qint64 n = qMin<qint64>(echo.size - m_echoGathered.size(), size - taken);
        if (m_echoGathered.isEmpty() && n == echo.size) {
            sendEcho(data + taken, n, echo.text); // the whole message in one write
        } else {
            m_echoGathered.append(data + taken, qsizetype(n));
            if (m_echoGathered.size() < echo.size) {
                taken += n;
                continue;
            }
            sendEcho(m_echoGathered.constData(), m_echoGathered.size(), echo.text);
            m_echoGathered = QByteArray();
        }
        taken += n;
        m_echoes.pop_front();
        sendEmptyEchoes();
    }
    *bytes = taken;
    return taken == 0 && size > 0 ? Result::WouldBlock : Result::Done;
}

void WebSocketTransport::sendEcho(const char *data, qint64 size, bool text)
{
    if (text)
        m_webSocket->sendTextMessage(QString::fromUtf8(data, qsizetype(size)));
    else
        m_webSocket->sendBinaryMessage(QByteArray::fromRawData(data, qsizetype(size)));
}

// An empty message is echoed when it reaches the front of the echo order.
void WebSocketTransport::sendEmptyEchoes()
{
    if (!m_webSocket || m_serverClosed || m_peerClosed ||
        m_webSocket->state() != QAbstractSocket::ConnectedState)
        return;
    while (!m_echoes.empty() && m_echoes.front().size == 0 && m_echoGathered.isEmpty()) {
        sendEcho(nullptr, 0, m_echoes.front().text);
        m_echoes.pop_front();
    }
}

void WebSocketTransport::setReadEnabled(bool enabled)
{
    m_readEnabled = enabled;
    updateGate();
    if (!enabled || !m_established || m_closed)
        return;
    if (!m_received.empty() || m_peerClosed)
        postReadable(); // what waited while reading was off, or the end after it
    else
        resumeQt();
}

void WebSocketTransport::setWriteNotificationEnabled(bool enabled)
{
    m_notices.setWriteWanted(enabled);
}

qint64 WebSocketTransport::readBufferLimit() const
{
    return m_options.maxMessageBytes + 64 * 1024;
}

// A socket whose bounded buffer filled stops reading (its notifier off) until a read asks
// it for more than it holds; Qt WebSockets reads exactly what a frame needs, so it would
// never ask. Setting the bound again turns the notifier back on while there is room.
void WebSocketTransport::rearmReading()
{
    if (m_closed || m_gate->rawBytesAvailable() >= readBufferLimit())
        return;
    m_socket->setReadBufferSize(0);
    m_socket->setReadBufferSize(readBufferLimit());
}

void WebSocketTransport::updateGate()
{
    if (m_gate)
        m_gate->open =
            !m_scanning || (m_established && m_readEnabled && m_received.empty() && !m_closed);
}

// Lets Qt WebSockets read the frames that waited behind the gate. Only needed when no
// arrival will say so: a readyRead of our own, posted, never nested in Qt's reading.
void WebSocketTransport::resumeQt()
{
    if (m_closed || !m_gate->open || m_gate->rawBytesAvailable() == 0)
        return;
    QMetaObject::invokeMethod(
        m_socket,
        [this] {
            if (!m_closed && m_gate->open && m_gate->rawBytesAvailable() > 0)
                emit m_socket->readyRead(); // rearms reading after Qt WebSockets' turn
        },
        Qt::QueuedConnection);
}

// Reported again only while the session keeps reading and took something this time.
void WebSocketTransport::dispatchReadable()
{
    if (m_closed || !m_readEnabled)
        return;
    const size_t before = m_received.size();
    const qsizetype offsetBefore = m_readOffset;
    m_handler->transportReadable();
    if (m_closed || !m_readEnabled)
        return;
    if (!m_received.empty() && (m_received.size() < before || m_readOffset != offsetBefore))
        postReadable();
}

void WebSocketTransport::postReadable()
{
    m_notices.postReadable([this] {
        if (m_peerClosed && m_received.empty() && !m_closed && m_readEnabled)
            m_handler->transportReadable(); // reads the end
        else
            dispatchReadable();
    });
}

void WebSocketTransport::bytesWritten()
{
    m_notices.bytesWritten();
}

// Every arrival, before Qt WebSockets reads it: the frame headers of what is new.
void WebSocketTransport::scanIncoming()
{
    if (m_closed)
        return;
    const qint64 available = m_gate->rawBytesAvailable();
    if (!m_scanning) {
        if (m_requestChecked || available == 0)
            return;
        const QByteArray head = m_socket->peek(qMin<qint64>(available, 64 * 1024));
        const qsizetype lineEnd = head.indexOf("\r\n");
        m_requestLine =
            QString::fromLatin1(lineEnd >= 0 ? head.left(lineEnd) : head.left(200)).simplified();
        const qsizetype headerEnd = head.indexOf("\r\n\r\n");
        if (headerEnd < 0)
            return; // Qt WebSockets waits for the rest (and bounds it)
        m_requestChecked = true;
        int status = 0;
        const UpgradeProblem missing = missingFromUpgrade(head.left(headerEnd), &status);
        if (missing.isEmpty())
            return; // Qt WebSockets answers it
        m_socket->write(httpRefusal(status, missing.english()));
        QString detail = tr("answered HTTP %1: %2").arg(status).arg(missing.translated());
        if (!m_requestLine.isEmpty())
            detail += tr("; the request was \"%1\"").arg(m_requestLine);
        fail(DisconnectReason::WebSocketHandshakeFailed, detail);
        return;
    }
    while (m_scanned < available && !m_incoming.hasFailed()) {
        const quint64 skippable =
            qMin<quint64>(m_incoming.skippable(), quint64(available - m_scanned));
        if (skippable > 0) {
            m_incoming.skip(skippable);
            m_scanned += qint64(skippable);
            continue;
        }
        // A header (or a control frame's payload) follows: look at a window of it.
        const QByteArray window = m_socket->peek(qMin<qint64>(available, m_scanned + 4096));
        const QByteArrayView fresh = QByteArrayView(window).sliced(qsizetype(m_scanned));
        m_scanned += fresh.size();
        m_incoming.feed(fresh, [this](const WsFrameHeader &frame) { frameSeen(frame, true); });
        if (m_closed)
            return;
    }
}

void WebSocketTransport::outgoingWritten(const char *data, qint64 size)
{
    if (m_closed || !m_established)
        return; // before the upgrade: the HTTP answer
    m_outgoing.feed(QByteArrayView(data, qsizetype(size)),
                    [this](const WsFrameHeader &frame) { frameSeen(frame, false); });
}

void WebSocketTransport::frameSeen(const WsFrameHeader &frame, bool received)
{
    WebSocketFrameRecord record;
    record.timestampMs = Clock::wallMs();
    record.received = received;
    record.opcode = frame.opcode;
    record.fin = frame.fin;
    record.masked = frame.masked;
    record.length = qint64(frame.length);
    record.closeCode = frame.closeCode();
    record.closeReason = frame.closeReason();
    m_log->addFrame(record);

    if (!received) {
        if (frame.opcode != WsFrameHeader::Close || m_closing)
            return;
        if (!m_clientClosed) {
            // Qt WebSockets ends it of its own accord: a limit or a protocol error.
            m_serverClosed = true;
            m_serverCloseCode = frame.closeCode();
            m_serverCloseReason = frame.closeReason();
        }
        // The socket may take a while to say it is closed (a client that does not read);
        // the session learns it now.
        QMetaObject::invokeMethod(
            m_socket, [this] { connectionEnding(); }, Qt::QueuedConnection);
        return;
    }
    if (!frame.masked && !m_unmaskedFrame && !m_clientClosed) {
        m_unmaskedFrame = true;
        if (m_webSocket) // Qt WebSockets takes unmasked frames; RFC 6455 does not
            m_webSocket->close(QWebSocketProtocol::CloseCodeProtocolError,
                               tr("client frames must be masked (RFC 6455, 5.1)"));
        return;
    }
    if (!frame.isControl()) // a message's size as its frame headers announce it
        m_messageBytesSeen =
            (frame.opcode == WsFrameHeader::Continuation ? m_messageBytesSeen : 0) + frame.length;
    if (frame.opcode == WsFrameHeader::Close && !m_clientClosed) {
        m_clientClosed = true;
        m_clientCloseCode = frame.closeCode();
        m_clientCloseReason = frame.closeReason();
    }
}

QString WebSocketTransport::closeText(quint16 code, const QByteArray &reason) const
{
    if (code == 0)
        return tr("without a status code");
    QString text = QString::number(code);
    const QString name = closeCodeName(code);
    if (!name.isEmpty())
        text += QStringLiteral(" (%1)").arg(name);
    if (!reason.isEmpty())
        text += QStringLiteral(": \"%1\"").arg(QString::fromUtf8(reason));
    return text;
}

void WebSocketTransport::socketError(QAbstractSocket::SocketError error)
{
    if (m_closed)
        return;
    qCDebug(lcWebSocket) << "socket error" << error << m_socket->errorString();
    if (error == QAbstractSocket::RemoteHostClosedError) {
        connectionEnding(); // disconnected() may follow; this runs once
        return;
    }
    if (!m_established) {
        QString detail = m_socket->errorString();
        if (!m_sslErrors.isEmpty())
            detail += QStringLiteral(" (%1)").arg(m_sslErrors);
        fail(DisconnectReason::WebSocketHandshakeFailed,
             m_options.secure ? tr("TLS: %1").arg(detail) : detail);
        return;
    }
    fail(DisconnectReason::SocketError, tr("WebSocket: %1").arg(m_socket->errorString()));
}

// The connection is ending, whoever began it: the client (a close frame, or the
// connection ended under it), or Qt WebSockets (a close frame of its own).
void WebSocketTransport::connectionEnding()
{
    if (m_closed || m_peerClosed)
        return;
    if (!m_established) {
        const bool tlsDone =
            !m_options.secure || static_cast<QSslSocket *>(m_socket)->isEncrypted();
        fail(DisconnectReason::WebSocketHandshakeFailed,
             tlsDone ? tr("the client closed the connection during the WebSocket handshake")
                     : tr("the client closed the connection during the TLS handshake"));
        return;
    }
    if (m_serverClosed) {
        const QString sent = closeText(m_serverCloseCode, m_serverCloseReason);
        if (m_serverCloseCode == QWebSocketProtocol::CloseCodeTooMuchData)
            m_oversizeBytes = qint64(m_messageBytesSeen); // as its frame headers announced
        if (m_unmaskedFrame)
            fail(DisconnectReason::ProtocolError,
                 tr("a client frame was not masked; closed with %1").arg(sent));
        else if (m_serverCloseCode == QWebSocketProtocol::CloseCodeTooMuchData)
            fail(DisconnectReason::MessageTooLarge,
                 Translations::counted("Echoscope::WebSocketTransport",
                                       QT_TRANSLATE_N_NOOP("Echoscope::WebSocketTransport",
                                                           "a frame or message over the limit of "
                                                           "%1 byte(s); closed with %2"),
                                       m_options.maxMessageBytes)
                     .arg(sent));
        else if (m_serverCloseCode == QWebSocketProtocol::CloseCodeGoingAway)
            fail(DisconnectReason::IdleTimeout,
                 tr("a frame stayed incomplete for %1 s (Qt WebSockets' limit); closed with %2")
                     .arg(kQtFrameWaitSeconds)
                     .arg(sent));
        else
            fail(DisconnectReason::ProtocolError, tr("closed with %1").arg(sent));
        return;
    }
    m_peerClosed = true;
    m_peerCloseDetail = m_clientClosed ? tr("close frame %1, answered with the same code")
                                             .arg(closeText(m_clientCloseCode, m_clientCloseReason))
                                       : tr("the connection ended without a close frame");
    // Frames that waited behind the gate and that Qt WebSockets never read.
    const qint64 unread = m_gate->rawBytesAvailable();
    if (unread > 0 && !m_clientClosed)
        m_peerCloseDetail +=
            Translations::counted("Echoscope::WebSocketTransport",
                                  QT_TRANSLATE_N_NOOP("Echoscope::WebSocketTransport",
                                                      "; %1 byte(s) of frames that arrived while "
                                                      "reading was off were not read"),
                                  unread);
    m_handler->transportPeerClosed();
}

void WebSocketTransport::fail(DisconnectReason reason, const QString &detail)
{
    if (m_closed)
        return;
    m_errorString = detail;
    m_handler->transportFailed(reason, detail);
}

void WebSocketTransport::close(DisconnectReason reason)
{
    if (m_closed)
        return;
    m_closed = true;
    if (!m_socket)
        return;
    QObject *owner = m_owner;
    m_socket->disconnect(owner); // our connections only; Qt WebSockets keeps its own
    if (m_webSocket)
        m_webSocket->disconnect(owner);
    if (m_server)
        m_server->disconnect(owner);
    m_gate->written = nullptr;
    m_gate->open = false;
    const QWebSocketProtocol::CloseCode code = reason == DisconnectReason::FaultClose
                                                   ? QWebSocketProtocol::CloseCode(m_faultCloseCode)
                                                   : closeCodeFor(reason);
    if (m_webSocket && code != 0 && !m_clientClosed && !m_serverClosed &&
        m_webSocket->state() == QAbstractSocket::ConnectedState) {
        m_closing = true;
        m_webSocket->close(code, DisconnectInfo::reasonString(reason));
    }
    if (reason == DisconnectReason::FaultReset)
        NativeSocket::setResetOnClose(m_socket->socketDescriptor()); // the peer sees a reset
    // What the kernel takes now: the echo and close frame, or a refused upgrade's answer.
    if (reason != DisconnectReason::FaultReset && reason != DisconnectReason::ResetByPeer)
        m_socket->flush();
    m_socket->abort(); // closes the descriptor now
}

} // namespace Echoscope
