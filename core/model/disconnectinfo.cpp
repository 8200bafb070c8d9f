#include "disconnectinfo.h"

#include "translations.h"

#include <QCoreApplication>

#include <array>

namespace Echoscope {

namespace {
// The reasons' words, in English: reasonString() as they are (JSON, metric labels, the
// WebSocket close reason), reasonText() translated (context "DisconnectReason").
const char *reasonSource(DisconnectReason reason)
{
    switch (reason) {
    case DisconnectReason::ClosedByPeer:
        return QT_TRANSLATE_NOOP("DisconnectReason", "closed by peer");
    case DisconnectReason::ResetByPeer:
        return QT_TRANSLATE_NOOP("DisconnectReason", "reset by peer");
    case DisconnectReason::IdleTimeout:
        return QT_TRANSLATE_NOOP("DisconnectReason", "idle timeout");
    case DisconnectReason::MessageTooLarge:
        return QT_TRANSLATE_NOOP("DisconnectReason", "message too large");
    case DisconnectReason::Kicked:
        return QT_TRANSLATE_NOOP("DisconnectReason", "kicked");
    case DisconnectReason::ServerStopped:
        return QT_TRANSLATE_NOOP("DisconnectReason", "server stopped");
    case DisconnectReason::SocketError:
        return QT_TRANSLATE_NOOP("DisconnectReason", "socket error");
    case DisconnectReason::FaultClose:
        return QT_TRANSLATE_NOOP("DisconnectReason", "closed by fault");
    case DisconnectReason::FaultReset:
        return QT_TRANSLATE_NOOP("DisconnectReason", "reset by fault");
    case DisconnectReason::TlsHandshakeFailed:
        return QT_TRANSLATE_NOOP("DisconnectReason", "TLS handshake failed");
    case DisconnectReason::Unreachable:
        return QT_TRANSLATE_NOOP("DisconnectReason", "port unreachable");
    case DisconnectReason::WebSocketHandshakeFailed:
        return QT_TRANSLATE_NOOP("DisconnectReason", "WebSocket handshake failed");
    case DisconnectReason::ProtocolError:
        return QT_TRANSLATE_NOOP("DisconnectReason", "protocol error");
    }
    return QT_TRANSLATE_NOOP("DisconnectReason", "unknown");
}
} // namespace

QString DisconnectInfo::reasonString(DisconnectReason reason)
{
    return QString::fromLatin1(reasonSource(reason));
}

QString DisconnectInfo::reasonText(DisconnectReason reason)
{
    // Translated once per thread and translation, not once per disconnect (translate()
    // searches each translator: 900 instructions of a short connection's 23,000).
    struct Cache
    {
        quint64 generation = 0;
        std::array<QString, size_t(DisconnectReason::ProtocolError) + 1> texts;
    };
    thread_local Cache cache;
    const auto index = size_t(reason);
    if (index >= cache.texts.size())
        return QCoreApplication::translate("DisconnectReason", reasonSource(reason));
    const quint64 generation = Translations::generation();
    if (cache.generation != generation) {
        cache.texts.fill(QString());
        cache.generation = generation;
    }
    QString &text = cache.texts[index];
    if (text.isNull())
        text = QCoreApplication::translate("DisconnectReason", reasonSource(reason));
    return text;
}

QString DisconnectInfo::describe() const
{
    const QString reasonText = DisconnectInfo::reasonText(reason);
    return detail.isEmpty() ? reasonText : reasonText + QStringLiteral(": ") + detail;
}

} // namespace Echoscope
